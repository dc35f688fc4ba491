"""Record the reference's training curves: `python -m grader.instructor.curves ASSIGNMENT [CHECK_ID ...]`.

Grades `reference/<assignment>/` on its training checks (those whose result carries a student
"curve" figure) exactly as a student is graded, and writes the reference's series into
assignments/<assignment>/reference_curves.json: the same probes and settings as the checks, by
construction. The file is data, not secret; the HTML report draws it as the "reference" line.
Re-run it whenever a training check's settings or the reference change.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

from ..engine import assignment as assignments
from . import SOURCE_ROOT
from ..engine.figures import CURVES_FILE
from ..engine.runner import grade
from ..engine.session import GradeOptions

ROOT = SOURCE_ROOT


def reference_series(report) -> dict[str, dict]:
    """{check_id: {"loss": [...], "accuracy": [...], "measured": x}} from a graded reference."""
    out: dict[str, dict] = {}
    for c in report.checks:
        entry: dict = {}
        for fig in c.figures:
            if fig.get("kind") != "curve":
                continue
            for line in fig["series"]:
                if line["role"] == "student":
                    entry[fig["y_label"]] = line["y"]
                elif line["role"] == "measured":
                    entry["measured"] = line["y"][0]
        if entry:
            out[c.id] = entry
    return out


def record(name: str, checks: Optional[list[str]] = None, root: Path = ROOT) -> Path:
    asg = assignments.load(name)
    ids = checks or [c.id for c in asg.checks() if "train" in c.id]
    report = grade(root / "reference" / name, asg, hidden=True, check_ids=ids, options=GradeOptions())
    path = root / "assignments" / name / CURVES_FILE
    old = json.loads(path.read_text()) if path.exists() else {}
    curves = {**old.get("curves", {}), **reference_series(report)}
    path.write_text(json.dumps({"about": "per-epoch history of reference/" + name + " on each training "
                                "check's own settings; written by python -m grader.instructor.curves " + name,
                                "curves": curves}, indent=1) + "\n")
    return path


if __name__ == "__main__":
    print(record(sys.argv[1], sys.argv[2:] or None))
