"""GitHub Classroom: a CSV with the columns of Classroom's own grades export, joinable with it.

The column names are those of Classroom's assignment grades (GitHub REST API "Get assignment grades",
the `classroom-assignment-grade` schema): one row per student, keyed by `github_username` (the clone's
`<assignment>-<username>` folder) and `roster_identifier` (from `--roster`, Classroom's
classroom_roster.csv: identifier, github_username, github_id, name).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from grader.instructor.spreadsheet import read_rows as read_csv, safe_cell

from .core import Book, Options, Result, exported, not_graded_note, number, write_csv

COLUMNS = ["assignment_name", "assignment_url", "starter_code_url", "github_username", "roster_identifier",
           "student_repository_name", "student_repository_url", "submission_timestamp", "points_awarded",
           "points_available"]


def read_roster(path: Path) -> dict[str, str]:
    """{github_username (case-folded): identifier} of Classroom's roster CSV."""
    rows = read_csv(path)
    head = [h.strip() for h in rows[0]] if rows else []
    if "identifier" not in head or "github_username" not in head:
        raise ValueError(f"{path}: not a GitHub Classroom roster (columns identifier, github_username)")
    i, g = head.index("identifier"), head.index("github_username")
    return {r[g].strip().casefold(): r[i].strip() for r in rows[1:] if len(r) > max(i, g) and r[g].strip()}


def export(book: Book, path: Path, opts: Options) -> Result:
    result = Result(Path(path))
    points = book.max_score if opts.points is None else opts.points
    roster = read_roster(opts.roster) if opts.roster is not None else {}
    name = opts.title or book.assignment
    rows: list[list[Any]] = [COLUMNS]
    placed: set[str] = set()
    for s in book.submissions:
        if s["layout"] != "classroom" or not s["lms_id"]:
            if exported(s, 1.0, opts.ungraded) is None:
                continue  # listed as not graded below
            result.notes.append(f"{s['student']}: left out: no GitHub username (layout {s['layout']})")
            continue
        user = s["lms_id"]
        placed.add(user.casefold())
        repo = Path(s["source"]).name
        url = f"https://github.com/{opts.org}/{repo}" if opts.org else ""
        # roster identifiers are the instructor's free text: guarded (the join key is github_username)
        # the graded commit's time where the batch read it (advisory: clients set commit times)
        stamp = s.get("submitted_at") or ""
        rows.append([safe_cell(name), "", "", user, safe_cell(roster.get(user.casefold(), "")), repo, url, stamp,
                     number(exported(s, points, opts.ungraded)), number(points)])
    for user, ident in sorted(roster.items()):
        if user not in placed:  # on the roster, no submission: listed, nothing awarded
            rows.append([safe_cell(name), "", "", user, safe_cell(ident), "", "", "", "", number(points)])
    result.notes += not_graded_note(book.submissions, opts.ungraded)
    write_csv(path, rows, bom=bool(opts.bom))
    result.rows = len(rows) - 1
    return result
