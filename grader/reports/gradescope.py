"""Gradescope autograder `results.json` (https://gradescope-autograders.readthedocs.io/en/latest/specs/).

Public checks are "visible" to students at once; hidden checks "after_published". The captured
stdout of the autograder itself stays hidden. Outputs are plain text (output_format "text"), so
student output containing HTML or Markdown is shown literally.
"""
from __future__ import annotations

import json

from grader.engine.model import CheckResult, Report, Status, Visibility

from ._text import clean_text, label, num, show_tolerance, summary_line


def _test_output(c: CheckResult) -> str:
    parts: list[str] = []
    message = clean_text(c.message).strip()
    if c.status not in (Status.PASSED, Status.FAILED):
        # Gradescope only knows passed/failed: say what really happened.
        message = f"[{label(c.status)}] {message}".rstrip()
    if message:
        parts.append(message)
    if show_tolerance(c):
        parts.append(f"Accepted: {clean_text(c.tolerance).strip()}")
    output = clean_text(c.output).rstrip()
    if output:
        parts.append("--- Your code's output during this check ---\n" + output)
    return "\n\n".join(parts)


def gradescope_results(report: Report) -> dict:
    """The results.json object (see `to_gradescope`)."""
    lines = [summary_line(report)]
    if report.status != "graded" and report.message:
        lines.append(f"Not graded: {clean_text(report.message)}")
    if report.isolation:
        lines.append(f"Isolation: {clean_text(report.isolation)}")
    lines.extend(f"Warning: {clean_text(w)}" for w in report.warnings)
    tests = []
    for i, c in enumerate(report.checks, start=1):
        tests.append(
            {
                "name": clean_text(c.title),
                "number": f"{i}",
                "score": round(num(c.score), 6),
                "max_score": round(num(c.max_score), 6),
                "status": "passed" if c.status == Status.PASSED else "failed",
                "output": _test_output(c),
                "output_format": "text",
                "visibility": "visible" if c.visibility == Visibility.PUBLIC else "after_published",
                "tags": [clean_text(c.task), c.status.value],
            }
        )
    return {
        "score": round(num(report.score), 6),
        "execution_time": int(round(num(report.execution_time))),
        "output": "\n".join(lines),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "after_published",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def to_gradescope(report: Report) -> str:
    """Gradescope `results.json` text: one test per check, public ones visible at once."""
    return json.dumps(gradescope_results(report), indent=2, ensure_ascii=True, allow_nan=False) + "\n"
