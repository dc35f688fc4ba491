"""Benchmark: one-notebook grading vs .py grading of the same code, and the in-notebook check's
time in a real kernel (nbclient + ipykernel).

1. The reference of an assignment graded as its .py files, then as one notebook holding the same
   code (the generated student notebook with the reference filled in), each `--repeat` times: the
   median wall time of `grader.engine.runner.grade` over the same tasks, and the ratio.
2. That notebook executed in a fresh kernel (in a folder with no .ipynb: the Colab path): the wall
   time of each `check("task")` cell (from the kernel's own timing of the cell), the kernel's start
   and the whole run.

    python bench/bench_notebook.py [--assignment relu_fit] [--task warmup ...] [--repeat 3]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.engine import assignment  # noqa: E402
from grader.engine.runner import grade  # noqa: E402
from grader.instructor.publish.notebook import student_notebook  # noqa: E402


def timed_grade(folder: Path, asg, tasks, repeat: int) -> tuple[float, float]:
    """(median seconds, score) of grading `folder`."""
    times, score = [], 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        report = grade(folder, asg, tasks=tasks)
        times.append(time.perf_counter() - t0)
        score = report.score
    return statistics.median(times), score


def kernel_run(nb_text: str, cwd: Path) -> tuple[float, dict[str, float], dict[str, str]]:
    """Execute the notebook in a fresh kernel: (total seconds, seconds per check cell, total shown)."""
    import re

    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.reads(nb_text, 4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": str(cwd)}})
    t0 = time.perf_counter()
    client.execute()
    total = time.perf_counter() - t0
    per, shown = {}, {}
    for c in nb.cells:
        m = re.fullmatch(r'check\("(\w+)"\)', c.source.strip()) if c.cell_type == "code" else None
        if not m:
            continue
        t = c.metadata.get("execution", {})
        start, end = t.get("iopub.execute_input"), t.get("shell.execute_reply")
        if start and end:
            per[m.group(1)] = (datetime.fromisoformat(end.replace("Z", "+00:00"))
                               - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
        text = "".join(o.get("data", {}).get("text/plain", "") for o in c.outputs)
        found = re.search(r"Total: ([\d.]+ / [\d.]+)", text)
        shown[m.group(1)] = found.group(1) if found else "?"
    return total, per, shown


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="relu_fit")
    ap.add_argument("--task", action="append", help="tasks to grade (default: every task)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-kernel", action="store_true", help="skip the real-kernel part")
    args = ap.parse_args()
    asg = assignment.load(args.assignment)
    tasks = args.task or [t.name for t in asg.tasks]
    modules = sorted({m for t in asg.tasks if t.name in tasks for m in t.modules})
    ref = ROOT / "reference" / asg.name
    nb_text = student_notebook(asg.name, ref, solved=True)
    with tempfile.TemporaryDirectory() as tmp:
        py, ipynb, empty = Path(tmp) / "py", Path(tmp) / "ipynb", Path(tmp) / "kernel"
        for d in (py, ipynb, empty):
            d.mkdir()
        for m in modules:
            shutil.copy(ref / f"{m}.py", py / f"{m}.py")
        for extra in ref.glob("*.pt"):  # trained weights the checks read
            shutil.copy(extra, py / extra.name)
            shutil.copy(extra, ipynb / extra.name)
        (ipynb / f"{asg.name}_solved.ipynb").write_text(nb_text, encoding="utf-8")
        grade(py, asg, tasks=tasks[:1])  # warm-up: page cache, first imports
        t_py, s_py = timed_grade(py, asg, tasks, args.repeat)
        t_nb, s_nb = timed_grade(ipynb, asg, tasks, args.repeat)
        print(f"{asg.name} tasks {', '.join(tasks)} (median of {args.repeat})")
        print(f"  .py files       {t_py:7.2f} s   score {s_py:g}")
        print(f"  one notebook    {t_nb:7.2f} s   score {s_nb:g}")
        print(f"  notebook / .py  {t_nb / t_py:7.2f}")
        if args.no_kernel:
            return
        t0 = time.perf_counter()
        from jupyter_client.manager import start_new_kernel

        km, kc = start_new_kernel(kernel_name="python3")
        start = time.perf_counter() - t0
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        total, per, shown = kernel_run(nb_text, empty)
        print("real kernel (no .ipynb on disk: the kernel's history is graded; the first check "
              "also imports the grader into the kernel)")
        print(f"  kernel start    {start:7.2f} s")
        for task, seconds in per.items():
            print(f"  {'check(' + repr(task) + ')':16}{seconds:6.2f} s   shows {shown.get(task)}")
        print(f"  whole notebook  {total:7.2f} s (kernel start and every cell included)")


if __name__ == "__main__":
    main()
