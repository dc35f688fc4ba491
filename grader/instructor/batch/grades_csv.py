"""grades.csv: one row per student, one column per check (points), total, percent, status.

`total` and `percent` are the raw score (the sum of the checks) and its share of the maximum; the
late policy's columns follow: `raw` (= total), `late_penalty` (points deducted), `final` (the grade
to publish: raw − penalty, = raw without a policy), `late` ("yes": late past the grace period, not
accepted, or Canvas's LATE_ marker), `lateness` (on_time, grace, late, not_accepted, unknown,
marker; empty without a policy), `submitted_at` (ISO 8601 UTC; empty when unknown), `time_source`.

The first data row (student `#max`) holds each check's maximum points, for an LMS import. Text that
a spreadsheet would run as a formula (a name starting with =, +, - or @) is prefixed with `'`.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Optional

from grader.instructor.spreadsheet import safe_cell

MAX_ROW = "#max"


def _num(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".") if x == x else ""


def _is_late(s: dict) -> bool:
    state = s.get("late_state") or ""
    return state in ("late", "not_accepted", "marker") or (not state and bool(s["late"]))


def graded_columns(asg, rows: list[dict], selection: Optional[str]) -> list:
    """The checks graded for anyone in the gradebook (a batch of some tasks, or --only on a new class,
    has fewer than the assignment), else the batch's selection (meta `selection`, JSON), in the
    assignment's order."""
    present = {r["check_id"] for r in rows} or set(json.loads(selection or "[]"))
    return [c for c in asg.checks(hidden=True) if c.id in present] or asg.checks(hidden=True)


def write_grades_csv(path: Path, submissions: list[dict], checks: list[dict], check_order: list[tuple[str, float]]) -> Path:
    """`check_order`: (check id, points) in the assignment's order."""
    per: dict[str, dict[str, float]] = {}
    for c in checks:
        per.setdefault(c["student"], {})[c["check_id"]] = c["score"]
    ids = [cid for cid, _ in check_order]
    total_max = sum(p for _, p in check_order)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "name", "email", "lms_id", "layout", *ids, "total", "percent", "status", "late",
                    "raw", "late_penalty", "final", "lateness", "submitted_at", "time_source"])
        w.writerow([MAX_ROW, "", "", "", "", *(_num(p) for _, p in check_order), _num(total_max), "100", "", "",
                    _num(total_max), "", _num(total_max), "", "", ""])
        for s in submissions:
            mine = per.get(s["student"], {})
            total = sum(mine.values())
            pct = 100.0 * total / total_max if total_max else 0.0
            w.writerow([safe_cell(s["student"]), safe_cell(s["name"]), safe_cell(s["email"]), safe_cell(s["lms_id"]), s["layout"],
                        *(_num(mine[i]) if i in mine else "" for i in ids), _num(total), f"{pct:.2f}",
                        s["status"], "yes" if _is_late(s) else "",
                        _num(total), _num(s.get("late_penalty") or 0.0), _num(s.get("final_score", total)),
                        s.get("late_state", ""), s.get("submitted_at", ""), s.get("time_source", "")])
    return path
