"""The grader's own JSON report (schema_version 3): written, read back, and its JSON Schema.

`to_json` writes `Report.to_dict()` (strict JSON: ASCII, no NaN); `report_from_json` rebuilds a
`Report` with `Report.from_dict` (re-rendering a stored report in another format). The schema ships as `grader/reports/schema/report.schema.json` (`report_schema()`);
docs/reports.md documents every field.
"""
from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

from grader.engine.model import Report


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


def report_from_json(text: str) -> Report:
    """A Report from `to_json` output (ValueError for an unknown schema version)."""
    return Report.from_dict(json.loads(text))


def report_schema() -> dict:
    """The JSON Schema (draft 2020-12) of `to_json`'s output, as shipped in the package."""
    return json.loads(resources.files("grader.reports").joinpath("schema", SCHEMA_FILE).read_text("utf-8"))
