"""What every format shares: cleaning student text, points for people, status words.

Student-controlled text (captured output, exception messages quoted in a check's message) may hold
anything: NUL, ANSI escape sequences, markup. Every format but JSON passes it through `clean_text`
first, then escapes what its own syntax needs.
"""
from __future__ import annotations

import math
import re
from typing import Any

from grader.engine.model import CheckResult, Report, Status

# Words for each status, as a student reads them (no emoji: they end up in logs and CI summaries).
STATUS_LABELS: dict[Status, str] = {
    Status.PASSED: "passed",
    Status.FAILED: "failed",
    Status.ERROR: "error",
    Status.TIMEOUT: "timed out",
    Status.OUT_OF_MEMORY: "out of memory",
    Status.OUT_OF_DISK: "out of disk",
    Status.MISSING: "missing",
}

# ANSI/VT100 escape sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and two-byte ESC x.
_ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor movement, screen clearing
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
    r"|\x1b[@-Z\\-_]"  # other two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
# C0 controls except tab and newline, DEL, C1 controls.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: Any) -> str:
    """Student-safe plain text: ANSI escapes and control characters removed, line endings normalised."""
    s = "" if text is None else str(text)
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _ANSI_RE.sub("", s)
    s = _CONTROL_RE.sub("", s)
    # Lone surrogates (from undecodable bytes) cannot be encoded as UTF-8: make them visible instead.
    return s.encode("utf-8", "replace").decode("utf-8")


def num(x: Any) -> float:
    """A finite float (NaN/inf from a buggy judge become 0 rather than invalid JSON/XML)."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return 0.0
    return f if math.isfinite(f) else 0.0


def pts(x: Any) -> str:
    """Points for people: 2 -> "2", 1.5 -> "1.5", 0.6666667 -> "0.67"."""
    s = f"{num(x):.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def pct(report: Report) -> str:
    return f"{num(report.percent):.1f}%"


def label(status: Status) -> str:
    return STATUS_LABELS.get(status, str(status))


def summary_line(report: Report) -> str:
    passed = sum(1 for c in report.checks if c.status == Status.PASSED)
    return (
        f"{report.assignment}: {pts(report.score)} / {pts(report.max_score)} points ({pct(report)}); "
        f"{passed} of {len(report.checks)} checks passed"
    )


def show_tolerance(c: CheckResult) -> bool:
    """The tolerance helps only where a value was judged wrong, not for missing or unfinished code."""
    return bool(c.tolerance) and c.status == Status.FAILED and "not implemented yet" not in c.message


def not_passed(report: Report) -> list[CheckResult]:
    return [c for c in report.checks if c.status != Status.PASSED]


def module_file(c: CheckResult) -> str:
    """The student's file a check is about (`softmax.py`), or its task when it has no module
    (a check of a weights file)."""
    return f"{c.module}.py" if c.module else c.task


def first_line(text: str) -> str:
    """The first non-empty line of a message, for one-line hints."""
    for line in clean_text(text).splitlines():
        if line.strip():
            return line.strip()
    return ""
