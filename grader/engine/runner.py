"""Grade one submission: load → probe in a sandboxed worker → judge here → a Report.

One worker serves all the checks of a submission (importing torch costs ~1.7 s, so a worker per
check would spend most of the time importing); after a timeout or a crash it is killed with all it
started and a fresh one serves the remaining checks.
"""
from __future__ import annotations

import os
import tempfile
import time
import traceback
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import numpy as np

from . import fs, text
from .assignment import Assignment
from .model import Check, CheckFailed, CheckResult, Limits, Outcome, Report, Status
from .sandbox import (ReplyTooLarge, Runtime, Worker, WorkerDied, WorkerTimeout, describe_isolation,
                      resolve_isolation)

IMPORT_TIMEOUT = 60.0  # seconds to import a module (a notebook, torch): separate from check limits
SOURCE_LIMIT = 2 * 2**20  # bytes of a module's .py source that the grader reads for static checks
NOTEBOOK_LIMIT = 16 * 2**20  # bytes of a notebook (outputs, images included) read for its code
PARSE_SECONDS = 10.0  # grader-side parse of one notebook's code (linear time: a generous bound)
# Exceptions a judge raises when a returned value has an unexpected structure (a list where it
# indexes a dict, an int too large for a float): the submission's fault, a clean failed check.
VALUE_ERRORS = (TypeError, KeyError, IndexError, ValueError, AttributeError, OverflowError,
                ZeroDivisionError, FloatingPointError)


class ProbeError(Exception):
    """The worker could not produce a value: the student's code raised, is missing, etc."""

    def __init__(self, status: Status, message: str):
        super().__init__(message)
        self.status, self.message = status, message


_KIND_STATUS = {
    "missing": Status.MISSING,
    "memory": Status.OUT_OF_MEMORY,
    "not_implemented": Status.FAILED,
    "bad_return": Status.FAILED,
    "exception": Status.ERROR,
    "protocol": Status.ERROR,
}


def _probe_error(reply: dict, what: str) -> ProbeError:
    kind = reply.get("kind", "exception")
    kind = kind if isinstance(kind, str) else "exception"
    message = text.cap_lines(reply.get("message", "failed"))
    # name the student's function (from the worker's traceback), not our internal probe
    what = text.cap(reply.get("where") or what, text.LINE_CHARS)
    if kind == "not_implemented":
        message_text = f"{what}: not implemented yet"
    elif kind == "missing":
        message_text = message  # the status already says "missing"
    else:
        message_text = f"{what}: {message}"
    tb = reply.get("traceback")
    if tb and kind != "not_implemented":
        message_text += "\n" + text.cap_lines(tb)
    return ProbeError(_KIND_STATUS.get(kind, Status.ERROR), text.cap(message_text))


@dataclass
class GradeOptions:
    isolation: str = "auto"
    notebook_mode: str = "definitions"
    data_dir: Optional[Path] = None
    threads: int = 1
    budget: fs.Budget = field(default_factory=fs.Budget)  # what one submission may hold


def describe_value(value: Any) -> str:
    """A short description of a returned value's structure, for messages (never the value itself)."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, dict):
        keys = sorted(str(k) for k in list(value)[:8])
        return f"a dict with keys {text.cap(keys, 200)}"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, (bool, int, float)):
        return f"the {type(value).__name__} {text.cap(repr(value), 40)}"
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    return "None" if value is None else f"a {type(value).__name__}"


class Audit:
    """What the student's code imported and called while some probes ran (see worker/audit.py).

    `events` are dicts {"module", "file", "line", "how"} attributed to the student's own files.
    """

    def __init__(self, session: "Session", modules: Iterable[str]):
        self.events: list[dict] = []
        modules = list(modules)
        files = {session.origins.get(m) for m in modules} - {None}
        for m, events in session.import_events.items():
            # what ran when the module was imported counts too, also when another module of the
            # submission imported it first (then its events are in that module's record)
            self.events += [e for e in events if m in modules or e.get("file") in files]

    def add(self, events: Any) -> None:
        if isinstance(events, list):
            self.events += [e for e in events[:200] if isinstance(e, dict)]

    def using(self, modules: Iterable[str], allowed: Iterable[str] = ()) -> list[str]:
        """'file line N: imports torch' for each event whose top-level module is in `modules`
        (or, when `modules` is empty, not in `allowed`); each place listed once."""
        modules, allowed = set(modules), set(allowed)
        found: dict[str, None] = {}
        for e in self.events:
            top = str(e.get("module", "")).partition(".")[0]
            if (top in modules) if modules else (top not in allowed):
                how = "imports" if e.get("how") == "import" else "calls"
                where = text.cap(e.get("file", "?"), 120)
                found[f"{where}, line {e.get('line', '?')}: {how} {text.cap(top, 60)}"] = None
        return list(found)


class CheckContext:
    """What a check's judge may use: probes into the worker, the submission's source, data, an RNG."""

    def __init__(self, session: "Session", check: Check, budget: float):
        # the check's time limit counts the time spent in the worker only: the grader's own work
        # between probes (importing torch for an oracle, a slow machine) never costs the student
        self._session, self.check, self._left = session, check, budget
        seed = (session.assignment.seed * 1_000_003 + zlib.crc32(check.id.encode())) % 2**32
        self.seed = seed
        self.rng = np.random.default_rng(seed)  # the check's inputs: fixed per assignment and check
        self.last_call = ""  # the student's function the last probe called (for messages)
        self.last_value: Any = None
        self._audit: Optional[Audit] = None

    def probe(self, name: str, *args: Any, reply_mb: Optional[int] = None, **kwargs: Any) -> Any:
        """Run probes.py's `name(submission, *args, **kwargs)` in the worker; return its plain value.

        The reply may be at most `reply_mb` MB (default: the check's `limits.reply_mb`).
        """
        if self._left <= 0:
            raise WorkerTimeout()
        if name == "call" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
            self.last_call = f"{args[0]}.py: {args[1]}()"
        else:
            self.last_call = f"the code of {self.check.module or 'the submission'}" + (
                ".py" if self.check.module else "")
        request = {"op": "probe", "probe": name, "args": list(args), "kwargs": kwargs, "seed": self.seed}
        if self._audit is not None:
            request["audit"] = True
        t0 = time.monotonic()
        try:
            reply = self._session.worker.request(request, self._left,
                                                 max_bytes=(reply_mb or self.check.limits.reply_mb) * 2**20)
        finally:
            self._left -= time.monotonic() - t0
        if self._audit is not None:
            self._audit.add(reply.get("audit"))
        if not reply.get("ok"):
            raise _probe_error(reply, name)
        self.last_value = reply.get("value")
        return self.last_value

    def audit(self, *modules: str) -> Audit:
        """Record what the student's code imports and calls in the probes from now on (and what it
        imported when `modules` were imported): for checks that a task is done by hand."""
        for m in modules:
            self._session._import(m)
        self._audit = Audit(self._session, modules)
        return self._audit

    def source(self, module: str) -> str:
        """The source of the file the worker imported for `module` (code cells of a notebook), as
        handed in: read here from the grader's checked copy, never executed."""
        return self._session.source(module)

    def share(self, name: str, array: np.ndarray) -> str:
        """Write an array the worker may read with np.load; returns the path the worker sees."""
        return self._session.share(name, array)

    def data(self):
        from .data import load_fashion_mnist

        return load_fashion_mnist(self._session.options.data_dir)


class Session:
    """The grading of one submission against one assignment.

    The submission is copied once, within its budget, into a checked copy (the snapshot) that the
    sandbox never sees; each worker's scratch copy is made from it, and static checks read the
    snapshot's copy of the very file the worker imported: one view of the submission.
    """

    def __init__(self, submission: Path, assignment: Assignment, options: GradeOptions):
        self.submission, self.assignment, self.options = submission, assignment, options
        self.isolation = resolve_isolation(options.isolation)
        self.worker: Optional[Worker] = None
        self.imported: set[str] = set()  # modules imported in the current worker
        self.import_failures: dict[str, tuple[Status, str]] = {}
        self.origins: dict[str, Optional[str]] = {}  # module → file it was imported from (relative)
        self.import_events: dict[str, list] = {}  # module → audit events while it was imported
        self.warnings: list[str] = []
        self.internal: list[str] = []
        self.rejected = ""
        self.snapshot: Optional[fs.Snapshot] = None
        self._snap_parent = Path(tempfile.mkdtemp(prefix="grader-snap-"))
        self.runtime = Runtime.create(assignment.probes)
        self._shared = Path(tempfile.mkdtemp(prefix="grader-share-", dir=self.runtime.folder))
        os.chmod(self._shared, 0o755)
        try:
            self.snapshot = fs.snapshot_copy(submission, self._snap_parent / "submission", options.budget)
            self.warnings += self.snapshot.left_out
        except fs.OverBudget as exc:
            self.rejected = f"submission rejected: {exc}"
        except OSError as exc:
            self.rejected = f"submission rejected: it cannot be read ({exc.strerror or exc})"

    # --- helpers for CheckContext -----------------------------------------------------------
    def source(self, module: str) -> str:
        self._import(module)  # the worker says which file it imported
        rel = self.origins.get(module)
        if not rel:
            raise CheckFailed(f"{module} was not loaded from a file of the submission")
        path = self.snapshot.path(rel) if self.snapshot else None
        if path is None:
            raise CheckFailed(f"{module} was loaded from {text.cap(rel, 200)}, which is not a file of the "
                              "submission as handed in (was it written while the code ran?)")
        notebook = rel.endswith(".ipynb")
        try:
            data = fs.read_regular(path, NOTEBOOK_LIMIT if notebook else SOURCE_LIMIT)
        except (OSError, ValueError) as exc:
            raise CheckFailed(f"{rel}: cannot be read as source ({exc})") from None
        if not notebook:
            return data.decode("utf-8", errors="replace")
        from ..worker.loader import notebook_source  # magics removed: the text parses as Python

        try:
            with text.time_bound(PARSE_SECONDS):
                return notebook_source(path)
        except ImportError as exc:
            raise CheckFailed(text.cap(exc)) from None
        except TimeoutError:
            raise CheckFailed(f"{rel}: reading its code took longer than {PARSE_SECONDS:g} s") from None

    def share(self, name: str, array: np.ndarray) -> str:
        path = self._shared / f"{name}.npy"
        if not path.exists():
            np.save(path, np.ascontiguousarray(array), allow_pickle=False)
            os.chmod(path, 0o644)
        rel = path.relative_to(self.runtime.folder)
        return f"/grader/{rel}" if self.isolation == "bwrap" else str(path)

    # --- workers ----------------------------------------------------------------------------
    def _data_dir(self) -> Optional[Path]:
        try:
            from .data import find_fashion_mnist

            return find_fashion_mnist(self.options.data_dir, download=False)
        except Exception:
            return None

    def _ensure_worker(self, limits: Limits) -> Worker:
        w = self.worker
        # the time limit is enforced per request by the grader: a worker serves any timeout
        if w is not None and w.alive() and replace(w.limits, timeout=0) == replace(limits, timeout=0):
            return w
        self.close_worker()
        self.worker = Worker(self.runtime, self.snapshot.root, limits, self.isolation,
                             notebook_mode=self.options.notebook_mode, data_dir=self._data_dir(),
                             threads=self.options.threads)
        self.imported = set()
        self.worker.start()
        return self.worker

    def close_worker(self, graceful: bool = True) -> None:
        """Stop the current worker; not `graceful` after a timeout or a crash: kill it at once."""
        if self.worker is not None:
            try:
                self.worker.close(graceful=graceful)
            finally:
                self.worker = None

    def close(self) -> None:
        """Stop the worker and remove every folder of this session; never raises."""
        try:
            self.close_worker()
        except Exception:
            self.internal.append(f"closing the worker: {traceback.format_exc(limit=3)}")
        self.runtime.cleanup()
        fs.remove_tree(self._snap_parent)

    def _import(self, module: str) -> None:
        if module in self.imported:
            return
        if module in self.import_failures:
            status, message = self.import_failures[module]
            raise ProbeError(status, message)
        try:
            reply = self.worker.request({"op": "import", "module": module, "seed": 0}, IMPORT_TIMEOUT)
        except WorkerTimeout:
            self.import_failures[module] = (
                Status.TIMEOUT, f"importing {module} took longer than {IMPORT_TIMEOUT:.0f} s "
                "(code at the top level of the module that never ends?)")
            self.close_worker(graceful=False)
            raise ProbeError(*self.import_failures[module]) from None
        except WorkerDied as exc:
            self.import_failures[module] = (Status.ERROR, f"importing {module}: {exc} "
                                            "(does the module call exit() at the top level?)")
            self.close_worker(graceful=False)
            raise ProbeError(*self.import_failures[module]) from None
        if not reply.get("ok"):
            err = _probe_error(reply, f"importing {module}")
            if err.status == Status.FAILED:  # e.g. NotImplementedError raised at import
                err.status = Status.ERROR
            self.import_failures[module] = (err.status, err.message)
            raise err
        warnings = reply.get("warnings", [])
        self.warnings += text.cap_list(warnings if isinstance(warnings, list) else [])
        origin = reply.get("origin")
        self.origins[module] = origin if isinstance(origin, str) and len(origin) < 4096 else None
        events = reply.get("imports")
        self.import_events[module] = events[:200] if isinstance(events, list) else []
        self.imported.add(module)

    # --- one check --------------------------------------------------------------------------
    def run_check(self, check: Check) -> CheckResult:
        t0 = time.monotonic()
        result = CheckResult(id=check.id, task=check.task, title=check.title, score=0.0,
                             max_score=float(check.points), status=Status.ERROR,
                             visibility=check.visibility, tolerance=check.tolerance, module=check.module)
        since = self.worker.output_size() if self.worker is not None else 0  # output of this check only
        ctx: Optional[CheckContext] = None
        try:
            if self.rejected:
                raise ProbeError(Status.ERROR, self.rejected)
            if check.needs_data and self._data_dir() is None:
                from .data import find_fashion_mnist

                find_fashion_mnist(self.options.data_dir)  # downloads, or raises DatasetMissing
            if check.module in self.import_failures:  # known to fail: no worker needed to say so
                raise ProbeError(*self.import_failures[check.module])
            try:
                worker = self._ensure_worker(check.limits)
            except (WorkerDied, WorkerTimeout, OSError) as exc:
                raise ProbeError(Status.ERROR, f"could not start the sandboxed worker: {exc}") from None
            since = worker.output_size()
            if check.module:  # a broken module must not cost checks that do not use it
                self._import(check.module)
            ctx = CheckContext(self, check, check.limits.timeout)
            outcome = check.run(ctx)
            if outcome is None:
                outcome = Outcome(1.0, "")
            fraction = min(1.0, max(0.0, float(outcome.fraction)))
            result.status = Status.PASSED if fraction >= 1.0 else Status.FAILED
            result.score = round(fraction * check.points, 4)
            result.message = outcome.message
            result.figures = list(outcome.figures)
        except CheckFailed as exc:
            fraction = min(1.0, max(0.0, float(exc.fraction)))
            result.status, result.score = Status.FAILED, round(fraction * check.points, 4)
            result.message = exc.message
            result.figures = list(exc.figures)
        except ProbeError as exc:
            result.status, result.message = exc.status, exc.message
        except ReplyTooLarge as exc:
            result.status = Status.FAILED
            result.message = f"{ctx.last_call if ctx else check.module}: {exc}"
            self._collect_and_kill(result, since)
        except WorkerTimeout:
            result.status = Status.TIMEOUT
            result.message = (f"did not finish within the time limit of {check.limits.timeout:g} s "
                              "(an endless loop, or far too slow?)")
            self._collect_and_kill(result, since)
        except WorkerDied as exc:
            result.status = Status.ERROR
            hint = " (os._exit, a crash in native code?)" if exc.returncode is not None else ""
            result.message = f"{exc} while running this check{hint}"
            self._collect_and_kill(result, since)
        except Exception as exc:  # a data problem or a bug of ours: never take the batch down
            from .data import DatasetMissing

            detail = f"{check.id}: {traceback.format_exc(limit=8)}"
            if isinstance(exc, DatasetMissing):
                result.message = f"cannot run this check here: {exc}"
            elif isinstance(exc, VALUE_ERRORS) and ctx is not None and ctx.last_call:
                # the judge could not use what the student's code returned: the submission's fault
                result.status = Status.FAILED
                result.message = (f"{ctx.last_call}: returned a value this check cannot use "
                                  f"({describe_value(ctx.last_value)}); see the statement for what "
                                  "it must return")
                result.internal = detail
            else:
                result.message = (f"this check could not be graded (internal grader error in check "
                                  f"{check.id}); your instructor can see the details")
                result.internal = detail
                self.internal.append(detail)
        if self.worker is not None and not result.output:
            result.output = self.worker.read_output(since)
        result.message = text.cap_lines(result.message)
        result.duration = round(time.monotonic() - t0, 3)
        return result

    def _collect_and_kill(self, result: CheckResult, since: int) -> None:
        if self.worker is not None:
            result.output = self.worker.read_output(since)
        self.close_worker(graceful=False)


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
    is a ValueError.
    """
    options = options or GradeOptions()
    submission = Path(submission).resolve()
    checks = select_checks(assignment, hidden=hidden, tasks=tasks, check_ids=check_ids)
    t0 = time.monotonic()
    session = Session(submission, assignment, options)
    results: list[CheckResult] = []
    try:
        for check in checks:
            r = session.run_check(check)
            results.append(r)
            if on_result:
                on_result(r)
    finally:
        session.close()  # never raises: the report is written whatever cleanup does
    return Report(assignment=assignment.name, submission=str(submission), checks=results,
                  isolation=describe_isolation(session.isolation),
                  execution_time=time.monotonic() - t0, hidden_included=hidden,
                  warnings=text.cap_list(sorted(set(session.warnings))),
                  status="rejected" if session.rejected else "graded",
                  message=session.rejected, internal=session.internal)
