"""Moodle: the assignment's offline grading worksheet, and a gradebook CSV for grade/import/csv.

Worksheet (mod/assign/feedback/offline): the importer finds each row's student by `Identifier`
("Participant N", N the number of the download's folder `Full Name_N_assignsubmission_file_`), reads
`Grade`, `Last modified (grade)` and the feedback columns, and skips a row whose grade is blank, below 0
or above the assignment's maximum, or whose grade changed in Moodle after `Last modified (grade)`.
Gradebook CSV (grade/import/csv): a row whose user is not found, or a value above the site's maximum
grade, aborts the whole import; a blank value is "no grade". So rows are only written for students
with a key and a grade, and values never exceed the maximum.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from grader.instructor.spreadsheet import is_formula, safe_cell

from .core import Book, Options, Result, clamp, exported, not_graded_note, number, write_csv
from .worksheet import FEEDBACK, GRADE, IDENTIFIER, MAXIMUM, MODIFIED_GRADE, PARTICIPANT, participant, read_worksheet

WORKSHEET_COLUMNS = [IDENTIFIER, "Full name", "Email address", "Status", GRADE, MAXIMUM, "Grade can be changed",
                     "Last modified (submission)", MODIFIED_GRADE, FEEDBACK]
GRADEPOINTMAX = 100  # grade/import/csv aborts above $CFG->gradepointmax, 100 unless unlimited grades are on


def feedback_comment(sub: dict[str, Any], checks: list[dict[str, Any]]) -> str:
    """A short summary for the student: the score and each check that lost points (title, points lost).

    Titles and points only, as the feedback policy shows hidden checks: never a check's message, inputs
    or expected values (grader/instructor/batch/feedback.py)."""
    if sub["status"] != "graded":
        return f"Not graded ({sub['status']}): your instructor has the details."
    lost = [c for c in checks if c["score"] < c["max_score"]]
    head = f"Checks: {number(sub['score'])} of {number(sub['max_score'])} points."
    if not lost:
        return head + " Every check passed."
    parts = [f"{c['title']}{' (hidden)' if c['visibility'] == 'hidden' else ''}: "
             f"-{number(c['max_score'] - c['score'])} of {number(c['max_score'])}" for c in lost]
    return head + " Points lost: " + "; ".join(parts) + "."


def _moodle_subs(book: Book) -> dict[str, dict[str, Any]]:
    return {s["lms_id"]: s for s in book.submissions if s["layout"] == "moodle" and s["lms_id"]}


def export_worksheet(book: Book, path: Path, opts: Options) -> Result:
    """The offline grading worksheet: the downloaded one (--worksheet) filled, else one written from the gradebook."""
    result = Result(Path(path))
    subs = _moodle_subs(book)
    if opts.worksheet is not None:
        sheet = read_worksheet(opts.worksheet)
        header, rows = list(sheet.header), [list(r) for r in sheet.rows]
    else:
        header, rows = list(WORKSHEET_COLUMNS), []
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")  # strtotime() reads ISO 8601
        for n, s in sorted(subs.items(), key=lambda kv: int(kv[0])):
            # the submission's time where known (ISO 8601 UTC; the importer does not read this column)
            rows.append([f"{PARTICIPANT}{n}", s["name"], s["email"], "", "", "", "Yes", s.get("submitted_at") or "",
                         stamp, ""])
        result.notes.append("no --worksheet: written from the gradebook; Moodle's own worksheet (Download grading "
                            "worksheet) keeps its Last modified (grade) check")
    if FEEDBACK not in header:
        header.append(FEEDBACK)
        rows = [r + [""] for r in rows]
        result.notes.append(f"the worksheet has no {FEEDBACK!r} column (comments feedback off?): added; Moodle "
                            "imports it only with that feedback type on")
    col = {name: header.index(name) for name in header}
    i_max = col.get(MAXIMUM)
    placed: set[str] = set()
    for r in rows:
        n = participant(r[col[IDENTIFIER]])
        sub = subs.get(n) if n else None
        sheet_max = _float(r[i_max]) if i_max is not None else None
        points = opts.points if opts.points is not None else sheet_max if sheet_max is not None else book.max_score
        if i_max is not None and not r[i_max]:
            r[i_max] = number(points)
        for name in ("Full name", "Email address"):  # shown, not matched on: guarded
            if name in col:
                r[col[name]] = safe_cell(r[col[name]])
        if sub is None:
            continue
        placed.add(sub["student"])
        value, clamped = clamp(exported(sub, points, opts.ungraded), sheet_max if sheet_max is not None else points)
        if clamped:
            result.notes.append(f"{sub['student']}: {number(exported(sub, points, opts.ungraded))} clamped to the "
                                f"maximum grade {number(sheet_max if sheet_max is not None else points)} (Moodle "
                                "skips a grade above it)")
        if value is not None:
            r[col[GRADE]] = number(value)
            r[col[FEEDBACK]] = feedback_comment(sub, book.checks.get(sub["student"], []))
    result.notes += not_graded_note(book.submissions, opts.ungraded)
    for s in book.submissions:
        if s["student"] not in placed and exported(s, 1.0, opts.ungraded) is not None:  # the rest: listed above
            why = "not in the worksheet" if s["layout"] == "moodle" else f"no Moodle participant number (layout {s['layout']})"
            result.notes.append(f"{s['student']}: left out: {why}")
    write_csv(path, [header, *rows], bom=True if opts.bom is None else opts.bom)
    result.rows = len(rows)
    return result


def _float(text: str) -> Optional[float]:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


def export_gradebook(book: Book, path: Path, opts: Options) -> Result:
    """A gradebook CSV for Moodle's grade/import/csv, keyed by email address (map it to "Email address")."""
    result = Result(Path(path))
    points = book.max_score if opts.points is None else opts.points
    if points > GRADEPOINTMAX:
        result.notes.append(f"--points {number(points)} is above Moodle's default maximum grade {GRADEPOINTMAX}: "
                            "the import aborts unless the site allows unlimited grades")
    title = opts.title or book.assignment
    rows: list[list[Any]] = [["Full name", "Email address", title]]
    # a Moodle download has names only: the worksheet has each participant's email address
    emails = {}
    if opts.worksheet is not None:
        emails = {participant(r.get(IDENTIFIER, "")): r.get("Email address", "").strip()
                  for r in read_worksheet(opts.worksheet).records()}
    result.notes += not_graded_note(book.submissions, opts.ungraded)
    for s in book.submissions:
        raw = exported(s, points, opts.ungraded)
        if raw is None:
            continue  # a blank is "no grade" for Moodle: left out, the grade in Moodle stays
        email = s["email"] or (emails.get(s["lms_id"], "") if s["layout"] == "moodle" else "")
        if not email:
            result.notes.append(f"{s['student']}: left out: no email address (layout {s['layout']}"
                                + ("; --worksheet gives a Moodle download's)" if opts.worksheet is None else ")"))
            continue
        if is_formula(email):
            # the key must stay exact for Moodle to find the user, and a spreadsheet would run it as is
            result.notes.append(f"{s['student']}: left out: its email {email!r} would run as a spreadsheet "
                                "formula; enter this grade by hand")
            continue
        value, clamped = clamp(raw, points)
        if clamped:
            result.notes.append(f"{s['student']}: {number(raw)} clamped to {number(points)} (a value above the "
                                "maximum aborts Moodle's whole import)")
        rows.append([safe_cell(s["name"] or s["student"]), email, number(value)])
    write_csv(path, rows, bom=True if opts.bom is None else opts.bom)
    result.rows = len(rows) - 1
    return result
