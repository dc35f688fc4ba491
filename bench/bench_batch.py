"""Benchmark: `grade batch` throughput (submissions per minute) against the bare per-submission time.

A class of N (default 20) A1 `backprop` submissions — the reference and wrong submissions made from
assignments/backprop/cases.py, one folder each — graded with public and hidden checks:
  * --jobs 1, --jobs 2 (the local pool), and a Dask LocalCluster of 2 worker processes;
  * beside the bare time of one submission as bench_grade_check.py measures it (a fresh Python
    importing the modules and making exactly the grader's calls, no sandbox, no judging).
It prints each throughput and the ratio throughput / (cores × bare throughput); the target is ≥ 0.8.

By default the tasks softmax, scalar and layers are graded (every public and hidden check of them);
the `mlp` task trains on FashionMNIST for minutes per submission and is left out unless --task mlp.

    python bench/bench_batch.py [--n 20] [--task softmax --task scalar --task layers] [--no-dask]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from assignments.backprop.cases import WRONG as MUTANTS  # noqa: E402
from bench_grade_check import record_probes, replay  # noqa: E402
from grader.engine import assignment  # noqa: E402
from grader.instructor.batch.run import BatchOptions, run_batch  # noqa: E402

DEFAULT_TASKS = ["softmax", "scalar", "layers"]


def build_class(root: Path, n: int, tasks: list[str]) -> None:
    ref = ROOT / "reference" / "backprop"
    mutants = [m for m in MUTANTS if set(m.tasks) <= set(tasks)]
    for i in range(n):
        dest = root / f"student{i:03d}"
        shutil.copytree(ref, dest, ignore=shutil.ignore_patterns("__pycache__"))
        if i % 2 and mutants:  # half of the class wrong somewhere
            m = mutants[(i // 2) % len(mutants)]
            p = dest / m.file
            p.write_text(p.read_text().replace(m.old, m.new))


def bare_time(asg, tasks: list[str], repeat: int) -> tuple[float, float]:
    """(median bare seconds, median in-process grade() seconds) for the reference."""
    import statistics

    ref = ROOT / "reference" / "backprop"
    bares, walls = [], []
    for _ in range(repeat):
        wall, sent, _report, runtime = record_probes(ref, asg, tasks, True)
        with tempfile.TemporaryDirectory() as tmp:
            bares.append(replay(ref, asg, sent, Path(tmp), runtime))
        shutil.rmtree(runtime, ignore_errors=True)
        walls.append(wall)
    return statistics.median(bares), statistics.median(walls)


def timed_batch(subs: Path, out: Path, tasks: list[str], **kw) -> tuple[float, dict]:
    t0 = time.perf_counter()
    summary = run_batch(BatchOptions(submissions=subs, assignment="backprop", out=out, tasks=tasks, quiet=True, **kw))
    return time.perf_counter() - t0, summary.statuses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--task", action="append", dest="tasks")
    ap.add_argument("--repeat", type=int, default=2, help="repeats of the bare measurement")
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    tasks = args.tasks or DEFAULT_TASKS
    asg = assignment.load("backprop")
    n_checks = sum(1 for c in asg.checks(hidden=True) if c.task in tasks)
    bare, single = bare_time(asg, tasks, args.repeat)
    bare_tp = 60.0 / bare
    print(f"backprop tasks {','.join(tasks)}: {n_checks} checks (public and hidden), class of {args.n}")
    print(f"  bare per-submission time (bench_grade_check replay): {bare:6.2f} s  -> {bare_tp:6.1f} submissions/min/core")
    print(f"  grade() of one submission in-process:                {single:6.2f} s")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "class"
        build_class(subs, args.n, tasks)
        for jobs in (1, 2):
            wall, statuses = timed_batch(subs, Path(tmp) / f"out-j{jobs}", tasks, jobs=jobs)
            rows.append((f"--jobs {jobs}", jobs, wall, statuses))
        if not args.no_dask:
            import dask
            from distributed import LocalCluster

            # non-daemonic workers may fork grading processes from the preloaded forkserver (docs/batch.md)
            with dask.config.set({"distributed.worker.daemon": False}), LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                              silence_logs=40) as cluster:
                wall, statuses = timed_batch(subs, Path(tmp) / "out-dask", tasks, scheduler=cluster.scheduler_address)
            rows.append(("Dask LocalCluster 2x1", 2, wall, statuses))
    print(f"  {'run':24s} {'wall s':>8s} {'subs/min':>9s} {'ratio':>6s}  statuses")
    for label, cores, wall, statuses in rows:
        tp = args.n / wall * 60.0
        print(f"  {label:24s} {wall:8.1f} {tp:9.1f} {tp / (cores * bare_tp):6.2f}  "
              + ", ".join(f"{v} {k}" for k, v in sorted(statuses.items())))
    print("  ratio = throughput / (cores × bare throughput); target ≥ 0.8")


if __name__ == "__main__":
    main()
