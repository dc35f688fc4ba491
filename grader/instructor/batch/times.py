"""When each submission was handed in, from what the platform gave (docs/batch.md, "Late policy").

  Gradescope        the export's `submission_metadata.yml`, `:created_at` ("2026-11-30 10:00:00 +0000")
  Moodle            the assignment's offline grading worksheet (`--moodle-worksheet`): column
                    `Last modified (submission)` of the row `Participant N`, N the number of the
                    download's folder `Full Name_N_assignsubmission_file_`; Moodle writes the user's
                    local time without a zone ("Friday, 4 December 2026, 11:59 PM"), read in the
                    policy's time zone
  Canvas            no time in the download, only the `LATE_` marker; the instructor's list of the
                    API's `submitted_at` (`--submission-times`) gives the times
  GitHub Classroom  the clone's HEAD commit time (commit_time.py): advisory, a client sets it
A submission-times CSV applies to any layout and wins over all the others; then the worksheet,
then the platform's own time. Unknown: None (the policy counts it as on time).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any, Iterable, Optional

from grader.instructor.spreadsheet import read_records

from .late import SubmissionTime, parse_when

# the times CSV: the first of these columns present names the student
KEY_COLUMNS = ("student", "user_id", "id", "lms_id", "sis_user_id", "login_id", "email", "github_username",
               "roster_identifier")
MOODLE_TIME_FORMATS = ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M", "%d %B %Y, %I:%M %p", "%d %B %Y, %H:%M")


def identifiers(row: dict[str, Any]) -> list[str]:
    """The lower-cased names a student goes by: student id, LMS id (Canvas/Moodle user id, GitHub
    username), email."""
    keys = [row.get("student"), row.get("lms_id"), row.get("email")]
    return [str(k).strip().lower() for k in keys if k and str(k).strip()]


def parse_gradescope_time(value: Any) -> Optional[datetime]:
    """`:created_at` of Gradescope's metadata ("2026-11-30 10:00:00 +0000", or a YAML timestamp)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str) or not value.strip():
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S.%f %z"):
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            pass
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return t if t.tzinfo else None


def parse_moodle_time(text: str, tz: Optional[tzinfo]) -> Optional[datetime]:
    """Moodle's userdate ("Friday, 4 December 2026, 11:59 PM"); "-" or "" → None.

    In `tz` when given (Moodle writes the user's local time without a zone), else naive."""
    s = re.sub(r"\s+", " ", str(text or "")).strip()
    if s in ("", "-"):
        return None
    for fmt in MOODLE_TIME_FORMATS:
        try:
            t = datetime.strptime(s, fmt)
        except ValueError:
            continue
        return t.replace(tzinfo=tz) if tz is not None else t
    raise ValueError(f"{text!r} is not a Moodle date (e.g. 'Friday, 4 December 2026, 11:59 PM')")


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows) of a CSV an instructor gives (grader/instructor/spreadsheet.read_records); ValueError."""
    return read_records(path)


@dataclass(frozen=True)
class WorksheetRow:
    """One row of Moodle's offline grading worksheet."""

    identifier: str  # "Participant 2000"
    participant: str  # "2000": the number in the download's folder name
    full_name: str
    email: str
    status: str
    last_modified: str  # as Moodle wrote it
    submitted_at: Optional[datetime]  # that time in the given zone (naive without one); None: "-"
    row: dict[str, str]  # every column, for a writer that re-exports the worksheet


def read_moodle_worksheet(path: Path, tz: Optional[tzinfo] = None) -> list[WorksheetRow]:
    """Moodle's offline grading worksheet (CSV, UTF-8 with or without a BOM); ValueError when it is not one."""
    from grader.instructor.export.worksheet import read_worksheet  # the one reading of the worksheet

    out = []
    for r in read_worksheet(path).records():
        m = re.search(r"(\d+)\s*$", r.get("Identifier", ""))
        if not m:
            continue
        text = r.get("Last modified (submission)", "")
        out.append(WorksheetRow(r["Identifier"], m[1], r.get("Full name", ""), r.get("Email address", ""),
                                r.get("Status", ""), text, parse_moodle_time(text, tz), r))
    return out


def read_submission_times(path: Path, tz: Optional[tzinfo]) -> dict[str, datetime]:
    """{lower-cased student identifier: submitted_at} from a CSV with a key column (KEY_COLUMNS) and
    `submitted_at` (ISO 8601, as Canvas's API gives it; a time without offset is in `tz`).

    Rows with an empty `submitted_at` (no submission) are left out; ValueError for a bad file."""
    header, rows = read_csv(path)
    key = next((k for k in KEY_COLUMNS if k in header), None)
    if key is None or "submitted_at" not in header:
        raise ValueError(f"{path}: needs a submitted_at column and one of {', '.join(KEY_COLUMNS)}")
    out = {}
    for n, r in enumerate(rows, start=2):
        if r[key] and r["submitted_at"]:
            try:
                out[r[key].lower()] = parse_when(r["submitted_at"], tz)
            except ValueError as exc:
                raise ValueError(f"{path}, line {n}: {exc}") from None
    return out


def match_times(rows: Iterable[dict[str, Any]], listed: dict[str, datetime],
                worksheet: Iterable[WorksheetRow]) -> tuple[dict[str, SubmissionTime], list[str]]:
    """The times the instructor's files give: ({student: time}, notes on rows that match nobody).

    `rows`: gradebook rows or entries (student, lms_id, email, layout). Moodle rows match a
    `moodle` submission by participant number (its lms_id)."""
    rows = list(rows)
    found: dict[str, SubmissionTime] = {}
    used: set[str] = set()
    moodle = {r["lms_id"]: r["student"] for r in rows if r.get("layout") == "moodle" and r.get("lms_id")}
    seen_participants = set()
    for w in worksheet:
        student = moodle.get(w.participant)
        if student is None:
            continue
        seen_participants.add(w.participant)
        if w.submitted_at is not None:
            found[student] = SubmissionTime(w.submitted_at, "moodle")
    for r in rows:
        for k in identifiers(r):
            if k in listed:
                found[r["student"]] = SubmissionTime(listed[k], "times-csv")
                used.add(k)
                break
    notes = [f"submission times: {k!r} matches no submission" for k in sorted(set(listed) - used)]
    return found, notes


def platform_time(layout: str, submitted_at: Optional[datetime]) -> SubmissionTime:
    """The time a layout itself gave (Gradescope's created_at, a clone's commit), or unknown."""
    if submitted_at is None:
        return SubmissionTime()
    if layout == "classroom":
        return SubmissionTime(submitted_at, "commit", advisory=True)
    return SubmissionTime(submitted_at, layout)


def read_commit_times(entries: Iterable[Any]) -> None:
    """Set `submitted_at` of GitHub Classroom clones (entries with a .git folder) to HEAD's commit time."""
    from .commit_time import commit_times

    clones = [e for e in entries if e.layout == "classroom" and (e.source / ".git").is_dir()]
    found = commit_times([e.source for e in clones])
    for e in clones:
        e.submitted_at = found.get(Path(os.path.abspath(e.source)))


INSTRUCTOR_SOURCES = ("times-csv", "moodle")


def entry_times(entries: Iterable[Any], listed: dict[str, datetime], worksheet: Iterable[WorksheetRow],
                recorded: Optional[dict[str, SubmissionTime]] = None) -> list[str]:
    """Set each entry's `time`: the instructor's files of this run, else a time an earlier run took
    from them (`recorded`: kept, so a re-run without the files does not forget it), else the
    platform's own. Notes on rows of the files that match nobody."""
    entries = list(entries)
    recorded = {k: t for k, t in (recorded or {}).items() if t.source in INSTRUCTOR_SOURCES and t.at}
    rows = [{"student": e.student, "lms_id": e.lms_id, "email": e.email, "layout": e.layout} for e in entries]
    found, notes = match_times(rows, listed, worksheet)
    for e in entries:
        e.time = found.get(e.student) or recorded.get(e.student) or platform_time(e.layout, e.submitted_at)
    return notes


def to_utc_text(t: Optional[datetime]) -> str:
    return "" if t is None else t.astimezone(timezone.utc).isoformat(timespec="seconds")
