"""A uid of its own for each concurrent worker: what the kernel counts or allows per uid (RLIMIT_NPROC,
kill(-1), file ownership) never crosses from one submission to another graded on the same machine.

Only a grader running as root switches uids. The uids come from a range ($GRADER_SANDBOX_UIDS,
"lo-hi", default `DEFAULT_RANGE`; "off" runs every worker as the one sandbox user, nobody, as
before); setuid needs no passwd entry, the gid is the uid, no supplementary groups. A uid that has
a passwd entry (someone's account) is never used.

A worker holds its uid by an exclusive, non-blocking flock on `<LOCK_DIR>/<uid>.lock` (a folder only
root may enter) for its whole life: threads of one grader, the processes of a batch, Dask workers
and two `grade` commands never share one, and a grader that dies (kill -9) frees its uids with its
file descriptors. What may still run as a uid when it is taken (leftovers of a grader killed before
it could clean up) is killed then, and everything of the uid is killed when it is given back.
"""
from __future__ import annotations

import functools
import os
import signal
import stat
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional

from .host import fcntl, pwd

UIDS_ENV = "GRADER_SANDBOX_UIDS"
# Unused by convention: systemd leaves 60578-61183 free (below its DynamicUser 61184-65519), Debian
# allocates 60000-64999 only on demand, and below 65536 the range survives Docker's user-namespace
# remapping (65,536 uids). 500 slots: far more than the cores of any machine that grades.
DEFAULT_RANGE = (60600, 61099)
OFF_VALUES = ("off", "none", "no", "0", "")
KILL_ROUNDS = 50  # rounds of "find and SIGKILL" in kill_uid; each catches the forks of the last


class NoFreeSlot(RuntimeError):
    """Every uid of the range is held by a live worker on this machine."""


def configured_range() -> Optional[tuple[int, int]]:
    """The (lo, hi) uids of $GRADER_SANDBOX_UIDS (inclusive), None when turned off; ValueError when
    malformed (a range that would run student code as root, or as a system account, is refused)."""
    raw = os.environ.get(UIDS_ENV)
    if raw is None:
        return DEFAULT_RANGE
    if raw.strip().lower() in OFF_VALUES:
        return None
    try:
        lo, _, hi = raw.strip().partition("-")
        bounds = (int(lo), int(hi or lo))
    except ValueError:
        raise ValueError(f"{UIDS_ENV}={raw!r}: expected a range of uids such as "
                         f"{DEFAULT_RANGE[0]}-{DEFAULT_RANGE[1]}, or 'off'") from None
    if not 1000 <= bounds[0] <= bounds[1] < 2**32 - 2:
        raise ValueError(f"{UIDS_ENV}={raw!r}: the uids must be ordered, at least 1000 (not root, not a "
                         "system account) and below 4294967294")
    return bounds


def describe_range(bounds: tuple[int, int]) -> str:
    return f"uids {bounds[0]}-{bounds[1]} ({UIDS_ENV})"


@functools.lru_cache(maxsize=None)
def _has_account(uid: int) -> bool:
    if pwd is None:
        return False
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


def lock_dir() -> Path:
    """The folder of the lock files: the same for every grader on this machine, root's only.

    /run (a tmpfs: no stale files after a reboot) where it exists, else the temporary folder. A
    folder someone else made or may write (it could hold locks that never let go) is refused.
    """
    base = Path("/run") if os.path.isdir("/run") and os.access("/run", os.W_OK) else Path(tempfile.gettempdir())
    folder = base / "dl-grader-uids"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        raise PermissionError(f"{folder} must be a folder owned by root that nobody else may write "
                              "(remove it, the grader makes it again)")
    return folder


class Lease:
    """A uid held for one worker's life (see the module doc); `release()` gives it back."""

    def __init__(self, uid: int, fd: int):
        self.uid, self._fd = uid, fd

    @property
    def ids(self) -> tuple[int, int]:
        """(uid, gid) to run as: the gid is the uid (no group shared with anyone)."""
        return self.uid, self.uid

    def release(self) -> None:
        """Kill everything that runs as the uid, then free it (idempotent)."""
        if self._fd < 0:
            return
        try:
            kill_uid(self.uid)
        finally:
            os.close(self._fd)
            self._fd = -1


def acquire(bounds: tuple[int, int]) -> Lease:
    """The lowest free uid of `bounds`, held until released; NoFreeSlot when all are taken."""
    if fcntl is None:
        raise NoFreeSlot("uid slots need POSIX file locks (fcntl)")
    folder = lock_dir()
    for uid in range(bounds[0], bounds[1] + 1):
        if _has_account(uid):
            continue
        fd = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        kill_uid(uid)  # leftovers of a grader that died holding it: nobody else may run as it now
        return Lease(uid, fd)
    raise NoFreeSlot(f"every sandbox uid of {describe_range(bounds)} is in use by a running worker: "
                     "widen the range or grade fewer submissions at a time")


def _live_processes() -> Iterator[tuple[int, set[int]]]:
    """(pid, its real, effective, saved and file-system uids) of every live (not zombie) process."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as f:
                status = f.read().decode("ascii", "replace")
        except OSError:
            continue
        state, uids = "", set()
        for line in status.splitlines():
            if line.startswith("State:"):
                state = line.split()[1]
            elif line.startswith("Uid:"):
                uids = {int(u) for u in line.split()[1:] if u.isdigit()}
                break
        if state != "Z":
            yield int(entry), uids


def uid_processes(uid: int) -> list[int]:
    """Live (not zombie) processes whose real, effective, saved or file-system uid is `uid` (/proc)."""
    return [pid for pid, uids in _live_processes() if uid in uids]


def uids_running(bounds: tuple[int, int]) -> set[int]:
    """The uids of `bounds` that some live process runs as (one scan of /proc)."""
    return {u for _, uids in _live_processes() for u in uids if bounds[0] <= u <= bounds[1]}


def kill_uid(uid: int) -> int:
    """SIGKILL every process of `uid` until none is left (a fork bomb's forks included); the number
    of signals sent.

    Linux only (/proc); elsewhere there are no slots. Bounded: a bomb that outruns KILL_ROUNDS rounds
    is still bounded by its RLIMIT_NPROC or pids.max and is caught by the next taker of the uid.
    """
    if not os.path.isdir("/proc"):
        return 0
    killed = 0
    for round_ in range(KILL_ROUNDS):
        pids = uid_processes(uid)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        time.sleep(0.002 * min(round_ + 1, 10))  # let the killed exit before looking again
    return killed
