"""Per-student feedback under `reports/<student>/`, in every format `grade check` writes.

Files: report.json (the grader's JSON), results.json (Gradescope), junit.xml, report.md (Markdown),
report.txt (the terminal table), report.html (the page with plots, as `grade check --html`). They are built from the gradebook, so `grade report DIR` rebuilds
them without grading.

Hidden-check policy (docs/batch.md), default `--feedback summary`:
  * public checks: everything `grade check` shows (message, accepted tolerance, the code's output);
  * hidden checks: title, points and status only; the message, tolerance, output and figures
    (a gradient's error map or a curve would show the hidden inputs' shape and answers) stay in the
    gradebook for the instructor (a student who saw a hidden check's inputs or expected values
    could fit them). `--feedback full` shows hidden checks like public ones.
Late policy (late.py): a line "Late policy: ..." among the report's warnings, in every format,
says how lateness was counted and the final score; Gradescope's results.json carries the final score.
Always: the submission is named by its student id (no host paths), warnings holding a traceback
and the engine's instructor-only `internal` notes are left out, and a submission that could not be
graded says why in words (a crash's traceback stays in the gradebook).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from grader.engine.model import Report, Status, Visibility
from grader.reports import to_gradescope, to_html, to_json, to_junit, to_markdown, to_table

from .gradebook import report_of

FEEDBACK_POLICIES = ("summary", "full")
FILES = {"report.json": to_json, "results.json": to_gradescope, "junit.xml": to_junit,
         "report.md": to_markdown, "report.txt": to_table, "report.html": to_html}
HIDDEN_NOTE = "hidden check: the details are kept for your instructor"
_NOT_GRADED = {
    "error": "Your submission could not be graded because the grader failed on it; your instructor has "
             "the details.",
    "timeout": "The grading of your submission ran out of time and was stopped.",
}


def student_report(sub: dict[str, Any], checks: list[dict[str, Any]], columns, policy: str = "summary") -> Report:
    """What the student may see, following the policy above; `columns`: the batch's checks (`Check`s)."""
    rows = list(checks)
    if sub["status"] != "graded" and not rows:
        # nothing ran: every check at 0 with the reason, so every format says the same thing
        reason = _NOT_GRADED.get(sub["status"], sub.get("message") or sub["status"])
        if sub["status"] in ("rejected", "unrecognised"):
            reason = f"Your submission was not graded ({sub['status']}): {sub.get('message', '')}".strip()
        rows = [{"check_id": c.id, "task": c.task, "title": c.title, "score": 0.0, "max_score": float(c.points),
                 "status": "error", "visibility": c.visibility.value, "message": reason, "output": "",
                 "duration": 0.0, "tolerance": c.tolerance} for c in columns]
    report = report_of(sub, rows)
    report.internal = []  # instructor-only: never in a student's feedback, whatever the format
    for c in report.checks:
        c.internal = ""
    if policy != "full":
        for c in report.checks:
            if c.visibility == Visibility.HIDDEN and c.status != Status.PASSED and sub["status"] == "graded":
                c.message = HIDDEN_NOTE
            if c.visibility == Visibility.HIDDEN:
                c.output, c.tolerance, c.figures = "", "", []
    report.warnings = [w for w in report.warnings if "Traceback" not in w and 'File "' not in w]
    if sub.get("late_explanation"):
        words = sub["late_explanation"]
        report.warnings.insert(0, f"{LATE_PREFIX}{words[:1].lower()}{words[1:]}")
    return report


LATE_PREFIX = "Late policy: "


def final_score(sub: dict[str, Any]) -> Optional[float]:
    """The score after the late policy, when one applies to this submission (None: the raw one stands)."""
    return float(sub["final_score"]) if sub.get("late_state") else None


def write_feedback(folder: Path, report: Report, final: Optional[float] = None) -> list[Path]:
    """Every format into `folder`; `final`: the score after the late policy (Gradescope's top-level score)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fmt in FILES.items():
        path = folder / name
        text = fmt(report)
        if name == "results.json" and final is not None:  # Gradescope takes the top-level score as the grade
            data = json.loads(text)
            data["score"] = round(final, 6)
            text = json.dumps(data, indent=2, ensure_ascii=True, allow_nan=False) + "\n"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def write_student_feedback(folder: Path, sub: dict[str, Any], checks: list[dict[str, Any]], columns,
                           policy: str = "summary") -> list[Path]:
    """A student's feedback from their gradebook rows (the late policy's line and final score included)."""
    return write_feedback(folder, student_report(sub, checks, columns, policy), final_score(sub))
