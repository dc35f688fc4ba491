"""Benchmark: `grade check` in each isolation mode vs the bare student calls, for one submission.

    python bench/bench_platforms.py [--assignment backprop] [--task softmax] [--repeat 3]

Modes timed, on the same reference submission and the same checks:

* ``bwrap``     bubblewrap (Linux), when it works here;
* ``rlimits``   resource limits only (as root: the sandbox user, or the invoking user when that
                user cannot run this Python; the isolation line says which);
* ``emulated``  the non-POSIX path as Windows takes it, emulated on Linux (tests/nonposix.py): no
                `pwd`/`resource`/`fcntl`, no `os.fork`, no bubblewrap → the `process` mode.

Each figure is the wall time of `grader.engine.runner.grade` inside its own process (interpreter
start and the grader's imports excluded, as in bench_grade_check.py), the median of --repeat runs.
"Bare" is bench_grade_check's replay: a fresh Python importing the modules and making exactly the
calls the grader's probes made, with no sandbox and no judging. The ratio is grader time / bare time.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import nonposix  # noqa: E402  (tests/nonposix.py)
from bench_grade_check import record_probes, replay  # noqa: E402
from grader.engine import assignment  # noqa: E402
from grader.engine.sandbox.isolation import bwrap_works  # noqa: E402

TIMED = r'''
import json, sys, time
from pathlib import Path
from grader.engine import assignment
from grader.engine.runner import grade
from grader.engine.session import GradeOptions
ref, name, mode, tasks = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
asg = assignment.load(name)
from grader.engine.oracles import torch; torch()  # the judge's torch, as a warm `grade check` has it
t0 = time.perf_counter()
r = grade(Path(ref), asg, tasks=tasks or None, options=GradeOptions(isolation=mode))
print(json.dumps({"wall": time.perf_counter() - t0, "score": r.score, "max": r.max_score,
                  "isolation": r.isolation}))
'''


def timed(cmd_prefix: list[str], ref: Path, name: str, mode: str, tasks: list[str], env: dict) -> dict:
    args = [str(ref), name, mode, json.dumps(tasks)]
    out = subprocess.run([*cmd_prefix, *args], capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    if out.returncode:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="backprop")
    ap.add_argument("--task", action="append", dest="tasks")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    asg = assignment.load(args.assignment)
    ref = ROOT / "reference" / args.assignment
    tasks = args.tasks or []

    bares = []
    for _ in range(args.repeat):
        _, sent, _, runtime = record_probes(ref, asg, tasks or None, False)
        with tempfile.TemporaryDirectory() as tmp:
            bares.append(replay(ref, asg, sent, Path(tmp), runtime))
    bare = statistics.median(bares)

    env = {k: v for k, v in os.environ.items() if k != "GRADER_ISOLATION"}
    modes = [("bwrap", [sys.executable, "-c", TIMED], "bwrap", env)] if bwrap_works() else []
    modes.append(("rlimits", [sys.executable, "-c", TIMED], "rlimits", env))
    # the emulated interpreter takes its arguments after "-c CODE": the prelude, then TIMED
    modes.append(("emulated non-POSIX", nonposix.python_cmd(TIMED), "auto", nonposix.env()))
    label = args.assignment + (f" tasks {','.join(tasks)}" if tasks else " (all tasks)")
    print(f"{label}: bare student calls (fresh python, same probes), median of {args.repeat}: {bare:6.2f} s")
    for title, cmd, mode, mode_env in modes:
        runs = [timed(cmd, ref, args.assignment, mode, tasks, mode_env) for _ in range(args.repeat)]
        wall = statistics.median(r["wall"] for r in runs)
        last = runs[-1]
        print(f"  {title:20s} {wall:6.2f} s  ratio {wall / bare:5.2f}  score {last['score']:g}/{last['max']:g}  "
              f"[{last['isolation'].split(':')[0]}{' as the invoking user' if 'invoking user' in last['isolation'] else ''}]")


if __name__ == "__main__":
    main()
