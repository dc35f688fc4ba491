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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import numpy as np

from .assignment import Assignment
from .model import Check, CheckFailed, CheckResult, Limits, Outcome, Report, Status
from .sandbox import Runtime, Worker, WorkerDied, WorkerTimeout, describe_isolation, resolve_isolation

IMPORT_TIMEOUT = 60.0  # seconds to import a module (a notebook, torch): separate from check limits


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
    message = str(reply.get("message", "failed"))
    # name the student's function (from the worker's traceback), not our internal probe
    what = str(reply.get("where") or what)
    if kind == "not_implemented":
        text = f"{what}: not implemented yet"
    elif kind == "missing":
        text = message  # the status already says "missing"
    else:
        text = f"{what}: {message}"
    tb = reply.get("traceback")
    if tb and kind != "not_implemented":
        text += "\n" + str(tb)
    return ProbeError(_KIND_STATUS.get(kind, Status.ERROR), text)


@dataclass
class GradeOptions:
    isolation: str = "auto"
    notebook_mode: str = "definitions"
    data_dir: Optional[Path] = None
    threads: int = 1


class CheckContext:
    """What a check's judge may use: probes into the worker, the submission's source, data, an RNG."""

    def __init__(self, session: "Session", check: Check, budget: float):
        # the check's time limit counts the time spent in the worker only: the grader's own work
        # between probes (importing torch for an oracle, a slow machine) never costs the student
        self._session, self.check, self._left = session, check, budget
        seed = (session.assignment.seed * 1_000_003 + zlib.crc32(check.id.encode())) % 2**32
        self.seed = seed
        self.rng = np.random.default_rng(seed)  # the check's inputs: fixed per assignment and check

    def probe(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run probes.py's `name(submission, *args, **kwargs)` in the worker; return its plain value."""
        if self._left <= 0:
            raise WorkerTimeout()
        t0 = time.monotonic()
        try:
            reply = self._session.worker.request(
                {"op": "probe", "probe": name, "args": list(args), "kwargs": kwargs, "seed": self.seed},
                self._left)
        finally:
            self._left -= time.monotonic() - t0
        if not reply.get("ok"):
            raise _probe_error(reply, name)
        return reply.get("value")

    def source(self, module: str) -> str:
        """The module's source as text (code cells of a notebook), read here, never executed."""
        return self._session.source(module)

    def share(self, name: str, array: np.ndarray) -> str:
        """Write an array the worker may read with np.load; returns the path the worker sees."""
        return self._session.share(name, array)

    def data(self):
        from .data import load_fashion_mnist

        return load_fashion_mnist(self._session.options.data_dir)


class Session:
    """The grading of one submission against one assignment."""

    def __init__(self, submission: Path, assignment: Assignment, options: GradeOptions):
        self.submission, self.assignment, self.options = submission, assignment, options
        self.isolation = resolve_isolation(options.isolation)
        self.runtime = Runtime.create(assignment.probes)
        self.worker: Optional[Worker] = None
        self.imported: set[str] = set()  # modules imported in the current worker
        self.import_failures: dict[str, tuple[Status, str]] = {}
        self.warnings: list[str] = []
        self._shared = Path(tempfile.mkdtemp(prefix="grader-share-", dir=self.runtime.folder))
        os.chmod(self._shared, 0o755)

    # --- helpers for CheckContext -----------------------------------------------------------
    def source(self, module: str) -> str:
        py = self.submission / f"{module}.py"
        if py.exists():
            return py.read_text(errors="replace")
        nb = self.submission / f"{module}.ipynb"
        if nb.exists():
            from .worker.loader import notebook_source  # magics removed: the text parses as Python

            try:
                return notebook_source(nb)
            except ImportError as exc:
                raise CheckFailed(str(exc)) from None
        raise CheckFailed(f"{module}.py is not in the submission")

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
        self.worker = Worker(self.runtime, self.submission, limits, self.isolation,
                             notebook_mode=self.options.notebook_mode, data_dir=self._data_dir(),
                             threads=self.options.threads)
        self.imported = set()
        self.worker.start()
        return self.worker

    def close_worker(self, graceful: bool = True) -> None:
        """Stop the current worker; not `graceful` after a timeout or a crash: kill it at once."""
        if self.worker is not None:
            self.worker.close(graceful=graceful)
            self.worker = None

    def close(self) -> None:
        self.close_worker()
        self.runtime.cleanup()

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
        for w in reply.get("warnings", []):
            self.warnings.append(str(w))
        self.imported.add(module)

    # --- one check --------------------------------------------------------------------------
    def run_check(self, check: Check) -> CheckResult:
        t0 = time.monotonic()
        result = CheckResult(id=check.id, task=check.task, title=check.title, score=0.0,
                             max_score=float(check.points), status=Status.ERROR,
                             visibility=check.visibility, tolerance=check.tolerance)
        since = self.worker.output_size() if self.worker is not None else 0  # output of this check only
        try:
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
        except CheckFailed as exc:
            fraction = min(1.0, max(0.0, float(exc.fraction)))
            result.status, result.score = Status.FAILED, round(fraction * check.points, 4)
            result.message = exc.message
        except ProbeError as exc:
            result.status, result.message = exc.status, exc.message
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

            if isinstance(exc, DatasetMissing):
                result.message = f"cannot run this check here: {exc}"
            else:
                result.message = f"internal grader error: {type(exc).__name__}: {exc}"
                self.warnings.append(f"{check.id}: {traceback.format_exc(limit=5)}")
        if self.worker is not None and not result.output:
            result.output = self.worker.read_output(since)
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
        session.close()
    return Report(assignment=assignment.name, submission=str(submission), checks=results,
                  isolation=describe_isolation(session.isolation),
                  execution_time=time.monotonic() - t0, hidden_included=hidden,
                  warnings=sorted(set(session.warnings)))
