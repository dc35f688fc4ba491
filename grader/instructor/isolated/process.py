"""The grading process of one submission: started, waited for with a timeout, killed as a whole.

Forked from a multiprocessing forkserver that has imported the grader, torch and the assignments'
checks (preload.py): a fresh process per submission without paying Python's start and torch's import
(~1.7 s) each time. Where that is not possible (no forkserver on this OS, `GRADER_BATCH_FORK=0`, or
inside a daemonic process such as a Dask worker, which may not have multiprocessing children) a
fresh `python -P -m grader.instructor.isolated.child` is started instead. Either way the process
leads its own process group, so the budget kills it with everything it started.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Optional

_LIVE: set[int] = set()  # process (group) ids of the grading processes running now, killed if the caller stops
_LIVE_LOCK = threading.Lock()
_FORK_CONTEXT: Any = None


def kill_all() -> None:
    """Stop every grading process this process started (Ctrl-C, an error in the caller)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for pid in live:
        _kill_group(pid)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def fork_context():
    """The preloaded forkserver's multiprocessing context, or None where a fresh interpreter is used."""
    global _FORK_CONTEXT
    import multiprocessing as mp

    if os.environ.get("GRADER_BATCH_FORK", "1") == "0" or mp.current_process().daemon \
            or "forkserver" not in mp.get_all_start_methods():
        return None
    if _FORK_CONTEXT is None:
        os.environ.setdefault("PYTHONHASHSEED", "0")  # the forkserver and its children: set order fixed
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["grader.instructor.isolated.preload"])
        _FORK_CONTEXT = ctx
    return _FORK_CONTEXT


def warm_up() -> None:
    """Start the forkserver now (it imports torch and every assignment's checks, ~2 s), so that it
    is ready by the time the first submission is to be graded; nothing where there is none."""
    if fork_context() is not None:
        from multiprocessing import forkserver

        forkserver.ensure_running()


class GradingProcess:
    """A grading process, forked or spawned: wait with a timeout, kill its group, its exit code.

    `request` is child.py's request; `tmp` a private folder (request.json, stderr.txt). Registered
    as live from start to `close()`, so `kill_all` reaches it.
    """

    def __init__(self, request: dict, tmp: Path):
        self.proc: Optional[subprocess.Popen] = None
        self.mp: Any = None
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
                self.proc = subprocess.Popen([sys.executable, "-P", "-m", "grader.instructor.isolated.child"],
                                             stdin=stdin, stdout=subprocess.DEVNULL, stderr=stderr, cwd=tmp,
                                             env=env, start_new_session=True)  # own group: killed whole
            self.pid = self.proc.pid
        with _LIVE_LOCK:
            _LIVE.add(self.pid)

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

    def close(self) -> None:
        with _LIVE_LOCK:
            _LIVE.discard(self.pid)

    @property
    def returncode(self) -> Optional[int]:
        return self.mp.exitcode if self.mp is not None else self.proc.returncode
