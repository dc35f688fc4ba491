"""Benchmark: building report.html's "What the class got wrong" (grader/instructor/batch/analytics.py)
from a gradebook of N students × C checks.

The gradebook is a real gradebook.sqlite written with `Gradebook.record`, one submission per
transaction as a batch writes it: the backprop assignment's checks in its order (the first 27 are the
tasks softmax, scalar and layers, what bench_batch.py grades; more than 36 adds made-up checks), and
per student and check a status and a message drawn (seeded) from the kinds of failure the real
checks give — values off with the student's own numbers and indices, nan from an overflow, a
crash with a traceback through the student's own lines, not implemented, a timeout — so the
messages are as varied as a real class's and group as they would.

Timed, in this process, best of --repeat: reading the rows (`Gradebook.submissions()`,
`Gradebook.checks()`, as `grade report` does) and building the section (normalising every message
afresh: the cache is cleared each time).

    python bench/bench_class_analytics.py [--students 200] [--checks 27] [--html /tmp/analytics-200.html]

--html writes a page holding only the section, under report.html's head and policy, to look at
(headless Chromium: `chromium --headless --screenshot=/tmp/a.png --window-size=1200,2400 FILE`).
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.engine import assignment  # noqa: E402
from grader.instructor.batch import analytics  # noqa: E402
from grader.instructor.batch.gradebook import Gradebook, now  # noqa: E402
from grader.instructor.batch.html import _head  # noqa: E402
from grader.reports.html import STYLE  # noqa: E402

TOL = "allowed |got − expected| ≤ 1e-06 + 0.0001·|expected|"


def _values(rng: random.Random, call: str) -> str:
    n = rng.choice([6, 12, 24])
    exp, got = rng.uniform(-1, 1), rng.uniform(-3, 3)
    return (f"{call}: {rng.randint(1, n)} of {n} entries wrong; worst at index [{rng.randint(0, 3)}, {rng.randint(0, 5)}]: "
            f"expected {exp:.8g}, got {got:.8g} (abs error {abs(exp - got):.2e}, rel error {abs(exp - got) / abs(exp):.2e}; {TOL})")


def _crash(rng: random.Random, fn: str) -> str:
    line = rng.randint(20, 90)
    code = rng.choice(["return e / np.sum(e, axis=-1)", "out = e / e.sum(1)", "return x / s"])
    return (f"{fn.split('.')[0]}.py: {fn.split('.')[-1]}(): raised ValueError\n  File \"{fn.split('.')[0]}.py\", line {line}, "
            f"in {fn.split('.')[-1]}\n    {code}\nValueError: operands could not be broadcast together with shapes (4,6) (4,)")


def outcome(rng: random.Random, check_id: str, hardness: float) -> tuple[str, str]:
    """(status, message) of one student on one check."""
    module, fn = check_id.split(".")[0], check_id.split(".")[-1]
    if rng.random() > hardness:
        return "passed", ""
    kind = rng.choices(["values", "nan", "crash", "todo", "name", "timeout", "oom"], [40, 15, 12, 15, 8, 6, 2])[0]
    if kind == "values":
        return "failed", _values(rng, f"{fn}(o) for o of shape (4, 6)")
    if kind == "nan":
        return "failed", (f"{fn}(o) with logits ±1e4: contains {rng.choice(['nan', 'inf'])} at index "
                          f"[{rng.randint(0, 3)}, {rng.randint(0, 5)}] (overflow or division by zero?)")
    if kind == "crash":
        return "error", _crash(rng, f"{module}.{fn}")
    if kind == "todo":
        return "failed", f"{module}.py: {fn}(): not implemented yet"
    if kind == "name":
        name = rng.choice(["ee", "totl", "np_sum", "W1", "grad_x"])
        return "error", (f"{module}.py: {fn}(): raised NameError\n  File \"/tmp/grade-{rng.randrange(16**6):06x}/{module}.py\", "
                         f"line {rng.randint(10, 99)}, in {fn}\n    y = {name} + 1\nNameError: name '{name}' is not defined")
    if kind == "timeout":
        return "timeout", "did not finish within the time limit of 10 s (an endless loop, or far too slow?)"
    return "out_of_memory", f"out of memory (limit {rng.choice([2048, 4096])} MiB) while running this check"


def build(path: Path, students: int, n_checks: int, seed: int = 0) -> list[tuple[str, float]]:
    rng = random.Random(seed)
    checks = assignment.load("backprop").checks(hidden=True)
    cols = [(c.id, c.title, c.task, c.visibility.value, float(c.points)) for c in checks[:n_checks]]
    cols += [(f"extra.check_{i:02d}", f"made-up check {i}", "extra", "public", 1.0) for i in range(n_checks - len(cols))]
    hardness = {cid: rng.choice([0.0, 0.05, 0.2, 0.4, 0.7]) for cid, *_ in cols}
    with Gradebook(path) as gb:
        gb.claim("backprop", "summary", [cid for cid, *_ in cols])
        at = now()
        for i in range(students):
            student = f"student{i:03d}"
            rows = []
            for pos, (cid, title, task, vis, pts) in enumerate(cols):
                status, message = outcome(rng, cid, hardness[cid])
                rows.append({"check_id": cid, "position": pos, "task": task, "module": task, "title": title,
                             "score": pts if status == "passed" else 0.0, "max_score": pts, "status": status,
                             "visibility": vis, "message": message, "duration": 0.1, "graded_at": at})
            gb.record({"student": student, "layout": "folder", "source": student, "content_hash": f"{i:064x}",
                       "assignment": "backprop", "grader_version": "bench", "status": "graded",
                       "started_at": at, "finished_at": at, "duration": 2.0}, rows)
    return [(cid, pts) for cid, _, _, _, pts in cols]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=200)
    ap.add_argument("--checks", type=int, default=27)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--html", type=Path, help="write a page with the section alone")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gradebook.sqlite"
        order = build(path, args.students, args.checks)
        reads, builds = [], []
        for _ in range(args.repeat):
            analytics.normalise.cache_clear()
            t0 = time.perf_counter()
            with Gradebook(path) as gb:
                subs, rows = gb.submissions(), gb.checks()
            t1 = time.perf_counter()
            parts = analytics.analytics_section(subs, rows, order)
            t2 = time.perf_counter()
            reads.append(t1 - t0)
            builds.append(t2 - t1)
    failing = sum(r["status"] != "passed" for r in rows)
    html = "\n".join(parts)
    print(f"{args.students} students × {args.checks} checks ({len(rows)} results, {failing} not passed): "
          f"read {min(reads) * 1000:.0f} ms, section {min(builds) * 1000:.0f} ms "
          f"(best of {args.repeat}; {len(html) / 1024:.0f} KiB of HTML, {html.count('<tr id=')} rows)")
    if args.html:
        args.html.write_text(_head("What the class got wrong", STYLE + analytics.STYLE) + html + "</body></html>\n",
                             encoding="utf-8")
        print(f"wrote {args.html}")


if __name__ == "__main__":
    main()
