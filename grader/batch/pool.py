"""Run one submission's grading with a wall-clock budget; the local pool and the Dask backend.

`grade_submission(task)` is the unit of work everywhere: it writes the submission's files into a
fresh temporary folder, starts `python -m grader.batch.child` (one engine `Session`, its sandboxed
workers), waits at most the budget, and returns plain data: the report, or the error/timeout. It
runs in a thread of the local pool, or as a Dask task on a cluster worker; in both cases the grading
happens in a child *process*, so a crash of it never takes the pool (or a Dask worker) down, and
Dask's daemonic worker processes are fine (they start subprocesses, not multiprocessing children).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

STDERR_TAIL = 8000  # characters of the child's stderr kept for a crash message
_LIVE: set[subprocess.Popen] = set()  # grading processes of this batch, killed if the batch stops
_LIVE_LOCK = threading.Lock()


def kill_all() -> None:
    """Stop every grading process this batch started (Ctrl-C, an error in the batch itself)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for proc in live:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def grade_submission(task: dict[str, Any]) -> dict[str, Any]:
    """Grade one submission: task = {student, files: {path: bytes}, assignment, check_ids, options, budget}.

    Returns {student, ok, report | message/traceback, status, started_at, finished_at, duration, host}.
    Never raises for anything the submission or the grading does.
    """
    from .gradebook import now
    from .layouts import write_files

    started, t0 = now(), time.monotonic()
    base = {"student": task["student"], "started_at": started, "host": os.uname().nodename}
    tmp = Path(tempfile.mkdtemp(prefix="grade-batch-"))
    try:
        sub = tmp / "submission"
        sub.mkdir()
        write_files(task["files"], sub)
        request = {"submission": str(sub), "assignment": task["assignment"], "check_ids": task.get("check_ids"),
                   "options": task.get("options") or {}, "result": str(tmp / "result.json")}
        (tmp / "request.json").write_text(json.dumps(request))
        budget = float(task["budget"])
        with open(tmp / "request.json", "rb") as stdin, open(tmp / "stderr.txt", "wb") as stderr:
            env = dict(os.environ, PYTHONHASHSEED="0")
            # -P: the temporary folder (cwd) is not on sys.path; only the installed grader is imported
            proc = subprocess.Popen([sys.executable, "-P", "-m", "grader.batch.child"], stdin=stdin,
                                    stdout=subprocess.DEVNULL, stderr=stderr, cwd=tmp, env=env,
                                    start_new_session=True)  # its own group: killed whole at the budget
            with _LIVE_LOCK:
                _LIVE.add(proc)
            try:
                proc.wait(timeout=budget)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            except BaseException:  # interrupted (Ctrl-C): leave nothing running
                _kill_group(proc)
                raise
            finally:
                with _LIVE_LOCK:
                    _LIVE.discard(proc)
            if timed_out:
                _kill_group(proc)
        result_file = tmp / "result.json"
        if timed_out:
            out = {"ok": False, "status": "timeout",
                   "message": f"the grading of this submission took longer than its budget of {budget:g} s "
                              "(--timeout-per-submission); it was stopped"}
        elif result_file.is_file():
            out = json.loads(result_file.read_text())
            if not out.get("ok"):
                out["status"] = "error"
        else:
            err = (tmp / "stderr.txt").read_text(errors="replace")[-STDERR_TAIL:]
            how = (f"was killed by signal {-proc.returncode}" if proc.returncode < 0
                   else f"exited with code {proc.returncode}")
            out = {"ok": False, "status": "error", "message": f"the grading process {how} without a result",
                   "traceback": err}
        return {**base, **out, "finished_at": now(), "duration": round(time.monotonic() - t0, 3)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class LocalPool:
    """`jobs` submissions graded at a time on this machine (threads waiting on child processes)."""

    name = "local"

    def __init__(self, jobs: int):
        self.jobs = max(1, int(jobs))

    def run(self, tasks: Iterable[Callable[[], dict]], ) -> Iterator[dict]:
        """Yield results as they finish; `tasks` are thunks building a task (files read lazily)."""
        pending: set[Future] = set()
        it = iter(tasks)
        with ThreadPoolExecutor(self.jobs, thread_name_prefix="grade") as ex:
            try:
                for make in it:
                    pending.add(ex.submit(lambda m=make: grade_submission(m())))
                    if len(pending) >= self.jobs * 2:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        yield from (f.result() for f in done)
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (f.result() for f in done)
            finally:
                for f in pending:
                    f.cancel()
                if pending:  # stopped early (Ctrl-C, an error recording a result): stop the grading too
                    kill_all()


class DaskPool:
    """One Dask task per submission on a running `distributed` scheduler (pip install '.[dask]').

    The files travel inside the task (no shared file system needed); results come back to this
    process, which writes the gradebook as they arrive. At most twice the cluster's thread count of
    submissions is in flight, so a class of hundreds never sits in the scheduler's memory at once.
    """

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

    def run(self, tasks: Iterable[Callable[[], dict]]) -> Iterator[dict]:
        from distributed import as_completed

        limit = 2 * self.slots()
        it = iter(tasks)
        ac = as_completed()
        owner: dict[str, str] = {}

        def submit(make: Callable[[], dict]) -> None:
            task = make()
            # pure=False: every run grades again, never a cached result
            fut = self.client.submit(grade_submission, task, key=f"grade-{task['student']}-{time.time_ns()}",
                                     pure=False)
            owner[fut.key] = task["student"]
            ac.add(fut)

        for make in it:
            submit(make)
            if len(owner) >= limit:
                break
        for fut in ac:
            student = owner.pop(fut.key)
            try:
                result = fut.result()
            except Exception as exc:  # the Dask worker itself died (KilledWorker) or lost the task
                result = {"student": student, "ok": False, "status": "error",
                          "message": f"the Dask task failed: {type(exc).__name__}: {exc}", "traceback": "",
                          "started_at": "", "finished_at": "", "duration": 0.0}
            finally:
                fut.release()
            nxt = next(it, None)
            if nxt is not None:
                submit(nxt)
            yield result

    def close(self) -> None:
        if self._own:
            self.client.close()
