"""Run one submission's grading with a wall-clock budget; the local pool and the Dask backend.

`grade_submission(task)` is the unit of work everywhere: it writes the submission's files into a
fresh temporary folder, starts a grading process (forked from a preloaded forkserver, or
`python -m grader.instructor.batch.child`; one engine `Session`, its sandboxed workers), waits at most the
budget, and returns plain data: the report, or the error/timeout. It
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
_LIVE: set[int] = set()  # process (group) ids of this batch's grading processes, killed if it stops
_LIVE_LOCK = threading.Lock()


def kill_all() -> None:
    """Stop every grading process this batch started (Ctrl-C, an error in the batch itself)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for pid in live:
        _kill_group(pid)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


_FORK_CONTEXT: Any = None


def fork_context():
    """A multiprocessing forkserver that has imported the grader, torch and the assignments' checks.

    Each submission's grading process is forked from it: a fresh process per submission, without
    paying Python's start and torch's import (~1.7 s) every time. None where that is not possible:
    no forkserver on this OS, `GRADER_BATCH_FORK=0`, or inside a daemonic process (a Dask worker),
    which may not have multiprocessing children: there a plain subprocess is started instead.
    """
    global _FORK_CONTEXT
    import multiprocessing as mp

    if os.environ.get("GRADER_BATCH_FORK", "1") == "0" or mp.current_process().daemon \
            or "forkserver" not in mp.get_all_start_methods():
        return None
    if _FORK_CONTEXT is None:
        os.environ.setdefault("PYTHONHASHSEED", "0")  # the forkserver and its children: set order fixed
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["grader.instructor.batch.preload"])
        _FORK_CONTEXT = ctx
    return _FORK_CONTEXT


class _Handle:
    """A grading process, forked or spawned: wait with a timeout, kill its group, its exit code."""

    def __init__(self, request: dict, tmp: Path):
        self.proc = self.mp = None
        ctx = fork_context()
        if ctx is not None:
            from .child import forked_main

            self.mp = ctx.Process(target=forked_main, args=(request, str(tmp / "stderr.txt")), daemon=False)
            self.mp.start()
            self.pid = self.mp.pid
        else:
            env = dict(os.environ, PYTHONHASHSEED="0")
            # -P: the temporary folder (cwd) is not on sys.path; only the installed grader is imported
            with open(tmp / "request.json", "rb") as stdin, open(tmp / "stderr.txt", "wb") as stderr:
                self.proc = subprocess.Popen([sys.executable, "-P", "-m", "grader.instructor.batch.child"], stdin=stdin,
                                             stdout=subprocess.DEVNULL, stderr=stderr, cwd=tmp, env=env,
                                             start_new_session=True)  # own group: killed whole at the budget
            self.pid = self.proc.pid

    def wait(self, timeout: float) -> bool:
        """True when it ended within `timeout` seconds."""
        if self.mp is not None:
            self.mp.join(timeout)
            return self.mp.exitcode is not None
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def kill(self) -> None:
        _kill_group(self.pid)  # the forked child made itself a session leader first thing
        if self.mp is not None:
            self.mp.kill()
            self.mp.join()
        else:
            self.proc.kill()
            self.proc.wait()

    @property
    def returncode(self) -> int:
        return self.mp.exitcode if self.mp is not None else self.proc.returncode


def grade_submission(task: dict[str, Any]) -> dict[str, Any]:
    """Grade one submission: task = {student, files: {path: bytes}, assignment, check_ids, options, budget}.

    Returns {student, ok, report | message/traceback, status, started_at, finished_at, duration, host}.
    Never raises for anything the submission or the grading does.
    """
    from .gradebook import now
    from .layouts import write_files

    started, t0 = now(), time.monotonic()
    base = {"student": task["student"], "started_at": started, "host": os.uname().nodename}
    if task.get("rejected"):  # the files could not be read when the task was made
        return {**base, "ok": False, "status": "rejected", "message": task["rejected"], "traceback": "",
                "finished_at": now(), "duration": 0.0}
    tmp = Path(tempfile.mkdtemp(prefix="grade-batch-"))
    try:
        sub = tmp / "submission"
        sub.mkdir()
        write_files(task["files"], sub)
        request = {"submission": str(sub), "assignment": task["assignment"], "check_ids": task.get("check_ids"),
                   "options": task.get("options") or {}, "result": str(tmp / "result.json")}
        (tmp / "request.json").write_text(json.dumps(request))
        budget = float(task["budget"])
        handle = _Handle(request, tmp)
        with _LIVE_LOCK:
            _LIVE.add(handle.pid)
        try:
            finished = handle.wait(budget)
        except BaseException:  # interrupted (Ctrl-C): leave nothing running
            handle.kill()
            raise
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(handle.pid)
        if not finished:
            handle.kill()
        result_file = tmp / "result.json"
        if not finished:
            out = {"ok": False, "status": "timeout",
                   "message": f"the grading of this submission took longer than its budget of {budget:g} s "
                              "(--timeout-per-submission); it was stopped"}
        elif result_file.is_file():
            out = json.loads(result_file.read_text())
            if not out.get("ok"):
                out["status"] = "error"
        else:
            err = (tmp / "stderr.txt").read_text(errors="replace")[-STDERR_TAIL:] if (tmp / "stderr.txt").exists() else ""
            code = handle.returncode
            how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
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
