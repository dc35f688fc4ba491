"""GitHub Classroom: the result a runner hands to `classroom-resources/autograding-grading-reporter`.

The reporter reads, for each runner id in its `runners` input, the environment variable
`<ID>_RESULTS` (the id upper-cased), decodes it from base64 and parses it as JSON:

    {"version": 1, "status": "pass" | "fail" | "error", "max_score": <points>,
     "tests": [{"name", "status": "pass" | "fail" | "error", "score", "message",
                "test_code", "filename", "line_no", "duration"}, ...]}

What it does with it: the points Classroom records are the sum of `tests[].score` over
`max_score` (runners with max_score 0 are ignored); the log shows a ✅/❌ line per test, `message` for
tests that did not pass, and `test_code` under "Test code:"; the job fails when `status` is
"fail" or "error". Here `test_code` is the command that re-runs the check locally, `filename` the
student's module, `line_no` 0 (the reporter then prints no line number). docs/reports.md shows the
workflow steps (`grade check --format classroom --base64` into `$GITHUB_OUTPUT`).
"""
from __future__ import annotations

import base64
import json

from grader.engine.model import Report, Status, Visibility

from ._text import clean_text, label, module_file, num, show_tolerance, summary_line

CLASSROOM_VERSION = 1
MAX_MESSAGE_CHARS = 2000  # a step output is bounded (1 MiB for all outputs of a job): keep it small


def _status(status: Status) -> str:
    if status == Status.PASSED:
        return "pass"
    return "fail" if status == Status.FAILED else "error"


def _message(c) -> str:
    if c.status == Status.PASSED:
        return clean_text(c.message).strip()  # what a passed training check measured
    # self-contained: one reporter version prints only "Error: <message>" for erroring tests
    text = f"{clean_text(c.title)} ({label(c.status)}): {clean_text(c.message).strip() or label(c.status)}"
    if show_tolerance(c):
        text += f"\nAccepted: {clean_text(c.tolerance).strip()}"
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + " … (truncated; run the command below for all of it)"
    return text


def classroom_results(report: Report) -> dict:
    """The object the reporter decodes (see the module docstring)."""
    tests = []
    for c in report.checks:
        again = f"grade check --check {clean_text(c.id)}" + (" --hidden" if c.visibility == Visibility.HIDDEN else "")
        tests.append({
            "name": clean_text(c.title) + (" (hidden)" if c.visibility == Visibility.HIDDEN else ""),
            "status": _status(c.status),
            "score": round(num(c.score), 4),
            "message": _message(c),
            "test_code": again,
            "filename": clean_text(module_file(c)),
            "line_no": 0,
            "duration": round(num(c.duration), 3),
        })
    if report.status != "graded":
        status, message = "error", f"not graded: {clean_text(report.message)}"
    else:
        status = "pass" if all(c.status == Status.PASSED for c in report.checks) else "fail"
        message = summary_line(report)
    return {
        "version": CLASSROOM_VERSION,
        "status": status,
        "message": message,
        "max_score": round(num(report.max_score), 4),
        "tests": tests,
    }


def to_classroom(report: Report) -> str:
    """The reporter's JSON, compact, on one line (encode it with `to_base64` for a step output)."""
    return json.dumps(classroom_results(report), ensure_ascii=True, allow_nan=False,
                      separators=(",", ":")) + "\n"


def to_base64(text: str) -> str:
    """A report as one base64 line, as a GitHub Actions step output carries it."""
    return base64.b64encode(text.rstrip("\n").encode("utf-8")).decode("ascii") + "\n"
