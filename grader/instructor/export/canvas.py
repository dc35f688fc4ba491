"""Canvas's gradebook CSV, as Canvas's own importer reads it (instructure/canvas-lms lib/gradebook_importer.rb).

Columns `Student, ID, SIS User ID, SIS Login ID, Section`, then one column `<title> (<assignment id>)`,
and a `    Points Possible` row under the header, as Canvas's exporter writes it (lib/gradebook_exporter.rb).
The importer finds the student by the `ID` column (the Canvas user id of the download's file names),
the assignment by the id in parentheses. A student absent from the file is not touched: submissions
that were not graded are left out, or, with `--roster` (the course's own Canvas export), written with
the value Canvas already holds, so the import changes nothing for them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from grader.instructor.spreadsheet import read_rows as read_csv, safe_cell

from .core import Book, Options, Result, exported, not_graded_note, number, write_csv

STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_ROW = "    Points Possible"  # as gradebook_exporter.rb writes it; the importer tests include?("Points Possible")
# a header containing one of these is no assignment for the importer (strip_non_assignment_columns)
NON_ASSIGNMENT = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points", "Final Grade",
                  "Override Score", "Override Grade", "Override Status")


@dataclass
class Enrolled:
    """One student of the course's Canvas gradebook export."""

    name: str
    id: str
    sis_user_id: str
    sis_login_id: str
    section: str
    current: str = ""  # the assignment's cell in that export


def column_title(title: str, assignment_id: Optional[str]) -> str:
    """`<title> (<id>)`: the importer takes the id in parentheses (Assignment.title_and_id)."""
    hit = next((h for h in NON_ASSIGNMENT if h in title), None)
    if hit:
        raise ValueError(f"--title {title!r} contains {hit!r}: Canvas's importer drops such columns as totals")
    if assignment_id is not None and not re.fullmatch(r"\d+", assignment_id):
        raise ValueError(f"--assignment-id {assignment_id!r}: a Canvas assignment id is a number")
    return f"{title} ({assignment_id})" if assignment_id else title


def _skipped(row: list[str]) -> bool:
    """The importer's non-student rows: Points Possible, the muted/manual-posting row, empty lines."""
    if row and "Points Possible" in row[0]:
        return True
    return all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c, re.I) for c in row)


def read_roster(path: Path, assignment_id: Optional[str]) -> tuple[list[Enrolled], bool]:
    """The students of a Canvas gradebook export, their current cell of the assignment, and whether it has
    the assignment's column."""
    rows = read_csv(path)
    if not rows or len(rows[0]) < 3 or "Student" not in rows[0][0] or "ID" not in rows[0][1]:
        raise ValueError(f"{path}: not a Canvas gradebook export (its header starts Student, ID, ...)")
    head = [h.strip() for h in rows[0]]

    def at(name: str) -> Optional[int]:
        return head.index(name) if name in head else None

    cols = {n: at(n) for n in STUDENT_COLUMNS}
    mine = next((i for i, h in enumerate(head) if assignment_id and h.endswith(f"({assignment_id})")), None)
    out = []
    for row in rows[1:]:
        if _skipped(row):
            continue
        cell = {n: (row[i].strip() if i is not None and i < len(row) else "") for n, i in cols.items()}
        out.append(Enrolled(cell["Student"], cell["ID"], cell["SIS User ID"], cell["SIS Login ID"], cell["Section"],
                            row[mine].strip() if mine is not None and mine < len(row) else ""))
    return out, mine is not None


def export(book: Book, path: Path, opts: Options) -> Result:
    """Write the Canvas gradebook CSV of `book` to `path`."""
    points = book.max_score if opts.points is None else opts.points
    header = [*STUDENT_COLUMNS, column_title(opts.title or book.assignment, opts.assignment_id)]
    result = Result(Path(path))
    if not opts.assignment_id:
        result.notes.append("no --assignment-id: Canvas matches the column by its title alone, and creates a new "
                            "assignment when no title matches")
    rows: list[list[Any]] = [header, [POINTS_ROW, "", "", "", "", number(points)]]
    score = {s["student"]: exported(s, points, opts.ungraded) for s in book.submissions}
    by_id = {s["lms_id"]: s for s in book.submissions if s["layout"] == "canvas" and s["lms_id"]}
    by_email = {s["email"].casefold(): s for s in book.submissions if s["email"]}
    placed: set[str] = set()
    if opts.roster is not None:
        roster, has_column = read_roster(opts.roster, opts.assignment_id)
        for e in roster:
            sub = by_id.get(e.id) or (by_email.get(e.sis_login_id.casefold()) if e.sis_login_id else None)
            value = score.get(sub["student"]) if sub else None
            if sub:
                placed.add(sub["student"])
            # not graded or no submission: what Canvas holds already, so the import changes nothing
            cell = number(value) if value is not None else e.current
            rows.append([safe_cell(e.name), e.id, safe_cell(e.sis_user_id), safe_cell(e.sis_login_id),
                         safe_cell(e.section), cell])
        if not has_column:
            result.notes.append(f"{opts.roster}: no column for the assignment: students without a grade get a blank cell")
    else:
        for lms_id, sub in sorted(by_id.items(), key=lambda kv: kv[1]["student"]):
            value = score[sub["student"]]
            if value is None:
                continue  # left out: a student absent from the file keeps Canvas's grade
            placed.add(sub["student"])
            rows.append([safe_cell(sub["name"] or sub["student"]), lms_id, "", "", "", number(value)])
    ungraded = [s for s in book.submissions if s["status"] != "graded"]
    result.notes += not_graded_note(ungraded, opts.ungraded)
    for s in book.submissions:
        if s["student"] not in placed and score[s["student"]] is not None:
            why = ("not in the roster" if opts.roster is not None and s["layout"] == "canvas"
                   else f"no Canvas user id (layout {s['layout']})"
                   + ("" if opts.roster is not None else "; --roster matches by SIS Login ID = email"))
            result.notes.append(f"{s['student']}: left out: {why}")
    write_csv(path, rows, bom=True if opts.bom is None else opts.bom)
    result.rows = len(rows) - 2
    return result
