"""The grader's own JSON report (schema_version 3): written, read back, and its JSON Schema.

`to_json` writes `Report.to_dict()` (strict JSON: ASCII, no NaN); `report_from_json` /
`report_from_dict` rebuild a `Report` (batch resume, re-rendering a stored report in another
format). The schema ships as `grader/reports/schema/report.schema.json` (`report_schema()`);
docs/reports.md documents every field.
"""
from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

from grader.engine.model import READABLE_SCHEMA_VERSIONS, REPORT_SCHEMA_VERSION, CheckResult, Report, Status, Visibility

from ._text import num

SCHEMA_FILE = "report.schema.json"


def _finite_tree(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite_tree(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_tree(v) for v in obj]
    return obj


def to_json(report: Report, internal: bool = False) -> str:
    """The grader's own report: `report.to_dict()`, key order kept, strict JSON (ASCII, no NaN).

    `internal` adds the instructor-only details (grader tracebacks of checks that could not be
    graded); student-facing reports never carry them.
    """
    return json.dumps(_finite_tree(report.to_dict(internal)), indent=2, ensure_ascii=True,
                      allow_nan=False) + "\n"


def json_format(report: Report) -> str:
    """`--format json`: instructor runs (with hidden checks) keep the internal details of checks
    that could not be graded; a student's report never has them."""
    return to_json(report, internal=report.hidden_included)


def report_from_dict(data: dict) -> Report:
    """Rebuild a `Report` from `to_dict()`/`to_json()` output (for batch resume and re-rendering).

    Raises ValueError for a schema version this grader does not know.
    """
    version = data.get("schema_version")
    if version not in READABLE_SCHEMA_VERSIONS:  # 1 lacks status, message, internal; 2 lacks figures
        raise ValueError(f"report schema_version {version!r} is not supported (expected {REPORT_SCHEMA_VERSION})")
    checks = [
        CheckResult(
            id=c["id"],
            task=c["task"],
            title=c["title"],
            score=num(c["score"]),
            max_score=num(c["max_score"]),
            status=Status(c["status"]),
            visibility=Visibility(c["visibility"]),
            message=c.get("message", ""),
            output=c.get("output", ""),
            duration=num(c.get("duration", 0.0)),
            tolerance=c.get("tolerance", ""),
            module=c.get("module", ""),
            figures=[f for f in c.get("figures") or [] if isinstance(f, dict)],
            internal=c.get("internal", ""),
        )
        for c in data.get("checks", [])
    ]
    return Report(
        assignment=data["assignment"],
        submission=data.get("submission", ""),
        checks=checks,
        isolation=data.get("isolation", ""),
        execution_time=num(data.get("execution_time", 0.0)),
        hidden_included=bool(data.get("hidden_included", False)),
        warnings=list(data.get("warnings", [])),
        status=data.get("status", "graded"),
        message=data.get("message", ""),
        internal=list(data.get("internal", [])),
    )


def report_from_json(text: str) -> Report:
    return report_from_dict(json.loads(text))


def report_schema() -> dict:
    """The JSON Schema (draft 2020-12) of `to_json`'s output, as shipped in the package."""
    return json.loads(resources.files("grader.reports").joinpath("schema", SCHEMA_FILE).read_text("utf-8"))
