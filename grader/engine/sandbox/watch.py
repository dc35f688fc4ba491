"""Watching a submission's memory from outside, every `MEMORY_POLL` seconds, in a thread.

* With a cgroup (cgroup.py) the kernel bounds the memory; the watch only notices the group's OOM
  kills (the kernel kills one process, the others may go on) and stops the whole submission, so
  that the check is `out_of_memory`.
* Without one it sums the memory of the submission's processes and stops them above the limit: the
  worker's process tree and, with a uid per slot, every process of that uid (which also catches a
  child that left the tree by setsid and a double fork). On Linux a process counts its resident
  anonymous and shared-memory pages (`RssAnon + RssShmem`: what it allocated, a tmpfs or shared
  mapping included; not the library files every Python maps); elsewhere its resident set (psutil).
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Callable, Iterable, Optional

from .cgroup import Group
from .host import psutil_module
from .slots import uid_processes

MEMORY_POLL = 0.1  # seconds between two looks
UID_SCAN_EVERY = 10  # looks between two scans of all of /proc for the slot uid's processes
LINUX = sys.platform.startswith("linux") and os.path.isdir("/proc")


def can_watch() -> bool:
    """Whether memory can be summed here (/proc on Linux, psutil elsewhere)."""
    return LINUX or psutil_module() is not None


class MemoryWatch:
    """Calls `over()` once when the submission passes `limit` bytes (or the kernel OOM-killed in
    its group); runs until `stop()` or until `alive()` says the worker is gone."""

    def __init__(self, pid: int, limit: int, over: Callable[[], None], alive: Callable[[], bool], *,
                 group: Optional[Group] = None, uid: Optional[int] = None):
        self.pid, self.limit, self.group, self.uid = pid, limit, group, uid
        self._over, self._alive = over, alive
        self._stop = threading.Event()
        self.peak = 0  # the largest sum seen (the watcher; with a group see Group.peak)
        self._thread = threading.Thread(target=self._run, daemon=True, name="grader-memory-watch")

    def start(self) -> "MemoryWatch":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        extra: set[int] = set()  # processes of the slot uid outside the tree, from the last scan
        polls = 0
        while not self._stop.is_set() and self._alive():
            if self.group is not None:
                try:
                    over = self.group.oom_kills() > 0
                except (OSError, ValueError):
                    return
            else:
                if self.uid is not None and LINUX and polls % UID_SCAN_EVERY == 0:
                    extra = set(uid_processes(self.uid))
                used = usage([self.pid, *extra])
                self.peak = max(self.peak, used)
                over = used > self.limit
            if over:
                self._over()
                return
            polls += 1
            self._stop.wait(MEMORY_POLL)


def usage(roots: Iterable[int]) -> int:
    """Bytes used by `roots` and all their descendants (see the module doc for what counts)."""
    if LINUX:
        return sum(_linux_memory(p) for p in _linux_tree(roots))
    psutil = psutil_module()
    if psutil is None:
        return 0
    used, seen = 0, set()
    for pid in roots:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except (psutil.Error, OSError):
            continue
        for p in procs:
            if p.pid in seen:
                continue
            seen.add(p.pid)
            try:
                used += p.memory_info().rss
            except (psutil.Error, OSError):
                pass
    return used


def _linux_tree(roots: Iterable[int]) -> set[int]:
    """`roots` and their descendants, through /proc/<pid>/task/<tid>/children (no scan of /proc)."""
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    todo.extend(int(c) for c in f.read().split())
            except (OSError, ValueError):
                pass
    return seen


def _linux_memory(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            status = f.read()
    except OSError:
        return 0
    kb = 0
    for line in status.splitlines():
        if line.startswith((b"RssAnon:", b"RssShmem:")):
            try:
                kb += int(line.split()[1])
            except (IndexError, ValueError):
                pass
    return kb * 1024
