"""`grade export`: the gradebook in each course platform's own import format (docs/export.md).

  canvas.py      Canvas's gradebook CSV (lib/gradebook_importer.rb)
  moodle.py      Moodle's offline grading worksheet, and a gradebook CSV for grade/import/csv
  worksheet.py   reading Moodle's worksheet (shared with whatever else reads it)
  classroom.py   GitHub Classroom's grades-export columns
  plain.py       grades.csv, as the batch writes it
  core.py        the gradebook's rows, the score exported, formula guard, encodings
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from . import canvas, classroom, moodle, plain
from .core import Book, Options, Result, read_book

FORMATS: dict[str, Callable[[Book, Path, Options], Result]] = {
    "canvas": canvas.export,
    "moodle": moodle.export_worksheet,
    "moodle-gradebook": moodle.export_gradebook,
    "classroom": classroom.export,
}
DEFAULT_NAMES = {"canvas": "canvas.csv", "moodle": "moodle_worksheet.csv", "moodle-gradebook": "moodle_gradebook.csv",
                 "classroom": "classroom.csv", "csv": "grades.csv"}


def export(out: Path, to: str, path: Path | None = None, opts: Options | None = None) -> Result:
    """Write the gradebook of the batch folder `out` in format `to` (default file: DEFAULT_NAMES in `out`)."""
    opts = opts or Options()
    path = Path(path) if path is not None else Path(out) / DEFAULT_NAMES[to]
    book = read_book(out)
    if to == "csv":
        return plain.export(out, path, opts)
    result = FORMATS[to](book, path, opts)
    if opts.points is None and not (to == "moodle" and opts.worksheet is not None):
        # the platform's assignment may have other points than the gradebook (Canvas's Points Possible row)
        also = " (Canvas imports the Points Possible row as the assignment's points)" if to == "canvas" else ""
        result.notes.insert(0, f"scores are out of {book.max_score:g}, the gradebook's maximum: --points gives "
                               f"the platform assignment's points{also}")
    return result


__all__ = ["DEFAULT_NAMES", "FORMATS", "Options", "Result", "export"]
