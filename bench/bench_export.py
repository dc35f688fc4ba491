"""Benchmark: `grade export` of a class of 200 from its gradebook (grader/instructor/export/).

Builds a gradebook of N students (Gradebook.record, one transaction each, as the batch records them):
a check row for every check of the backprop assignment (36, hidden included) with realistic scores,
statuses, messages and outputs; a mix of layouts (Canvas, Moodle, GitHub Classroom, folders) and a few
submissions not graded (error, timeout, rejected). Then times each export, in this process, over
several runs (the best and the median), plus the Canvas roster and the Moodle worksheet variants.

    python bench/bench_export.py [--n 200] [--repeat 5]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.engine import assignment  # noqa: E402
from grader.instructor.batch.gradebook import FILENAME, Gradebook, now  # noqa: E402
from grader.instructor.export import Options, export  # noqa: E402

LAYOUTS = ("canvas", "moodle", "classroom", "folder")


def build(out: Path, n: int, seed: int = 0) -> None:
    """A gradebook of n students for backprop, every check recorded."""
    rng = random.Random(seed)
    checks = assignment.load("backprop").checks(hidden=True)
    with Gradebook(out / FILENAME) as gb:
        gb.claim("backprop", "summary", [c.id for c in checks])
        for i in range(n):
            layout = LAYOUTS[i % len(LAYOUTS)]
            student = f"student{i:03d}"
            name = f"Ståle Ünal {i}" if i % 7 == 0 else f"Student {i}"
            status = "graded" if i % 40 else ("error", "timeout", "rejected")[i // 40 % 3]
            t = now()
            sub = {"student": student, "name": name, "email": f"s{i}@uni.example" if layout != "moodle" else "",
                   "lms_id": {"canvas": str(10000 + i), "moodle": str(3000 + i), "classroom": f"gh-user{i}"}.get(layout, ""),
                   "layout": layout, "source": f"/class/backprop-gh-user{i}" if layout == "classroom" else f"/class/{student}",
                   "late": int(rng.random() < 0.1), "content_hash": f"{i:064x}", "assignment": "backprop",
                   "grader_version": "bench", "status": status, "message": "" if status == "graded" else "why",
                   "traceback": "", "score": 0.0, "max_score": 0.0, "percent": 0.0, "started_at": t, "finished_at": t,
                   "duration": rng.uniform(2, 60), "warnings": []}
            rows = []
            if status == "graded":
                skill = rng.random()
                for pos, c in enumerate(checks):
                    ok = rng.random() < 0.4 + 0.6 * skill
                    rows.append({"check_id": c.id, "position": pos, "task": c.task, "module": c.task, "title": c.title,
                                 "score": float(c.points) if ok else 0.0, "max_score": float(c.points),
                                 "status": "passed" if ok else "failed", "visibility": c.visibility.value,
                                 "message": "" if ok else "max |got − expected| = 0.37 at index (2, 1); expected sum",
                                 "output": "epoch 1 loss 2.30\n" * 5, "duration": rng.uniform(0.01, 3),
                                 "tolerance": c.tolerance, "graded_at": t})
            gb.record(sub, rows)


def timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        build(out, args.n)
        print(f"gradebook of {args.n} students x 36 checks built in {time.perf_counter() - t0:.2f} s")
        roster = out / "roster.csv"
        roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,backprop (77)\n    Points Possible,,,,,10\n"
                          + "".join(f"S {i},{10000 + i},S{i},s{i}@uni.example,A,\n" for i in range(0, args.n, 4)),
                          encoding="utf-8")
        sheet = out / "worksheet.csv"
        sheet.write_text("Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
                         "Last modified (submission),Last modified (grade),Feedback comments\n"
                         + "".join(f"Participant {3000 + i},S {i},m{i}@uni.example,Submitted for grading,,10.00,Yes,-,-,\n"
                                   for i in range(1, args.n, 4)), encoding="utf-8")
        runs = [("canvas", Options(assignment_id="77", points=10)),
                ("canvas", Options(assignment_id="77", points=10, roster=roster)),
                ("moodle", Options()),
                ("moodle", Options(worksheet=sheet)),
                ("moodle-gradebook", Options(points=10)),
                ("classroom", Options(org="course")),
                ("csv", Options())]
        print(f"{'format':<18} {'variant':<12} {'rows':>5} {'best':>9} {'median':>9}")
        for to, opts in runs:
            variant = "--roster" if opts.roster else "--worksheet" if opts.worksheet else ""
            result = export(out, to, out / f"{to}.csv", opts)
            best, med = timed(lambda: export(out, to, out / f"{to}.csv", opts), args.repeat)
            print(f"{to:<18} {variant:<12} {result.rows:>5} {best * 1000:>7.1f} ms {med * 1000:>6.1f} ms")


if __name__ == "__main__":
    main()
