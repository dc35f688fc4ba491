"""Benchmark: what the similarity screen adds to `grade batch` (grader/instructor/batch/screen.py).

For each class it times, in this process (the batch's main process does the same after grading):
the screen (reading the class again, staging, copydetect, storing in the gradebook) and the
outputs (similarity.csv and the side-by-side pages). The first class also pays the imports
(copydetect, pygments) and the template's generation, as a batch does once.

Classes: the tests' class of 53 entries in every layout (tests/batch_class.py build_big_class: 45
readable, many of them copies of the reference: a worst case for flagged pairs), then N A1
folders, each the complete reference with its variables renamed per student (all alike: every
pair is flagged, the worst case).

    python bench/bench_similarity.py [--n 100 --n 200]
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from batch_class import build_big_class  # noqa: E402
from grader.engine.fs import Budget  # noqa: E402
from grader.instructor.batch.gradebook import Gradebook  # noqa: E402
from grader.engine import assignment  # noqa: E402
from grader.instructor.batch.intake import take_in  # noqa: E402
from grader.instructor.batch.layouts import discover  # noqa: E402
from grader.instructor.batch.screen import compare, store, write_outputs  # noqa: E402


def build_class(root: Path, n: int) -> None:
    """N copies of the complete A1 reference, each with a few names changed (copies in disguise)."""
    ref = ROOT / "reference" / "backprop"
    for i in range(n):
        dest = root / f"student{i:03d}"
        shutil.copytree(ref, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pt", "*.json"))
        for p in dest.glob("*.py"):
            p.write_text(re.sub(r"\b(x|y|out|grad)\b", lambda m: f"{m[1]}_{i}", p.read_text()))


def measure(klass: Path, out: Path, label: str) -> None:
    out.mkdir()
    with Gradebook(out / "gradebook.sqlite") as gb:
        t0 = time.perf_counter()
        asg = assignment.load("backprop")  # the batch's intake (reading, hashing) is part of the cost
        subs = list(take_in(discover(klass, asg), asg, Budget(), keep_code=True))
        summary = store(gb, compare(subs, "backprop", 0.5))
        t1 = time.perf_counter()
        write_outputs(out, gb)
        t2 = time.perf_counter()
    print(f"{label:<34} {summary['submissions']:>4} read  {summary['file_pairs']:>6} file pairs  "
          f"{summary['flagged']:>6} flagged   screen {t1 - t0:6.2f} s   outputs {t2 - t1:5.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, action="append", help="sizes of the A1 folder classes (default 50, 100, 200)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        build_big_class(tmp / "big", tmp / "store")
        measure(tmp / "big", tmp / "o1", "tests' class (first: imports)")
        measure(tmp / "big", tmp / "o2", "tests' class (again)")
        for n in args.n or [50, 100, 200]:
            build_class(tmp / f"c{n}", n)
            measure(tmp / f"c{n}", tmp / f"o{n}", f"{n} A1 folders")


if __name__ == "__main__":
    main()
