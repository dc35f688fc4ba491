"""CSV files to and from spreadsheets: text written is never run as a formula; files read are the
ones instructors download or save (UTF-8 with or without a BOM, `,` or `;` separated, bounded)."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

MAX_CSV_BYTES = 32 * 2**20  # a roster or worksheet of a large course is a few MB


# a spreadsheet runs a cell starting with one of these as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula(text: str) -> bool:
    """Whether a spreadsheet would run this text as a formula."""
    return text[:1] in FORMULA_STARTS


def safe_cell(text: Any) -> str:
    """The text, prefixed with `'` where a spreadsheet would run it as a formula."""
    s = "" if text is None else str(text)
    return "'" + s if is_formula(s) else s


def sniff_delimiter(lines: list[str]) -> str:
    """`;` or `,`: the one giving the same field count on every line (Canvas's own rule, identify_delimiter;
    a spreadsheet saving CSV in a locale with decimal commas writes `;`)."""
    counts = {}
    for sep in (";", ","):
        sizes = {len(next(csv.reader([line], delimiter=sep), [])) for line in lines}
        counts[sep] = sizes.pop() if len(sizes) == 1 else 0
    return ";" if counts[";"] > counts[","] else ","


def read_rows(path: Path) -> list[list[str]]:
    """Every row of a CSV an instructor gives (the header first); ValueError when it is too large or not UTF-8."""
    data = Path(path).read_bytes()[:MAX_CSV_BYTES + 1]
    if len(data) > MAX_CSV_BYTES:
        raise ValueError(f"{path}: larger than {MAX_CSV_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    lines = [line for line in text.splitlines() if line.strip()][:3]
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(lines)))


def read_records(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows as {column: value}) of a CSV an instructor gives, cells stripped; ValueError."""
    rows = read_rows(path)
    header = [h.strip() for h in rows[0]] if rows else []
    return header, [{h: (r[i].strip() if i < len(r) else "") for i, h in enumerate(header)}
                    for r in rows[1:] if any(c.strip() for c in r)]
