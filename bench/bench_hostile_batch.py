"""Benchmark: the hostile batch (tests/hostile_batch/) — what four attacks take from the host, and
what their neighbours notice.

A class of innocent A1 submissions (correct, partially correct, unsolved) and four attacks (a fork
bomb holding its processes, a spinner on every core, a tree of 4 processes each holding memory up to
its limit, a filler of every writable place), graded with the small limits of
tests/hostile_batch_class.py (4 s per check, 256 MB, 32 processes, 16 MB per file, 64 MB of disk):

  1. each submission alone (a batch of one, one slot): its scores, its time, the disk its scratch
     held at most, the memory (PSS) of its sandboxed process tree at most;
  2. the whole class with --jobs 2: each innocent's scores and time beside the attacks that ran at
     the same time, the batch's time, the peaks of the scratch disk (all folders at once), of the
     free space of their file system and of /dev/shm, and of the sandbox users' memory.

"before" is measured on an older grader: `--grader DIR` grades with the grader in DIR (e.g.
`git archive main | tar -x -C /tmp/main`), or `--no-disk-bound` with this one and Limits.disk_mb 0.

    python bench/bench_hostile_batch.py [--grader DIR | --no-disk-bound] [--jobs 2] [--isolation bwrap]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup_path(grader: str | None) -> None:
    if grader:  # that grader first, here and in the grading processes (fresh Pythons)
        os.environ["PYTHONPATH"] = os.pathsep.join([grader, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        sys.path.insert(0, grader)
    sys.path.insert(1 if grader else 0, str(ROOT / "tests"))


MB = 2**20


def _rows(out: Path) -> tuple[dict, dict]:
    con = sqlite3.connect(out / "gradebook.sqlite")
    con.row_factory = sqlite3.Row
    subs = {r["student"]: dict(r) for r in con.execute("SELECT * FROM submissions")}
    checks: dict = {}
    for r in con.execute("SELECT student, check_id, score, status FROM check_results"):
        checks.setdefault(r["student"], {})[r["check_id"]] = (r["score"], r["status"])
    con.close()
    return subs, checks


def _interval(sub: dict) -> tuple[float, float]:
    return (datetime.fromisoformat(sub["started_at"]).timestamp(), datetime.fromisoformat(sub["finished_at"]).timestamp())


def bound_cost(hb, folder: Path, isolation: str, repeat: int = 7) -> None:
    """What the disk bound costs one grading: grade() of a correct submission, in-process, with no
    bound, a tmpfs, the watcher (median of `repeat` after a warm-up)."""
    import importlib
    import statistics

    from grader.engine import assignment
    from grader.engine.runner import grade
    from grader.engine.sandbox import disk
    from grader.engine.session import GradeOptions

    saved = {k: os.environ.get(k) for k in (hb.LIMITS_ENV, disk.MOUNT_ENV)}
    print(f"\n0. the bound's cost on one grading ({isolation}, {folder.name}, 3 checks; median of {repeat})")
    for label, limits, mount in (("no bound", {"disk_mb": 0}, "1"), ("tmpfs", {}, "1"), ("watcher", {}, "0")):
        if label == "tmpfs" and not disk.mount_possible():
            continue
        os.environ[hb.LIMITS_ENV], os.environ[disk.MOUNT_ENV] = json.dumps(limits), mount
        asg = assignment.load(hb.ASSIGNMENT)  # (also puts the course on the search path)
        importlib.reload(importlib.import_module(f"assignments.{hb.ASSIGNMENT}.checks"))
        asg._checks = None  # the reloaded limits
        times = []
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            grade(folder, asg, hidden=True, options=GradeOptions(isolation=isolation))
            times.append(time.perf_counter() - t0)
        print(f"  {label:9s} {statistics.median(times[1:]) * 1000:6.0f} ms")
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grader", help="grade with the grader in this folder (a checkout of another version)")
    ap.add_argument("--no-disk-bound", action="store_true", help="Limits.disk_mb = 0 (this grader, unbounded)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--isolation", default="bwrap")
    ap.add_argument("--kind", action="append", dest="kinds",
                    help="only these submissions (e.g. filler, memory_tree, reference); default: the class")
    args = ap.parse_args()
    _setup_path(args.grader)
    import hostile_batch_class as hb
    from grader.engine import assignment

    if args.no_disk_bound:
        os.environ[hb.LIMITS_ENV] = json.dumps({"disk_mb": 0})
    import grader

    tmp = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    os.chmod(tmp, 0o755)
    os.environ[assignment.ENV_PATH] = str(hb.build_course(tmp / "course"))
    students = hb.build_class(tmp / "class", kinds=tuple(args.kinds) if args.kinds else hb.INNOCENT + hb.HOSTILE)
    limits = hb.limits() if not args.grader else {k: v for k, v in hb.limits().items() if k != "disk_mb"}
    print(f"grader: {Path(grader.__file__).parent.parent}  isolation: {args.isolation}  limits: {limits}"
          f"  ${hb.LIMITS_ENV}={os.environ.get(hb.LIMITS_ENV, '')}  $GRADER_SCRATCH_MOUNT="
          f"{os.environ.get('GRADER_SCRATCH_MOUNT', '')}")

    def batch(kinds_dir: Path, name: str, jobs: int):
        scratch = tmp / f"scratch-{name}"
        scratch.mkdir(mode=0o711)
        os.chmod(scratch, 0o711)
        t0 = time.monotonic()
        summary, peaks = hb.run_hostile_batch(kinds_dir, tmp / f"out-{name}", scratch, jobs=jobs,
                                              isolation=args.isolation)
        return time.monotonic() - t0, peaks, *_rows(tmp / f"out-{name}")

    innocent = [s for s, k in students.items() if k == "reference"]
    if innocent and not args.grader and not args.no_disk_bound:
        bound_cost(hb, tmp / "class" / innocent[0], args.isolation)

    # 1. each alone
    alone = {}
    print("\n1. each submission alone (one slot)")
    print(f"  {'submission':34s} {'score':>6s} {'time s':>7s} {'disk MB':>8s} {'tree MB':>8s}  statuses")
    for student, kind in students.items():
        single = tmp / f"alone-{student}"
        single.mkdir()
        shutil.copytree(tmp / "class" / student, single / student)
        hb._readable(single)
        wall, peaks, subs, checks = batch(single, f"alone-{student}", 1)
        sub = subs[student]
        tree = max(peaks.tree_memory.values(), default=0)
        alone[student] = (sub, checks.get(student, {}))
        print(f"  {student:34s} {sub['score']:6.1f} {sub['duration']:7.1f} {peaks.scratch_disk_each / MB:8.0f} "
              f"{tree / MB:8.0f}  " + ", ".join(s for _, s in checks.get(student, {}).values()))
        if kind in hb.HOSTILE:
            m = hb.marker(tmp / "class" / student)
            left = [p for d in ("/tmp", "/var/tmp", "/dev/shm") if os.path.isdir(d) for p in Path(d).iterdir()
                    if m in p.name]
            size = sum(p.stat().st_size for p in left if p.is_file())
            if left:
                print(f"  {'':34s} left behind in /tmp, /var/tmp, /dev/shm: {len(left)} files, {size / MB:.0f} MB")
                for p in left:
                    p.unlink()

    if len(students) < 2:
        shutil.rmtree(tmp, ignore_errors=True)
        return
    # 2. the class
    wall, peaks, subs, checks = batch(tmp / "class", "class", args.jobs)
    print(f"\n2. the class, --jobs {args.jobs}: {wall:.1f} s")
    print(f"  {'innocent':34s} {'score':>6s} {'alone':>6s} {'time s':>7s} {'alone':>6s}  beside")
    spans = {s: _interval(subs[s]) for s in subs}
    for student, kind in students.items():
        if kind in hb.HOSTILE:
            continue
        a, b = spans[student]
        beside = [students[o] for o, (c, d) in spans.items() if o != student and students[o] in hb.HOSTILE
                  and c < b and d > a]
        same = "" if checks[student] == alone[student][1] else "  SCORES DIFFER"
        print(f"  {student:34s} {subs[student]['score']:6.1f} {alone[student][0]['score']:6.1f} "
              f"{subs[student]['duration']:7.1f} {alone[student][0]['duration']:6.1f}  {', '.join(beside) or '-'}{same}")
    print(f"  peaks: scratch disk, all folders at once {peaks.scratch_disk / MB:.0f} MB (one folder "
          f"{peaks.scratch_disk_each / MB:.0f} MB; bound {args.jobs} × {limits.get('disk_mb', 'none')} MB); "
          f"free space of {tmp} fell by {peaks.free_drop / MB:.0f} MB, /dev/shm by {peaks.shm_drop / MB:.0f} MB")
    print(f"         sandbox users' memory (PSS) {peaks.sandbox_memory / MB:.0f} MB at once (bound {args.jobs} × "
          f"{limits['memory_mb']} MB), the grader's own {peaks.grader_memory / MB:.0f} MB, both "
          f"{peaks.total_memory / MB:.0f} MB; {peaks.samples} samples")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
