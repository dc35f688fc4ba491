"""The `grade` command: a thin click layer over `grader.runner` and `grader.reports`.

Exit status: 0 when grading ran (whatever the score); 1 only with --fail-under and a lower score;
2 for usage errors (click's own convention).
"""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Optional

import click

from . import assignment as assignments_mod
from .model import CheckResult, Status
from .runner import GradeOptions, grade
from .sandbox import ISOLATION_MODES

MARKER = ".grade.toml"
FORMAT_NAMES = ("table", "json", "junit", "markdown", "gradescope")


def find_assignment(path: Path, name: Optional[str]) -> str:
    """--assignment, else the template's marker file, else a folder named after an assignment."""
    known = assignments_mod.available()
    if name:
        if name not in known:
            raise click.BadParameter(f"unknown assignment {name!r}; known: {', '.join(known)}",
                                     param_hint="--assignment")
        return name
    for folder in (path, *path.parents):
        marker = folder / MARKER
        if marker.is_file():
            try:
                found = tomllib.loads(marker.read_text()).get("assignment")
            except tomllib.TOMLDecodeError as exc:
                raise click.UsageError(f"{marker}: {exc}")
            if found not in known:
                raise click.UsageError(f"{marker} names unknown assignment {found!r}; known: {', '.join(known)}")
            return found
    if path.name in known:
        return path.name
    raise click.UsageError(f"cannot tell which assignment {path} is: pass --assignment "
                           f"({', '.join(known)}) or add a {MARKER} file with assignment = \"NAME\"")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dl-grader")
def main() -> None:
    """Autograder for deep-learning assignments."""


@main.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--assignment", "-a", help="Assignment name (default: from the .grade.toml marker).")
@click.option("--task", "-t", "tasks", multiple=True, help="Only this task (repeatable), e.g. softmax.")
@click.option("--hidden", is_flag=True, help="Also run the hidden checks (instructors).")
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report here instead of standard output (the table still prints).")
@click.option("--fail-under", type=click.FloatRange(0, 100), help="Exit 1 if the score in percent is lower.")
@click.option("--notebook-mode", type=click.Choice(["definitions", "all"]), default="definitions",
              show_default=True, help="For .ipynb modules: keep only imports/definitions, or run every cell.")
@click.option("--isolation", type=click.Choice(ISOLATION_MODES), default="auto", show_default=True,
              help="Sandbox: bubblewrap where available, else resource limits only.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder with FashionMNIST (default: $GRADER_DATA, the cache, Debian's package).")
def check(path: Path, assignment: Optional[str], tasks: tuple[str, ...], hidden: bool, fmt: str,
          output: Optional[Path], fail_under: Optional[float], notebook_mode: str, isolation: str,
          data_dir: Optional[Path]) -> None:
    """Grade the submission in PATH (default: the current folder)."""
    from .reports import FORMATS

    path = path.resolve()
    name = find_assignment(path, assignment)
    asg = assignments_mod.load(name)
    known_tasks = [t.name for t in asg.tasks]
    for t in tasks:
        if t not in known_tasks:
            raise click.BadParameter(f"unknown task {t!r}; {name} has: {', '.join(known_tasks)}",
                                     param_hint="--task")
    interactive = fmt == "table" and output is None and sys.stderr.isatty()
    progress = _progress(len([c for c in asg.checks(hidden) if not tasks or c.task in tasks])) \
        if interactive else None
    try:
        report = grade(path, asg, tasks=list(tasks) or None, hidden=hidden,
                       options=GradeOptions(isolation=isolation, notebook_mode=notebook_mode,
                                            data_dir=data_dir),
                       on_result=progress.advance if progress else None)
    finally:
        if progress:
            progress.stop()
    text = FORMATS[fmt](report)
    if output is not None:
        output.write_text(text)
        if fmt != "table":
            click.echo(FORMATS["table"](report), nl=False)
        click.echo(f"report written to {output}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))
    if fail_under is not None and report.percent < fail_under:
        click.echo(f"score {report.percent:.1f}% is below --fail-under {fail_under:g}%", err=True)
        sys.exit(1)


class _progress:
    """A progress bar on stderr while checks run (interactive terminals only)."""

    def __init__(self, total: int):
        from rich.progress import Progress

        self._p = Progress(transient=True, console=None)
        self._p.start()
        self._task = self._p.add_task("grading", total=total)

    def advance(self, result: CheckResult) -> None:
        mark = "✓" if result.status == Status.PASSED else "✗"
        self._p.update(self._task, advance=1, description=f"{mark} {result.id}")

    def stop(self) -> None:
        self._p.stop()


@main.command("list")
@click.option("--assignment", "-a", help="Show the checks of this assignment.")
@click.option("--hidden", is_flag=True, help="Include hidden checks.")
def list_(assignment: Optional[str], hidden: bool) -> None:
    """List assignments, or the checks of one (id, points, visibility, tolerance)."""
    if not assignment:
        for name in assignments_mod.available():
            click.echo(f"{name}: {assignments_mod.load(name).title}")
        return
    asg = assignments_mod.load(assignment)
    for c in asg.checks(hidden):
        click.echo(f"{c.id:40s} {c.points:5g} pts  {c.visibility.value:6s}  {c.title}")
        if c.tolerance:
            click.echo(f"{'':40s} tolerance: {c.tolerance}")


if __name__ == "__main__":
    main()
