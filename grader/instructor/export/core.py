"""What every export shares: the gradebook's rows, the score to export, notes for stderr, CSV writing.

The score exported is the submission's *final* score (`final_score` once the late policy records one,
else the raw `score`), as a share of the submission's `max_score`, scaled to the platform's points.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from grader.instructor.batch.gradebook import FILENAME, Gradebook

BOM = "\ufeff"


@dataclass
class Options:
    """What `grade export` was asked for (each platform reads the fields it needs)."""

    points: Optional[float] = None  # the platform assignment's points; default: the gradebook's max score
    ungraded: str = "blank"  # blank | zero: submissions not `graded`
    title: Optional[str] = None  # the platform's assignment title (default: the assignment's name)
    assignment_id: Optional[str] = None  # Canvas assignment id
    roster: Optional[Path] = None  # Canvas gradebook export / GitHub Classroom roster
    worksheet: Optional[Path] = None  # Moodle offline grading worksheet
    org: Optional[str] = None  # GitHub organisation of the Classroom's repositories
    bom: Optional[bool] = None  # None: the platform's default


@dataclass
class Book:
    """The gradebook's content an export needs, read once."""

    assignment: str
    submissions: list[dict[str, Any]]
    checks: dict[str, list[dict[str, Any]]]  # student -> check rows in the assignment's order
    max_score: float  # the most points any submission could get (the graded selection)


@dataclass
class Result:
    """A written export: the file, its rows (header and points rows excluded), notes for stderr."""

    path: Path
    rows: int = 0
    notes: list[str] = field(default_factory=list)


def read_book(out: Path) -> Book:
    """The gradebook of a batch's output folder (FileNotFoundError: none there)."""
    path = Path(out) / FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no gradebook here (run `grade batch ... --out {out}` first)")
    with Gradebook(path) as gb:
        subs = gb.submissions()
        checks: dict[str, list[dict[str, Any]]] = {}
        for c in gb.checks():
            checks.setdefault(c["student"], []).append(c)
        name = gb.get_meta("assignment") or ""
    top = max((float(s["max_score"]) for s in subs if s["status"] == "graded"), default=0.0)
    return Book(name, subs, checks, top)


def final_score(row: dict[str, Any]) -> float:
    """The submission's final score in the gradebook's points (the late policy's, when recorded)."""
    value = row.get("final_score")
    return float(row["score"] if value is None else value)


def exported(row: dict[str, Any], points: float, ungraded: str) -> Optional[float]:
    """The score on the platform's scale, or None (a blank cell): not graded, unless --ungraded zero."""
    if row["status"] != "graded" or not row["max_score"]:
        return 0.0 if ungraded == "zero" else None
    return final_score(row) / float(row["max_score"]) * points


def clamp(value: Optional[float], maximum: float) -> tuple[Optional[float], bool]:
    """(value within [0, maximum], whether it was changed)."""
    if value is None:
        return None, False
    bounded = min(max(value, 0.0), maximum)
    return bounded, bounded != value


def number(x: Optional[float], places: int = 2) -> str:
    """A score as text: a '.' decimal, at most `places` decimals, no trailing zeros; '' for None."""
    if x is None:
        return ""
    text = f"{x:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def not_graded_note(rows: Iterable[dict[str, Any]], ungraded: str) -> list[str]:
    """One stderr line per submission that is not `graded`: what the export did with it."""
    what = "exported as 0 (--ungraded zero)" if ungraded == "zero" else "not exported"
    return [f"{r['student']}: {what}: status {r['status']}" + (f" ({r['message']})" if r.get("message") else "")
            for r in rows if r["status"] != "graded"]


def write_csv(path: Path, rows: Sequence[Sequence[Any]], *, bom: bool, delimiter: str = ",") -> Path:
    """Write rows with the standard csv module, CRLF line ends (RFC 4180), UTF-8 with or without a BOM."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows([["" if v is None else v for v in r] for r in rows])
    Path(path).write_text((BOM if bom else "") + buf.getvalue(), encoding="utf-8", newline="")
    return Path(path)


