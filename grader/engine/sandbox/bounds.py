"""Bounds of one worker's whole submission, not of each of its processes: its memory, the number of
its processes, and the uid it runs as.

Composed per worker from slots.py (as root: a uid of its own per concurrent slot), cgroup.py (the
kernel bounds the group's memory and processes) and watch.py (the group's OOM kills noticed; where no
group can be made, the tree's memory summed and stopped above the limit). RLIMIT_AS and the other
rlimits (spawn.py) still bound each process; RLIMIT_NPROC is per uid, so it bounds a submission only
when its uid is its own (or when nothing else does).

    bounds = Bounds(limits, token, slot_range)
    user = bounds.acquire()           # (uid, gid) of the slot, or None: keep the user planned
    spawn(..., attach=bounds.attacher())        # the child joins the group before exec
    bounds.started(proc, stop)        # watch its memory; `stop` kills the worker's tree
    bounds.over_memory(), bounds.message()      # why the worker died
    bounds.release()                  # everything of the group and of the uid killed, both freed
"""
from __future__ import annotations

import subprocess
import threading
from typing import Callable, Optional

from ..model import Limits
from . import cgroup, slots
from .errors import WorkerDied
from .host import is_root
from .watch import MemoryWatch, can_watch


def describe(mode: str, user_switch: bool, slot_range: Optional[tuple[int, int]]) -> tuple[str, str, str]:
    """The report's words for `mode`: (who runs the code, how memory is bounded, how processes are:
    "" when the memory clause says it too, "not limited" when nothing bounds them)."""
    if not user_switch:
        who = ""
    elif slot_range:
        who = "as an unprivileged uid of its own (one per concurrent worker)"
    else:
        who = "as an unprivileged user (one for all concurrent workers)"
    support = cgroup.support()
    if support is not None and support.pids is not None:
        return who, f"memory and processes of the whole submission bounded by a {support.describe()}", ""
    if support is not None:
        memory = f"memory of the whole submission bounded by a {support.describe()}"
    elif can_watch():
        memory = "memory of its process tree watched (killed above the limit)"
    else:
        memory = "memory NOT limited (psutil is missing)"
    if user_switch and mode != "process":
        processes = "processes by RLIMIT_NPROC of its uid" if slot_range else "processes by RLIMIT_NPROC of that user"
    else:
        processes = "not limited"
    return who, memory, processes


def sweep() -> None:
    """Kill whatever runs as a sandbox uid that no live worker holds, and remove its group.

    For the caller of a grading process that was killed (its budget ran out) or died: its workers'
    uids were freed with its file descriptors, but an escaped descendant may still run as one. A uid
    held by a live worker (anywhere on this machine) is never touched. Root only; cheap: one scan
    of /proc and one try-lock per uid found.
    """
    if not is_root():
        return
    try:
        uid_range = slots.configured_range()
    except ValueError:
        return
    if uid_range is None:
        return
    support = cgroup.support()
    found = slots.uids_running(uid_range)
    for base in support.bases() if support else []:
        found |= {int(d.name.split("-")[1]) for d in base.glob("slot-*-*") if d.name.split("-")[1].isdigit()}
    for uid in sorted(u for u in found if uid_range[0] <= u <= uid_range[1]):
        try:
            lease = slots.acquire((uid, uid))  # kills what runs as it
        except (slots.NoFreeSlot, OSError):
            continue  # a live worker holds it
        try:
            if support is not None:
                cgroup.remove_stale(support, f"slot-{uid}-")
        finally:
            lease.release()


class Bounds:
    """What bounds one worker (see the module doc); one Bounds per worker, used once."""

    def __init__(self, limits: Limits, token: str, slot_range: Optional[tuple[int, int]]):
        self.limits, self.token, self.slot_range = limits, token, slot_range
        self.lease: Optional[slots.Lease] = None
        self.group: Optional[cgroup.Group] = None
        self.watch: Optional[MemoryWatch] = None
        self._attach: Optional[cgroup.Attach] = None
        self._over = threading.Event()

    @property
    def uid(self) -> Optional[int]:
        return self.lease.uid if self.lease else None

    def acquire(self) -> Optional[tuple[int, int]]:
        """Take a slot's uid (root, slots on) and make the group; the (uid, gid) to run as, or None.

        WorkerDied when no uid is free (every one of the range held by a live worker)."""
        if self.slot_range is not None and is_root():
            try:
                self.lease = slots.acquire(self.slot_range)
            except (slots.NoFreeSlot, OSError) as exc:
                raise WorkerDied(f"no sandbox uid for this worker: {exc}") from None
        support = cgroup.support()
        if support is not None:
            # named after the slot's uid when there is one: groups a grader killed while it held the
            # uid left behind are found (and removed) by the next worker that holds it
            name = f"worker-{self.token[:16]}"
            if self.lease is not None:
                cgroup.remove_stale(support, f"slot-{self.lease.uid}-")
                name = f"slot-{self.lease.uid}-{self.token[:8]}"
            try:
                self.group = cgroup.Group.create(support, name, self.limits.memory_mb * 2**20,
                                                 self.limits.processes)
            except OSError:
                self.group = None  # the kernel refused (a full hierarchy...): the watcher bounds memory
        return self.lease.ids if self.lease else None

    def per_uid_process_limit(self) -> bool:
        """Whether RLIMIT_NPROC should bound the worker's processes: its uid is its own, or nothing
        else counts them (with one shared uid and a pids group it would only couple the slots)."""
        return self.lease is not None or self.group is None or not self.group.bounds_processes

    def attacher(self) -> Optional[cgroup.Attach]:
        """For spawn(): moves the child into the group between fork and exec (None: no group)."""
        self._attach = cgroup.Attach(self.group) if self.group is not None else None
        return self._attach

    def started(self, proc: subprocess.Popen, stop: Callable[[], None]) -> None:
        """The worker runs: watch its memory. `stop` kills its process tree."""
        if self.group is not None and (self._attach is None or not self._attach.joined):
            self.group.remove()  # it never joined: its memory is watched instead
            self.group = None
        if self.group is None and not can_watch():
            return

        def over() -> None:
            self._over.set()
            stop()
            self.kill()

        self.watch = MemoryWatch(proc.pid, self.limits.memory_mb * 2**20, over, lambda: proc.poll() is None,
                                 group=self.group, uid=self.uid).start()

    def over_memory(self) -> bool:
        """Whether the submission was stopped for its memory (by the watch, or by the kernel)."""
        if self._over.is_set():
            return True
        try:
            return self.group is not None and self.group.oom_kills() > 0
        except (OSError, ValueError):
            return False

    def message(self) -> str:
        return (f"out of memory: the submission's processes together used more than "
                f"{self.limits.memory_mb} MB (this check's limit) and were stopped")

    def kill(self) -> None:
        """Kill every process of the group and of the slot's uid."""
        if self.group is not None:
            self.group.kill()
        if self.lease is not None:
            slots.kill_uid(self.lease.uid)

    def release(self) -> None:
        """Stop watching, kill everything of the group and of the uid, remove the group, free the uid."""
        if self.watch is not None:
            self.watch.stop()
        try:
            if self.group is not None:
                self.group.remove()
        finally:
            self.group = None
            if self.lease is not None:
                self.lease.release()
                self.lease = None
