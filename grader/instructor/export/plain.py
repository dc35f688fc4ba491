"""The plain CSV: grades.csv as `grade batch` and `grade report` write it (one column per check)."""
from __future__ import annotations

from pathlib import Path

from grader.engine import assignment as assignments
from grader.instructor.batch.grades_csv import graded_columns, write_grades_csv
from grader.instructor.batch.gradebook import FILENAME, Gradebook

from .core import Options, Result


def check_order(gb: Gradebook, rows: list[dict]) -> list[tuple[str, float]]:
    """(check id, points) of grades.csv's columns, as `grade report` chooses them."""
    columns = graded_columns(assignments.load(gb.get_meta("assignment")), rows, gb.get_meta("selection"))
    return [(c.id, float(c.points)) for c in columns]


def export(out: Path, path: Path, opts: Options) -> Result:
    """grades.csv's content written to `path` (the same function as the batch's)."""
    with Gradebook(Path(out) / FILENAME) as gb:
        subs, rows = gb.submissions(), gb.checks()
        write_grades_csv(Path(path), subs, rows, check_order(gb, rows))
    return Result(Path(path), rows=len(subs) + 1)
