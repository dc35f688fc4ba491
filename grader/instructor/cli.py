"""The instructor's `grade` commands: batch, report, export, similarity, selftest, template, dist, gradescope, protect.

A thin click layer over the instructor packages, as grader/cli.py is over the engine. `grade`
(grader/cli.py) loads this module only when one of these commands is run or listed, so the student
edition, which has no `grader.instructor`, has `grade check` and `grade list` only, and says so when
asked for one of these.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import click

from ..cli import load_assignment, resolve_tasks
from ..engine import assignment as assignments_mod
from ..engine.runner import select_checks
from ..engine.sandbox import ISOLATION_MODES, IsolationRefused, IsolationUnavailable
from .batch.lateness import LateOptions
from .late_options import late_policy_options


@click.command(context_settings={"max_content_width": 100})
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
@click.option("--allow-unisolated", is_flag=True, envvar="GRADER_ALLOW_UNISOLATED",
              help="Without bubblewrap: grade even where submissions could read the hidden checks (not "
                   "root, or before `grade protect`) or would run as root (the sandbox user cannot run "
                   "this Python). Disposable machines only; docs/security.md.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder with FashionMNIST.")
@click.option("--similarity/--no-similarity", "screen", default=True, show_default=True,
              help="Screen the class for copies (more than one submission): a section of report.html, similarity/.")
@click.option("--similarity-threshold", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Flag pairs sharing at least this share of their fingerprints (docs/similarity.md).")
@late_policy_options
def batch(submissions: Path, assignment: str, out: Path, jobs: Optional[int], force: bool, tasks: tuple[str, ...],
          only: tuple[str, ...],
          timeout_per_submission: Optional[float], scheduler: Optional[str], feedback: str, quiet: bool,
          notebook_mode: str, isolation: str, allow_unisolated: bool, data_dir: Optional[Path], screen: bool,
          similarity_threshold: float, late: LateOptions) -> None:
    """Grade every submission in SUBMISSIONS (public and hidden checks), resumably.

    \b
    Layouts: per-student folders, GitHub Classroom clones, one .zip per student, Canvas and Moodle
    downloads, Gradescope exports (docs/batch.md). Re-running the command grades only what changed.
    Exit status 0 when the batch ran (whatever the scores), 2 for usage errors.
    """
    from .batch.run import BatchOptions, run_batch

    asg = load_assignment(assignment)
    selected = resolve_tasks(asg, tasks, [], [])
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
                        similarity=screen, similarity_threshold=similarity_threshold,
                        allow_unisolated=allow_unisolated, late=late)
    if jobs:
        opts.jobs = jobs
    try:
        summary = run_batch(opts)
    except IsolationRefused as exc:  # before anything was graded or recorded
        raise click.ClickException(str(exc)) from None
    except IsolationUnavailable as exc:
        raise click.UsageError(str(exc)) from None
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
        _echo_late(summary.late_policy, summary.late_notes)
        sim = summary.similarity
        if sim is not None and sim["status"] == "done":
            # the screen's own time (it runs beside the grading: summary.similarity_seconds is what it added)
            how = "the class is unchanged: kept" if sim.get("reused") else f"{float(sim.get('seconds', 0)):.1f} s"
            click.echo(f"similarity: {sim['flagged']} flagged pair(s) among {sim['submissions']} submissions "
                       f"(threshold {sim['threshold']:g}; {how}): report.html#similarity")
        elif sim is not None:
            click.echo(f"similarity screen did not run: {sim['message']}")
    click.echo(f"{out}: " + ", ".join(p.name + ("/" if p.is_dir() else "") for p in summary.files))


def _echo_late(policy, notes: list[str]) -> None:
    """The late policy in force, in one line, and the rows of the instructor's files that matched nobody."""
    from .batch.late import local

    for note in notes:
        click.echo(f"late policy: {note}", err=True)
    if policy is not None:
        rule = f", {policy.penalty} late" if policy.penalty else ", no penalty"
        click.echo(f"late policy: due {local(policy.due, policy.tz)} {policy.zone}{rule}; "
                   "final scores in grades.csv (final) and gradebook.sqlite (final_score)")


@click.command(context_settings={"max_content_width": 100})
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR")
@click.option("--feedback", type=click.Choice(["summary", "full"]),
              help="Hidden checks in feedback (default: as the batch was run).")
@late_policy_options
def report(out: Path, feedback: Optional[str], late: LateOptions) -> None:
    """Rebuild grades.csv, report.html, reports/ and similarity/ of DIR from its gradebook, without grading.

    Late options change the stored late policy (or the recorded times) and recompute the final scores."""
    from .batch.gradebook import FILENAME, Gradebook
    from .batch.lateness import settle
    from .batch.run import write_reports

    if not (out / FILENAME).is_file():
        raise click.UsageError(f"{out / FILENAME}: no gradebook here (run `grade batch ... --out {out}` first)")
    with Gradebook(out / FILENAME) as gb:
        try:
            policy, notes = settle(gb, late)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        files = write_reports(out, gb=gb, feedback=feedback)
    _echo_late(policy, notes)
    click.echo(f"{out}: " + ", ".join(p.name + ("/" if p.is_dir() else "") for p in files))


@click.command(context_settings={"max_content_width": 100})
@click.argument("assignment_name", metavar="ASSIGNMENT")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="Where to write the zip.")
def gradescope(assignment_name: str, output: Path) -> None:
    """Build a Gradescope autograder zip for ASSIGNMENT (public and hidden checks; docs/gradescope.md).

    \b
    Upload the zip as the assignment's autograder ("Zip file upload", Ubuntu 22.04 base image).
    """
    from .publish.gradescope import build_autograder

    asg = load_assignment(assignment_name)
    if not output.expanduser().resolve().parent.is_dir():
        raise click.BadParameter(f"{output}: no such folder {output.parent}", param_hint="'--output'")
    try:
        names = build_autograder(asg.name, output)
    except OSError as exc:
        raise click.FileError(str(output), hint=str(exc.strerror or exc)) from None
    click.echo(f"{output}: Gradescope autograder for {asg.name} ({len(names)} files; "
               f"{len(asg.checks(hidden=True))} checks, hidden included)")


@click.command()
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--assignment", "-a", required=True, help="Assignment name, e.g. backprop.")
@click.option("--out", "-o", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: similarity.csv, similarity.html.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None,
              help="Flag pairs sharing at least this share of their fingerprints (default 0.5).")
def similarity(submissions: Path, assignment: str, out: Path, threshold: Optional[float]) -> None:
    """Screen a class for copies: pairwise similarity of the students' code, the template's lines
    discounted (copydetect's winnowing). Same layouts as `grade batch`. See docs/similarity.md."""
    from .batch.screen import screen_class
    from .similarity import DEFAULT_THRESHOLD

    asg = load_assignment(assignment)
    pairs = screen_class(submissions, asg.name, out, DEFAULT_THRESHOLD if threshold is None else threshold)
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


@click.command()
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
@click.option("--floors", is_flag=True,
              help="Also exit 1 when a task's mutation score is under its floor (FLOORS in the assignment's cases.py).")
@click.option("--reference", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The reference solution (default: reference/ASSIGNMENT of this checkout).")
@click.option("--isolation", type=click.Choice(ISOLATION_MODES), default="auto", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder with FashionMNIST.")
@click.option("--all-checks", is_flag=True,
              help="Grade each mutant on every check of its tasks, without stopping at the first that fails "
                   "(the old way: slower, the same verdicts; to compare).")
@click.option("--scheduler", metavar="ADDRESS", help="Grade on a Dask scheduler, e.g. tcp://host:8786 ('.[dask]').")
def selftest(assignment_name: str, jobs: Optional[int], mutants: str, seed: int, operators: tuple[str, ...],
             tasks: tuple[str, ...], only: tuple[str, ...], kinds: tuple[str, ...], no_data: bool,
             json_out: Optional[Path], diffs: int, fail_under: Optional[float], reference: Optional[Path],
             isolation: str, data_dir: Optional[Path], all_checks: bool, scheduler: Optional[str],
             floors: bool) -> None:
    """Prove an assignment's checks: grade the reference (full marks), the template (0, no crash),
    the registered wrong submissions (each caught by its checks) and correct variants (full marks),
    and automatic mutants of the reference's marked code (mutation score, survivors with diffs).
    Exit 1 on any problem. For assignment authors; see docs/selftest.md."""
    from rich.console import Console

    from .selftest import SelftestOptions, selftest as run_selftest
    from .selftest.mutate import OPERATORS
    from .selftest.output import render, to_json

    asg = load_assignment(assignment_name)
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
                           data_dir=data_dir, all_checks=all_checks, scheduler=scheduler)
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
    low = result.under(fail_under, floors)
    if low:
        what = "its floor (cases.py FLOORS)" if floors else f"{fail_under:g}%"
        console.print(f"mutation score under {what} for: " +
                      ", ".join(f"{t} {score:g}% < {bound:g}%" for t, (score, bound) in sorted(low.items())))
    if not result.ok or low:
        sys.exit(1)


@click.command("template")
@click.argument("names", nargs=-1, metavar="[ASSIGNMENT]...")
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 when a committed template differs from the reference.")
def template_(names: tuple[str, ...], check_only: bool) -> None:
    """Regenerate student_template/ASSIGNMENT/ from reference/ASSIGNMENT/ (all assignments by default).

    The reference marks the student's part with `# BEGIN SOLUTION` / `# END SOLUTION` (or a
    trailing `# SOLUTION`); see docs/templates.md. Instructor install only (needs reference/).
    """
    from .publish.template import TemplateError, generate

    chosen = [load_assignment(name) for name in names or tuple(assignments_mod.available())]
    if not any((asg.course_root / "reference").is_dir() for asg in chosen):
        raise click.UsageError("reference/ is not here: `grade template` runs in the instructor's checkout")
    for asg in chosen:
        name = asg.name
        if not (asg.course_root / "reference" / name).is_dir():
            continue
        try:
            changed = generate(name, root=asg.course_root, check=check_only)
        except TemplateError as exc:
            raise click.ClickException(str(exc)) from None
        verb = "differs" if check_only else "written"
        for rel in changed:
            click.echo(f"student_template/{name}/{rel}: {verb}")
        if check_only and changed:
            sys.exit(1)


@click.command("dist")
@click.argument("edition", type=click.Choice(["student"]))
@click.option("--output", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("dist"), show_default=True, help="Folder for the wheel.")
def dist_(edition: str, out_dir: Path) -> None:
    """Build what students install: the `dl-grader-student` wheel (engine, CLI, statements, probes,
    public checks; no hidden checks, no reference solutions). See docs/install.md."""
    from .publish.wheel import build_student_wheel

    click.echo(str(build_student_wheel(out_dir)))


@click.command("protect")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--assignment", "-a", "names", multiple=True,
              help="Only this assignment's material (repeatable; default: every assignment).")
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing: list what the sandbox user could read; exit 1 if anything.")
def protect_(paths: tuple[Path, ...], names: tuple[str, ...], check_only: bool) -> None:
    """Make the hidden material unreadable to student code graded without bubblewrap.

    \b
    The assignments' folders (hidden checks, oracles, cases, variants), their reference solutions,
    installed copies (site-packages), the checkout's .git, Gradescope's /autograder/source, and each
    PATH: owned by the grader's user, no permission for group and others. Run it as root (the grader
    then runs student code as the sandbox user); scripts/install and Gradescope's setup.sh do.
    Grading with hidden checks without bubblewrap is refused until it has run (docs/security.md).
    """
    from ..engine.sandbox import exposure
    from ..engine.sandbox.host import is_root
    from ..engine.sandbox.isolation import sandbox_reader

    if not hasattr(os, "geteuid"):
        raise click.UsageError("grade protect sets Unix permissions: this system has none (grade with "
                               "hidden checks on Linux or macOS)")
    chosen = [load_assignment(n) for n in names] if names else \
        [assignments_mod.load(n) for n in assignments_mod.available()]
    material = exposure.all_grader_only_paths(chosen)
    material += [p.resolve() for p in paths if p.resolve() not in material]
    (uid, gid), who = sandbox_reader()
    if not check_only:
        problems = exposure.protect(material)
        for path in material:
            click.echo(f"protected: {path}")
        for problem in problems:
            click.echo(f"could not protect {problem}", err=True)
        if not is_root():
            click.echo("not root: the owners stay as they are, and without bubblewrap student code runs as "
                       "you, who can read all of it; grade with hidden checks as root (docs/security.md)", err=True)
    readable = exposure.readable_by(material, uid, gid, limit=None)
    for path in readable:
        click.echo(f"readable by the {who}: {path}", err=True)
    if readable:
        sys.exit(1)
    if check_only:
        click.echo(f"nothing of it is readable by the {who}: "
                   + ", ".join(map(str, material)))


@click.command("export", context_settings={"max_content_width": 100})
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR")
@click.option("--to", "to", required=True, type=click.Choice(["canvas", "moodle", "moodle-gradebook", "classroom", "csv"]),
              help="The platform's import format (docs/export.md).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (default: DIR/canvas.csv, moodle_worksheet.csv, moodle_gradebook.csv, "
                   "classroom.csv or grades.csv).")
@click.option("--points", type=click.FloatRange(min=0, min_open=True),
              help="The platform assignment's points: final percentages are scaled to them (default: the "
                   "gradebook's maximum score; Moodle with --worksheet: its Maximum Grade).")
@click.option("--ungraded", type=click.Choice(["blank", "zero"]), default="blank", show_default=True,
              help="Submissions not graded (error, timeout, rejected, unrecognised): no grade, or 0.")
@click.option("--title", help="The assignment's title on the platform (default: the assignment's name).")
@click.option("--assignment-id", metavar="ID", help="Canvas: the assignment's id (its URL's number).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Canvas: the course's gradebook export; GitHub Classroom: classroom_roster.csv.")
@click.option("--worksheet", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Moodle: the assignment's downloaded grading worksheet, filled in (every row and column kept); "
                   "for moodle-gradebook, where the participants' email addresses come from.")
@click.option("--org", help="GitHub Classroom: the organisation of the students' repositories (for their URLs).")
@click.option("--bom/--no-bom", default=None, help="Start the file with a UTF-8 byte-order mark (default: per platform).")
@late_policy_options
def export_(out: Path, to: str, output: Optional[Path], points: Optional[float], ungraded: str, title: Optional[str],
            assignment_id: Optional[str], roster: Optional[Path], worksheet: Optional[Path], org: Optional[str],
            bom: Optional[bool], late: LateOptions) -> None:
    """Export DIR's gradebook in a course platform's import format: Canvas's gradebook CSV, Moodle's
    grading worksheet or gradebook CSV, GitHub Classroom's grades columns, or grades.csv.

    \b
    The score is each submission's final score (after the late policy, which the late options set or
    change as for `grade report`), scaled to --points. What was left out, clamped or not graded is
    listed on stderr. See docs/export.md for importing each file.
    """
    import dataclasses

    from .batch.gradebook import FILENAME, Gradebook
    from .batch.lateness import settle
    from .export import Options, export

    wrong = {"--roster": roster is not None and to not in ("canvas", "classroom"),
             "--worksheet": worksheet is not None and to not in ("moodle", "moodle-gradebook"),
             "--assignment-id": assignment_id is not None and to != "canvas",
             "--org": org is not None and to != "classroom"}
    for flag, bad in wrong.items():
        if bad:
            raise click.BadParameter(f"not for --to {to}", param_hint=f"'{flag}'")
    opts = Options(points=points, ungraded=ungraded, title=title, assignment_id=assignment_id, roster=roster,
                   worksheet=worksheet, org=org, bom=bom)
    if not (out / FILENAME).is_file():
        raise click.UsageError(f"{out / FILENAME}: no gradebook here (run `grade batch ... --out {out}` first)")
    with Gradebook(out / FILENAME) as gb:  # final scores as the policy (stored, or changed here) makes them
        if (to == "moodle" and worksheet is not None and late.moodle_worksheet is None
                and (late.timezone is not None or gb.late_policy() is not None)):
            # the worksheet filled in is also where Moodle wrote each submission's time (in the course's zone)
            late = dataclasses.replace(late, moodle_worksheet=worksheet)
        try:
            policy, late_notes = settle(gb, late)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    _echo_late(policy, late_notes)
    try:
        result = export(out, to, output, opts)
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    for note in result.notes:
        click.echo(note, err=True)
    click.echo(f"{result.path}: {result.rows} row(s) for {to}")


# name → command, as `grade` lists and runs them
COMMANDS: dict[str, click.Command] = {c.name: c for c in (batch, report, gradescope, similarity, selftest,
                                                         template_, dist_, protect_, export_)}
