"""Markdown for a CI job summary (`$GITHUB_STEP_SUMMARY`): heading, table, details of non-passing checks.

Student text is cleaned (`clean_text`), then every character Markdown or HTML could act on is
backslash-escaped in inline text; code fences are longer than any backtick run in what they hold.
"""
from __future__ import annotations

import re
from typing import Any

from grader.engine.model import Report, Visibility

from ._text import clean_text, label, module_file, not_passed, pct, pts, show_tolerance


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
        f"## {_md_inline(report.assignment)}: {pts(report.score)} / {pts(report.max_score)} ({pct(report)})",
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
            f"| {title} | {_md_inline(c.task)} | {pts(c.score)} / {pts(c.max_score)} | {label(c.status)} |"
        )
    out.append("")
    out.append(f"**Total: {pts(report.score)} / {pts(report.max_score)} ({pct(report)})**")

    failing = not_passed(report)
    if failing:
        out += ["", "### Details", ""]
        for c in failing:
            out.append(
                f"#### {_md_inline(c.title)} ({label(c.status)}, "
                f"{pts(c.score)} / {pts(c.max_score)})"
            )
            out.append("")
            where = f", file {_md_code(module_file(c))}" if c.module else ""
            out.append(f"Check {_md_code(c.id)}, task {_md_inline(c.task)}{where}.")
            out.append("")
            out.append(_md_fence(clean_text(c.message).strip() or label(c.status)))
            if show_tolerance(c):
                out += ["", f"Accepted: {_md_inline(c.tolerance)}"]
            output = clean_text(c.output).rstrip()
            if output:
                if len(output) > max_output_chars:
                    output = output[:max_output_chars] + f"\n... ({len(output) - max_output_chars} more characters)"
                out += ["", "<details><summary>Output of your code</summary>", "", _md_fence(output), "", "</details>"]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
