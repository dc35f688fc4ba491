"""Grade an assignment's known and generated submissions, and judge its checks by the results.

Cases, each graded out of process by `grade_isolated` (grader/instructor/isolated: a preloaded
forkserver, a budget per submission), `jobs` at a time:

  reference   every check must give full marks
  template    every check must give 0, and none may crash (status error or timeout)
  wrong       each registered wrong submission must lose points on every check in its `catches`
              (and, where it says so, the message must contain its `says` words)
  variant     each registered correct variant must keep full marks on every check it is graded on
  mutant      each automatic mutant of the marked reference code (mutate.py) is killed when any
              check of its task loses points; a survivor is listed with its diff unless the
              assignment marks it as equivalent (`EQUIVALENT` in cases.py). It is graded only on
              the checks that ran its function on the reference (selection.py), cheapest first,
              and stops at the first that loses points (`all_checks`: every check of its tasks)

The reference, template, wrong submissions and variants are graded first (the reference with
coverage on), then the mutants; on this machine (`jobs` at a time) or on a Dask cluster
(`scheduler`), by the batch's pools (grader/instructor/batch/pool.py).

Then: the checks that no registered wrong submission fails (a check that cannot fail is a defect,
SPEC), the matrix of which check catches which wrong submission, and the mutation score per task.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from grader.engine import assignment as assignments
from grader.engine.assignment import Assignment
from grader.engine.model import Check, Report, Status
from grader.instructor.isolated.grade import GradeRequest, default_budget

from . import mutate
from .cases import CaseError, Cases, Files, load_cases, read_folder, variant_files, wrong_files
from .selection import NOT_EXECUTED, Coverage, Savings

KINDS = ("reference", "template", "wrong", "variant", "mutant")


@dataclass
class SelftestOptions:
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    mutants: Optional[int] = None  # None: every automatic mutant; 0: none; N: a seeded sample of N
    seed: int = 0
    operators: tuple[str, ...] = mutate.OPERATORS
    tasks: tuple[str, ...] = ()  # only these tasks' checks and cases (default: all)
    data: Optional[bool] = None  # the FashionMNIST checks: None = where the data is installed
    kinds: tuple[str, ...] = KINDS  # which kinds of case to grade
    only: tuple[str, ...] = ()  # only the wrong submissions / variants with these names
    reference: Optional[Path] = None  # default: reference/<assignment>/ of this checkout
    template: Optional[Path] = None  # default: student_template/<assignment>/
    isolation: str = "auto"
    data_dir: Optional[Path] = None
    timeout: Optional[float] = None  # seconds per case (default: its checks' limits, as in a batch)
    all_checks: bool = False  # mutants on every check of their tasks, no early stop (the old way, to compare)
    scheduler: Any = None  # a Dask scheduler's address (or a distributed.Client): grade there


@dataclass
class CheckOutcome:
    id: str
    score: float
    max_score: float
    status: str
    message: str

    @property
    def full(self) -> bool:
        return self.score >= self.max_score and self.status == Status.PASSED.value

    @property
    def lost(self) -> bool:
        return self.score < self.max_score


@dataclass
class CaseResult:
    kind: str  # one of KINDS
    name: str
    checks: dict[str, CheckOutcome] = field(default_factory=dict)
    expect: list[str] = field(default_factory=list)  # wrong: the checks that must catch it
    status: str = "graded"  # graded, or the batch's error / timeout / skipped; a mutant's not_executed
    message: str = ""  # why it was not graded, or what was wrong
    problems: list[str] = field(default_factory=list)  # what this case says is wrong with the checks
    duration: float = 0.0
    # automatic mutants only
    mutant: Optional[mutate.Mutant] = None
    verdict: str = ""  # killed / survived / equivalent
    equivalent_reason: str = ""
    not_run: list[str] = field(default_factory=list)  # checks left out after one lost points

    @property
    def lost(self) -> list[str]:
        return [cid for cid, c in self.checks.items() if c.lost]


@dataclass
class SelftestResult:
    assignment: str
    checks: list[Check]
    cases: list[CaseResult]
    mutants_found: int = 0  # automatic mutants before sampling
    warnings: list[str] = field(default_factory=list)
    uncaught: list[str] = field(default_factory=list)  # checks no registered wrong submission fails
    duration: float = 0.0
    data: bool = False
    sources: dict[str, str] = field(default_factory=dict, repr=False)  # the reference's modules (for diffs)
    savings: Savings = field(default_factory=Savings)  # check-gradings of the mutants (selection.py)
    mutant_seconds: float = 0.0  # wall time of the mutants' phase (the rest: reference, template, cases)
    floors: dict[str, float] = field(default_factory=dict)  # cases.py's FLOORS: task -> lowest score (percent)

    def of(self, kind: str) -> list[CaseResult]:
        return [c for c in self.cases if c.kind == kind]

    @property
    def problems(self) -> list[str]:
        out = [p for c in self.cases for p in c.problems]
        out += [f"check {cid}: no registered wrong submission fails it (a check that cannot fail is a defect)"
                for cid in self.uncaught]
        return out

    @property
    def ok(self) -> bool:
        return not self.problems

    def under(self, percent: Optional[float] = None, floors: bool = False) -> dict[str, tuple[float, float]]:
        """task -> (its mutation score, the bound it is under), in percent: under `percent` (all
        tasks) or, with `floors`, under its own floor in cases.py's FLOORS (the higher bound counts)."""
        out: dict[str, tuple[float, float]] = {}
        for task, row in self.mutation_scores().items():
            bound = max(percent or 0.0, float(self.floors.get(task, 0.0)) if floors else 0.0)
            if 100 * row["score"] < bound:
                out[task] = (round(100 * row["score"], 1), bound)
        return out

    def catchers(self) -> dict[str, list[str]]:
        """check id -> the registered wrong submissions it takes points from."""
        out: dict[str, list[str]] = {c.id: [] for c in self.checks}
        for case in self.of("wrong"):
            for cid in case.lost:
                out.setdefault(cid, []).append(case.name)
        return out

    def mutation_scores(self) -> dict[str, dict[str, float]]:
        """task -> {killed, survived, equivalent, total, score (killed / (total − equivalent))}."""
        out: dict[str, dict[str, float]] = {}
        for m in self.of("mutant"):
            for task in _mutant_tasks(m):
                row = out.setdefault(task, {"killed": 0, "survived": 0, "equivalent": 0, "total": 0})
                row["total"] += 1
                row[m.verdict] = row.get(m.verdict, 0) + 1
        for row in out.values():
            counted = row["total"] - row["equivalent"]
            row["score"] = round(row["killed"] / counted, 4) if counted else 1.0
        return out


def _mutant_tasks(case: CaseResult) -> list[str]:
    return sorted({cid.split(".")[0] for cid in case.expect}) or ["?"]


# ------------------------------------------------------------------------------------------ planning
@dataclass
class _Job:
    case: CaseResult
    files: Files
    check_ids: list[str]
    coverage: bool = False  # the reference: record what each check runs
    shown: bool = True  # False: graded for its coverage only (the reference when --kind leaves it out)


def _default_path(kind: str, asg: Assignment) -> Path:
    return asg.course_root / kind / asg.name


def _data_available(opts: SelftestOptions) -> bool:
    if opts.data is not None:
        return opts.data
    try:
        from grader.data import find_fashion_mnist

        find_fashion_mnist(opts.data_dir, download=False)
        return True
    except Exception:
        return False


@dataclass
class _Selection:
    """The checks a self-test grades: by task, and in the assignment's order."""
    checks: list[Check]  # selected by --task (also those needing data that is absent)
    by_task: dict[str, list[str]]  # task → ids of its usable checks
    all_ids: list[str]

    def ids_of(self, tasks: Iterable[str]) -> list[str]:
        return [cid for t in tasks for cid in self.by_task.get(t, [])]


class _Plan:
    """What a self-test grades (jobs) and what it decides without grading (skipped, unbuildable)."""

    def __init__(self) -> None:
        self.jobs: list[_Job] = []
        self.decided: list[CaseResult] = []

    def grade(self, case: CaseResult, files: Files, ids: list[str]) -> None:
        self.jobs.append(_Job(case, files, ids))

    def skip(self, case: CaseResult, why: str) -> None:
        case.status, case.message = "skipped", why
        self.decided.append(case)

    def unbuildable(self, case: CaseResult, what: str, exc: Exception) -> None:
        case.status, case.message = "error", f"cannot be built: {exc}"
        case.problems.append(f"{what} {case.name}: {case.message}")
        self.decided.append(case)


def _select(asg: Assignment, opts: SelftestOptions, data: bool) -> _Selection:
    checks = [c for c in asg.checks(hidden=True) if not opts.tasks or c.task in opts.tasks]
    usable = [c for c in checks if data or not c.needs_data]
    by_task: dict[str, list[str]] = {}
    for c in usable:
        by_task.setdefault(c.task, []).append(c.id)
    return _Selection(checks, by_task, [c.id for c in usable])


def _plan_wrong(p: _Plan, sel: _Selection, cases: Cases, reference: Files, selected: Callable[[str], bool]) -> None:
    for w in cases.wrong:
        if not selected(w.name):
            continue
        case = CaseResult("wrong", w.name, expect=[c for c in sorted(w.catches) if c in sel.all_ids])
        if not case.expect:
            needs_data = any(c in {x.id for x in sel.checks} for c in w.catches)
            p.skip(case, "its checks need FashionMNIST" if needs_data else "none of its checks is selected")
            continue
        try:
            files = wrong_files(reference, w)
        except (CaseError, OSError, ValueError, KeyError) as exc:
            p.unbuildable(case, "wrong submission", exc)
            continue
        p.grade(case, files, sel.ids_of(t for t in w.tasks if t in sel.by_task))


def _plan_variants(p: _Plan, sel: _Selection, cases: Cases, reference: Files,
                   selected: Callable[[str], bool]) -> None:
    for v in cases.variants:
        if not selected(v.name):
            continue
        case = CaseResult("variant", v.name)
        ids = [cid for cid in sel.ids_of(v.tasks or sel.by_task) if cid not in v.skip]
        if not ids:
            p.skip(case, "none of its checks is selected")
            continue
        try:
            files = variant_files(reference, v, cases)
        except (CaseError, OSError) as exc:
            p.unbuildable(case, "variant", exc)
            continue
        p.grade(case, files, ids)


def _plan_mutants(p: _Plan, sel: _Selection, asg: Assignment, reference: Files, opts: SelftestOptions) -> int:
    """Sampled mutants into the plan; how many there are before sampling."""
    # a mutant of a module is graded on the selected tasks that use that module
    stems = {t.name: set(t.modules) for t in asg.tasks if t.name in sel.by_task}
    generated: list[mutate.Mutant] = []
    for rel in sorted(reference):
        if rel.endswith(".py") and "/" not in rel and any(Path(rel).stem in s for s in stems.values()):
            generated += mutate.mutants(reference[rel].decode("utf-8"), rel, opts.operators)
    for m in mutate.sample(generated, opts.mutants, opts.seed):
        ids = sel.ids_of(t for t, mods in stems.items() if Path(m.file).stem in mods)
        p.grade(CaseResult("mutant", m.id, expect=ids, mutant=m), {**reference, m.file: m.source.encode("utf-8")}, ids)
    return len(generated)


def plan(asg: Assignment, cases: Cases, opts: SelftestOptions, data: bool
         ) -> tuple[list[_Job], list[CaseResult], int, Files]:
    """The jobs to grade, the cases decided without grading (skipped, unbuildable), how many
    automatic mutants there are before sampling, and the reference's files."""
    sel = _select(asg, opts, data)
    ref_dir = opts.reference or _default_path("reference", asg)
    if not ref_dir.is_dir():
        raise FileNotFoundError(f"no reference solution at {ref_dir}: `grade selftest` runs in the course "
                                "repository (reference/ beside assignments/) or with --reference")
    reference = read_folder(ref_dir)
    p, want = _Plan(), set(opts.kinds)
    selected = (lambda name: not opts.only or name in opts.only)
    mutants = "mutant" in want and opts.mutants != 0
    if "reference" in want or (mutants and not opts.all_checks):
        p.grade(CaseResult("reference", "reference"), reference, sel.all_ids)
        p.jobs[-1].coverage = mutants and not opts.all_checks
        p.jobs[-1].shown = "reference" in want
    if "template" in want:
        tpl_dir = opts.template or _default_path("student_template", asg)
        if tpl_dir.is_dir():
            p.grade(CaseResult("template", "template"), read_folder(tpl_dir), sel.all_ids)
        else:
            p.skip(CaseResult("template", "template"), f"no template at {tpl_dir}")
    if "wrong" in want:
        _plan_wrong(p, sel, cases, reference, selected)
    if "variant" in want:
        _plan_variants(p, sel, cases, reference, selected)
    found = _plan_mutants(p, sel, asg, reference, opts) if mutants else 0
    return p.jobs, p.decided, found, reference


# ------------------------------------------------------------------------------------------ judging
def _must_keep_full_marks(case: CaseResult, label: str) -> None:
    """The reference and a correct variant: graded, and full marks on every check."""
    if case.status != "graded":
        case.problems.append(f"{label}: not graded ({case.status}): {case.message}")
    for c in case.checks.values():
        if not c.full:
            case.problems.append(f"{label}: {c.id} gave {c.score:g}/{c.max_score:g} ({c.status}) to a correct "
                                 f"solution: {_first_line(c.message)}")


def _judge(case: CaseResult, cases: Cases, wrong_by_name: dict) -> None:
    graded = case.status == "graded"
    if case.kind in ("reference", "variant"):
        _must_keep_full_marks(case, "reference" if case.kind == "reference" else f"variant {case.name}")
    elif case.kind == "template":
        if not graded:
            case.problems.append(f"template: the grading crashed ({case.status}): {case.message}")
        for c in case.checks.values():
            if c.score > 0:
                case.problems.append(f"template: {c.id} gave {c.score:g}/{c.max_score:g} to the unsolved template")
            elif c.status in (Status.ERROR.value, Status.TIMEOUT.value, Status.OUT_OF_MEMORY.value,
                              Status.OUT_OF_DISK.value):
                case.problems.append(f"template: {c.id} crashed ({c.status}): {_first_line(c.message)}")
    elif case.kind == "wrong":
        w = wrong_by_name[case.name]
        if not graded:
            # the whole grading failed: every check at 0 for a student, so it is caught, but say so
            case.message = case.message or case.status
            return
        for cid in case.expect:
            c = case.checks.get(cid)
            if c is None:
                case.problems.append(f"wrong submission {case.name}: {cid} did not run")
            elif not c.lost:
                case.problems.append(f"wrong submission {case.name}: {cid} gave it full marks")
            elif not c.message.strip():
                case.problems.append(f"wrong submission {case.name}: {cid} failed it without saying why")
            elif w.says and w.says not in c.message:
                case.problems.append(f"wrong submission {case.name}: {cid}'s message does not say "
                                     f"{w.says!r}: {_first_line(c.message)}")
    elif case.kind == "mutant":
        killed = (not graded and case.status != "not_executed") or bool(case.lost)
        reason = cases.equivalent.get(case.name)
        if reason is not None:
            case.equivalent_reason = reason
            case.verdict = "equivalent"
            if killed:
                case.problems.append(f"mutant {case.name} is marked equivalent but "
                                     f"{', '.join(case.lost) or case.status} catches it: remove the mark")
        else:
            case.verdict = "killed" if killed else "survived"


def _first_line(message: str) -> str:
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    return line[:300]


def _outcomes(report: Report) -> dict[str, CheckOutcome]:
    return {c.id: CheckOutcome(c.id, float(c.score), float(c.max_score), c.status.value, c.message)
            for c in report.checks}


def _pool(opts: SelftestOptions):
    """The batch's pool: `jobs` gradings at a time here, or one Dask task per case."""
    from grader.instructor.batch.pool import DaskPool, LocalPool

    return DaskPool(opts.scheduler) if opts.scheduler else LocalPool(opts.jobs)


def _narrow(mutant_jobs: list[_Job], coverage: Optional[Coverage], savings: Savings) -> list[_Job]:
    """Each mutant's checks: those that ran its function, cheapest first; the mutants no check ran
    are decided here (returned, not graded)."""
    unrun: list[_Job] = []
    for job in mutant_jobs:
        savings.all_checks += len(job.check_ids)
        if coverage is not None:
            job.check_ids = coverage.checks_for(job.case.mutant, job.check_ids)
        savings.selected += len(job.check_ids)
        if not job.check_ids:
            job.case.status, job.case.message = "not_executed", NOT_EXECUTED
            unrun.append(job)
    savings.not_executed = len(unrun)
    return unrun


def selftest(name: str, opts: Optional[SelftestOptions] = None,
             progress: Optional[Callable[[CaseResult, int, int], None]] = None) -> SelftestResult:
    """Run the self-test of assignment `name` (see the module docstring)."""
    opts = opts or SelftestOptions()
    t0 = time.monotonic()
    asg = assignments.load(name)
    cases = load_cases(asg)
    data = _data_available(opts)
    jobs, decided, found, reference = plan(asg, cases, opts, data)
    result = SelftestResult(asg.name, [c for c in asg.checks(hidden=True) if not opts.tasks or c.task in opts.tasks],
                            list(decided), mutants_found=found, data=data, floors=dict(cases.floors),
                            sources={k: v.decode("utf-8", "replace") for k, v in reference.items() if k.endswith(".py")})
    ids = {c.id for c in result.checks}
    stale = sorted(set(cases.equivalent) - {j.case.name for j in jobs if j.case.kind == "mutant"})
    if stale and "mutant" in opts.kinds and opts.mutants is None and not opts.tasks \
            and tuple(opts.operators) == mutate.OPERATORS:
        result.warnings.append("marked equivalent but no longer generated (the reference changed?): " + ", ".join(stale))
    checks_by_id = {c.id: c for c in asg.checks(hidden=True)}
    selecting = not opts.all_checks

    def request(job: _Job) -> GradeRequest:
        mutant = job.case.kind == "mutant"
        return GradeRequest(assignment=asg.name, files=job.files, name=f"{job.case.kind}:{job.case.name}",
                            check_ids=job.check_ids, isolation=opts.isolation, data_dir=opts.data_dir,
                            # the instructor's own reference and mutants of it, not untrusted code
                            allow_unisolated=True, coverage=job.coverage, stop_early=mutant and selecting,
                            budget=opts.timeout or default_budget([checks_by_id[i] for i in job.check_ids]))

    wrong_by_name = {w.name: w for w in cases.wrong}
    first = [j for j in jobs if j.case.kind != "mutant"]
    mutant_jobs = [j for j in jobs if j.case.kind == "mutant"]
    total = sum(j.shown for j in jobs)
    done = 0
    coverage: Optional[Coverage] = None

    def record(job: _Job, report: Optional[Report]) -> None:
        """A case graded (its report) or decided without grading (None): judged, counted, shown."""
        nonlocal done
        case = job.case
        if report is not None:
            case.duration = report.execution_time
            case.checks = _outcomes(report)
            case.not_run = list(report.not_run)
            if report.status != "graded":  # the engine's (rejected) or the grading's (error, timeout)
                case.status, case.message = report.status, report.message
        _judge(case, cases, wrong_by_name)
        result.cases.append(case)
        done += 1
        if progress is not None:
            progress(case, done, total)

    pool = _pool(opts)
    try:
        # the reference, template, wrong submissions and variants; then the mutants, which need
        # the reference's coverage to know their checks
        for job, graded in pool.run(first, request):
            if job.coverage:
                coverage = Coverage.from_report(graded.report)
            if job.shown:
                record(job, graded.report)
        if mutant_jobs and selecting:
            if coverage is None:
                result.warnings.append("the reference's grading recorded no coverage: every mutant was graded "
                                       "on every check of its tasks")
            unrun = _narrow(mutant_jobs, coverage, result.savings)
            mutant_jobs = [j for j in mutant_jobs if j.case.status != "not_executed"]
            if coverage is not None:  # the longest first: no long grading left alone at the end
                mutant_jobs.sort(key=lambda j: -coverage.cost(j.check_ids))
            for job in unrun:
                record(job, None)
        else:
            result.savings.all_checks = result.savings.selected = sum(len(j.check_ids) for j in mutant_jobs)
        t_mutants = time.monotonic()
        for job, graded in pool.run(mutant_jobs, request):
            result.savings.run += len(graded.report.checks)
            record(job, graded.report)
        result.mutant_seconds = time.monotonic() - t_mutants
    finally:
        pool.close()
    order = {k: i for i, k in enumerate(KINDS)}
    result.cases.sort(key=lambda c: (order[c.kind], c.mutant.file if c.mutant else "",
                                     c.mutant.line if c.mutant else 0, c.name))
    # a check no registered wrong submission fails; only where every wrong submission that names it ran
    wrong_ran = [c for c in result.of("wrong") if c.status != "skipped"]
    if "wrong" in opts.kinds and not opts.only:
        caught = {cid for c in wrong_ran for cid in c.lost} | {cid for c in wrong_ran if c.status != "graded"
                                                                for cid in c.expect}
        runnable = {c.id for c in result.checks if data or not c.needs_data}
        result.uncaught = sorted((ids & runnable) - caught)
    result.duration = time.monotonic() - t0
    return result
