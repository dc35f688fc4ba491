"""Moodle's offline grading worksheet (mod/assign, "Download grading worksheet"), read as one table.

Kept apart so that everything reading the worksheet (the Moodle export fills its Grade and Feedback
comments; the late policy reads `Last modified (submission)`) shares one reading of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from grader.instructor.spreadsheet import read_rows as read_csv


IDENTIFIER = "Identifier"  # get_string('recordid', 'assign')
PARTICIPANT = "Participant "  # get_string('hiddenuser', 'assign'): the importer strips it, then the number
GRADE = "Grade"
MAXIMUM = "Maximum Grade"
MODIFIED_GRADE = "Last modified (grade)"  # get_string('lastmodifiedgrade', 'assign')
MODIFIED_SUBMISSION = "Last modified (submission)"
FEEDBACK = "Feedback comments"
# the importer refuses a worksheet without these three (importgradeslib.php, init())
REQUIRED = (IDENTIFIER, GRADE, MODIFIED_GRADE)


@dataclass
class Worksheet:
    header: list[str]
    rows: list[list[str]]  # every data row, as downloaded, padded to the header's width

    def index(self, column: str) -> Optional[int]:
        return self.header.index(column) if column in self.header else None

    def records(self) -> list[dict[str, str]]:
        """Each row as {column: value}."""
        return [dict(zip(self.header, r)) for r in self.rows]


def participant(identifier: str) -> Optional[str]:
    """The number of `Participant N` (the download folder's `_N_assignsubmission_`), or None."""
    text = identifier.strip()
    rest = text[len(PARTICIPANT):] if text.startswith(PARTICIPANT) else ""
    return rest if rest.isdigit() else None


def read_worksheet(path: Path) -> Worksheet:
    """The worksheet at `path` (ValueError when a column the importer needs is missing)."""
    rows = read_csv(path)
    if not rows:
        raise ValueError(f"{path}: empty")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValueError(f"{path}: not a Moodle grading worksheet (no {', '.join(missing)} column)")
    width = len(header)
    return Worksheet(header, [r + [""] * (width - len(r)) for r in rows[1:] if any(c.strip() for c in r)])
