"""`grade_isolated(GradeRequest) -> Report`: one submission graded in its own process, within a budget.

The submission is given as files (written once into a private folder: a Dask task, a self-test
case) or as a folder graded where it is (the batch's spool, Gradescope's upload). The grading
process runs `grader.engine.runner.grade` (child.py) and hands back `Report.to_dict(internal=True)`;
this side rebuilds it with `Report.from_dict`. What goes wrong with the grading itself is a Report
too, with no checks and a submission-level status: `timeout` (the budget ran out; the process group
was killed), `error` (the grading crashed or died: the message says how, `internal` holds the
traceback or the process's last stderr, for the instructor only). It never raises for anything the
submission or the grading does.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from grader.engine import assignment as assignments
from grader.engine.fs import Rejected, write_files
from grader.engine.model import Check, Report
from grader.engine.session import IMPORT_TIMEOUT

from .process import GradingProcess

BUDGET_SLACK = 120.0  # seconds on top of the checks' own limits: starting workers, judging, importing torch
STDERR_TAIL = 8000  # characters of the grading process's stderr kept when it died without a result


@dataclass
class GradeRequest:
    """One submission to grade out of process: `files` or `folder` (exactly one)."""

    assignment: str
    files: Optional[dict[str, bytes]] = None  # {relative path: bytes}
    folder: Optional[Path] = None
    name: str = ""  # the report's `submission` (a student id, a case name); no host paths
    check_ids: Optional[list[str]] = None  # None: every check of the assignment
    hidden: bool = True
    budget: Optional[float] = None  # wall-clock seconds for the whole grading; None: default_budget(checks)
    isolation: str = "auto"
    notebook_mode: str = "definitions"
    data_dir: Optional[Path] = None
    threads: int = 1
    allow_unisolated: bool = False  # GradeOptions.allow_unisolated: as root, run unisolated if need be
    # `grade selftest` only: GradeOptions.coverage and .stop_early (checks in check_ids' order)
    coverage: bool = False
    stop_early: bool = False


def default_budget(checks: Iterable[Check]) -> float:
    """Every check's own time limit, an import per module, and BUDGET_SLACK (docs/batch.md)."""
    checks = list(checks)
    modules = {c.module for c in checks if c.module}
    return sum(c.limits.timeout for c in checks) + IMPORT_TIMEOUT * len(modules) + BUDGET_SLACK


def _budget(request: GradeRequest) -> float:
    if request.budget is not None:
        return float(request.budget)
    try:
        checks = assignments.load(request.assignment).checks(hidden=request.hidden)
    except Exception:  # an unknown assignment: the grading process says so, as its error
        return BUDGET_SLACK
    wanted = set(request.check_ids) if request.check_ids is not None else None
    return default_budget(c for c in checks if wanted is None or c.id in wanted)


def _failed(request: GradeRequest, status: str, message: str, detail: str = "") -> Report:
    return Report(assignment=request.assignment, submission=request.name, checks=[], hidden_included=request.hidden,
                  status=status, message=message, internal=[detail] if detail else [])


def report_from_result(result: dict, request: GradeRequest) -> Report:
    """The Report of what the grading process wrote (child.py): its report, or its crash as one."""
    if result.get("ok"):
        return Report.from_dict(result["report"])
    return _failed(request, "error", str(result.get("message", "")), str(result.get("traceback", "") or ""))


def grade_isolated(request: GradeRequest) -> Report:
    """Grade one submission in a grading process of its own (see the module docstring)."""
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="grade-isolated-"))
    try:
        report = _run(request, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report.submission = request.name
    report.execution_time = round(time.monotonic() - t0, 3)  # the whole grading, process start included
    return report


def _run(request: GradeRequest, tmp: Path) -> Report:
    if (request.files is None) == (request.folder is None):
        raise ValueError("a GradeRequest has files or a folder, not both or neither")
    folder = request.folder
    if folder is None:
        folder = tmp / "submission"
        folder.mkdir()
        try:
            write_files(request.files, folder)
        except (OSError, Rejected) as exc:  # a path leaving the folder, a file that cannot be written
            return _failed(request, "error", f"the submission's files could not be written: {exc}")
    result = tmp / "result.json"
    child = {"submission": str(folder), "assignment": request.assignment, "check_ids": request.check_ids,
             "hidden": request.hidden, "isolation": request.isolation, "notebook_mode": request.notebook_mode,
             "data_dir": str(request.data_dir) if request.data_dir else None, "threads": request.threads,
             "allow_unisolated": request.allow_unisolated,
             "coverage": request.coverage, "stop_early": request.stop_early,
             # the caller's course folders now: a forkserver started earlier has an older environment
             "courses": os.environ.get(assignments.ENV_PATH, ""), "result": str(result)}
    (tmp / "request.json").write_text(json.dumps(child))
    budget = _budget(request)
    proc = GradingProcess(child, tmp)
    try:
        finished = proc.wait(budget)
        if not finished:
            proc.kill()
    except BaseException:  # interrupted (Ctrl-C): leave nothing running
        proc.kill()
        raise
    finally:
        proc.close()
    if not finished or not result.is_file():
        from grader.engine.sandbox.bounds import sweep

        sweep()  # its workers' escaped descendants: their uids were freed when it died
    if not finished:
        # killed mid-grading: its workers' scratch folders (and tmpfs mounts) are left behind
        from grader.engine.sandbox import disk

        disk.sweep_stale(force=True)
        return _failed(request, "timeout", f"the grading of this submission took longer than its budget of "
                                           f"{budget:g} s (--timeout-per-submission); it was stopped")
    if result.is_file():
        return report_from_result(json.loads(result.read_text()), request)
    stderr = tmp / "stderr.txt"
    err = stderr.read_text(errors="replace")[-STDERR_TAIL:] if stderr.exists() else ""
    code = proc.returncode
    how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
    return _failed(request, "error", f"the grading process {how} without a result", err)
