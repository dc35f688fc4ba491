"""Benchmark: `grade selftest` throughput (automatic mutants graded per minute) and wall time.

    python bench/bench_selftest.py [--assignment backprop --task softmax] [--mutants 40] [--jobs 2]

Prints the cases graded, the wall time, mutants per minute and the mutation score per task.
Without --task and --mutants it runs the whole self-test (minutes: docs/selftest.md has figures).
"""
from __future__ import annotations

import argparse
import time

from grader.instructor.selftest import SelftestOptions, selftest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="backprop")
    ap.add_argument("--task", action="append", default=[])
    ap.add_argument("--mutants", type=int, default=None, help="a seeded sample (default: every mutant)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-data", action="store_true")
    a = ap.parse_args()
    t0 = time.monotonic()
    r = selftest(a.assignment, SelftestOptions(jobs=a.jobs, tasks=tuple(a.task), mutants=a.mutants,
                                               data=False if a.no_data else None))
    wall = time.monotonic() - t0
    mutants = r.of("mutant")
    graded = [c for c in r.cases if c.status != "skipped"]
    print(f"{a.assignment} tasks={','.join(a.task) or 'all'} jobs={a.jobs}: {len(graded)} cases graded "
          f"({len(mutants)} automatic mutants of {r.mutants_found}) in {wall:.1f} s; "
          f"{60 * len(graded) / wall:.0f} cases/min; problems: {len(r.problems)}")
    for task, row in sorted(r.mutation_scores().items()):
        print(f"  {task:10s} mutation score {100 * row['score']:5.1f}%  (killed {row['killed']}, "
              f"survived {row['survived']}, equivalent {row['equivalent']}, of {row['total']})")


if __name__ == "__main__":
    main()
