"""How talking to a worker fails: it runs out of time, it dies, or it sends more than allowed."""
from __future__ import annotations

from typing import Optional


class WorkerTimeout(Exception):
    pass


class WorkerDied(Exception):
    def __init__(self, message: str, returncode: Optional[int] = None):
        super().__init__(message)
        self.returncode = returncode


class ReplyTooLarge(WorkerDied):
    """A reply frame larger than the request allows: never read, the worker is killed."""


class WorkerOutOfMemory(WorkerDied):
    """The memory watch (where the OS does not bound memory) killed the worker above its limit."""


class WorkerOutOfDisk(WorkerDied):
    """The submission's files filled its bounded scratch (sandbox/disk.py): the worker was stopped."""
