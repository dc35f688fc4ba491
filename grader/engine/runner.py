"""Grade one submission: load → probe in a sandboxed worker → judge here → a Report.

`select_checks` picks what a run grades; `grade` runs those checks in one Session (session.py)
and gathers their results into the Report.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterable, Optional

from . import text
from .assignment import Assignment
from .model import Check, CheckResult, Report
from .session import GradeOptions, Session

def select_checks(assignment: Assignment, *, hidden: bool = False, tasks: Optional[Iterable[str]] = None,
                  check_ids: Optional[Iterable[str]] = None) -> list[Check]:
    """The checks a run grades: public (plus hidden), narrowed to `tasks` and to `check_ids` when given.

    An unknown id is a ValueError whose message says when it names a hidden check.
    """
    tasks = set(tasks) if tasks else None
    checks = [c for c in assignment.checks(hidden=hidden) if not tasks or c.task in tasks]
    if check_ids:
        wanted = set(check_ids)
        known = {c.id for c in assignment.checks(hidden=hidden)}
        for cid in sorted(wanted - known):
            hint = (" (a hidden check: add --hidden)" if cid in {c.id for c in assignment.checks(True)}
                    else "")
            raise ValueError(f"unknown check {cid!r}{hint}; `grade list -a {assignment.name}` lists them")
        checks = [c for c in checks if c.id in wanted]
    return checks


def grade(submission: Path, assignment: Assignment, *, tasks: Optional[list[str]] = None,
          hidden: bool = False, options: Optional[GradeOptions] = None,
          on_result: Optional[Callable[[CheckResult], None]] = None,
          check_ids: Optional[Iterable[str]] = None) -> Report:
    """Run the assignment's checks (public, plus hidden when asked) on a submission folder.

    `tasks` and `check_ids` narrow the selection (both apply when both are given); an unknown id
    is a ValueError. Grading with `hidden` checks is instructor grading: where it would run student
    code as root without isolation, IsolationRefused is raised before anything runs.

    `options.stop_early` (the self-test's mutants): the checks run in the order of `check_ids`
    (the caller puts the cheapest first), and the first that loses points ends the grading; the
    others are in the report's `not_run`, not among its results. `options.coverage`: the report's
    `coverage` says which functions of the submission each check ran.
    """
    options = options or GradeOptions()
    submission = Path(submission).resolve()
    checks = select_checks(assignment, hidden=hidden, tasks=tasks, check_ids=check_ids)
    if options.stop_early and check_ids is not None:
        order = {cid: i for i, cid in enumerate(check_ids)}
        checks.sort(key=lambda c: order[c.id])
    t0 = time.monotonic()
    session = Session(submission, assignment, options, instructor=hidden)
    results: list[CheckResult] = []
    not_run: list[str] = []
    try:
        for i, check in enumerate(checks):
            r = session.run_check(check)
            results.append(r)
            if on_result:
                on_result(r)
            if options.stop_early and r.score < r.max_score:
                not_run = [c.id for c in checks[i + 1:]]
                break
    finally:
        session.close()  # never raises: the report is written whatever cleanup does
    coverage = None
    if options.coverage:
        coverage = {"checks": {cid: sorted(names) for cid, names in session.coverage.items()},
                    "import": sorted(session.import_coverage)}
    return Report(assignment=assignment.name, submission=str(submission), checks=results,
                  isolation="; ".join([session.plan.describe(), *session.disk_bounds]),
                  execution_time=time.monotonic() - t0, hidden_included=hidden,
                  warnings=text.cap_list(sorted(set(session.warnings))),
                  status="rejected" if session.rejected else "graded",
                  message=session.rejected, internal=session.internal, not_run=not_run, coverage=coverage)
