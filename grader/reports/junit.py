"""JUnit XML, valid against junit-10.xsd (the schema of Jenkins' xUnit plugin and of pytest).

One <testsuites> holding one <testsuite>; one <testcase> per check whose `classname` is the
student's file (`softmax.py`), so annotation tools that map a classname to a file point at the
right one. failed -> <failure type="failed">; error, timeout, out_of_memory, out_of_disk, missing ->
<error type=STATUS>; the student's captured output goes to <system-out>. Characters XML 1.0 forbids
are removed. junit-10.xsd allows `skipped` on <testsuite> but not on <testsuites>.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from grader.engine.model import REPORT_SCHEMA_VERSION, Report, Status

from ._text import clean_text, label, module_file, num, pts, show_tolerance

# Statuses JUnit calls an <error> (the check could not run to a verdict) rather than a <failure>.
JUNIT_ERRORS = {Status.ERROR, Status.TIMEOUT, Status.OUT_OF_MEMORY, Status.OUT_OF_DISK, Status.MISSING}

# Everything XML 1.0 forbids (Char production), including lone surrogates.
_XML_ILLEGAL_RE = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: Any) -> str:
    return _XML_ILLEGAL_RE.sub("", clean_text(text))


def _seconds(x: Any) -> str:
    # junit-10.xsd's SUREFIRE_TIME: digits, at most three decimals, no sign or exponent
    return f"{max(0.0, num(x)):.3f}"


def to_junit(report: Report) -> str:
    """JUnit XML text: one <testsuite> per report, one <testcase> per check."""
    n_fail = sum(1 for c in report.checks if c.status == Status.FAILED)
    n_err = sum(1 for c in report.checks if c.status in JUNIT_ERRORS)
    total_time = sum(num(c.duration) for c in report.checks)
    suite_time = _seconds(num(report.execution_time) or total_time)
    name = _xml_text(report.assignment)
    counts = {"tests": str(len(report.checks)), "failures": str(n_fail), "errors": str(n_err)}
    root = ET.Element("testsuites", {"name": name, **counts, "time": suite_time})
    suite = ET.SubElement(root, "testsuite", {"name": name, **counts, "skipped": "0", "time": suite_time})
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("submission", _xml_text(report.submission)),
        ("status", _xml_text(report.status)),
        ("score", pts(report.score)),
        ("max_score", pts(report.max_score)),
        ("percent", f"{num(report.percent):.1f}"),
        ("isolation", _xml_text(report.isolation)),
        ("hidden_included", "true" if report.hidden_included else "false"),
        ("schema_version", str(REPORT_SCHEMA_VERSION)),
    ):
        ET.SubElement(props, "property", {"name": key, "value": value})
    if report.status != "graded" and report.message:
        ET.SubElement(props, "property", {"name": "message", "value": _xml_text(report.message)})
    for w in report.warnings:
        ET.SubElement(props, "property", {"name": "warning", "value": _xml_text(w)})

    for c in report.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": _xml_text(module_file(c)),
                "name": f"{_xml_text(c.id)}: {_xml_text(c.title)}",
                "time": _seconds(c.duration),
            },
        )
        if c.status != Status.PASSED:
            message = _xml_text(c.message).strip() or label(c.status)
            body = [f"{label(c.status)}: {pts(c.score)} / {pts(c.max_score)} points", message]
            if show_tolerance(c):
                body.append(f"Accepted: {_xml_text(c.tolerance)}")
            tag = "failure" if c.status == Status.FAILED else "error"
            el = ET.SubElement(case, tag, {"message": message, "type": c.status.value})
            el.text = "\n".join(body)
        output = _xml_text(c.output)
        if output:
            ET.SubElement(case, "system-out").text = output
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
