"""Where the batch's submissions are graded: `jobs` at a time on this machine, or on a Dask cluster.

Each submission is graded by `grader.instructor.isolated.grade_isolated` (its own process, a
wall-clock budget, a Report whatever happens). Locally a thread per slot waits on that process;
on Dask it is one task per submission, which carries the submission's files (no shared file system
needed) and grades them in a child process of the Dask worker, so a crash never takes the worker
down. Both pools take jobs lazily and keep at most twice their slots in flight: the files of a
class of hundreds are never all in memory, nor in the scheduler.
"""
from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, TypeVar

from grader.engine.model import Report
from grader.instructor.isolated.grade import GradeRequest, grade_isolated
from grader.instructor.isolated.process import kill_all

from .gradebook import now

J = TypeVar("J")


@dataclass
class Graded:
    """A submission's grading: its report (or the timeout/error as one) and when it ran."""

    report: Report
    started_at: str
    finished_at: str


def grade_timed(request: GradeRequest) -> Graded:
    """The unit of work of both pools (a Dask task runs it on a worker)."""
    started = now()
    report = grade_isolated(request)
    return Graded(report, started, now())


class LocalPool:
    """`jobs` submissions graded at a time on this machine (threads waiting on grading processes)."""

    name = "local"

    def __init__(self, jobs: int):
        self.jobs = max(1, int(jobs))

    def run(self, jobs: Iterable[J], request_of: Callable[[J], GradeRequest]) -> Iterator[tuple[J, Graded]]:
        """Yield (job, its grading) as they finish; `request_of` is called when a job starts."""
        pending: dict[Future, J] = {}
        with ThreadPoolExecutor(self.jobs, thread_name_prefix="grade") as ex:
            try:
                for job in jobs:
                    pending[ex.submit(lambda j=job: grade_timed(request_of(j)))] = job
                    if len(pending) >= self.jobs * 2:
                        done, _ = wait(pending, return_when=FIRST_COMPLETED)
                        yield from ((pending.pop(f), f.result()) for f in done)
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    yield from ((pending.pop(f), f.result()) for f in done)
            finally:
                for f in pending:
                    f.cancel()
                if pending:  # stopped early (Ctrl-C, an error recording a result): stop the grading too
                    kill_all()

    def close(self) -> None:
        pass


class DaskPool:
    """One Dask task per submission on a running `distributed` scheduler (pip install '.[dask]')."""

    name = "dask"

    def __init__(self, address: Any):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("--scheduler needs Dask: pip install 'dl-grader[dask]'") from exc
        self.client = address if hasattr(address, "submit") else Client(address, timeout="30s")
        self._own = not hasattr(address, "submit")

    def slots(self) -> int:
        info = self.client.scheduler_info()
        return max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def run(self, jobs: Iterable[J], request_of: Callable[[J], GradeRequest]) -> Iterator[tuple[J, Graded]]:
        """Yield (job, its grading) as they finish; the request (with its files) is built at submission."""
        from distributed import as_completed

        limit = 2 * self.slots()
        it = iter(jobs)
        ac = as_completed()
        owner: dict[str, tuple[J, GradeRequest]] = {}

        def submit(job: J) -> None:
            request = request_of(job)
            # pure=False: every run grades again, never a cached result
            fut = self.client.submit(grade_timed, request, key=f"grade-{request.name}-{time.time_ns()}", pure=False)
            owner[fut.key] = (job, request)
            ac.add(fut)

        for job in it:
            submit(job)
            if len(owner) >= limit:
                break
        for fut in ac:
            job, request = owner.pop(fut.key)
            try:
                graded = fut.result()
            except Exception as exc:  # the Dask worker itself died (KilledWorker) or lost the task
                report = Report(assignment=request.assignment, submission=request.name, checks=[],
                                hidden_included=request.hidden, status="error",
                                message=f"the Dask task failed: {type(exc).__name__}: {exc}")
                graded = Graded(report, "", "")
            finally:
                fut.release()
            nxt = next(it, None)
            if nxt is not None:
                submit(nxt)
            yield job, graded

    def close(self) -> None:
        if self._own:
            self.client.close()
