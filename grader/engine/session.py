"""A grading session: one submission against one assignment, its snapshot, its workers, the
modules imported in them, the source static checks read, and each check run into a CheckResult.

One worker serves all the checks of a submission (importing torch costs ~1.7 s, so a worker per
check would spend most of the time importing); after a timeout or a crash it is killed with all it
started and a fresh one serves the remaining checks.
"""
from __future__ import annotations

import os
import tempfile
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

import numpy as np

from . import fs, text
from .assignment import Assignment
from .context import CheckContext
from .model import Check, CheckFailed, CheckResult, Limits, Status
from .sandbox import Runtime, Worker, WorkerDied, WorkerOutOfDisk, WorkerTimeout, plan_isolation
from .statuses import ProbeError, Verdict, from_exception, from_outcome, probe_error

IMPORT_TIMEOUT = 60.0  # seconds to import a module (a notebook, torch): separate from check limits
SOURCE_LIMIT = 2 * 2**20  # bytes of a module's .py source that the grader reads for static checks
NOTEBOOK_LIMIT = 16 * 2**20  # bytes of a notebook (outputs, images included) read for its code
PARSE_SECONDS = 10.0  # grader-side parse of one notebook's code (linear time: a generous bound)


@dataclass
class GradeOptions:
    """How a submission is graded: isolation, notebook mode, data folder, threads, its budget."""

    isolation: str = "auto"
    notebook_mode: str = "definitions"
    data_dir: Optional[Path] = None
    threads: int = 1
    budget: fs.Budget = field(default_factory=fs.Budget)  # what one submission may hold
    # instructor grading (hidden checks, batch, Gradescope) may run student code as root without
    # isolation when the sandbox user cannot run this Python: only when this says so
    allow_unisolated: bool = False
    # `grade selftest` only (nothing changes for students, batch or Gradescope):
    coverage: bool = False  # record which functions of the submission each check runs (Report.coverage)
    stop_early: bool = False  # stop at the first check that loses points; the rest are not run


class Session:
    """The grading of one submission against one assignment.

    The submission is copied once, within its budget, into a checked copy (the snapshot) that the
    sandbox never sees; each worker's scratch copy is made from it, and static checks read the
    snapshot's copy of the very file the worker imported: one view of the submission.
    """

    def __init__(self, submission: Path, assignment: Assignment, options: GradeOptions,
                 instructor: bool = False):
        """`instructor`: hidden checks are graded (never unisolated as root unless allowed:
        IsolationRefused is raised here, before anything is copied or run)."""
        self.submission, self.assignment, self.options = submission, assignment, options
        self.plan = plan_isolation(options.isolation, instructor=instructor,
                                   allow_unisolated=options.allow_unisolated, assignment=assignment)
        self.isolation = self.plan.mode
        self.worker: Optional[Worker] = None
        self.disk_bounds: dict[str, None] = {}  # how each worker's disk was bounded, for the report
        self.imported: set[str] = set()  # modules imported in the current worker
        self.import_failures: dict[str, tuple[Status, str]] = {}
        self.origins: dict[str, Optional[str]] = {}  # module → file it was imported from (relative)
        self.import_events: dict[str, list] = {}  # module → audit events while it was imported
        self.warnings: list[str] = []
        self.internal: list[str] = []
        # with options.coverage: check id -> `file:function` its probes ran (or `file:*`: it read
        # the file's source), and what ran while modules were imported (any check may depend on it)
        self.coverage: dict[str, set[str]] = {}
        self.import_coverage: set[str] = set()
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
                return notebook_source(path, module)
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
            from grader.data import find_fashion_mnist

            return find_fashion_mnist(self.options.data_dir, download=False)
        except Exception:
            return None

    def _ensure_worker(self, limits: Limits) -> Worker:
        w = self.worker
        # the time limit is enforced per request by the grader: a worker serves any timeout
        if w is not None and w.alive() and replace(w.limits, timeout=0) == replace(limits, timeout=0):
            return w
        self.close_worker()
        self.worker = Worker(self.runtime, self.snapshot.root, limits, self.plan,
                             notebook_mode=self.options.notebook_mode, data_dir=self._data_dir(),
                             threads=self.options.threads)
        self.imported = set()
        self.disk_bounds[self.worker.disk.describe()] = None
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
        request = {"op": "import", "module": module, "seed": 0, "modules": self._module_names()}
        if self.options.coverage:
            request["coverage"] = True
        try:
            reply = self.worker.request(request, IMPORT_TIMEOUT)
        except WorkerTimeout:
            self.import_failures[module] = (
                Status.TIMEOUT, f"importing {module} took longer than {IMPORT_TIMEOUT:.0f} s "
                "(code at the top level of the module that never ends?)")
            self.close_worker(graceful=False)
            raise ProbeError(*self.import_failures[module]) from None
        except WorkerOutOfDisk as exc:
            self.import_failures[module] = (Status.OUT_OF_DISK, f"importing {module}: {exc}")
            self.close_worker(graceful=False)
            raise ProbeError(*self.import_failures[module]) from None
        except WorkerDied as exc:
            self.import_failures[module] = (Status.ERROR, f"importing {module}: {exc} "
                                            "(does the module call exit() at the top level?)")
            self.close_worker(graceful=False)
            raise ProbeError(*self.import_failures[module]) from None
        self.add_coverage(None, reply.get("coverage"))
        if not reply.get("ok"):
            err = probe_error(reply, f"importing {module}")
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

    def add_coverage(self, check_id: Optional[str], names: object) -> None:
        """What the worker says ran (`file:function` names) for a check, or at import (None)."""
        if not self.options.coverage or not isinstance(names, list):
            return
        into = self.import_coverage if check_id is None else self.coverage.setdefault(check_id, set())
        into.update(n for n in names[:100_000] if isinstance(n, str))

    def _module_names(self) -> list[str]:
        """Every module the assignment asks for: the ones one notebook may stand in for."""
        return sorted({m for t in self.assignment.tasks for m in t.modules})

    def shared_notebook(self, module: str) -> bool:
        """Whether `module` was loaded from a notebook under another name (`assignment1.ipynb`),
        one that may hold several tasks: what it imports at its top level serves them all."""
        origin = self.origins.get(module)
        return bool(origin) and origin.endswith(".ipynb") and Path(origin).stem != module

    # --- one check --------------------------------------------------------------------------
    def run_check(self, check: Check) -> CheckResult:
        """Run one check; what it ended with (an outcome or an exception) becomes its result."""
        t0 = time.monotonic()
        if self.options.coverage:
            self.coverage.setdefault(check.id, set())  # a check that runs nothing of the submission
        since = self.worker.output_size() if self.worker is not None else 0  # output of this check only
        ctx: Optional[CheckContext] = None
        try:
            since = self._worker_for(check).output_size()
            if check.module:  # a broken module must not cost checks that do not use it
                self._import(check.module)
            ctx = CheckContext(self, check, check.limits.timeout)
            verdict = from_outcome(check.run(ctx))
        except Exception as exc:  # every exception has its status (statuses.EXCEPTION_VERDICTS)
            verdict = from_exception(exc, check, ctx)
        result = self._result(check, verdict, since)
        result.duration = round(time.monotonic() - t0, 3)
        return result

    def _worker_for(self, check: Check) -> Worker:
        """A worker ready for `check`, or the ProbeError that says why the check cannot run."""
        if self.rejected:
            raise ProbeError(Status.ERROR, self.rejected)
        if check.needs_data and self._data_dir() is None:
            from grader.data import find_fashion_mnist

            find_fashion_mnist(self.options.data_dir)  # downloads, or raises DatasetMissing
        if check.module in self.import_failures:  # known to fail: no worker needed to say so
            raise ProbeError(*self.import_failures[check.module])
        try:
            return self._ensure_worker(check.limits)
        except WorkerOutOfDisk as exc:  # the submission's own files do not fit in the disk limit
            raise ProbeError(Status.OUT_OF_DISK, f"could not start the sandboxed worker: {exc}") from None
        except (WorkerDied, WorkerTimeout, OSError) as exc:
            raise ProbeError(Status.ERROR, f"could not start the sandboxed worker: {exc}") from None

    def _result(self, check: Check, verdict: Verdict, since: int) -> CheckResult:
        result = CheckResult(id=check.id, task=check.task, title=check.title,
                             score=round(verdict.fraction * check.points, 4),
                             max_score=float(check.points), status=verdict.status,
                             visibility=check.visibility, message=verdict.message,
                             tolerance=check.tolerance, module=check.module,
                             figures=verdict.figures, internal=verdict.internal)
        if verdict.kill_worker:
            self._collect_and_kill(result, since)
        if verdict.grader_error:
            self.internal.append(verdict.internal)
        if self.worker is not None and not result.output:
            result.output = self.worker.read_output(since)
        result.message = text.cap_lines(result.message)
        return result

    def _collect_and_kill(self, result: CheckResult, since: int) -> None:
        if self.worker is not None:
            result.output = self.worker.read_output(since)
        self.close_worker(graceful=False)
