"""The batch: plan (one intake, skip what is up to date) → grade → record → report.

    run_batch(BatchOptions(...)) -> BatchSummary      `grade batch`
    write_reports(out_dir)       -> list of files     `grade report DIR` (no grading)

Each submission is read once (intake.py), as a value planning, grading and the similarity screen
share; the files of one to be graded are written once, into the spool folder its grading process
grades (grader/instructor/isolated), and let go.

Resume rule: a submission whose content hash, assignment and grader version are those recorded,
whose recorded status is final and which has a result for every check, is not graded again.
`force` grades everything. `only` grades just those checks, for every submission: one already
recorded with the same files keeps its other results; a new or changed one has only those results
until a run without `only` completes it (it is then not up to date: it lacks checks).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

from grader.engine import assignment as assignments
from grader.engine.fs import Budget
from grader.engine.model import Check
from grader.engine.runner import select_checks
from grader.instructor.isolated.grade import GradeRequest, default_budget
from grader.instructor.isolated.process import warm_up

from .gradebook import FILENAME, Gradebook, apply_late_policy, check_rows, now, submission_time
from .intake import Submission, read_spool, spool, take_in
from .late import LatePolicy
from .lateness import LateOptions, instructor_times, resolve_policy, unmatched_extensions
from .layouts import Entry, discover
from .times import entry_times, read_commit_times, to_utc_text
from .pool import Graded


@dataclass
class BatchOptions:
    submissions: Path
    assignment: str
    out: Path
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    force: bool = False
    only: Sequence[str] = ()
    tasks: Sequence[str] = ()  # the batch's selection: these tasks' checks (default: every check)
    timeout_per_submission: Optional[float] = None  # default: isolated.grade.default_budget(checks)
    scheduler: Any = None  # "tcp://host:port" or a distributed.Client
    quiet: bool = False
    feedback: str = "summary"
    isolation: str = "auto"
    notebook_mode: str = "definitions"
    data_dir: Optional[Path] = None
    allow_unisolated: bool = False  # as root without bwrap and a sandbox user: run submissions as root
    limits: Budget = field(default_factory=Budget)
    similarity: bool = True  # screen the class for copies (more than one submission; grader/instructor/batch/screen.py)
    similarity_threshold: float = 0.5  # grader.instructor.similarity.DEFAULT_THRESHOLD (docs/similarity.md)
    late: LateOptions = field(default_factory=LateOptions)  # the late policy's options (lateness.py)


@dataclass
class BatchSummary:
    total: int = 0  # entries in SUBMISSIONS
    graded: int = 0  # graded (or regraded) in this run
    skipped: int = 0  # up to date in the gradebook
    statuses: dict[str, int] = field(default_factory=dict)  # over the whole gradebook
    files: list[Path] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # recorded earlier, no longer in SUBMISSIONS
    elapsed: float = 0.0
    similarity: Optional[dict] = None  # the screen's summary (grader/instructor/batch/screen.py), None: not run
    similarity_seconds: float = 0.0  # what the similarity screen added after the grading (it runs beside it)
    late_policy: Optional[LatePolicy] = None  # the policy in force (None: none)
    late_notes: list[str] = field(default_factory=list)  # rows of the instructor's files that match nobody


def grader_version(asg) -> str:
    """The package version plus a hash of the engine's and the assignment's sources.

    Fixing a check (or the engine) changes it, so a plain re-run regrades; the batch package itself
    (reports, layouts) is left out: changing how results are shown does not change them.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("dl-grader")
    except PackageNotFoundError:
        v = "0"
    root = Path(__file__).resolve().parents[2]  # grader/
    h = hashlib.sha256()
    # what decides results: the engine, the worker and the assignment (how results are shown, or
    # what is packaged for whom, does not change them)
    # (an assignment of a course folder lies outside the grader: named from its own parent)
    files = [(p, root.parent) for p in [*root.glob("engine/**/*.py"), *root.glob("worker/*.py")]]
    files += [(p, asg.folder.parent) for p in asg.folder.glob("*.py")]
    for p, top in sorted(files):
        h.update(p.relative_to(top).as_posix().encode() + b"\0" + p.read_bytes())
    return f"{v}+{h.hexdigest()[:12]}"


@dataclass
class Selection:
    """The checks this run grades, and every check's place in the assignment."""

    checks: list[Check]
    order: dict[str, int]

    @property
    def ids(self) -> set[str]:
        return {c.id for c in self.checks}


def select(asg, opts: BatchOptions) -> Selection:
    """The batch's checks (--task); ValueError for an --only id that is unknown or outside them."""
    order = {c.id: i for i, c in enumerate(asg.checks(hidden=True))}
    checks = select_checks(asg, hidden=True, tasks=opts.tasks or None)
    if opts.only:
        select_checks(asg, hidden=True, check_ids=opts.only)  # ValueError for an unknown id
        outside = sorted(set(opts.only) - {c.id for c in checks})
        if outside:
            raise ValueError(f"--only {', '.join(outside)}: not a check of --task {', '.join(opts.tasks)}")
    return Selection(checks, order)


@dataclass
class Job:
    """What the plan decided to grade for one submission."""

    sub: Submission
    check_ids: Optional[list[str]]  # None: every check
    partial: bool
    folder: Optional[Path] = None  # the spooled files


def _entry_row(e: Entry, asg_name: str, version: str, h: str) -> dict[str, Any]:
    return {"student": e.student, "name": e.name, "email": e.email, "lms_id": e.lms_id, "layout": e.layout,
            "source": str(e.source), "late": int(e.late), "content_hash": h, "assignment": asg_name,
            "grader_version": version, "submitted_at": to_utc_text(e.time.at),
            "time_source": e.time.source if e.time.at else "", "time_advisory": int(e.time.advisory)}


def _record_unread(gb: Gradebook, s: Submission, asg_name: str, version: str) -> None:
    t = now()
    gb.record({**_entry_row(s.entry, asg_name, version, ""), "status": s.status, "message": s.message,
               "traceback": "", "score": 0.0, "max_score": 0.0, "percent": 0.0, "started_at": t, "finished_at": t,
               "duration": 0.0, "warnings": []}, [], replace_checks=True)


def record(gb: Gradebook, job: Job, graded: Graded, asg_name: str, version: str, order: dict[str, int]) -> dict:
    """One finished grading (a report, or the error/timeout as one) into the gradebook, in one transaction."""
    rep = graded.report
    status = rep.status or "graded"
    if status in ("ok", "passed", "complete", "completed"):
        status = "graded"
    sub = {**_entry_row(job.sub.entry, asg_name, version, job.sub.content_hash),
           "started_at": graded.started_at or now(), "finished_at": graded.finished_at or now(),
           "duration": rep.execution_time, "status": status, "message": rep.message,
           # a crash's traceback (the grading's own statuses; the engine's reports are graded/rejected)
           "traceback": "\n".join(rep.internal) if status in ("error", "timeout") else "",
           "isolation": rep.isolation, "warnings": [*job.sub.notes, *rep.warnings],
           "hidden_included": int(rep.hidden_included), "score": 0.0, "max_score": 0.0, "percent": 0.0}
    gb.record(sub, check_rows(rep, order, sub["finished_at"]), replace_checks=not job.partial)
    return sub


def plan(subs: Iterable[Submission], existing: dict, asg_name: str, version: str, opts: BatchOptions,
         sel: Selection, gb: Gradebook, log: Callable[[str], None], spool_dir: Path) -> tuple[list[Job], list[Submission], int]:
    """Decide, per submission, what this run does: (jobs, every submission, how many are up to date).

    Records unrecognised/rejected entries at once; spools the files of each job and drops the
    others' (what the similarity screen needs stays in the Submission)."""
    jobs: list[Job] = []
    taken: list[Submission] = []
    skipped = 0
    all_ids = sel.ids
    for s in subs:
        taken.append(s)
        prev = existing.get(s.student)
        job: Optional[Job] = None
        if s.status:  # unrecognised or rejected: recorded, not graded
            if prev and prev.status == s.status and prev.message == s.message and not opts.force:
                skipped += 1
            else:
                _record_unread(gb, s, asg_name, version)
                log(f"{s.student}: {s.status}: {s.message}")
            continue
        same_files = prev is not None and prev.content_hash == s.content_hash and prev.assignment == asg_name
        if opts.only:  # just these checks; kept: the other results of unchanged files
            job = Job(s, list(opts.only), same_files and prev.status == "graded")
        elif opts.force or prev is None or not same_files:
            job = Job(s, None, False)
        elif prev.grader_version == version and (prev.status != "graded" or all_ids <= prev.check_ids):
            # final: graded on every check, or error/timeout (or a status of the engine's own)
            skipped += 1
        elif prev.grader_version == version and prev.status == "graded":
            # graded earlier on fewer checks (--only on a new class, another --task): add the missing ones
            job = Job(s, sorted(all_ids - prev.check_ids, key=sel.order.get), True)
        else:
            job = Job(s, None, False)
        if job is not None:
            job.folder = spool(s, spool_dir / s.student)
            jobs.append(job)
        s.files = None
    return jobs, taken, skipped


def _request_of(asg_name: str, sel: Selection, opts: BatchOptions, carry_files: bool) -> Callable[[Job], GradeRequest]:
    """The grading request of a job: its spooled folder, or (a Dask task) the files themselves."""
    def request(job: Job) -> GradeRequest:
        checks = [c for c in sel.checks if job.check_ids is None or c.id in job.check_ids]
        ids = job.check_ids if job.check_ids is not None else ([c.id for c in sel.checks] if opts.tasks else None)
        return GradeRequest(assignment=asg_name, name=job.sub.student, check_ids=ids, hidden=True,
                            files=read_spool(job.folder) if carry_files else None,
                            folder=None if carry_files else job.folder,
                            budget=opts.timeout_per_submission or default_budget(checks),
                            isolation=opts.isolation, notebook_mode=opts.notebook_mode, data_dir=opts.data_dir,
                            threads=1, allow_unisolated=opts.allow_unisolated)
    return request


def grade_and_record(gb: Gradebook, jobs: list[Job], asg_name: str, version: str, sel: Selection,
                     opts: BatchOptions, prog, reports: Path) -> set[str]:
    """Grade the jobs (local pool or Dask), recording each as it finishes; the students graded.

    A graded student's feedback is written at once, while the others are still being graded (it
    depends only on that student's rows); write_reports then leaves it as it is."""
    from .feedback import write_student_feedback
    from .pool import DaskPool, LocalPool

    pool = DaskPool(opts.scheduler) if opts.scheduler is not None else LocalPool(opts.jobs)
    graded: set[str] = set()
    try:
        for job, result in pool.run(jobs, _request_of(asg_name, sel, opts, carry_files=pool.name == "dask")):
            shutil.rmtree(job.folder, ignore_errors=True)
            sub = record(gb, job, result, asg_name, version, sel.order)
            graded.add(sub["student"])
            prog.advance(sub["student"], sub["status"], *gb.total(sub["student"]), sub["duration"])
            rows = gb.checks(sub["student"])
            if rows:  # nothing ran (a crash): its feedback lists the class's checks, written at the end
                write_student_feedback(reports / sub["student"], gb.submission(sub["student"]), rows, [],
                                       opts.feedback)
    finally:
        prog.stop()
        pool.close()
    return graded


def start_screen(gb: Gradebook, subs: list[Submission], asg_name: str, version: str, opts: BatchOptions,
                 background: ThreadPoolExecutor) -> Callable[[], Optional[dict]]:
    """Start the similarity screen of the class the intake read (more than one readable entry) in
    `background`, beside the grading; the function returned waits for it and stores it."""
    from .screen import class_key, compare, store, stored_screen

    if not (opts.similarity and sum(s.entry.layout != "unrecognised" for s in subs) > 1):
        return lambda: gb.set_similarity(None)  # the report reflects this run: no screen, no section
    key = "" if opts.force else class_key({s.student: s.content_hash for s in subs}, opts.similarity_threshold,
                                          version)
    kept = stored_screen(gb, key)
    if kept is not None:
        return lambda: kept
    comparing = background.submit(compare, subs, asg_name, opts.similarity_threshold, key)
    return lambda: store(gb, comparing.result())


def run_batch(opts: BatchOptions, progress_factory=None) -> BatchSummary:
    """Grade the class in `opts.submissions` into `opts.out`; see the module docstring.

    Raises IsolationRefused before anything is graded or recorded when this machine would run the
    class's code as root without isolation (a gradebook of errors and 0.00% grades helps nobody).
    """
    from grader.engine.sandbox import plan_isolation

    from .progress import Progress

    t0 = time.monotonic()
    asg = assignments.load(opts.assignment)
    if opts.scheduler is None:  # a Dask cluster's workers decide for themselves, per submission
        plan_isolation(opts.isolation, instructor=True, allow_unisolated=opts.allow_unisolated, assignment=asg)
    sel = select(asg, opts)
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    version = grader_version(asg)
    summary = BatchSummary()
    if opts.scheduler is None:
        warm_up()  # the forkserver imports torch and the checks while the class is read
    with Gradebook(out / FILENAME) as gb, tempfile.TemporaryDirectory(prefix="grade-batch-") as spool_dir, \
            ThreadPoolExecutor(1, thread_name_prefix="similarity") as background:
        # the late policy first: bad late options stop the batch before anything is graded
        policy = resolve_policy(opts.late, gb.late_policy())
        listed, sheet = instructor_times(opts.late, policy)
        gb.claim(asg.name, opts.feedback, sorted(sel.ids, key=sel.order.get))
        entries = discover(Path(opts.submissions), asg)
        read_commit_times(entries)
        recorded = {r["student"]: submission_time(r) for r in gb.submissions()}
        summary.late_notes = entry_times(entries, listed, sheet, recorded) + unmatched_extensions(
            policy, [{"student": e.student, "lms_id": e.lms_id, "email": e.email} for e in entries])
        apply_late_policy(gb, policy)  # stored: each submission's final score is derived as it is recorded
        summary.late_policy = policy
        pre: list[str] = []
        jobs, subs, summary.skipped = plan(take_in(entries, asg, opts.limits, keep_code=opts.similarity),
                                           gb.existing(), asg.name, version, opts, sel, gb,
                                           (lambda line: None) if opts.quiet else pre.append, Path(spool_dir))
        summary.total, summary.gone = len(entries), gb.forget_missing({e.student for e in entries})
        gb.set_times({e.student: e.time for e in entries})  # also those up to date (a times file given now)
        prog = (progress_factory or Progress)(len(jobs), summary.skipped, quiet=opts.quiet)
        for line in pre:
            prog.log(line)
        screened = start_screen(gb, subs, asg.name, version, opts, background)
        graded = grade_and_record(gb, jobs, asg.name, version, sel, opts, prog, out / "reports")
        summary.graded = len(graded)
        t_screen = time.monotonic()
        summary.similarity = screened()
        summary.similarity_seconds = time.monotonic() - t_screen  # what the screen added after grading
        summary.files = write_reports(out, gb=gb, feedback=opts.feedback, written=graded)
        summary.statuses = dict(Counter(s["status"] for s in gb.submissions()))
    summary.elapsed = time.monotonic() - t0
    return summary


def write_reports(out: Path, gb: Optional[Gradebook] = None, feedback: Optional[str] = None,
                  written: Iterable[str] = ()) -> list[Path]:
    """grades.csv, reports/<student>/, similarity/ and report.html from the gradebook in `out` (nothing graded).

    `written`: students whose feedback this run wrote already (with the same policy), left as they are.

    The similarity section comes from the screen stored by the last `grade batch`, not from
    SUBMISSIONS (which may have changed or gone since): the page and similarity/ always agree.
    """
    from .feedback import write_student_feedback
    from .grades_csv import graded_columns, write_grades_csv
    from .html import write_html
    from .screen import write_outputs

    out = Path(out)
    own = gb is None
    if own:
        if not (out / FILENAME).is_file():
            raise FileNotFoundError(f"{out / FILENAME}: no gradebook here (run `grade batch ... --out {out}` first)")
        gb = Gradebook(out / FILENAME)
    try:
        name = gb.get_meta("assignment")
        asg = assignments.load(name)
        gb.recompute_late()  # final scores are derived: never stale, whatever wrote the gradebook
        policy = feedback or gb.get_meta("feedback") or "summary"
        subs = gb.submissions()
        rows = gb.checks()
        columns = graded_columns(asg, rows, gb.get_meta("selection"))
        order = [(c.id, float(c.points)) for c in columns]
        by_student: dict[str, list[dict]] = {}
        for r in rows:
            by_student.setdefault(r["student"], []).append(r)
        files = [write_grades_csv(out / "grades.csv", subs, rows, order)]
        reports = out / "reports"
        done = set(written)
        for s in subs:
            if s["student"] not in done or s["student"] not in by_student:
                write_student_feedback(reports / s["student"], s, by_student.get(s["student"], []), columns, policy)
        files.append(reports)
        screen, pairs = write_outputs(out, gb)
        if screen is not None and screen["status"] == "done":
            files.append(out / "similarity")
        files.append(write_html(out / "report.html", name, subs, rows, order, now(),
                                similarity=(screen, pairs) if screen is not None else None))
        files.insert(0, out / FILENAME)
        return files
    finally:
        if own:
            gb.close()
