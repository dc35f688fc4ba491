"""The terminal table a student reads after `grade check`.

`render_table` prints to a rich console: one row per check (title, task, points, time, status),
one message line per check that did not pass (and what passed training checks measured), the total,
then the isolation and, last, what to do next: the first check that did not pass and its hint.
All student-influenced text is passed as `rich.text.Text`, never as markup. `to_table` is the same
as plain text. Colour only on a terminal, and never when `NO_COLOR` is set (`use_colour`).
"""
from __future__ import annotations

import io
import os
from typing import IO, TYPE_CHECKING, Optional

from grader.engine.model import CheckResult, Report, Status, Visibility

from ._text import clean_text, first_line, label, module_file, not_passed, pct, pts, show_tolerance

if TYPE_CHECKING:  # rich is imported lazily: JSON/JUnit/Gradescope output must not pay for it
    from rich.console import Console

STATUS_STYLES: dict[Status, str] = {
    Status.PASSED: "green",
    Status.FAILED: "red",
    Status.ERROR: "bold red",
    Status.TIMEOUT: "magenta",
    Status.OUT_OF_MEMORY: "magenta",
    Status.OUT_OF_DISK: "magenta",
    Status.MISSING: "yellow",
}

WEAK_ISOLATION_NOTE = (
    "Note: bubblewrap is not available here (macOS, Windows, or a Linux without user namespaces), "
    "so your code ran with limits only (time and memory, and what the Isolation line above lists): it "
    "could read your files and use the network. Scores are computed the same way; your instructor "
    "grades in the full sandbox."
)


def use_colour(stream: Optional[IO] = None, environ: Optional[dict] = None) -> bool:
    """Colour only on a terminal, never with NO_COLOR set (https://no-color.org) or TERM=dumb."""
    import sys

    env = os.environ if environ is None else environ
    stream = sys.stdout if stream is None else stream
    if env.get("NO_COLOR", "") != "" or env.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real file
        return False


def weak_isolation(report: Report) -> bool:
    """True when the run was isolated by limits only (no bubblewrap sandbox): rlimits or process."""
    return report.isolation.startswith(("rlimits", "process"))


def _seconds(x: float) -> str:
    return f"{x:.1f} s" if x < 100 else f"{x:.0f} s"


def next_step(report: Report) -> str:
    """The last line: the first check that did not pass, its hint, and how to re-run just it."""
    if report.status != "graded":
        return f"Not graded: {first_line(report.message) or report.status}"
    failing = not_passed(report)
    if not failing:
        return f"All {len(report.checks)} checks passed." if report.checks else "No checks ran."
    c: CheckResult = failing[0]
    hint = first_line(c.message) or label(c.status)
    more = f" ({len(failing) - 1} more below it)" if len(failing) > 1 else ""
    where = f" in {module_file(c)}" if c.module else ""
    again = f"grade check --check {clean_text(c.id)}" + (" --hidden" if c.visibility == Visibility.HIDDEN else "")
    return f"Next: {clean_text(c.title)}{where} [{label(c.status)}]: {hint}{more}. Re-run it with: {again}"


def render_table(report: Report, console: Optional["Console"] = None) -> None:
    """Print the report for a terminal: table, messages, total, isolation, the next step.

    Colour only when the console writes to a terminal (rich's default; rich also honours NO_COLOR);
    all student-influenced text is passed as `rich.text.Text`, so it is never interpreted as markup.
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
    table.add_column("Time", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for c in report.checks:
        title = Text(clean_text(c.title).replace("\n", " "))
        if c.visibility == Visibility.HIDDEN:
            title.append(" (hidden)", style="dim")
        table.add_row(
            title,
            Text(clean_text(c.task)),
            Text(f"{pts(c.score)} / {pts(c.max_score)}"),
            Text(_seconds(c.duration), style="dim"),
            Text(label(c.status), style=STATUS_STYLES.get(c.status, "")),
        )
    console.print(table)

    for c in not_passed(report):
        message = clean_text(c.message).strip() or label(c.status)
        line = Text()
        line.append(clean_text(c.title).replace("\n", " "), style=STATUS_STYLES.get(c.status, ""))
        line.append(f" ({label(c.status)}): ", style="dim")
        line.append(message.replace("\n", "\n  "), style="dim")
        if show_tolerance(c):
            line.append(f"\n  accepted: {clean_text(c.tolerance)}", style="dim")
        console.print(Padding(line, (0, 0, 0, 2), expand=False))  # wrapped lines keep the indent
    # passed checks that measured something (an accuracy, a loss ratio) say what they measured
    measured = [c for c in report.checks if c.status == Status.PASSED and clean_text(c.message).strip()]
    for c in measured:
        line = Text()
        line.append(clean_text(c.title).replace("\n", " "), style=STATUS_STYLES.get(c.status, ""))
        line.append(": " + clean_text(c.message).strip().replace("\n", "\n  "), style="dim")
        console.print(Padding(line, (0, 0, 0, 2), expand=False))
    if not_passed(report) or measured:
        console.print()

    total = Text("Total: ", style="bold")
    total.append(f"{pts(report.score)} / {pts(report.max_score)} ({pct(report)})", style="bold")
    passed = len(report.checks) - len(not_passed(report))
    total.append(f"  {passed} of {len(report.checks)} checks passed", style="dim")
    total.append(f"  in {_seconds(report.execution_time)}", style="dim")
    console.print(total)
    if not report.hidden_included:
        console.print(Text("Public checks only; hidden checks run when the instructor grades.", style="dim"))
    if report.isolation:
        console.print(Text(f"Isolation: {clean_text(report.isolation)}", style="dim"))
    if weak_isolation(report):
        console.print(Text(WEAK_ISOLATION_NOTE, style="yellow"))
    for w in report.warnings:
        console.print(Text(f"Warning: {clean_text(w)}", style="yellow"))
    ok = report.status == "graded" and not not_passed(report)
    console.print(Text(next_step(report), style="bold green" if ok else "bold"))


def to_table(report: Report, width: int = 100) -> str:
    """`render_table` as plain text (no colour codes), `width` columns wide."""
    from rich.console import Console

    buf = io.StringIO()
    # force_jupyter=False: in a notebook kernel rich would otherwise display the table itself
    console = Console(file=buf, width=width, color_system=None, force_terminal=False, highlight=False,
                      force_jupyter=False)
    render_table(report, console)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"
