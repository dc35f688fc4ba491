"""The `grade` command: a thin click layer over `grader.engine.runner` and `grader.reports`.

The student's commands are here; the instructor's (batch, report, similarity, selftest, template,
dist, gradescope) are in grader/instructor/cli.py, loaded when one of them is asked for.

    grade check [PATH] [TASK]...   grade the submission in PATH (default: the current folder);
                                   --report FORMAT PATH (repeatable) writes several reports from one run
    grade list [--assignment A]    the assignments, or the checks of one
    grade batch SUBMISSIONS -a A --out DIR   grade a whole class (grader/instructor/batch/, docs/batch.md)
    grade report DIR               rebuild a batch's CSV, HTML and feedback from its gradebook
    grade export DIR --to canvas   the gradebook in a platform's import format (grader/instructor/export/)
    grade gradescope A -o autograder.zip   a Gradescope autograder (grader/instructor/publish/gradescope.py)
    grade selftest A               prove A's checks on known and mutated submissions (grader/instructor/selftest/)

`grade check` takes the folder to grade and/or task names in any order (`grade check softmax`,
`grade check ../my-copy layers mlp`), or a module file (`grade check softmax.py`: that file's folder,
that file's task). The assignment comes from --assignment, else from a `.grade.toml` marker
(`assignment = "NAME"`) in the folder or a folder above it, else from the folder's name.

Exit status: 0 when grading ran (whatever the score); 1 with --fail-under and a lower score, or when
grading was refused (instructor grading that would run student code as root unisolated: the message
says what to do); 2 for usage errors (click's own convention): unknown assignment or task, no such folder.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import NamedTuple, Optional

import click

from .engine import assignment as assignments_mod
from .engine.assignment import Assignment
from .engine.model import CheckResult, Report, Status
from .engine.runner import grade, select_checks
from .engine.session import GradeOptions
from .engine.sandbox import ISOLATION_MODES, IsolationRefused, IsolationUnavailable

MARKER = assignments_mod.MARKER
FORMAT_NAMES = ("table", "json", "junit", "markdown", "gradescope", "classroom")
MODULE_SUFFIXES = (".py", ".ipynb")
VERBOSE_OUTPUT_CHARS = 4000  # per check, in the terminal with --verbose


def _known() -> str:
    return ", ".join(assignments_mod.available())


def find_assignment(path: Path, name: Optional[str]) -> str:
    """--assignment, else the template's marker file, else a folder named after an assignment."""
    known = assignments_mod.available()
    if name:
        if name not in known:
            raise click.BadParameter(f"unknown assignment {name!r}; known: {', '.join(known)}",
                                     param_hint="'--assignment'")
        return name
    try:
        marker = assignments_mod.find_marker(path)
    except ValueError as exc:
        raise click.UsageError(str(exc))
    if marker is not None:
        found = marker[1].get("assignment")
        if found not in known:
            raise click.UsageError(f"{marker[0]} names unknown assignment {found!r}; known: {', '.join(known)}")
        return found
    if path.name in known:
        return path.name
    raise click.UsageError(f"cannot tell which assignment {path} is: pass --assignment "
                           f"({', '.join(known)}) or add a {MARKER} file with assignment = \"NAME\"")


def load_assignment(name: str):
    """The assignment `name`, or click's usage error listing the known ones."""
    try:
        return assignments_mod.load(name)
    except KeyError:
        raise click.BadParameter(f"unknown assignment {name!r}; known: {_known()}",
                                 param_hint="'--assignment'") from None


def _looks_like_path(word: str) -> bool:
    return "/" in word or "\\" in word or word.startswith(".") or word.endswith((*MODULE_SUFFIXES, ".zip"))


def _split_targets(targets: tuple[str, ...]) -> tuple[Optional[Path], list[str], list[str]]:
    """PATH and TASK arguments, in any order: (folder, module stems of files given, task words)."""
    folder: Optional[Path] = None
    stems: list[str] = []
    words: list[str] = []
    for t in targets:
        p = Path(t).expanduser()
        if p.is_dir():
            here = p.resolve()
        elif p.is_file():
            if p.suffix not in MODULE_SUFFIXES:
                raise click.UsageError(f"{t} is a file; give the folder that holds your modules "
                                       f"(or one module: a .py or .ipynb file)")
            here = p.resolve().parent
            stems.append(p.stem)
        elif _looks_like_path(t):
            raise click.UsageError(f"no such file or folder: {t}")
        else:
            words.append(t)
            continue
        if folder is not None and here != folder:
            raise click.UsageError(f"grade check grades one folder at a time (got {folder} and {here}); "
                                   "use `grade batch` for many submissions")
        folder = here
    return folder, stems, words


def resolve_tasks(asg, options: tuple[str, ...], words: list[str], stems: list[str]) -> list[str]:
    known = [t.name for t in asg.tasks]
    wanted: list[str] = []
    for raw in options:
        for t in (s.strip() for s in raw.split(",")):
            if t and t not in known:
                raise click.BadParameter(f"unknown task {t!r}; {asg.name} has: {', '.join(known)}",
                                         param_hint="'--task'")
            if t:
                wanted.append(t)
    for w in words:
        if w not in known:
            raise click.UsageError(f"{w!r} is neither a folder nor a task of {asg.name} "
                                   f"(tasks: {', '.join(known)})")
        wanted.append(w)
    for stem in stems:
        mine = [t.name for t in asg.tasks if t.modules and t.modules[0] == stem] or \
               [t.name for t in asg.tasks if stem in t.modules]
        if not mine:
            modules = sorted({m for t in asg.tasks for m in t.modules})
            raise click.UsageError(f"{stem} is not a module of {asg.name} (its modules: {', '.join(modules)})")
        wanted += mine
    return list(dict.fromkeys(wanted))  # in order, no duplicates


# The instructor's commands live in grader/instructor/cli.py, which the student edition does not have.
INSTRUCTOR_COMMANDS = ("batch", "dist", "export", "gradescope", "protect", "report", "selftest", "similarity", "template")


def _instructor_commands() -> Optional[dict[str, click.Command]]:
    """The instructor's commands, or None in the student edition (no `grader.instructor`) and in a
    Gradescope autograder (which has only the runner of `grader.instructor`, not its CLI)."""
    if importlib.util.find_spec("grader.instructor") is None or importlib.util.find_spec("grader.instructor.cli") is None:
        return None
    from .instructor.cli import COMMANDS

    return COMMANDS


class _Grade(click.Group):
    """`grade`: the student's commands here, the instructor's loaded from grader.instructor when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *(INSTRUCTOR_COMMANDS if _instructor_commands() else ())])

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        if name not in INSTRUCTOR_COMMANDS:
            return super().get_command(ctx, name)
        commands = _instructor_commands()
        if commands is None:
            raise click.UsageError(f"`grade {name}` is for instructors: the student edition has no hidden "
                                   "checks, reference solutions or batch grading (docs/install.md)")
        return commands[name]


@click.group(cls=_Grade, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dl-grader")
def main() -> None:
    """Autograder for deep-learning assignments."""


@main.command(context_settings={"max_content_width": 100})
@click.argument("targets", nargs=-1, metavar="[PATH] [TASK]...")
@click.option("--assignment", "-a", help="Assignment name (default: from the .grade.toml marker).")
@click.option("--task", "-t", "tasks", multiple=True,
              help="Only this task (repeatable, or comma-separated), e.g. softmax.")
@click.option("--hidden", is_flag=True, help="Also run the hidden checks (instructors).")
@click.option("--check", "-c", "check_ids", multiple=True,
              help="Only this check id (repeatable), e.g. softmax.stable; see `grade list -a NAME`.")
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file (the table then still prints).")
@click.option("--report", "reports", multiple=True, metavar="FORMAT PATH",
              type=(click.Choice(FORMAT_NAMES), click.Path(dir_okay=False, allow_dash=True, path_type=Path)),
              help="Also write the report in FORMAT to PATH ('-': standard output); repeatable: one "
                   "grading run, several reports (e.g. --report junit junit.xml --report markdown summary.md).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML report with plots (what is wrong, as pictures) to this file.")
@click.option("--base64", "as_base64", is_flag=True,
              help="Write the report base64-encoded on one line (a GitHub Actions step output; "
                   "with --format classroom for GitHub Classroom's reporter).")
@click.option("--fail-under", type=click.FloatRange(0, 100), help="Exit 1 if the score in percent is lower.")
@click.option("--verbose", "-v", is_flag=True,
              help="Table: also show what your code printed during each check, and timings.")
@click.option("--notebook-mode", type=click.Choice(["definitions", "all"]), default="definitions",
              show_default=True, help="For .ipynb modules: keep only imports/definitions, or run every cell.")
@click.option("--isolation", type=click.Choice(ISOLATION_MODES), default="auto", show_default=True,
              help="Sandbox: bubblewrap where available, else resource limits only (rlimits), else a "
                   "watched subprocess (process: Windows).")
@click.option("--allow-unisolated", is_flag=True, envvar="GRADER_ALLOW_UNISOLATED",
              help="With --hidden, without bubblewrap: grade even where student code could read the hidden "
                   "checks (not root, or before `grade protect`) or would run as root (the sandbox user "
                   "cannot run this Python). Disposable machines or your own code only; docs/security.md.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder with FashionMNIST (default: $GRADER_DATA, the cache, Debian's package).")
def check(targets: tuple[str, ...], assignment: Optional[str], tasks: tuple[str, ...], hidden: bool,
          check_ids: tuple[str, ...], fmt: str, output: Optional[Path], reports: tuple[tuple[str, Path], ...],
          html_out: Optional[Path], as_base64: bool, fail_under: Optional[float], verbose: bool,
          notebook_mode: str, isolation: str, allow_unisolated: bool, data_dir: Optional[Path]) -> None:
    """Grade the submission in PATH (default: the current folder).

    \b
    Examples:
      grade check                      every public check, on the code in this folder
      grade check softmax              only the task softmax (same as --task softmax)
      grade check softmax.py           the task of that file
      grade check assignment1.ipynb    one notebook holding the tasks, graded alone
      grade check ../copy -a backprop  another folder, naming the assignment
      grade check --format junit -o report.xml --fail-under 100
      grade check --format classroom --base64   for GitHub Classroom (docs/reports.md)
      grade check --report junit junit.xml --report markdown "$GITHUB_STEP_SUMMARY"
      grade check --html report.html   also a page with plots of what is wrong
    """
    destinations = _destinations(fmt, output, as_base64, reports, html_out)
    target = _what_to_grade(targets, assignment, tasks, hidden, check_ids)
    options = GradeOptions(isolation=isolation, notebook_mode=notebook_mode, data_dir=data_dir,
                           allow_unisolated=allow_unisolated)
    interactive = not destinations and sys.stderr.isatty()  # the bar only when the table is all there is
    report = _grade_with_progress(target, hidden, check_ids, options, interactive)
    _write_reports(report, destinations, verbose)
    if html_out is not None:
        _write_html(report, html_out)
    if report.internal:
        click.echo(f"{len(report.internal)} check(s) could not be graded (internal grader error); "
                   "the instructor's JSON report (--hidden --format json) has the details", err=True)
    if fail_under is not None and report.percent < fail_under:
        click.echo(f"score {report.percent:.1f}% is below --fail-under {fail_under:g}%", err=True)
        sys.exit(1)


class _Target(NamedTuple):
    """What `grade check` grades: a folder, its assignment, the tasks asked for, how many checks."""

    path: Path
    assignment: Assignment
    tasks: list[str]
    n_checks: int
    notebook: Optional[Path] = None  # one notebook to grade alone (`grade check assignment1.ipynb`)


class _Destination(NamedTuple):
    """One report to write: its format, its file (None: standard output), base64 or not."""

    fmt: str
    path: Optional[Path]
    as_base64: bool = False


def _destinations(fmt: str, output: Optional[Path], as_base64: bool, reports: tuple[tuple[str, Path], ...],
                  html_out: Optional[Path]) -> list[_Destination]:
    """The reports `grade check` writes (--format/--output first, then each --report), with the usage
    errors about them raised before anything is graded. The table goes to standard output unless a
    report does; only one report can."""
    if as_base64 and fmt == "table":
        raise click.UsageError("--base64 encodes a machine-readable report: add --format "
                               "(classroom, json, junit, markdown or gradescope)")
    out: list[_Destination] = []
    if output is not None or fmt != "table":
        out.append(_Destination(fmt, output, as_base64))
    out += [_Destination(f, None if str(p) == "-" else p) for f, p in reports]
    on_stdout = [d.fmt for d in out if d.path is None]
    if len(on_stdout) > 1:
        raise click.UsageError(f"only one report can go to standard output (got {', '.join(on_stdout)}): "
                               "give the others a file (--report FORMAT PATH)")
    files = [d.path for d in out if d.path is not None]
    for given, hint in [*((p, "'--output' / '--report'") for p in files), (html_out, "'--html'")]:
        if given is not None and not given.expanduser().resolve().parent.is_dir():
            raise click.BadParameter(f"{given}: no such folder {given.parent}", param_hint=hint)
    resolved = [p.expanduser().resolve() for p in files]
    if len(set(resolved)) < len(resolved):
        raise click.UsageError("two reports would be written to the same file")
    return out


def _what_to_grade(targets: tuple[str, ...], assignment: Optional[str], tasks: tuple[str, ...],
                   hidden: bool, check_ids: tuple[str, ...]) -> _Target:
    """The folder, assignment, tasks and checks named by `grade check`'s arguments (usage errors
    for what does not exist)."""
    folder, stems, words = _split_targets(targets)
    path = folder or Path.cwd().resolve()
    notebook: Optional[Path] = None
    try:
        name = find_assignment(path, assignment)
    except click.UsageError as exc:
        if words and not isinstance(exc, click.BadParameter):
            raise click.UsageError(f"no such folder: {words[0]} (and no task either: {exc.message})") from None
        raise
    asg = load_assignment(name)
    if hidden and not asg.hidden_installed:
        raise click.UsageError(
            f"hidden checks are not installed: this is the student edition of the grader, which has "
            f"the public checks of {asg.name} only (instructors grade with the full install)")
    modules = {m for t in asg.tasks for m in t.modules}
    given = [t for t in targets if t.endswith(".ipynb") and Path(t).expanduser().is_file()]
    if len(given) == 1 and Path(given[0]).stem not in modules:
        # one notebook holding the tasks (`grade check assignment1.ipynb`): graded alone, so that
        # the .py stubs beside it (a template repository) do not win over it
        notebook = Path(given[0]).expanduser().resolve()
        stems = [s for s in stems if s != notebook.stem]
    selected = resolve_tasks(asg, tasks, words, stems)
    try:
        n_checks = len(select_checks(asg, hidden=hidden, tasks=selected, check_ids=check_ids))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--check'") from None
    return _Target(path, asg, selected, n_checks, notebook)


def _grade_with_progress(target: _Target, hidden: bool, check_ids: tuple[str, ...],
                         options: GradeOptions, interactive: bool) -> Report:
    """Grade, with a progress bar on stderr at an interactive terminal."""
    progress = _Progress(target.n_checks) if interactive and target.n_checks else None
    try:
        if target.notebook is None:
            return grade(target.path, target.assignment, tasks=target.tasks or None, hidden=hidden,
                         options=options, on_result=progress.advance if progress else None,
                         check_ids=check_ids or None)
        import tempfile

        from .notebook import notebook_submission

        with tempfile.TemporaryDirectory(prefix="grader-notebook-") as tmp:
            folder = notebook_submission(target.notebook, Path(tmp), target.assignment)
            report = grade(folder, target.assignment, tasks=target.tasks or None, hidden=hidden,
                           options=options, on_result=progress.advance if progress else None,
                           check_ids=check_ids or None)
        report.submission = str(target.notebook)
        return report
    except IsolationRefused as exc:  # nothing ran: no report rather than one where every check failed
        raise click.ClickException(str(exc)) from None
    except IsolationUnavailable as exc:  # --isolation bwrap without bubblewrap, rlimits on Windows
        raise click.UsageError(str(exc)) from None
    finally:
        if progress:
            progress.stop()


def _write_reports(report: Report, destinations: list[_Destination], verbose: bool) -> None:
    """Each report to its file or to stdout; the table at the terminal unless stdout has a report."""
    from .reports import render

    for d in destinations:
        text = render(report, d.fmt, d.as_base64)
        if d.path is None:
            click.echo(text, nl=not text.endswith("\n"))
            continue
        try:
            d.path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.FileError(str(d.path), hint=str(exc.strerror or exc)) from None
    if all(d.path is not None for d in destinations):  # the table, for the person at the terminal
        _print_table(report, verbose)
    for d in destinations:
        if d.path is not None:
            click.echo(f"report ({d.fmt}) written to {d.path}", err=True)


def _write_html(report: Report, html_out: Path) -> None:
    from .reports import to_html

    try:
        html_out.write_text(to_html(report), encoding="utf-8")
    except OSError as exc:
        raise click.FileError(str(html_out), hint=str(exc.strerror or exc)) from None
    click.echo(f"HTML report written to {html_out} (open it in a browser)", err=True)


def _print_table(report: Report, verbose: bool) -> None:
    """The table: with colour at a terminal (unless NO_COLOR is set), plain text (100 columns)
    when piped or captured."""
    from .reports import clean_text, render_table, to_table, use_colour

    if use_colour(sys.stdout):
        from rich.console import Console

        render_table(report, Console(highlight=False))
    else:
        click.echo(to_table(report), nl=False)
    printed = [c for c in report.checks if clean_text(c.output).strip()]
    if verbose:
        click.echo("\nTimings, and what your code printed during each check:")
        width = max((len(c.id) for c in report.checks), default=0)
        for c in report.checks:
            out = clean_text(c.output).rstrip()
            click.echo(f"  {c.id:{width}s}  {c.duration:7.2f} s  {c.status}"
                       + ("" if out else "  (printed nothing)"))
            if not out:
                continue
            if len(out) > VERBOSE_OUTPUT_CHARS:
                out = out[:VERBOSE_OUTPUT_CHARS] + f"\n... ({len(out) - VERBOSE_OUTPUT_CHARS} more characters)"
            click.echo("\n".join("    | " + line for line in out.splitlines()))
    elif printed:
        n = len(printed)
        click.echo(f"Your code printed output during {n} check{'s' if n > 1 else ''}: "
                   "run with --verbose (-v) to see it.")


class _Progress:
    """A progress bar on stderr while checks run (interactive terminals only)."""

    def __init__(self, total: int):
        from rich.console import Console
        from rich.progress import Progress

        self._p = Progress(transient=True, console=Console(stderr=True))
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
    asg = load_assignment(assignment)
    checks = asg.checks(hidden)
    click.echo(f"{asg.name}: {asg.title}")
    for task in asg.tasks:
        mine = [c for c in checks if c.task == task.name]
        if not mine:
            continue
        points = sum(c.points for c in mine)
        click.echo(f"\n{task.name} ({', '.join(m + '.py' for m in task.modules)}): {task.title}, {points:g} pts")
        for c in mine:
            click.echo(f"  {c.id:34s} {c.points:3g} pts  {c.visibility.value:6s}  {c.title}")
            if c.tolerance:
                click.echo(f"  {'':34s} tolerance: {c.tolerance}")
    total = sum(c.points for c in checks)
    click.echo(f"\n{len(checks)} checks, {total:g} points" + ("" if hidden else " (public checks only)"))


if __name__ == "__main__":
    main()
