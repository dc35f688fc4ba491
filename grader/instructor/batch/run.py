"""The batch: discover the class, skip what is up to date, grade the rest in parallel, record, report.

    run_batch(BatchOptions(...)) -> BatchSummary      `grade batch`
    write_reports(out_dir)       -> list of files     `grade report DIR` (no grading)

Resume rule: a submission whose content hash, assignment and grader version are those recorded,
whose recorded status is final and which has a result for every check, is not graded again.
`force` grades everything. `only` grades just those checks, for every submission: one already
recorded with the same files keeps its other results; a new or changed one has only those results
until a run without `only` completes it (it is then not up to date: it lacks checks).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from grader.engine import assignment as assignments
from grader.engine.fs import Budget
from grader.engine.runner import select_checks
from grader.engine.session import IMPORT_TIMEOUT

from .archives import ArchiveRejected
from .gradebook import FILENAME, Gradebook, now
from .layouts import Entry, content_hash, discover, read_entry

BUDGET_SLACK = 120.0  # seconds on top of the checks' own limits: starting workers, judging, importing torch


@dataclass
class BatchOptions:
    submissions: Path
    assignment: str
    out: Path
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    force: bool = False
    only: Sequence[str] = ()
    tasks: Sequence[str] = ()  # the batch's selection: these tasks' checks (default: every check)
    timeout_per_submission: Optional[float] = None  # default: default_budget(checks)
    scheduler: Any = None  # "tcp://host:port" or a distributed.Client
    quiet: bool = False
    feedback: str = "summary"
    isolation: str = "auto"
    notebook_mode: str = "definitions"
    data_dir: Optional[Path] = None
    limits: Budget = field(default_factory=Budget)
    similarity: bool = True  # screen the class for copies (more than one submission; grader/instructor/batch/screen.py)
    similarity_threshold: float = 0.5  # grader.instructor.similarity.DEFAULT_THRESHOLD (docs/similarity.md)


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
    similarity_seconds: float = 0.0  # what the similarity screen added


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
    for p in sorted([*root.glob("engine/**/*.py"), *root.glob("worker/*.py"), *asg.folder.glob("*.py")]):
        h.update(p.relative_to(root.parent).as_posix().encode() + b"\0" + p.read_bytes())
    return f"{v}+{h.hexdigest()[:12]}"


def default_budget(checks) -> float:
    """Every check's own time limit, an import per module, and BUDGET_SLACK (docs/batch.md)."""
    modules = {c.module for c in checks if c.module}
    return sum(c.limits.timeout for c in checks) + IMPORT_TIMEOUT * len(modules) + BUDGET_SLACK


@dataclass
class _Job:
    entry: Entry
    check_ids: Optional[list[str]]  # None: every check
    partial: bool


def _entry_row(e: Entry, asg_name: str, version: str, h: str) -> dict[str, Any]:
    return {"student": e.student, "name": e.name, "email": e.email, "lms_id": e.lms_id, "layout": e.layout,
            "source": str(e.source), "late": int(e.late), "content_hash": h, "assignment": asg_name,
            "grader_version": version}


def _record_unrun(gb: Gradebook, e: Entry, asg_name: str, version: str, status: str, message: str) -> None:
    t = now()
    gb.record({**_entry_row(e, asg_name, version, ""), "status": status, "message": message, "traceback": "",
               "score": 0.0, "max_score": 0.0, "percent": 0.0, "started_at": t, "finished_at": t,
               "duration": 0.0, "warnings": []}, [], replace_checks=True)


def _check_rows(report: dict, order: dict[str, int], at: str) -> list[dict]:
    rows = []
    for c in report.get("checks", []):
        internal = c.get("internal", "")
        rows.append({"check_id": c["id"], "position": order.get(c["id"], len(order)), "task": c.get("task", ""),
                     "title": c.get("title", ""), "score": float(c.get("score") or 0.0),
                     "max_score": float(c.get("max_score") or 0.0), "status": str(c.get("status", "error")),
                     "visibility": str(c.get("visibility", "hidden")), "message": c.get("message", "") or "",
                     "output": c.get("output", "") or "", "duration": float(c.get("duration") or 0.0),
                     "tolerance": c.get("tolerance", "") or "", "module": c.get("module", "") or "",
                     "figures": json.dumps([f for f in c.get("figures") or [] if isinstance(f, dict)]),
                     "internal": internal if isinstance(internal, str) else json.dumps(internal),
                     "graded_at": at})
    return rows


def record_result(gb: Gradebook, job: _Job, h: str, notes: list[str], result: dict, asg_name: str,
                  version: str, order: dict[str, int]) -> dict:
    """One finished grading (a report, or the error/timeout) into the gradebook, in one transaction."""
    sub = {**_entry_row(job.entry, asg_name, version, h), "started_at": result.get("started_at") or now(),
           "finished_at": result.get("finished_at") or now(), "duration": float(result.get("duration") or 0.0)}
    if result.get("ok"):
        rep = result["report"]
        status = str(rep.get("status") or "graded")
        if status in ("ok", "passed", "complete", "completed"):
            status = "graded"
        checks = _check_rows(rep, order, sub["finished_at"])
        sub.update(status=status, message=str(rep.get("message") or ""), traceback="",
                   isolation=rep.get("isolation", ""), warnings=[*notes, *rep.get("warnings", [])],
                   hidden_included=int(bool(rep.get("hidden_included", True))),
                   score=0.0, max_score=0.0, percent=0.0)
        gb.record(sub, checks, replace_checks=not job.partial)
    else:
        sub.update(status=result.get("status", "error"), message=result.get("message", ""),
                   traceback=result.get("traceback", "") or "", isolation="", warnings=notes,
                   hidden_included=1, score=0.0, max_score=0.0, percent=0.0)
        gb.record(sub, [], replace_checks=not job.partial)
    return sub


def plan(entries: list[Entry], existing: dict, asg, version: str, opts: BatchOptions, all_ids: set[str],
         gb: Gradebook, log: Callable[[str], None], order: dict[str, int]) -> tuple[list[_Job], int]:
    """Decide, per entry, what this run does; records unrecognised/rejected entries at once."""
    jobs: list[_Job] = []
    skipped = 0
    for e in entries:
        prev = existing.get(e.student)
        if e.layout == "unrecognised":
            if prev and prev.status == "unrecognised" and prev.message == e.message and not opts.force:
                skipped += 1
            else:
                _record_unrun(gb, e, asg.name, version, "unrecognised", e.message)
                log(f"{e.student}: unrecognised: {e.message}")
            continue
        try:
            files, _notes = read_entry(e, asg, opts.limits)
        except (ArchiveRejected, OSError) as exc:
            message = str(exc) if isinstance(exc, ArchiveRejected) else f"cannot be read: {exc}"
            if prev and prev.status == "rejected" and prev.message == message and not opts.force:
                skipped += 1
            else:
                _record_unrun(gb, e, asg.name, version, "rejected", message)
                log(f"{e.student}: rejected: {message}")
            continue
        h = content_hash(files)
        del files
        same_files = prev is not None and prev.content_hash == h and prev.assignment == asg.name
        if opts.only:  # just these checks; kept: the other results of unchanged files
            jobs.append(_Job(e, list(opts.only), same_files and prev.status == "graded"))
        elif opts.force or prev is None or not same_files:
            jobs.append(_Job(e, None, False))
        elif prev.grader_version == version and (prev.status != "graded" or all_ids <= prev.check_ids):
            # final: graded on every check, or error/timeout (or a status of the engine's own)
            skipped += 1
        elif prev.grader_version == version and prev.status == "graded":
            # graded earlier on fewer checks (--only on a new class, another --task): add the missing ones
            jobs.append(_Job(e, sorted(all_ids - prev.check_ids, key=order.get), True))
        else:
            jobs.append(_Job(e, None, False))
    return jobs, skipped


def run_batch(opts: BatchOptions, progress_factory=None) -> BatchSummary:
    """Grade the class in `opts.submissions` into `opts.out`; see the module docstring."""
    from .progress import Progress

    t0 = time.monotonic()
    asg = assignments.load(opts.assignment)
    order = {c.id: i for i, c in enumerate(asg.checks(hidden=True))}
    checks = select_checks(asg, hidden=True, tasks=opts.tasks or None)
    if opts.only:
        select_checks(asg, hidden=True, check_ids=opts.only)  # ValueError for an unknown id
        outside = sorted(set(opts.only) - {c.id for c in checks})
        if outside:
            raise ValueError(f"--only {', '.join(outside)}: not a check of --task {', '.join(opts.tasks)}")
    all_ids = {c.id for c in checks}
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    version = grader_version(asg)
    summary = BatchSummary()
    with Gradebook(out / FILENAME) as gb:
        recorded = gb.get_meta("assignment")
        if recorded is not None and recorded != asg.name:
            raise ValueError(f"{out} holds the gradebook of {recorded!r}, not {asg.name!r}: use another --out")
        gb.set_meta("assignment", asg.name)
        gb.set_meta("feedback", opts.feedback)
        gb.set_meta("selection", json.dumps(sorted(all_ids, key=order.get)))
        entries = discover(Path(opts.submissions), asg)
        summary.total = len(entries)
        quiet_log = (lambda line: None) if opts.quiet else None
        pre: list[str] = []
        jobs, skipped = plan(entries, gb.existing(), asg, version, opts, all_ids, gb,
                             quiet_log or pre.append, order)
        summary.skipped = skipped
        summary.gone = gb.forget_missing({e.student for e in entries})
        prog = (progress_factory or Progress)(len(jobs), skipped, quiet=opts.quiet)
        for line in pre:
            prog.log(line)
        options = {"isolation": opts.isolation, "notebook_mode": opts.notebook_mode,
                   "data_dir": str(opts.data_dir) if opts.data_dir else None, "threads": 1}
        meta: dict[str, tuple[_Job, str, list[str]]] = {}

        def thunk(job: _Job):
            def make() -> dict:
                meta[job.entry.student] = (job, "", [])
                try:
                    files, notes = read_entry(job.entry, asg, opts.limits)
                except (ArchiveRejected, OSError) as exc:  # changed on disk since the plan
                    return {"student": job.entry.student, "files": {}, "assignment": asg.name, "budget": 1,
                            "rejected": str(exc) if isinstance(exc, ArchiveRejected) else f"cannot be read: {exc}"}
                meta[job.entry.student] = (job, content_hash(files), notes)
                sel = [c for c in checks if job.check_ids is None or c.id in job.check_ids]
                budget = opts.timeout_per_submission or default_budget(sel)
                ids = job.check_ids if job.check_ids is not None else (
                    [c.id for c in checks] if opts.tasks else None)
                return {"student": job.entry.student, "files": files, "assignment": asg.name,
                        "check_ids": ids, "options": options, "budget": budget}
            return make

        if opts.scheduler is not None:
            from .pool import DaskPool

            pool = DaskPool(opts.scheduler)
        else:
            from .pool import LocalPool

            pool = LocalPool(opts.jobs)
        try:
            for result in pool.run(thunk(j) for j in jobs):
                job, h, notes = meta.pop(result["student"])
                sub = record_result(gb, job, h, notes, result, asg.name, version, order)
                summary.graded += 1
                score = gb.db.execute("SELECT score, max_score FROM submissions WHERE student = ?",
                                      (sub["student"],)).fetchone()
                prog.advance(sub["student"], sub["status"], score["score"], score["max_score"], sub["duration"])
        finally:
            prog.stop()
            if hasattr(pool, "close"):
                pool.close()
        t_screen = time.monotonic()
        if opts.similarity and sum(e.layout != "unrecognised" for e in entries) > 1:
            from .screen import class_key, run_screen

            current = {e.student for e in entries}
            hashes = {s["student"]: s["content_hash"] for s in gb.submissions() if s["student"] in current}
            key = "" if opts.force else class_key(hashes, opts.similarity_threshold, version)
            summary.similarity = run_screen(gb, Path(opts.submissions), asg.name, opts.limits,
                                            opts.similarity_threshold, key)
        else:  # the report reflects this run: no screen, no section
            gb.set_similarity(None)
        summary.similarity_seconds = time.monotonic() - t_screen
        summary.files = write_reports(out, gb=gb, feedback=opts.feedback)
        for s in gb.submissions():
            summary.statuses[s["status"]] = summary.statuses.get(s["status"], 0) + 1
    summary.elapsed = time.monotonic() - t0
    return summary


def write_reports(out: Path, gb: Optional[Gradebook] = None, feedback: Optional[str] = None) -> list[Path]:
    """grades.csv, reports/<student>/, similarity/ and report.html from the gradebook in `out` (nothing graded).

    The similarity section comes from the screen stored by the last `grade batch`, not from
    SUBMISSIONS (which may have changed or gone since): the page and similarity/ always agree.
    """
    from .feedback import student_report, write_feedback
    from .grades_csv import write_grades_csv
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
        policy = feedback or gb.get_meta("feedback") or "summary"
        subs = gb.submissions()
        rows = gb.checks()
        # columns: the checks graded for anyone (a batch of some tasks, or --only on a new class, has
        # fewer than the assignment), else the batch's selection
        present = {r["check_id"] for r in rows} or set(json.loads(gb.get_meta("selection") or "[]"))
        columns = [c for c in asg.checks(hidden=True) if c.id in present] or asg.checks(hidden=True)
        order = [(c.id, float(c.points)) for c in columns]
        by_student: dict[str, list[dict]] = {}
        for r in rows:
            by_student.setdefault(r["student"], []).append(r)
        files = [write_grades_csv(out / "grades.csv", subs, rows, order)]
        reports = out / "reports"
        for s in subs:
            write_feedback(reports / s["student"], student_report(s, by_student.get(s["student"], []), columns, policy))
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
