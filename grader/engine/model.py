"""Plain data the engine passes around: check definitions, results and reports.

Everything here lives in the grader's process. Nothing in this module ever holds student objects:
check results are built from the plain data a worker sent back.
"""
from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional

REPORT_SCHEMA_VERSION = 3  # 2: submission status/message, instructor-only `internal`; 3: check figures
READABLE_SCHEMA_VERSIONS = (1, 2, 3)  # older reports load with the fields they lack at their defaults


class Status(str, enum.Enum):
    """The outcome of one check; `str` so it serialises as its value."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    OUT_OF_MEMORY = "out_of_memory"
    OUT_OF_DISK = "out_of_disk"
    MISSING = "missing"

    def __str__(self) -> str:  # click/rich print the value, not "Status.PASSED"
        return self.value


class Visibility(str, enum.Enum):
    PUBLIC = "public"
    HIDDEN = "hidden"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Limits:
    """Resource limits for the worker that runs a check's probes.

    timeout: wall-clock seconds for the whole check (all its probes); the worker's process group is
    killed when it is exceeded. memory_mb: each process's RLIMIT_AS and the whole submission's memory
    (its cgroup, or its process tree watched); processes: the whole submission's (pids.max, RLIMIT_NPROC
    of its own uid). disk_mb: everything the worker's files may take (its scratch copy of the
    submission included; 0: not bounded), see sandbox/disk.py. The others bound what student code may
    write. Defaults are documented in docs/engine.md and overridable per check.
    """

    timeout: float = 20.0
    memory_mb: int = 3072
    processes: int = 256
    file_size_mb: int = 64
    disk_mb: int = 1024
    open_files: int = 256
    cpu_seconds: int = 3600
    reply_mb: int = 32  # largest reply frame the grader accepts for one probe (see docs/security.md)


@dataclass
class Check:
    """One graded check: a stable id, a student-readable title, points and a judging function.

    `run(ctx)` executes in the grader. It asks the worker for plain data with `ctx.probe(...)` and
    judges it; it returns None (full marks), an `Outcome` (partial credit) or raises `CheckFailed`.
    `tolerance` states, in words, what is accepted (shown in reports and in the docs).
    """

    id: str
    task: str
    title: str
    points: float
    run: Callable[[Any], Optional["Outcome"]]
    module: str  # the student module (file stem) the check imports first; "" for none (e.g. a weights file)
    visibility: Visibility = Visibility.PUBLIC
    limits: Limits = field(default_factory=Limits)
    tolerance: str = ""
    needs_data: bool = False  # reads FashionMNIST: skipped with a clear message when it is absent


@dataclass
class Outcome:
    """What a check's judge concluded: a fraction of the points and a message for the student."""

    fraction: float
    message: str = ""
    figures: list[dict] = field(default_factory=list)  # plot data (grader/engine/figures.py)


class CheckFailed(Exception):
    """Raised by a judge: the submission computed something wrong. Carries partial credit."""

    def __init__(self, message: str, fraction: float = 0.0, figures: Optional[list[dict]] = None):
        super().__init__(message)
        self.message = message
        self.fraction = fraction
        self.figures = list(figures or [])  # plot data for the HTML report (grader/engine/figures.py)


@dataclass
class CheckResult:
    id: str
    task: str
    title: str
    score: float
    max_score: float
    status: Status
    visibility: Visibility
    message: str = ""
    output: str = ""  # the student's captured stdout/stderr during this check, truncated
    duration: float = 0.0
    tolerance: str = ""
    module: str = ""  # the student module (file stem) the check is about; "" for none (Check.module)
    # Plot data for the HTML report: plain dicts of small lists built by the grader from what the
    # worker returned (grader/engine/figures.py: "gradient_error" heatmaps, "curve" training curves)
    figures: list[dict] = field(default_factory=list)
    # For the instructor only (a grader traceback, what a decoding error was): never in a
    # student-facing format; in the JSON report only when asked for (docs/reports.md)
    internal: str = ""

    def to_dict(self, internal: bool = False) -> dict:
        d = asdict(self)
        d["status"] = self.status.value
        d["visibility"] = self.visibility.value
        if not internal:
            d.pop("internal")
        return d

    @classmethod
    def from_dict(cls, c: dict) -> "CheckResult":
        """The inverse of `to_dict` (fields a dict lacks take their defaults)."""
        return cls(id=c["id"], task=c["task"], title=c["title"], score=_num(c["score"]),
                   max_score=_num(c["max_score"]), status=Status(c["status"]),
                   visibility=Visibility(c["visibility"]), message=c.get("message", "") or "",
                   output=c.get("output", "") or "", duration=_num(c.get("duration", 0.0)),
                   tolerance=c.get("tolerance", "") or "", module=c.get("module", "") or "",
                   figures=[f for f in c.get("figures") or [] if isinstance(f, dict)],
                   internal=c.get("internal", "") or "")


def _num(x: Any) -> float:
    """A finite float: NaN/inf (a buggy judge) or nothing become 0, never invalid JSON or a NULL score."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return 0.0
    return f if math.isfinite(f) else 0.0


@dataclass
class Report:
    assignment: str
    submission: str
    checks: list[CheckResult]
    isolation: str = ""
    execution_time: float = 0.0
    hidden_included: bool = False
    warnings: list[str] = field(default_factory=list)
    # "graded", or "rejected" when the submission could not be taken in (over its budget, ...)
    status: str = "graded"
    message: str = ""
    internal: list[str] = field(default_factory=list)  # instructor-only details (see CheckResult)
    # `grade selftest` only (GradeOptions.stop_early, .coverage); absent from the JSON otherwise:
    not_run: list[str] = field(default_factory=list)  # checks left out after one lost points
    coverage: Optional[dict] = None  # {"checks": {id: [`file:function`, ...]}, "import": [...]}

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 6)

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    def to_dict(self, internal: bool = False) -> dict:
        d = {
            "schema_version": REPORT_SCHEMA_VERSION,
            "assignment": self.assignment,
            "submission": self.submission,
            "status": self.status,
            "message": self.message,
            "score": self.score,
            "max_score": self.max_score,
            "isolation": self.isolation,
            "execution_time": round(self.execution_time, 3),
            "hidden_included": self.hidden_included,
            "warnings": list(self.warnings),
            "checks": [c.to_dict(internal) for c in self.checks],
        }
        if internal:
            d["internal"] = list(self.internal)
        if self.not_run:
            d["not_run"] = list(self.not_run)
        if self.coverage is not None:
            d["coverage"] = self.coverage
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "Report":
        """The inverse of `to_dict` (with or without `internal`): the one way a report crosses a
        process or file boundary back into a Report (the batch's grading process, the gradebook,
        a stored report.json). ValueError for a schema version this grader cannot read."""
        version = data.get("schema_version")
        if version not in READABLE_SCHEMA_VERSIONS:  # 1 lacks status, message, internal; 2 lacks figures
            raise ValueError(f"report schema_version {version!r} is not supported (expected {REPORT_SCHEMA_VERSION})")
        return cls(assignment=data["assignment"], submission=data.get("submission", ""),
                   checks=[CheckResult.from_dict(c) for c in data.get("checks", [])],
                   isolation=data.get("isolation", "") or "", execution_time=_num(data.get("execution_time", 0.0)),
                   hidden_included=bool(data.get("hidden_included", False)),
                   warnings=list(data.get("warnings", [])), status=data.get("status", "graded") or "graded",
                   message=data.get("message", "") or "", internal=list(data.get("internal", [])),
                   not_run=list(data.get("not_run", [])), coverage=data.get("coverage"))
