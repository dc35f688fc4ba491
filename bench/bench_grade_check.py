"""Benchmark: `grade check` on a reference solution vs the bare student calls in one process.

Grades the reference once through the full pipeline (sandboxed worker, judging, report) while
recording every probe the grader sends; then replays exactly those probes in this process, with no
sandbox and no judging, and prints both wall times and their ratio.

    python bench/bench_grade_check.py [--assignment backprop] [--task softmax ...] [--repeat 3]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.engine import assignment  # noqa: E402
from grader.engine.runner import grade  # noqa: E402
from grader.engine.session import GradeOptions  # noqa: E402
from grader.engine.sandbox import Runtime, Worker  # noqa: E402


def record_probes(ref: Path, asg, tasks, hidden: bool) -> tuple[float, list[dict], object, Path]:
    """Grade through the pipeline; return its wall time, the probe requests sent, the report and the
    runtime folder (kept: it holds the arrays the grader shared with the worker)."""
    sent: list[dict] = []
    original = Worker.request
    original_cleanup = Runtime.cleanup
    runtimes: list[Path] = []

    def spy(self, message, timeout, **kwargs):
        if message.get("op") in ("probe", "import"):
            sent.append(dict(message))
        return original(self, message, timeout, **kwargs)

    Worker.request = spy
    Runtime.cleanup = lambda self: runtimes.append(self.folder)
    try:
        t0 = time.perf_counter()
        report = grade(ref, asg, tasks=tasks, hidden=hidden, options=GradeOptions())
        wall = time.perf_counter() - t0
    finally:
        Worker.request = original
        Runtime.cleanup = original_cleanup
    return wall, sent, report, runtimes[0]


REPLAY = r'''
import importlib, importlib.util, json, sys, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
from gradeworker import protocol
from gradeworker.main import Submission, _seed
from gradeworker import loader
from pathlib import Path
folder = Path(sys.argv[1])
spec = importlib.util.spec_from_file_location("probes", sys.argv[3])
probes = importlib.util.module_from_spec(spec); spec.loader.exec_module(probes)
messages = [protocol.loads(bytes.fromhex(line)) for line in open(sys.argv[4]).read().split()]
t0 = time.perf_counter()
sub = Submission(folder, loader.install(folder))
for m in messages:
    _seed(m.get("seed", 0))
    if m["op"] == "import":
        sub.module(m["module"])
    else:
        getattr(probes, m["probe"])(sub, *m.get("args", []), **m.get("kwargs", {}))
print(time.perf_counter() - t0)
'''


def _unshare(value, runtime: Path):
    """Paths the worker saw under bwrap (/grader/...) → the same files on this machine."""
    if isinstance(value, str) and value.startswith("/grader/"):
        return str(runtime / value[len("/grader/"):])
    if isinstance(value, list):
        return [_unshare(v, runtime) for v in value]
    if isinstance(value, dict):
        return {k: _unshare(v, runtime) for k, v in value.items()}
    return value


def replay(ref: Path, asg, sent: list[dict], tmp: Path, runtime: Path) -> float:
    """Bare run: a fresh Python (like the grader's worker) imports the modules and makes the calls."""
    import shutil

    from grader.worker import protocol

    rt = tmp / "rt"
    shutil.copytree(ROOT / "grader" / "worker", rt / "gradeworker", dirs_exist_ok=True)
    msgs = tmp / "messages.hex"
    msgs.write_text("\n".join(protocol.dumps(_unshare(m, runtime))[8:].hex() for m in sent))
    # the same BLAS/OpenMP thread count as the grader's worker (GradeOptions.threads, default 1)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", REPLAY, str(ref), str(rt), str(asg.probes), str(msgs)],
                         capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"replay failed:\n{out.stderr[-3000:]}")
    total = time.perf_counter() - t0  # includes interpreter start and imports, as the worker's does
    float(out.stdout.strip())
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="backprop")
    ap.add_argument("--task", action="append", dest="tasks")
    ap.add_argument("--hidden", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import shutil
    import tempfile

    asg = assignment.load(args.assignment)
    ref = ROOT / "reference" / args.assignment
    walls, bares = [], []
    for _ in range(args.repeat):
        wall, sent, report, runtime = record_probes(ref, asg, args.tasks, args.hidden)
        with tempfile.TemporaryDirectory() as tmp:
            bare = replay(ref, asg, sent, Path(tmp), runtime)
        shutil.rmtree(runtime, ignore_errors=True)
        walls.append(wall)
        bares.append(bare)
    w, b = statistics.median(walls), statistics.median(bares)
    label = f"{args.assignment}" + (f" tasks {','.join(args.tasks)}" if args.tasks else " (all tasks)")
    print(f"{label}: {len(report.checks)} checks, score {report.score:g}/{report.max_score:g}, "
          f"isolation: {report.isolation.split(':')[0]}")
    print(f"  grade check (in-process grade(), median of {args.repeat}): {w:7.2f} s")
    print(f"  bare student calls (fresh python, same probes):        {b:7.2f} s")
    print(f"  ratio grader / bare:                                    {w / b:7.2f}")


if __name__ == "__main__":
    main()
