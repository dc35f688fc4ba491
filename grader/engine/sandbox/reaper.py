"""Killing a worker and whatever it left behind: its process group, its process tree (psutil, where
there are no process groups), processes that kept its environment token, and (Linux, rlimits mode)
orphans re-parented to the grader as child subreaper."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Optional

from .host import HAVE_KILLPG, psutil_module

_PR_SET_CHILD_SUBREAPER = 36
LIVE_WORKERS: set[int] = set()  # pids of the workers this process is running (never reaped as orphans)
SPAWN_LOCK = threading.Lock()  # held from a worker's fork to its registration in LIVE_WORKERS
_SUBREAPER = False  # whether this process is a child subreaper (see become_subreaper)


def kill_worker(proc: subprocess.Popen, token: str, sandbox_uid: Optional[int], tree: bool = False,
                own_uid: bool = False) -> None:
    """Kill the worker process and everything it started; leave no process behind.

    `tree`: also walk its process tree (the `process` mode, and wherever there are no process groups).
    `own_uid`: `sandbox_uid` is this worker's alone (a slot's, slots.py): the orphans to kill are
    exactly that uid's, never those of another worker of this grader.
    """
    if tree or not HAVE_KILLPG:
        kill_tree(proc.pid)  # first: the tree is found through the worker, which must still be alive
    if HAVE_KILLPG:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    LIVE_WORKERS.discard(proc.pid)
    _kill_by_token(token)
    _kill_orphans(sandbox_uid, own_uid)


def kill_tree(pid: int) -> None:
    """Kill `pid` and all its descendants (psutil; where it is missing, the process group must do).

    What a process group kill gives on POSIX, for Windows, where a worker's children are in no
    group the grader can kill; on POSIX it also catches a child that left the group (setsid) but
    not yet its parent."""
    psutil = psutil_module()
    if psutil is None:
        return
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except (psutil.Error, OSError):
        return
    for p in procs:
        try:
            p.kill()
        except (psutil.Error, OSError):
            pass
    if os.name == "nt":  # gone before the scratch copy is removed (open files lock it there);
        try:              # on POSIX a killed child may linger as a zombie: never wait for those
            psutil.wait_procs(procs[1:], timeout=5)
        except (psutil.Error, OSError):
            pass


def become_subreaper() -> bool:
    """Linux: make this process the child subreaper of everything it starts.

    A worker's descendant that leaves its session and double-forks is re-parented to us instead of
    init, so that `_kill_orphans` finds it even when it cleared its environment (token). Only the
    rlimits mode needs it (bwrap's pid namespace takes everything down with the worker).
    """
    global _SUBREAPER
    if not _SUBREAPER and sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _SUBREAPER = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except Exception:
            pass
    return _SUBREAPER


def _proc_stat(pid: str) -> Optional[tuple[int, int, int]]:
    """(ppid, session id, real uid) of a process, from /proc; None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        uid = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("Uid:"))
        return int(fields[1]), int(fields[3]), uid
    except (OSError, ValueError, StopIteration):
        return None


def _kill_orphans(sandbox_uid: Optional[int], own_uid: bool = False) -> None:
    """Kill and reap the orphans re-parented to us (see become_subreaper) that came from a worker.

    Ours are: children of this process that are not a running worker and are in another session than
    ours (every worker starts a new session, its descendants can never join ours) or, when the
    grader runs as root, belong to the sandbox user; with `own_uid`, exactly those of that uid.
    """
    if not _SUBREAPER:
        return
    with SPAWN_LOCK:
        _kill_orphans_locked(sandbox_uid, own_uid and sandbox_uid is not None)


def _kill_orphans_locked(sandbox_uid: Optional[int], own_uid: bool = False) -> None:
    me, my_sid = os.getpid(), os.getsid(0)
    for _ in range(50):  # each round catches the children of the orphans killed in the last one
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in LIVE_WORKERS:
                continue
            info = _proc_stat(entry)
            if not info or info[0] != me:
                continue
            if (info[2] == sandbox_uid) if own_uid else (info[1] != my_sid or info[2] == sandbox_uid):
                found.append(int(entry))
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in found:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _kill_by_token(token: str) -> None:
    """Kill processes that escaped the process group (setsid, double fork) but kept our token."""
    proc = Path("/proc")
    if not proc.is_dir():
        _kill_by_token_psutil(token)
        return
    needle = f"GRADER_WORKER_TOKEN={token}".encode()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


def _kill_by_token_psutil(token: str) -> None:
    """_kill_by_token without /proc (macOS, Windows): psutil reads other processes' environments."""
    psutil = psutil_module()
    if psutil is None:
        return
    for p in psutil.process_iter():
        try:
            if p.pid != os.getpid() and p.environ().get("GRADER_WORKER_TOKEN") == token:
                p.kill()
        except (psutil.Error, OSError):
            continue
