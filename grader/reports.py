"""Turn a `Report` into the formats people read: JSON, Gradescope, JUnit XML, Markdown, a terminal table.

Every function here takes a finished `grader.model.Report` and returns text; none of them raises on odd
content. Student-controlled text (captured output, exception messages quoted in a check's message) may
hold anything: NUL, ANSI escape sequences, markup. The JSON report keeps it verbatim (JSON escapes it);
every other format removes terminal escape sequences and control characters, and escapes whatever its
own syntax needs (XML, Markdown tables, rich markup). The schema and the mapping between formats are
documented in docs/reports.md.
"""
from __future__ import annotations

import io
import json
import math
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any, Callable, Optional

from grader.model import REPORT_SCHEMA_VERSION, CheckResult, Report, Status, Visibility

if TYPE_CHECKING:  # rich is imported lazily: JSON/JUnit/Gradescope output must not pay for it
    from rich.console import Console

__all__ = [
    "FORMATS",
    "STATUS_LABELS",
    "clean_text",
    "render_table",
    "report_from_dict",
    "report_from_json",
    "to_gradescope",
    "to_json",
    "to_junit",
    "to_markdown",
    "to_table",
]

# Words for each status, as a student reads them (no emoji: they end up in logs and CI summaries).
STATUS_LABELS: dict[Status, str] = {
    Status.PASSED: "passed",
    Status.FAILED: "failed",
    Status.ERROR: "error",
    Status.TIMEOUT: "timed out",
    Status.OUT_OF_MEMORY: "out of memory",
    Status.MISSING: "missing",
}

# Statuses JUnit calls an <error> (the check could not run to a verdict) rather than a <failure>.
_JUNIT_ERRORS = {Status.ERROR, Status.TIMEOUT, Status.OUT_OF_MEMORY, Status.MISSING}

# ANSI/VT100 escape sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and two-byte ESC x.
_ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor movement, screen clearing
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
    r"|\x1b[@-Z\\-_]"  # other two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
# C0 controls except tab and newline, DEL, C1 controls.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Everything XML 1.0 forbids (Char production), including lone surrogates.
_XML_ILLEGAL_RE = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(text: Any) -> str:
    """Student-safe plain text: ANSI escapes and control characters removed, line endings normalised."""
    s = "" if text is None else str(text)
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _ANSI_RE.sub("", s)
    s = _CONTROL_RE.sub("", s)
    # Lone surrogates (from undecodable bytes) cannot be encoded as UTF-8: make them visible instead.
    return s.encode("utf-8", "replace").decode("utf-8")


def _xml_text(text: Any) -> str:
    return _XML_ILLEGAL_RE.sub("", clean_text(text))


def _num(x: Any) -> float:
    """A finite float (NaN/inf from a buggy judge become 0 rather than invalid JSON/XML)."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return 0.0
    return f if math.isfinite(f) else 0.0


def _pts(x: Any) -> str:
    """Points for people: 2 -> "2", 1.5 -> "1.5", 0.6666667 -> "0.67"."""
    s = f"{_num(x):.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _pct(report: Report) -> str:
    return f"{_num(report.percent):.1f}%"


def _label(status: Status) -> str:
    return STATUS_LABELS.get(status, str(status))


def _summary_line(report: Report) -> str:
    passed = sum(1 for c in report.checks if c.status == Status.PASSED)
    return (
        f"{report.assignment}: {_pts(report.score)} / {_pts(report.max_score)} points ({_pct(report)}); "
        f"{passed} of {len(report.checks)} checks passed"
    )


def _show_tolerance(c: CheckResult) -> bool:
    """The tolerance helps only where a value was judged wrong, not for missing or unfinished code."""
    return bool(c.tolerance) and c.status == Status.FAILED and "not implemented yet" not in c.message


def _not_passed(report: Report) -> list[CheckResult]:
    return [c for c in report.checks if c.status != Status.PASSED]


# --------------------------------------------------------------------------------------------- JSON


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


def report_from_dict(data: dict) -> Report:
    """Rebuild a `Report` from `to_dict()`/`to_json()` output (for batch resume and re-rendering).

    Raises ValueError for a schema version this grader does not know.
    """
    version = data.get("schema_version")
    if version not in (1, REPORT_SCHEMA_VERSION):  # version 1 lacks status, message, internal
        raise ValueError(f"report schema_version {version!r} is not supported (expected {REPORT_SCHEMA_VERSION})")
    checks = [
        CheckResult(
            id=c["id"],
            task=c["task"],
            title=c["title"],
            score=_num(c["score"]),
            max_score=_num(c["max_score"]),
            status=Status(c["status"]),
            visibility=Visibility(c["visibility"]),
            message=c.get("message", ""),
            output=c.get("output", ""),
            duration=_num(c.get("duration", 0.0)),
            tolerance=c.get("tolerance", ""),
            internal=c.get("internal", ""),
        )
        for c in data.get("checks", [])
    ]
    return Report(
        assignment=data["assignment"],
        submission=data.get("submission", ""),
        checks=checks,
        isolation=data.get("isolation", ""),
        execution_time=_num(data.get("execution_time", 0.0)),
        hidden_included=bool(data.get("hidden_included", False)),
        warnings=list(data.get("warnings", [])),
        status=data.get("status", "graded"),
        message=data.get("message", ""),
        internal=list(data.get("internal", [])),
    )


def report_from_json(text: str) -> Report:
    return report_from_dict(json.loads(text))


# --------------------------------------------------------------------------------------- Gradescope


def _gradescope_test_output(c: CheckResult) -> str:
    parts: list[str] = []
    message = clean_text(c.message).strip()
    if c.status not in (Status.PASSED, Status.FAILED):
        # Gradescope only knows passed/failed: say what really happened.
        message = f"[{_label(c.status)}] {message}".rstrip()
    if message:
        parts.append(message)
    if _show_tolerance(c):
        parts.append(f"Accepted: {clean_text(c.tolerance).strip()}")
    output = clean_text(c.output).rstrip()
    if output:
        parts.append("--- Your code's output during this check ---\n" + output)
    return "\n\n".join(parts)


def to_gradescope(report: Report) -> str:
    """Gradescope autograder `results.json` (https://gradescope-autograders.readthedocs.io/en/latest/specs/).

    Public checks are "visible" to students at once; hidden checks "after_published". The captured
    stdout of the autograder itself stays hidden. Outputs are plain text (output_format "text"), so
    student output containing HTML or Markdown is shown literally.
    """
    lines = [_summary_line(report)]
    if report.isolation:
        lines.append(f"Isolation: {clean_text(report.isolation)}")
    lines.extend(f"Warning: {clean_text(w)}" for w in report.warnings)
    tests = []
    for i, c in enumerate(report.checks, start=1):
        tests.append(
            {
                "name": clean_text(c.title),
                "number": f"{i}",
                "score": round(_num(c.score), 6),
                "max_score": round(_num(c.max_score), 6),
                "status": "passed" if c.status == Status.PASSED else "failed",
                "output": _gradescope_test_output(c),
                "output_format": "text",
                "visibility": "visible" if c.visibility == Visibility.PUBLIC else "after_published",
                "tags": [clean_text(c.task), c.status.value],
            }
        )
    results = {
        "score": round(_num(report.score), 6),
        "execution_time": int(round(_num(report.execution_time))),
        "output": "\n".join(lines),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "after_published",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(results, indent=2, ensure_ascii=True, allow_nan=False) + "\n"


# -------------------------------------------------------------------------------------------- JUnit


def to_junit(report: Report) -> str:
    """JUnit XML: one <testsuite> per report, one <testcase> per check.

    failed -> <failure type="failed">; error, timeout, out_of_memory, missing -> <error type=STATUS>;
    the student's captured output goes to <system-out>. Characters XML 1.0 forbids are removed.
    """
    n_fail = sum(1 for c in report.checks if c.status == Status.FAILED)
    n_err = sum(1 for c in report.checks if c.status in _JUNIT_ERRORS)
    total_time = sum(_num(c.duration) for c in report.checks)
    suite_time = _num(report.execution_time) or total_time
    name = _xml_text(report.assignment)
    counts = {
        "tests": str(len(report.checks)),
        "failures": str(n_fail),
        "errors": str(n_err),
        "skipped": "0",
        "time": f"{suite_time:.3f}",
    }
    root = ET.Element("testsuites", {"name": name, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": name, **counts})
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("submission", _xml_text(report.submission)),
        ("score", _pts(report.score)),
        ("max_score", _pts(report.max_score)),
        ("percent", f"{_num(report.percent):.1f}"),
        ("isolation", _xml_text(report.isolation)),
        ("hidden_included", "true" if report.hidden_included else "false"),
        ("schema_version", str(REPORT_SCHEMA_VERSION)),
    ):
        ET.SubElement(props, "property", {"name": key, "value": value})
    for w in report.warnings:
        ET.SubElement(props, "property", {"name": "warning", "value": _xml_text(w)})

    for c in report.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"{name}.{_xml_text(c.task)}",
                "name": f"{_xml_text(c.id)}: {_xml_text(c.title)}",
                "time": f"{_num(c.duration):.3f}",
            },
        )
        if c.status != Status.PASSED:
            message = _xml_text(c.message).strip() or _label(c.status)
            body = [
                f"{_label(c.status)}: {_pts(c.score)} / {_pts(c.max_score)} points",
                message,
            ]
            if _show_tolerance(c):
                body.append(f"Accepted: {_xml_text(c.tolerance)}")
            tag = "failure" if c.status == Status.FAILED else "error"
            el = ET.SubElement(case, tag, {"message": message, "type": c.status.value})
            el.text = "\n".join(body)
        output = _xml_text(c.output)
        if output:
            ET.SubElement(case, "system-out").text = output
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# ----------------------------------------------------------------------------------------- Markdown


_MD_SPECIAL_RE = re.compile(r"([\\`*_\[\]<>#|&~!])")


def _md_inline(text: Any) -> str:
    """Plain text as inline Markdown: one line, every character Markdown or HTML could act on escaped.

    A backslash escape works for any ASCII punctuation in CommonMark/GFM, including `|` in table cells.
    """
    s = clean_text(text).replace("\n", " ").replace("\t", " ").strip()
    return _MD_SPECIAL_RE.sub(r"\\\1", s)


def _md_code(text: Any) -> str:
    """Plain text as an inline code span (ids, file names); must not be used inside a table cell."""
    return "`" + clean_text(text).replace("\n", " ").replace("`", "'").strip() + "`"


def _md_fence(text: str, info: str = "text") -> str:
    """A fenced code block that `text` cannot close early (fence longer than any backtick run in it)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def to_markdown(report: Report, max_output_chars: int = 4000) -> str:
    """Markdown for a CI job summary (`$GITHUB_STEP_SUMMARY`): heading, table, details of non-passing checks."""
    out: list[str] = [
        f"## {_md_inline(report.assignment)}: {_pts(report.score)} / {_pts(report.max_score)} ({_pct(report)})",
        "",
    ]
    meta = []
    if report.submission:
        meta.append(f"Submission: {_md_code(report.submission)}")
    if report.isolation:
        meta.append(f"Isolation: {_md_inline(report.isolation)}")
    if not report.hidden_included:
        meta.append("Public checks only; hidden checks run when the instructor grades.")
    for line in meta:
        out.append(line + "  ")  # two spaces: Markdown line break
    for w in report.warnings:
        out.append(f"> **Warning:** {_md_inline(w)}")
    if meta or report.warnings:
        out.append("")

    out.append("| Check | Task | Points | Status |")
    out.append("| --- | --- | ---: | --- |")
    for c in report.checks:
        title = _md_inline(c.title) + (" (hidden)" if c.visibility == Visibility.HIDDEN else "")
        out.append(
            f"| {title} | {_md_inline(c.task)} | {_pts(c.score)} / {_pts(c.max_score)} | {_label(c.status)} |"
        )
    out.append("")
    out.append(f"**Total: {_pts(report.score)} / {_pts(report.max_score)} ({_pct(report)})**")

    failing = _not_passed(report)
    if failing:
        out += ["", "### Details", ""]
        for c in failing:
            out.append(
                f"#### {_md_inline(c.title)} ({_label(c.status)}, "
                f"{_pts(c.score)} / {_pts(c.max_score)})"
            )
            out.append("")
            out.append(f"Check {_md_code(c.id)}, task {_md_inline(c.task)}.")
            out.append("")
            out.append(_md_fence(clean_text(c.message).strip() or _label(c.status)))
            if _show_tolerance(c):
                out += ["", f"Accepted: {_md_inline(c.tolerance)}"]
            output = clean_text(c.output).rstrip()
            if output:
                if len(output) > max_output_chars:
                    output = output[:max_output_chars] + f"\n... ({len(output) - max_output_chars} more characters)"
                out += ["", "<details><summary>Output of your code</summary>", "", _md_fence(output), "", "</details>"]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# ------------------------------------------------------------------------------------ terminal table

_STATUS_STYLES: dict[Status, str] = {
    Status.PASSED: "green",
    Status.FAILED: "red",
    Status.ERROR: "bold red",
    Status.TIMEOUT: "magenta",
    Status.OUT_OF_MEMORY: "magenta",
    Status.MISSING: "yellow",
}


def render_table(report: Report, console: Optional["Console"] = None) -> None:
    """Print the report for a terminal: table, one message per non-passing check, total, isolation.

    Colour only when the console writes to a terminal (rich's default); all student-influenced text is
    passed as `rich.text.Text`, so it is never interpreted as rich markup.
    """
    from rich import box
    from rich.console import Console
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    heading = clean_text(report.assignment)
    if report.submission:
        heading += f": {clean_text(report.submission)}"
    table = Table(
        title=Text(heading.replace("\n", " "), style="bold"),
        box=box.SIMPLE_HEAD,
        title_justify="left",
        pad_edge=False,
    )
    table.add_column("Check", ratio=1, overflow="fold")
    table.add_column("Task", no_wrap=True)
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for c in report.checks:
        title = Text(clean_text(c.title).replace("\n", " "))
        if c.visibility == Visibility.HIDDEN:
            title.append(" (hidden)", style="dim")
        table.add_row(
            title,
            Text(clean_text(c.task)),
            Text(f"{_pts(c.score)} / {_pts(c.max_score)}"),
            Text(_label(c.status), style=_STATUS_STYLES.get(c.status, "")),
        )
    console.print(table)

    for c in _not_passed(report):
        message = clean_text(c.message).strip() or _label(c.status)
        line = Text()
        line.append(clean_text(c.title).replace("\n", " "), style=_STATUS_STYLES.get(c.status, ""))
        line.append(f" ({_label(c.status)}): ", style="dim")
        line.append(message.replace("\n", "\n  "), style="dim")
        if _show_tolerance(c):
            line.append(f"\n  accepted: {clean_text(c.tolerance)}", style="dim")
        console.print(Padding(line, (0, 0, 0, 2), expand=False))  # wrapped lines keep the indent
    # passed checks that measured something (an accuracy, a loss ratio) say what they measured
    for c in report.checks:
        if c.status == Status.PASSED and clean_text(c.message).strip():
            line = Text()
            line.append(clean_text(c.title).replace("\n", " "), style=_STATUS_STYLES.get(c.status, ""))
            line.append(": " + clean_text(c.message).strip().replace("\n", "\n  "), style="dim")
            console.print(Padding(line, (0, 0, 0, 2), expand=False))
    if _not_passed(report) or any(c.status == Status.PASSED and c.message for c in report.checks):
        console.print()

    total = Text("Total: ", style="bold")
    total.append(f"{_pts(report.score)} / {_pts(report.max_score)} ({_pct(report)})", style="bold")
    passed = len(report.checks) - len(_not_passed(report))
    total.append(f"  {passed} of {len(report.checks)} checks passed", style="dim")
    console.print(total)
    if not report.hidden_included:
        console.print(Text("Public checks only; hidden checks run when the instructor grades.", style="dim"))
    if report.isolation:
        console.print(Text(f"Isolation: {clean_text(report.isolation)}", style="dim"))
    for w in report.warnings:
        console.print(Text(f"Warning: {clean_text(w)}", style="yellow"))


def to_table(report: Report, width: int = 100) -> str:
    """`render_table` as plain text (no colour codes), `width` columns wide."""
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False, highlight=False)
    render_table(report, console)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def json_format(report: Report) -> str:
    """`--format json`: instructor runs (with hidden checks) keep the internal details of checks
    that could not be graded; a student's report never has them."""
    return to_json(report, internal=report.hidden_included)


FORMATS: dict[str, Callable[[Report], str]] = {
    "table": to_table,
    "json": json_format,
    "junit": to_junit,
    "markdown": to_markdown,
    "gradescope": to_gradescope,
}
