"""Turn a `Report` into the formats its consumers read, one module per format.

    json        the grader's own record (schema_version 3, JSON Schema in schema/)   reports/json.py
    gradescope  Gradescope autograder results.json                                    reports/gradescope.py
    junit       JUnit XML, valid against junit-10.xsd                                 reports/junit.py
    markdown    a CI job summary ($GITHUB_STEP_SUMMARY)                               reports/markdown.py
    classroom   GitHub Classroom's autograding-grading-reporter                      reports/classroom.py
    table       the terminal table of `grade check`                                   reports/table.py
    html        one submission's page with plots (`grade check --html FILE`)           reports/html.py

Every function takes a finished `grader.engine.model.Report` and returns text; none raises on odd
content. The JSON keeps student text verbatim (JSON escapes it); every other format removes
terminal escapes and control characters (`clean_text`) and escapes what its own syntax needs.
docs/reports.md documents the schema and the mapping between formats.
"""
from __future__ import annotations

from typing import Callable

from grader.engine.model import Report

from ._text import STATUS_LABELS, clean_text
from .classroom import classroom_results, to_base64, to_classroom
from .gradescope import gradescope_results, to_gradescope
from .html import to_html
from .json import json_format, report_from_json, report_schema, to_json
from .junit import to_junit
from .markdown import to_markdown
from .table import next_step, render_table, to_table, use_colour

__all__ = [
    "FORMATS",
    "STATUS_LABELS",
    "classroom_results",
    "clean_text",
    "gradescope_results",
    "json_format",
    "next_step",
    "render",
    "render_table",
    "report_from_json",
    "report_schema",
    "to_base64",
    "to_classroom",
    "to_gradescope",
    "to_html",
    "to_json",
    "to_junit",
    "to_markdown",
    "to_table",
    "use_colour",
]

FORMATS: dict[str, Callable[[Report], str]] = {
    "table": to_table,
    "json": json_format,
    "junit": to_junit,
    "markdown": to_markdown,
    "gradescope": to_gradescope,
    "classroom": to_classroom,
}


def render(report: Report, fmt: str, as_base64: bool = False) -> str:
    """`report` in format `fmt` (a key of FORMATS), base64-encoded on one line if asked."""
    text = FORMATS[fmt](report)
    return to_base64(text) if as_base64 else text
