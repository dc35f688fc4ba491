"""The `grade` command: a thin click layer over `grader.engine.runner` and `grader.reports`.

    grade check [PATH] [TASK]...   grade the submission in PATH (default: the current folder)
    grade list [--assignment A]    the assignments, or the checks of one
    grade batch SUBMISSIONS -a A --out DIR   grade a whole class (grader/instructor/batch/, docs/batch.md)
    grade report DIR               rebuild a batch's CSV, HTML and feedback from its gradebook
    grade gradescope A -o autograder.zip   a Gradescope autograder (grader/instructor/publish/gradescope.py)
    grade selftest A               prove A's checks on known and mutated submissions (grader/instructor/selftest/)

`grade check` takes the folder to grade and/or task names in any order (`grade check softmax`,
`grade check ../my-copy layers mlp`), or a module file (`grade check softmax.py`: that file's folder,
that file's task). The assignment comes from --assignment, else from a `.grade.toml` marker
(`assignment = "NAME"`) in the folder or a folder above it, else from the folder's name.

Exit status: 0 when grading ran (whatever the score); 1 only with --fail-under and a lower score;
2 for usage errors (click's own convention): unknown assignment or task, no such folder.
"""
from __future__ import annotations

import functools
import importlib.util
import json
import sys
import tomllib
from pathlib import Path
from typing import Any, Callable, Optional

import click

from .engine import assignment as assignments_mod
from .engine.model import CheckResult, Report, Status
from .engine.runner import GradeOptions, grade, select_checks
from .engine.sandbox import ISOLATION_MODES

MARKER = ".grade.toml"
FORMAT_NAMES = ("table", "json", "junit", "markdown", "gradescope", "classroom")
MODULE_SUFFIXES = (".py", ".ipynb")
VERBOSE_OUTPUT_CHARS = 4000  # per check, in the terminal with --verbose


def instructor_only(command: Callable) -> Callable:
    """A command of the instructor's: the student edition is grader/ without `grader.instructor`."""
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        if importlib.util.find_spec("grader.instructor") is None:
            name = command.__name__.rstrip("_")
            raise click.UsageError(f"`grade {name}` is for instructors: the student edition has no hidden "
                                   "checks, reference solutions or batch grading (docs/install.md)")
        return command(*args, **kwargs)
    return run


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
    for folder in (path, *path.parents):
        marker = folder / MARKER
        if marker.is_file():
            try:
                found = tomllib.loads(marker.read_text()).get("assignment")
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise click.UsageError(f"{marker}: {exc}")
            if found not in known:
                raise click.UsageError(f"{marker} names unknown assignment {found!r}; known: {', '.join(known)}")
            return found
    if path.name in known:
        return path.name
    raise click.UsageError(f"cannot tell which assignment {path} is: pass --assignment "
                           f"({', '.join(known)}) or add a {MARKER} file with assignment = \"NAME\"")


def _load_assignment(name: str):
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


def _resolve_tasks(asg, options: tuple[str, ...], words: list[str], stems: list[str]) -> list[str]:
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
              help="Sandbox: bubblewrap where available, else resource limits only.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder with FashionMNIST (default: $GRADER_DATA, the cache, Debian's package).")
def check(targets: tuple[str, ...], assignment: Optional[str], tasks: tuple[str, ...], hidden: bool,
          check_ids: tuple[str, ...], fmt: str, output: Optional[Path], html_out: Optional[Path],
          as_base64: bool, fail_under: Optional[float], verbose: bool, notebook_mode: str, isolation: str,
          data_dir: Optional[Path]) -> None:
    """Grade the submission in PATH (default: the current folder).

    \b
    Examples:
      grade check                      every public check, on the code in this folder
      grade check softmax              only the task softmax (same as --task softmax)
      grade check softmax.py           the task of that file
      grade check ../copy -a backprop  another folder, naming the assignment
      grade check --format junit -o report.xml --fail-under 100
      grade check --format classroom --base64   for GitHub Classroom (docs/reports.md)
      grade check --html report.html   also a page with plots of what is wrong
    """
    from .reports import FORMATS, to_base64

    if as_base64 and fmt == "table":
        raise click.UsageError("--base64 encodes a machine-readable report: add --format "
                               "(classroom, json, junit, markdown or gradescope)")

    for given, hint in ((output, "'--output'"), (html_out, "'--html'")):
        if given is not None and not given.expanduser().resolve().parent.is_dir():
            raise click.BadParameter(f"{given}: no such folder {given.parent}", param_hint=hint)
    folder, stems, words = _split_targets(targets)
    path = folder or Path.cwd().resolve()
    try:
        name = find_assignment(path, assignment)
    except click.UsageError as exc:
        if words and not isinstance(exc, click.BadParameter):
            raise click.UsageError(f"no such folder: {words[0]} (and no task either: {exc.message})") from None
        raise
    asg = _load_assignment(name)
    if hidden and not asg.hidden_installed:
        raise click.UsageError(
            f"hidden checks are not installed: this is the student edition of the grader, which has "
            f"the public checks of {asg.name} only (instructors grade with the full install)")
    selected = _resolve_tasks(asg, tasks, words, stems)
    try:
        n_checks = len(select_checks(asg, hidden=hidden, tasks=selected, check_ids=check_ids))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--check'") from None
    interactive = fmt == "table" and output is None and sys.stderr.isatty()
    progress = _Progress(n_checks) if interactive and n_checks else None
    try:
        report = grade(path, asg, tasks=selected or None, hidden=hidden,
                       options=GradeOptions(isolation=isolation, notebook_mode=notebook_mode,
                                            data_dir=data_dir),
                       on_result=progress.advance if progress else None,
                       check_ids=check_ids or None)
    finally:
        if progress:
            progress.stop()

    def render() -> str:
        text = FORMATS[fmt](report)
        return to_base64(text) if as_base64 else text

    if output is not None:
        try:
            output.write_text(render())
        except OSError as exc:
            raise click.FileError(str(output), hint=str(exc.strerror or exc)) from None
    if output is None and fmt != "table":
        text = render()
        click.echo(text, nl=not text.endswith("\n"))
    else:  # the table, for the person at the terminal (also when the report went to a file)
        _print_table(report, verbose)
    if output is not None:
        click.echo(f"report ({fmt}) written to {output}", err=True)
    if html_out is not None:
        from .reports import to_html

        try:
            html_out.write_text(to_html(report), encoding="utf-8")
        except OSError as exc:
            raise click.FileError(str(html_out), hint=str(exc.strerror or exc)) from None
        click.echo(f"HTML report written to {html_out} (open it in a browser)", err=True)
    if report.internal:
        click.echo(f"{len(report.internal)} check(s) could not be graded (internal grader error); "
                   "the instructor's JSON report (--hidden --format json) has the details", err=True)
    if fail_under is not None and report.percent < fail_under:
        click.echo(f"score {report.percent:.1f}% is below --fail-under {fail_under:g}%", err=True)
        sys.exit(1)


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


@main.command(context_settings={"max_content_width": 100})
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--assignment", "-a", required=True, help="Assignment name, e.g. backprop.")
@click.option("--out", "-o", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: gradebook.sqlite, grades.csv, report.html, reports/<student>/, similarity/.")
@click.option("--jobs", "-j", type=click.IntRange(1), help="Submissions graded at a time (default: the cores).")
@click.option("--force", is_flag=True, help="Regrade every submission, also those up to date in the gradebook.")
@click.option("--task", "-t", "tasks", multiple=True,
              help="Grade only this task's checks (repeatable): the batch's selection.")
@click.option("--only", "only", multiple=True, metavar="CHECK_ID",
              help="Grade only this check (repeatable) of every submission; keep the other results.")
@click.option("--timeout-per-submission", type=click.FloatRange(min=1), metavar="SECONDS",
              help="Wall-clock budget of one submission (default: its checks' limits + 60 s per module + 120 s).")
@click.option("--scheduler", metavar="ADDRESS", help="Run on a Dask scheduler, e.g. tcp://host:8786 ('.[dask]').")
@click.option("--feedback", type=click.Choice(["summary", "full"]), default="summary", show_default=True,
              help="Hidden checks in student feedback: title and points only, or everything.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or log lines; only the final line.")
@click.option("--notebook-mode", type=click.Choice(["definitions", "all"]), default="definitions", show_default=True)
@click.option("--isolation", type=click.Choice(ISOLATION_MODES), default="auto", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder with FashionMNIST.")
@click.option("--similarity/--no-similarity", "screen", default=True, show_default=True,
              help="Screen the class for copies (more than one submission): a section of report.html, similarity/.")
@click.option("--similarity-threshold", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Flag pairs sharing at least this share of their fingerprints (docs/similarity.md).")
@instructor_only
def batch(submissions: Path, assignment: str, out: Path, jobs: Optional[int], force: bool, tasks: tuple[str, ...],
          only: tuple[str, ...],
          timeout_per_submission: Optional[float], scheduler: Optional[str], feedback: str, quiet: bool,
          notebook_mode: str, isolation: str, data_dir: Optional[Path], screen: bool,
          similarity_threshold: float) -> None:
    """Grade every submission in SUBMISSIONS (public and hidden checks), resumably.

    \b
    Layouts: per-student folders, GitHub Classroom clones, one .zip per student, Canvas and Moodle
    downloads, Gradescope exports (docs/batch.md). Re-running the command grades only what changed.
    Exit status 0 when the batch ran (whatever the scores), 2 for usage errors.
    """
    from .instructor.batch.run import BatchOptions, run_batch

    asg = _load_assignment(assignment)
    selected = _resolve_tasks(asg, tasks, [], [])
    if only:
        try:
            select_checks(asg, hidden=True, check_ids=only)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--only'") from None
    if out.resolve() == submissions.resolve() or submissions.resolve() in out.resolve().parents:
        raise click.BadParameter("--out must not be inside SUBMISSIONS", param_hint="'--out'")
    opts = BatchOptions(submissions=submissions, assignment=asg.name, out=out, force=force, only=only, tasks=selected,
                        timeout_per_submission=timeout_per_submission, scheduler=scheduler, quiet=quiet,
                        feedback=feedback, isolation=isolation, notebook_mode=notebook_mode, data_dir=data_dir,
                        similarity=screen, similarity_threshold=similarity_threshold)
    if jobs:
        opts.jobs = jobs
    try:
        summary = run_batch(opts)
    except ValueError as exc:  # e.g. --out holds another assignment's gradebook
        raise click.UsageError(str(exc)) from None
    except (OSError, TimeoutError) as exc:
        if scheduler is None:
            raise
        raise click.ClickException(f"cannot use the Dask scheduler {scheduler}: {exc}") from None
    counts = ", ".join(f"{v} {k}" for k, v in sorted(summary.statuses.items()))
    if not quiet:
        click.echo(f"{summary.total} submissions: {summary.graded} graded now, {summary.skipped} up to date; "
                   f"gradebook: {counts} ({summary.elapsed:.0f} s)")
        if summary.gone:
            click.echo(f"kept in the gradebook, no longer in {submissions}: {', '.join(summary.gone)}")
        sim = summary.similarity
        if sim is not None and sim["status"] == "done":
            how = "the class is unchanged: kept" if sim.get("reused") else f"{summary.similarity_seconds:.1f} s"
            click.echo(f"similarity: {sim['flagged']} flagged pair(s) among {sim['submissions']} submissions "
                       f"(threshold {sim['threshold']:g}; {how}): report.html#similarity")
        elif sim is not None:
            click.echo(f"similarity screen did not run: {sim['message']}")
    click.echo(f"{out}: " + ", ".join(p.name + ("/" if p.is_dir() else "") for p in summary.files))


@main.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR")
@click.option("--feedback", type=click.Choice(["summary", "full"]),
              help="Hidden checks in feedback (default: as the batch was run).")
@instructor_only
def report(out: Path, feedback: Optional[str]) -> None:
    """Rebuild grades.csv, report.html, reports/ and similarity/ of DIR from its gradebook, without grading."""
    from .instructor.batch.run import write_reports

    try:
        files = write_reports(out, feedback=feedback)
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"{out}: " + ", ".join(p.name + ("/" if p.is_dir() else "") for p in files))


@main.command(context_settings={"max_content_width": 100})
@click.argument("assignment_name", metavar="ASSIGNMENT")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="Where to write the zip.")
@instructor_only
def gradescope(assignment_name: str, output: Path) -> None:
    """Build a Gradescope autograder zip for ASSIGNMENT (public and hidden checks; docs/gradescope.md).

    \b
    Upload the zip as the assignment's autograder ("Zip file upload", Ubuntu 22.04 base image).
    """
    from .instructor.publish.gradescope import build_autograder

    asg = _load_assignment(assignment_name)
    if not output.expanduser().resolve().parent.is_dir():
        raise click.BadParameter(f"{output}: no such folder {output.parent}", param_hint="'--output'")
    try:
        names = build_autograder(asg.name, output)
    except OSError as exc:
        raise click.FileError(str(output), hint=str(exc.strerror or exc)) from None
    click.echo(f"{output}: Gradescope autograder for {asg.name} ({len(names)} files; "
               f"{len(asg.checks(hidden=True))} checks, hidden included)")


@main.command()
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--assignment", "-a", required=True, help="Assignment name, e.g. backprop.")
@click.option("--out", "-o", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: similarity.csv, similarity.html.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None,
              help="Flag pairs sharing at least this share of their fingerprints (default 0.5).")
@instructor_only
def similarity(submissions: Path, assignment: str, out: Path, threshold: Optional[float]) -> None:
    """Screen a class for copies: pairwise similarity of the students' code, the template's lines
    discounted (copydetect's winnowing). Same layouts as `grade batch`. See docs/similarity.md."""
    from .instructor.similarity import DEFAULT_THRESHOLD, screen

    asg = _load_assignment(assignment)
    pairs = screen(submissions, asg.name, out, DEFAULT_THRESHOLD if threshold is None else threshold)
    for p in pairs[:20]:
        click.echo(f"{p.similarity:6.1%}  {p.student_a} ~ {p.student_b}  ({p.module}.py, {p.overlap} tokens)")
    if len(pairs) > 20:
        click.echo(f"(+{len(pairs) - 20} more in similarity.csv)")
    click.echo(f"{len(pairs)} flagged pair(s); {out}: similarity.csv, similarity.html")


def _mutant_count(value: str) -> Optional[int]:
    if value == "all":
        return None
    if value == "none":
        return 0
    try:
        n = int(value)
    except ValueError:
        raise click.BadParameter("all, none or a number") from None
    if n < 0:
        raise click.BadParameter("all, none or a number of at least 0")
    return n


@main.command()
@click.argument("assignment_name", metavar="ASSIGNMENT")
@click.option("--jobs", "-j", type=click.IntRange(1), help="Cases graded at a time (default: the cores).")
@click.option("--mutants", "mutants", default="all", show_default=True, metavar="all|none|N",
              help="Automatic mutants to grade: all, none, or a seeded sample of N spread over files and operators.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --mutants sample.")
@click.option("--operator", "operators", multiple=True, metavar="NAME",
              help="Only these mutation operators (repeatable; docs/selftest.md lists them).")
@click.option("--task", "-t", "tasks", multiple=True, help="Only this task's checks and cases (repeatable).")
@click.option("--only", "only", multiple=True, metavar="CASE",
              help="Only this registered wrong submission or variant (repeatable).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(["reference", "template", "wrong", "variant", "mutant"]),
              help="Only these kinds of case (repeatable; default: all).")
@click.option("--no-data", is_flag=True, help="Leave out the checks that need FashionMNIST (fast).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the whole result as JSON (every case, every surviving mutant's diff).")
@click.option("--diffs", type=click.IntRange(0), default=20, show_default=True,
              help="Surviving mutants shown with their diff in the terminal.")
@click.option("--fail-under", type=click.FloatRange(0, 100), metavar="PERCENT",
              help="Also exit 1 when a task's mutation score is lower than this.")
@click.option("--reference", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The reference solution (default: reference/ASSIGNMENT of this checkout).")
@click.option("--isolation", type=click.Choice(ISOLATION_MODES), default="auto", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder with FashionMNIST.")
@instructor_only
def selftest(assignment_name: str, jobs: Optional[int], mutants: str, seed: int, operators: tuple[str, ...],
             tasks: tuple[str, ...], only: tuple[str, ...], kinds: tuple[str, ...], no_data: bool,
             json_out: Optional[Path], diffs: int, fail_under: Optional[float], reference: Optional[Path],
             isolation: str, data_dir: Optional[Path]) -> None:
    """Prove an assignment's checks: grade the reference (full marks), the template (0, no crash),
    the registered wrong submissions (each caught by its checks) and correct variants (full marks),
    and automatic mutants of the reference's marked code (mutation score, survivors with diffs).
    Exit 1 on any problem. For assignment authors; see docs/selftest.md."""
    from rich.console import Console

    from .instructor.selftest import SelftestOptions, selftest as run_selftest
    from .instructor.selftest.mutate import OPERATORS
    from .instructor.selftest.output import render, to_json

    asg = _load_assignment(assignment_name)
    unknown = sorted(set(tasks) - {t.name for t in asg.tasks})
    if unknown:
        raise click.BadParameter(f"{', '.join(unknown)}; tasks of {asg.name}: {', '.join(t.name for t in asg.tasks)}",
                                 param_hint="'--task'")
    bad_ops = sorted(set(operators) - set(OPERATORS))
    if bad_ops:
        raise click.BadParameter(f"{', '.join(bad_ops)}; known: {', '.join(OPERATORS)}", param_hint="'--operator'")
    opts = SelftestOptions(mutants=_mutant_count(mutants), seed=seed, operators=tuple(operators) or OPERATORS,
                           tasks=tasks, data=False if no_data else None, only=only,
                           kinds=kinds or SelftestOptions().kinds, reference=reference, isolation=isolation,
                           data_dir=data_dir)
    if jobs:
        opts.jobs = jobs
    console = Console(stderr=False)
    quiet = not console.is_terminal

    def progress(case, done: int, total: int) -> None:
        if not quiet:
            console.print(f"[{done}/{total}] {case.kind} {case.name}: "
                          f"{case.verdict or ('problem' if case.problems else case.status)}", highlight=False)

    try:
        result = run_selftest(asg.name, opts, progress=progress)
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from None
    render(result, console, diffs=diffs)
    if json_out is not None:
        json_out.write_text(json.dumps(to_json(result), indent=2), encoding="utf-8")
        console.print(f"wrote {json_out}")
    low = [t for t, row in result.mutation_scores().items() if fail_under is not None and 100 * row["score"] < fail_under]
    if low:
        console.print(f"mutation score under {fail_under:g}% for: {', '.join(low)}")
    if not result.ok or low:
        sys.exit(1)


@main.command("list")
@click.option("--assignment", "-a", help="Show the checks of this assignment.")
@click.option("--hidden", is_flag=True, help="Include hidden checks.")
def list_(assignment: Optional[str], hidden: bool) -> None:
    """List assignments, or the checks of one (id, points, visibility, tolerance)."""
    if not assignment:
        for name in assignments_mod.available():
            click.echo(f"{name}: {assignments_mod.load(name).title}")
        return
    asg = _load_assignment(assignment)
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


@main.command("template")
@click.argument("names", nargs=-1, metavar="[ASSIGNMENT]...")
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 when a committed template differs from the reference.")
@instructor_only
def template_(names: tuple[str, ...], check_only: bool) -> None:
    """Regenerate student_template/ASSIGNMENT/ from reference/ASSIGNMENT/ (all assignments by default).

    The reference marks the student's part with `# BEGIN SOLUTION` / `# END SOLUTION` (or a
    trailing `# SOLUTION`); see docs/templates.md. Instructor install only (needs reference/).
    """
    from .instructor.publish.template import TemplateError, generate

    # each assignment's reference/ sits beside its assignments/ folder (GRADER_ASSIGNMENTS_PATH: the author's)
    roots = {name: _load_assignment(name).course_root for name in names or tuple(assignments_mod.available())}
    if not any((root / "reference").is_dir() for root in roots.values()):
        raise click.UsageError("reference/ is not here: `grade template` runs in the instructor's checkout")
    for name, root in roots.items():
        if not (root / "reference" / name).is_dir():
            continue
        try:
            changed = generate(name, root, check=check_only)
        except TemplateError as exc:
            raise click.ClickException(str(exc)) from None
        verb = "differs" if check_only else "written"
        for rel in changed:
            click.echo(f"student_template/{name}/{rel}: {verb}")
        if check_only and changed:
            sys.exit(1)


@main.command("dist")
@click.argument("edition", type=click.Choice(["student"]))
@click.option("--output", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("dist"), show_default=True, help="Folder for the wheel.")
@instructor_only
def dist_(edition: str, out_dir: Path) -> None:
    """Build what students install: the `dl-grader-student` wheel (engine, CLI, statements, probes,
    public checks; no hidden checks, no reference solutions). See docs/install.md."""
    from .instructor.publish.wheel import build_student_wheel

    click.echo(str(build_student_wheel(out_dir)))


if __name__ == "__main__":
    main()
