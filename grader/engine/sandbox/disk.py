"""The disk a submission may write: a bounded scratch, measured, and what it left elsewhere removed.

Where the grader may mount (Linux, root with CAP_SYS_ADMIN) a worker's scratch is a tmpfs of
`Limits.disk_mb` (size= and nr_inodes=): a write past it fails with ENOSPC. Under bwrap the
sandbox's /tmp and /dev/shm are folders of that same tmpfs, so one bound covers every place the
submission may write. Elsewhere the scratch is a plain folder whose size a watcher samples (the
worker's tree is killed above the bound: a soft bound, overshot by at most what can be written
between two samples). Either way a worker that filled its bound ends the check as `out_of_disk`.

Layout (one per worker)::

    <tmp>/grader-sub-<grader pid>-XXXX/   grader-owned, 0711, on the host's disk
        output.log                         the worker's stdout/stderr: outside the bound, so that it
                                           stays writable and readable when the scratch is full
                                           (RLIMIT_FSIZE bounds it)
        disk/                              the bound: a tmpfs, or a plain folder that is watched
            submission/                    the scratch copy: cwd (and $HOME outside bwrap)
            tmp/                           $TMPDIR; /tmp under bwrap when `disk/` is a tmpfs
            shm/                           /dev/shm under bwrap when `disk/` is a tmpfs

A grader killed before it could clean up (a batch's budget kills its grading process) leaves its
folder, and maybe a mount, behind: `sweep_stale` removes those of processes that no longer exist
(the grader's pid is in the folder name and in the tmpfs's source name).
"""
from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional

from .. import fs
from .host import is_root

MOUNT_ENV = "GRADER_SCRATCH_MOUNT"  # "0": never mount a tmpfs (the watcher bounds the scratch)
SOURCE_PREFIX = "grader-scratch-"  # the tmpfs's source name: grader-scratch-<pid of the grader>
FOLDER_PREFIX = "grader-sub-"
FULL_MARGIN = 256 * 1024  # a tmpfs with less free than this is full: the last write failed (ENOSPC)
ENTRY_BYTES = 4096  # what a file or folder costs at least in the watched count (its inode, a block)
BYTES_PER_INODE = 16 * 1024  # a tmpfs's inodes: one per 16 KiB of its size (kernel memory, not size)
MIN_INODES = 8192  # the submission's budget allows 5,000 files and folders
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")  # where any user may write on a POSIX host
TMPFS_LOOK = 0.2  # seconds between two looks at a tmpfs (the kernel bounds it: the look only names it)
WATCH_RATE = 4 * 2**30  # bytes/s a writer may reach: the watcher looks again before the headroom is gone
WATCH_LOOK = (0.01, 0.5)  # seconds between two walks of a watched folder, at least and at most
_SWEEP_EVERY = 30.0  # seconds between two sweeps of stale scratch folders in one process
_last_sweep = 0.0
_mount_refused = False  # the kernel said no once: do not try again in this process

_MS_NOSUID, _MS_NODEV, _MNT_DETACH = 2, 4, 2


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def mount_possible() -> bool:
    """Whether to try a tmpfs: Linux, root, not refused before, not switched off ($GRADER_SCRATCH_MOUNT=0)."""
    return (sys.platform.startswith("linux") and is_root() and not _mount_refused
            and os.environ.get(MOUNT_ENV, "1").strip() not in ("0", "no", "false"))


def _mount_tmpfs(target: Path, size: int) -> bool:
    """Mount a tmpfs of `size` bytes on `target`; False (and never again) where the kernel refuses."""
    global _mount_refused
    inodes = max(MIN_INODES, size // BYTES_PER_INODE)
    options = f"size={size},nr_inodes={inodes},mode=0711".encode()
    try:
        ok = _libc().mount(f"{SOURCE_PREFIX}{os.getpid()}".encode(), str(target).encode(), b"tmpfs",
                           _MS_NOSUID | _MS_NODEV, options) == 0
    except (OSError, AttributeError):
        ok = False
    if not ok:
        _mount_refused = True  # EPERM in a container without CAP_SYS_ADMIN: the watcher it is
    return ok


def _unmount(target: Path) -> None:
    try:
        _libc().umount2(str(target).encode(), _MNT_DETACH)  # lazy: a process still inside never blocks us
    except (OSError, AttributeError):
        pass


def mb(n: float) -> str:
    return f"{n / 2**20:.0f} MB"


class ScratchDisk:
    """One worker's bounded scratch (see the module docstring). `limit_mb` 0: not bounded;
    `boxed`: the worker runs under bwrap (then /tmp and /dev/shm are in the tmpfs too)."""

    def __init__(self, limit_mb: int, boxed: bool = False):
        sweep_stale()
        self.limit = max(0, int(limit_mb)) * 2**20
        self.boxed = boxed
        self.parent = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
        self.root = self.parent / "disk"
        self.root.mkdir()
        self.mounted = bool(self.limit) and mount_possible() and _mount_tmpfs(self.root, self.limit)
        self.submission = self.root / "submission"
        self.tmp = self.root / "tmp"
        self.shm = self.root / "shm"
        self.output = self.parent / "output.log"
        self.used_at_stop = 0  # what the bound measured when it stopped the worker
        self.last_used = 0  # what the last look measured

    @property
    def kind(self) -> str:
        """"tmpfs", "watcher" or "none" (no bound)."""
        return "tmpfs" if self.mounted else ("watcher" if self.limit else "none")

    def prepare(self, owner: Optional[tuple[int, int]]) -> None:
        """The folders beside the scratch copy (made by runtime.copy_submission): the worker's own."""
        for folder in (self.tmp, self.shm):
            folder.mkdir(mode=0o700)
            if owner:
                os.chown(folder, *owner)
        if owner:
            # the sandbox user may reach its folders, but must not replace output.log beside them
            # by a symlink to a file that the grader would then show back as "the student's output"
            os.chmod(self.parent, 0o711)
            os.chmod(self.root, 0o711)

    # --- measuring -----------------------------------------------------------------------------
    def used(self) -> int:
        """Bytes the bound counts now: the tmpfs's used blocks, or the folder's allocated size."""
        if self.mounted:
            try:
                s = os.statvfs(self.root)
            except OSError:
                return 0
            return (s.f_blocks - s.f_bfree) * s.f_frsize
        return tree_size(self.root, stop_above=self.limit or None)

    def exceeded(self) -> bool:
        """Whether the submission wrote past its bound (a full tmpfs: its last write failed)."""
        if not self.limit:
            return False
        if self.mounted:
            try:
                s = os.statvfs(self.root)
            except OSError:
                return False
            used = (s.f_blocks - s.f_bfree) * s.f_frsize
            full = s.f_bavail * s.f_frsize < FULL_MARGIN or (s.f_files and s.f_ffree == 0)
        else:
            used = tree_size(self.root, stop_above=self.limit)
            full = used > self.limit
        self.last_used = used
        if full:
            self.used_at_stop = max(self.used_at_stop, used)
        return bool(full)

    def next_look(self) -> float:
        """Seconds until the watch should look again: a tmpfs at leisure; a watched folder before a
        fast writer (WATCH_RATE) could use up what is left, so that it overshoots by little."""
        if self.mounted:
            return TMPFS_LOOK
        low, high = WATCH_LOOK
        return min(high, max(low, (self.limit - self.last_used) / WATCH_RATE))

    def message(self, copying: bool = False) -> str:
        """What a student reads when the bound stopped their code: written vs the limit (`copying`:
        the submission's own files did not fit, nothing ran)."""
        if copying:
            return (f"out of disk: the submission's files take more than {mb(self.limit)}, this check's disk "
                    "limit (it holds the files handed in and what the code writes); nothing was run")
        where = ("its scratch folder, /tmp and /dev/shm" if self.boxed else "its scratch folder and $TMPDIR"
                 ) if self.mounted else "its scratch folder"
        return (f"out of disk: the code wrote {mb(self.used_at_stop)} into {where}, which may hold "
                f"{mb(self.limit)} (this check's disk limit, the submission's own files included); "
                "its processes were stopped")

    def describe(self) -> str:
        """The report's words for this bound."""
        boxed = self.boxed
        if self.kind == "tmpfs":
            if boxed:
                return f"disk: a tmpfs of {mb(self.limit)} for the scratch copy, /tmp and /dev/shm"
            return (f"disk: a tmpfs of {mb(self.limit)} for the scratch copy and $TMPDIR (/tmp, /var/tmp "
                    "and /dev/shm not bounded, cleaned after)")
        if self.kind == "watcher":
            rest = ("" if boxed else
                    " (/tmp, /var/tmp and /dev/shm not bounded, cleaned after)" if is_root() else
                    " (/tmp, /var/tmp and /dev/shm not bounded)")
            return f"disk: scratch copy watched, stopped above {mb(self.limit)}{rest}"
        return "disk: not bounded"

    # --- cleanup -------------------------------------------------------------------------------
    def release(self) -> None:
        """Unmount (lazily) and remove everything; never raises."""
        if self.mounted:
            _unmount(self.root)
            self.mounted = False
        fs.remove_tree(self.parent)


def tree_size(root: Path, stop_above: Optional[int] = None) -> int:
    """Allocated bytes under `root` (a sparse file costs what it holds), ENTRY_BYTES at least per
    entry; iterative, never follows links, never raises; stops counting once above `stop_above`."""
    total = 0
    stack = [str(root)]
    while stack:
        try:
            it = os.scandir(stack.pop())
        except OSError:
            continue
        with it:
            for entry in it:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                total += max(ENTRY_BYTES, st.st_blocks * 512 if hasattr(st, "st_blocks") else st.st_size)
                if stat.S_ISDIR(st.st_mode):
                    stack.append(entry.path)
                if stop_above is not None and total > stop_above:
                    return total
    return total


# --- what a sandbox user left in the host's world-writable folders --------------------------------
def files_of(uid: int, folders: tuple[str, ...] = WORLD_WRITABLE, max_entries: int = 200_000) -> Iterator[Path]:
    """Entries owned by `uid` in `folders`: at their top level and inside the world-writable folders
    of others there (sticky /tmp/.X11-unix and the like), never inside a folder the uid cannot write.

    A function of the uid: with one sandbox uid per slot (or per worker) it names exactly what that
    slot's code left; with one uid shared by concurrent slots, what any of them left."""
    seen = 0
    stack = [Path(f) for f in folders]
    while stack:
        folder = stack.pop()
        try:
            it = os.scandir(folder)
        except OSError:
            continue
        with it:
            for entry in it:
                seen += 1
                if seen > max_entries:
                    return
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if st.st_uid == uid:
                    yield Path(entry.path)
                elif stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_IWOTH:
                    stack.append(Path(entry.path))


def remove_files_of(uid: int, folders: tuple[str, ...] = WORLD_WRITABLE, keep: frozenset = frozenset()) -> int:
    """Remove what `files_of` finds (after the uid's processes are gone), except the entries in `keep`
    (what the uid owned there before the worker started: with a shared uid such as `nobody`, another
    program's files); how many entries were removed."""
    found = [p for p in files_of(uid, folders) if str(p) not in keep]
    for path in found:
        fs.remove_tree(path)
    return len(found)


def snapshot_of(uid: int, folders: tuple[str, ...] = WORLD_WRITABLE) -> frozenset:
    """What `uid` owns in `folders` now, to be kept by `remove_files_of` later."""
    return frozenset(str(p) for p in files_of(uid, folders))


# --- scratch folders of graders that died -------------------------------------------------------
_FOLDER_RE = re.compile(rf"^{FOLDER_PREFIX}(\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale_mounts() -> Iterator[tuple[int, Path]]:
    """(pid, mount point) of our tmpfs mounts whose grader is gone."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    for line in lines:
        fields = line.split(" - ")
        if len(fields) != 2:
            continue
        after = fields[1].split()
        if len(after) < 2 or after[0] != "tmpfs" or not after[1].startswith(SOURCE_PREFIX):
            continue
        pid = after[1][len(SOURCE_PREFIX):]
        if pid.isdigit() and not _alive(int(pid)):
            point = fields[0].split()[4].replace("\\040", " ")
            yield int(pid), Path(point)


def sweep_stale(force: bool = False) -> int:
    """Unmount and remove the scratch of graders that died before cleaning up (killed by a batch's
    budget, kill -9); at most every _SWEEP_EVERY seconds unless `force`. How many were removed."""
    global _last_sweep
    now = time.monotonic()
    if os.name != "posix" or (not force and now - _last_sweep < _SWEEP_EVERY):
        return 0  # (Windows: os.kill(pid, 0) would terminate the process it asks about)
    _last_sweep = now
    removed = 0
    if sys.platform.startswith("linux") and is_root():
        for _pid, point in _stale_mounts():
            _unmount(point)
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return 0
    for entry in entries:
        m = _FOLDER_RE.match(entry.name)
        if m and not _alive(int(m.group(1))):
            try:
                if entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                    continue  # another user's grader: not ours to remove
            except (OSError, AttributeError):
                continue
            removed += fs.remove_tree(Path(entry.path))
    return removed
