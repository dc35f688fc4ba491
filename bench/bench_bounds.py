"""Benchmark: what bounds per submission cost (a uid per slot, a cgroup per worker, the memory watch).

    python bench/bench_bounds.py [--repeat 5] [--n 12] [--jobs 2] [--baseline DIR]

Three figures, each in configurations set by the environment of a fresh process (the choices are
made once per process):

* ``uids+cgroup``  the default as root: a uid of its own per worker, a cgroup (memory, pids);
* ``uids+watch``   GRADER_CGROUPS=off: the uid per worker, memory summed by the watch every 0.1 s;
* ``shared+watch`` GRADER_SANDBOX_UIDS=off GRADER_CGROUPS=off: every worker as nobody, the watch;
* ``baseline``     with --baseline DIR: the same grader code at another commit (e.g. `git archive
                   main | tar -x -C DIR`), i.e. before bounds per submission.

1. the steps alone: taking and giving back a uid (a flock, and a scan of /proc for leftovers on
   each side), making, joining and removing a cgroup; and a worker's start + close (bwrap, rlimits);
2. `grade check` of the reference (A1 tasks softmax, scalar), median wall time of --repeat runs of
   `grade()` in one process (the first run, with the up-front probe of the sandbox uid, apart);
3. `grade batch` throughput of a class of --n A1 submissions (bench_batch.py's class), --jobs slots.

Root on Linux only (uids and cgroups need root); elsewhere it says so and stops.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

CONFIGS = {
    "uids+cgroup": {},
    "uids+watch": {"GRADER_CGROUPS": "off"},
    "shared+watch": {"GRADER_SANDBOX_UIDS": "off", "GRADER_CGROUPS": "off"},
}
TASKS = ["softmax", "scalar"]

STEPS = r'''
import json, os, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path
from grader.engine.model import Limits
from grader.engine.sandbox import Runtime, Worker, cgroup, slots
from grader.engine.sandbox.isolation import bwrap_works, sandbox_user_problem
root, repeat = Path(sys.argv[1]), int(sys.argv[2])
out = {}
def timed(fn):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000
rng = slots.configured_range()
if rng:
    out["uid lease + release (ms)"] = timed(lambda: slots.acquire(rng).release())
support = cgroup.support()
if support:
    def group():
        g = cgroup.Group.create(support, "bench", 512 * 2**20, 256)
        p = subprocess.Popen(["sleep", "60"])
        g.attach(p.pid)
        g.remove()  # kills the sleep
        p.wait()
    out[f"cgroup v{support.version} make, join, remove (ms)"] = timed(group)
sub = Path(tempfile.mkdtemp()); os.chmod(sub, 0o755)
shutil.copy(root / "reference" / "backprop" / "softmax.py", sub / "softmax.py")
rt = Runtime.create(root / "assignments" / "backprop" / "probes.py")
modes = (["bwrap"] if bwrap_works() else []) + ([] if sandbox_user_problem() else ["rlimits"])
for mode in modes:
    def cycle():
        w = Worker(rt, sub, Limits(), mode); w.start(); w.close()
    cycle()  # warm: the page cache, the first bwrap
    out[f"worker start + close, {mode} (ms)"] = timed(cycle)
rt.cleanup(); shutil.rmtree(sub)
print(json.dumps(out))
'''

CHECK = r'''
import json, statistics, sys, time
from pathlib import Path
from grader.engine import assignment
from grader.engine.runner import grade
from grader.engine.session import GradeOptions
root, repeat, tasks = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")
asg = assignment.load("backprop")
times = []
for _ in range(repeat + 1):
    t0 = time.perf_counter()
    r = grade(root / "reference" / "backprop", asg, tasks=tasks, options=GradeOptions())
    times.append(time.perf_counter() - t0)
assert r.score == r.max_score, [(c.id, c.message) for c in r.checks if c.score < c.max_score]
print(json.dumps({"first": times[0], "median": statistics.median(times[1:]), "isolation": r.isolation}))
'''

BATCH = r'''
import json, sys, time
from pathlib import Path
from grader.instructor.batch.run import BatchOptions, run_batch
subs, out, jobs, tasks = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(",")
t0 = time.perf_counter()
s = run_batch(BatchOptions(submissions=subs, assignment="backprop", out=out, tasks=tasks, quiet=True, jobs=jobs))
print(json.dumps({"wall": time.perf_counter() - t0, "statuses": s.statuses}))
'''


def run(code: str, args: list[str], env_extra: dict[str, str], code_root: Path) -> dict:
    env = dict(os.environ, **env_extra, PYTHONPATH=str(code_root))
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          cwd=str(code_root))
    if done.returncode:
        raise SystemExit(f"failed ({env_extra}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--n", type=int, default=12, help="submissions in the batch")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--baseline", type=Path, help="a checkout of the grader before this change")
    ap.add_argument("--skip-batch", action="store_true")
    args = ap.parse_args()
    if not (sys.platform.startswith("linux") and os.geteuid() == 0):
        raise SystemExit("bench_bounds: uids per slot and cgroups need root on Linux")
    configs = {name: (env, ROOT) for name, env in CONFIGS.items()}
    if args.baseline:
        configs["baseline"] = ({}, args.baseline.resolve())

    print("1. the steps alone (median of", args.repeat, "runs, ms)")
    steps = {name: run(STEPS, [str(ROOT), str(args.repeat)], env, ROOT) for name, env in CONFIGS.items()}
    for key in dict.fromkeys(k for s in steps.values() for k in s):
        print(f"  {key:38s}" + "".join(f"  {name} {steps[name][key]:7.1f}" for name in steps if key in steps[name]))

    print(f"\n2. grade check, backprop tasks {','.join(TASKS)} (s; first run apart: it probes the sandbox uid)")
    for name, (env, code_root) in configs.items():
        r = run(CHECK, [str(code_root), str(args.repeat), ",".join(TASKS)], env, code_root)
        print(f"  {name:14s} median {r['median']:6.2f}   first {r['first']:6.2f}   {r['isolation'].split(';', 1)[-1].strip()[:90]}")

    if args.skip_batch:
        return
    from bench_batch import build_class

    print(f"\n3. grade batch, a class of {args.n}, --jobs {args.jobs}, tasks {','.join(TASKS)}")
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "class"
        build_class(subs, args.n, TASKS)
        for name, (env, code_root) in configs.items():
            r = run(BATCH, [str(subs), str(Path(tmp) / f"out-{name}"), str(args.jobs), ",".join(TASKS)], env, code_root)
            print(f"  {name:14s} {r['wall']:7.1f} s  {args.n / r['wall'] * 60:6.1f} submissions/min   "
                  + ", ".join(f"{v} {k}" for k, v in sorted(r["statuses"].items())))


if __name__ == "__main__":
    main()
