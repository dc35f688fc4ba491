"""The similarity screen of a batch: run it after grading, keep it in the gradebook, write OUT/similarity/.

`grade batch` (more than one submission, unless `--no-similarity`) compares the code its intake
already read (intake.py: each submission read once; grader/instructor/similarity.py does the
comparing; code is only read, never run). The result is stored in the gradebook (one transaction,
replacing the previous run's), so `grade report DIR` rebuilds the report's section,
`similarity/similarity.csv` and the side-by-side pages from the gradebook alone, with SUBMISSIONS
gone or changed. `grade similarity` (`screen_class`) reads a class through the same intake.

A re-run whose class is unchanged (the same students with the same content hashes, threshold and
grader) keeps the stored screen instead of comparing again; `--force` compares again.

The screen never breaks a batch: a failure (copydetect missing, an exception) is recorded and shown
as a sentence in the section instead of the table.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import dataclass, field
from math import comb
from pathlib import Path
from typing import Any, Optional

from grader.engine.fs import Budget
from grader.instructor import similarity
from grader.instructor.similarity import FOLDER, MAX_LISTED

from .gradebook import Gradebook, now
from .intake import Submission, take_in


def page_name(student_a: str, student_b: str, module: str) -> str:
    """The side-by-side page of one pair (`~` occurs in neither a student id nor a module name)."""
    return f"{student_a}~{student_b}~{module}.html"


def class_key(hashes: dict[str, str], threshold: float, version: str) -> str:
    """What the screen's result depends on: the class's files (their content hashes), the threshold,
    the grader's version and this screen's own code."""
    h = hashlib.sha256(json.dumps([sorted(hashes.items()), threshold, version]).encode())
    for source in (Path(similarity.__file__), Path(__file__)):
        h.update(source.read_bytes())
    return h.hexdigest()


def compared(subs: list[Submission]) -> tuple[dict[str, dict[str, str]], list[str]]:
    """The intake's code of every readable submission, and notes on what is not compared."""
    codes: dict[str, dict[str, str]] = {}
    notes: list[str] = []
    for s in subs:
        if s.status:
            notes.append(f"{s.student}: not compared ({s.message})")
        else:
            codes[s.student] = s.code or {}
            notes.extend(s.code_notes)
    return codes, notes


def stored_screen(gb: Gradebook, key: str) -> Optional[dict[str, Any]]:
    """The stored screen's summary when `key` (class_key) is the one it was made for: it stands."""
    stored = json.loads(gb.get_meta("similarity") or "null")
    if key and stored is not None and stored.get("key") == key and stored["status"] == "done":
        return {**stored, "reused": True}
    return None


@dataclass
class Screened:
    """One comparison of a class: its summary (None: fewer than two readable submissions), the
    flagged pairs, the code of the flagged files."""

    summary: Optional[dict[str, Any]]
    pairs: list = field(default_factory=list)
    code: dict[tuple[str, str], str] = field(default_factory=dict)


def compare(subs: list[Submission], assignment: str, threshold: float, key: str = "") -> Screened:
    """Compare the class the intake read (no gradebook: the batch runs this beside the grading)."""
    t0 = time.monotonic()
    summary: dict[str, Any] = {"threshold": threshold, "ran_at": now(), "status": "done", "message": "",
                               "submissions": 0, "student_pairs": 0, "file_pairs": 0, "flagged": 0, "notes": [],
                               "key": key}
    pairs: list = []
    code: dict[tuple[str, str], str] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="grade-batch-similarity-") as tmp:
            staged = Path(tmp) / "class"
            staged.mkdir()
            codes, notes = compared(subs)
            students = similarity.stage(codes, staged)
            summary.update(submissions=len(students), student_pairs=comb(len(students), 2), notes=notes)
            if len(students) < 2:
                return Screened(None)  # nothing to compare: the report has no section
            found = similarity.detect(staged, assignment, Path(tmp), threshold)
            pairs, code = found.pairs, found.code
            summary.update(file_pairs=found.file_pairs, flagged=len(pairs))
    except ImportError as exc:
        summary.update(status="unavailable", message=f"copydetect is not installed ({exc}): pip install -e '.[batch]'")
    except Exception as exc:  # noqa: BLE001 - the screen must not cost the batch its reports
        summary.update(status="failed", message=f"{type(exc).__name__}: {exc}"[:500])
        pairs, code = [], {}
    summary["seconds"] = round(time.monotonic() - t0, 2)
    return Screened(summary, pairs, code)


def store(gb: Gradebook, screened: Screened) -> Optional[dict[str, Any]]:
    """Keep a comparison in the gradebook (replacing the previous one); its summary."""
    pairs, code = screened.pairs, screened.code
    # every flagged pair is stored; the code and spans only of those listed (they get a page)
    wanted = {(s, p.module) for p in pairs[:MAX_LISTED] for s in (p.student_a, p.student_b)}
    gb.set_similarity(screened.summary,
                      [{"student_a": p.student_a, "student_b": p.student_b, "module": p.module,
                        "similarity_a": p.similarity_a, "similarity_b": p.similarity_b, "overlap": p.overlap,
                        "spans_a": [list(s) for s in p.spans_a] if i < MAX_LISTED else [],
                        "spans_b": [list(s) for s in p.spans_b] if i < MAX_LISTED else []}
                       for i, p in enumerate(pairs)],
                      [(s, m, code[(s, m)]) for s, m in sorted(wanted)])
    return screened.summary


def write_outputs(out: Path, gb: Gradebook) -> tuple[Optional[dict], list[dict]]:
    """OUT/similarity/ from the stored screen (emptied of a previous run's files first); (summary, pairs)."""
    from .html import write_pair_page

    folder = Path(out) / FOLDER
    if folder.is_dir():
        for p in [*folder.glob("*.html"), folder / "similarity.csv"]:
            p.unlink(missing_ok=True)
    summary, pairs, code = gb.similarity()
    if summary is None or summary["status"] != "done":  # no section, or a sentence saying why
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        return summary, []
    folder.mkdir(exist_ok=True)
    similarity.write_csv(folder / "similarity.csv", [similarity.Pair(p["student_a"], p["student_b"], p["module"], p["similarity_a"],
                                               p["similarity_b"], p["overlap"]) for p in pairs])
    for p in pairs[:MAX_LISTED]:
        a, b = (p["student_a"], p["module"]), (p["student_b"], p["module"])
        if a in code and b in code:
            p["page"] = f"{FOLDER}/{page_name(p['student_a'], p['student_b'], p['module'])}"
            write_pair_page(Path(out) / p["page"], p, code[a], code[b], summary["threshold"])
    return summary, pairs


def screen_class(submissions: Path, name: str, out: Path, threshold: float = similarity.DEFAULT_THRESHOLD,
                 limits: Optional[Budget] = None) -> list[similarity.Pair]:
    """`grade similarity`: read the class in SUBMISSIONS as `grade batch` does, compare it pairwise,
    write similarity.csv, similarity.html (copydetect's report) and similarity-notes.txt in `out`."""
    from grader.engine import assignment as assignments

    from .layouts import discover

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    asg = assignments.load(name)
    codes, notes = compared(list(take_in(discover(Path(submissions), asg), asg, limits or Budget(),
                                         keep_code=True)))
    with tempfile.TemporaryDirectory(prefix="grader-similarity-") as tmp:
        staged = Path(tmp) / "class"
        staged.mkdir()
        students = similarity.stage(codes, staged)
        found = similarity.detect(staged, name, Path(tmp), threshold, html_out=out / "similarity.html")
        if found.file_pairs:
            found.detector.generate_html_report()
    similarity.write_csv(out / "similarity.csv", found.pairs)
    (out / "similarity-notes.txt").write_text(
        f"{len(students)} submissions compared, threshold {threshold:g}\n" + "".join(n + "\n" for n in notes))
    return found.pairs
