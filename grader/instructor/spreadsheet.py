"""Text written into a CSV a spreadsheet will open: never run as a formula."""
from __future__ import annotations

from typing import Any


def safe_cell(text: Any) -> str:
    """The text, prefixed with `'` where a spreadsheet would run it as a formula."""
    s = "" if text is None else str(text)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s
