"""A cgroup per worker: the kernel bounds the memory and the number of processes of a submission's
whole process tree (forks, setsid and double-forked children included), where cgroups exist and the
grader may write them (as root; or a cgroup v2 delegated to its user).

* v2 (unified): `memory.max` (+ `memory.swap.max` 0, `memory.oom.group` 1), `pids.max`; OOM kills
  are counted in `memory.events`.
* v1 (a `memory` and a `pids` hierarchy, as in many containers and on our CI machines):
  `memory.limit_in_bytes` (+ `memory.memsw.limit_in_bytes` where swap is accounted), `pids.max`;
  OOM kills are counted in `memory.oom_control`.

Groups are made in a folder `dl-grader` inside the grader's own cgroup (so that whatever bounds the
grader bounds them too), or (v2, when the grader's cgroup holds processes and so cannot hand its
controllers to children) beside it. `$GRADER_CGROUPS=off` never uses cgroups: the memory watch
(watch.py) and RLIMIT_NPROC bound the submission instead.

A child joins its group between fork and exec (`Attach`), before it runs any code of its own: by
then it already runs as the sandbox user and could not write root's `cgroup.procs` itself, so it
says its pid on a pipe and waits until the grader has moved it.
"""
from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .host import is_root

CGROUPS_ENV = "GRADER_CGROUPS"  # "off": no cgroups (the watcher bounds memory instead)
FOLDER = "dl-grader"  # the folder of the grader's groups inside (or beside) its own cgroup
KILL_ROUNDS = 50
REMOVE_SECONDS = 3.0  # waiting for killed tasks to leave a group before it can be removed


@dataclass(frozen=True)
class Support:
    """Where this grader can make groups: v1 or v2, the folder for memory (v2: for both), for pids."""

    version: int
    memory: Path
    pids: Optional[Path]  # None: the pids controller is not available (RLIMIT_NPROC only)

    def describe(self) -> str:
        return f"cgroup v{self.version}"

    def bases(self) -> list[Path]:
        """The folders in which groups are made (v1: one per hierarchy)."""
        return [self.memory] + ([self.pids] if self.pids is not None and self.version == 1 else [])


def enabled() -> bool:
    return os.environ.get(CGROUPS_ENV, "auto").strip().lower() not in ("off", "0", "no", "none")


def support() -> Optional[Support]:
    """What this grader can use (found once per process), None where no cgroup can be made."""
    return _support() if enabled() else None


@functools.lru_cache(maxsize=None)
def _support() -> Optional[Support]:
    if not sys.platform.startswith("linux"):
        return None
    try:
        mounts = _mounts()
        own = _own_cgroups()
    except (OSError, ValueError):
        return None
    # v1 hierarchies are root's (never delegated to a user); a v2 subtree may be delegated to us
    return _v2(mounts, own) or (_v1(mounts, own) if is_root() else None)


def _mounts() -> list[tuple[str, str, str, list[str]]]:
    """(root in the hierarchy, mount point, fs type, super options) of each cgroup mount."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if len(fields) >= 5 and len(rest) >= 3 and rest[0] in ("cgroup", "cgroup2"):
            point = fields[4].encode().decode("unicode_escape")  # \040 for a space
            found.append((fields[3], point, rest[0], rest[2].split(",")))
    return found


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per v1 controller (and "" for the v2 hierarchy)."""
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            own[c] = path
    return own


def _folder(mount_root: str, point: str, path: str) -> Optional[Path]:
    """The folder of cgroup `path` under a mount of the hierarchy at `mount_root`, if it shows it."""
    root = mount_root.rstrip("/")
    if path != root and not path.startswith(root + "/"):
        return None  # our cgroup is outside what this mount shows (a container's view)
    return Path(point) / path[len(root):].lstrip("/")


def _usable_folder(folder: Path, probe: str) -> Optional[Path]:
    """`folder`, made if need be, when we may make groups in it (it holds `probe`, a control file)."""
    try:
        folder.mkdir(exist_ok=True)
    except OSError:
        return None
    return folder if (folder / probe).exists() and os.access(folder, os.W_OK) else None


def _v1(mounts, own) -> Optional[Support]:
    def base(controller: str, probe: str) -> Optional[Path]:
        for root, point, fstype, opts in mounts:
            if fstype == "cgroup" and controller in opts and controller in own:
                folder = _folder(root, point, own[controller])
                if folder is not None and folder.is_dir():
                    return _usable_folder(folder / FOLDER, probe)
        return None

    memory = base("memory", "memory.limit_in_bytes")
    return Support(1, memory, base("pids", "pids.max")) if memory else None


def _v2(mounts, own) -> Optional[Support]:
    path = own.get("")
    for root, point, fstype, _ in mounts:
        if fstype != "cgroup2" or path is None:
            continue
        mine = _folder(root, point, path)
        if mine is None or "memory" not in _read(mine / "cgroup.controllers").split():
            continue
        # inside our own cgroup when it hands memory to its children (it holds no process, or is the
        # root), else beside it: our parent hands memory to its children (we have it)
        for parent in (mine, mine.parent if mine != Path(point) else None):
            if parent is None or not _delegates(parent, "memory"):
                continue
            folder = _usable_folder(parent / FOLDER, "cgroup.subtree_control")
            if folder is None:
                continue
            _enable(folder, "memory")
            if "memory" in _read(folder / "cgroup.subtree_control").split():
                pids = folder if _delegates(parent, "pids") and _enable(folder, "pids") else None
                return Support(2, folder, pids)
            if parent == mine:
                try:
                    folder.rmdir()
                except OSError:
                    pass
    return None


def _delegates(folder: Path, controller: str) -> bool:
    """Whether the children of `folder` get `controller`; enabling it where it may be (no process)."""
    return controller in _read(folder / "cgroup.subtree_control").split() or _enable(folder, controller)


def _enable(folder: Path, controller: str) -> bool:
    try:
        (folder / "cgroup.subtree_control").write_text(f"+{controller}")
        return True
    except OSError:  # EBUSY: the folder holds processes; EACCES, ENOENT: not ours
        return False


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _write(path: Path, value: "int | str") -> None:
    path.write_text(str(value))


class Group:
    """One worker's cgroup (v2: one folder; v1: one in the memory and one in the pids hierarchy)."""

    def __init__(self, support: Support, name: str):
        self.support, self.name = support, name
        self.memory_dir = support.memory / name
        self.pids_dir = support.pids / name if support.pids is not None and support.version == 1 else None
        self.dirs: list[Path] = []

    @classmethod
    def create(cls, support: Support, name: str, memory_bytes: int, processes: int) -> "Group":
        """A new group bounding memory and processes; OSError when the kernel refuses."""
        group = cls(support, name)
        try:
            for folder in (group.memory_dir, group.pids_dir):
                if folder is not None:
                    folder.mkdir()
                    group.dirs.append(folder)
            group._limit(memory_bytes, processes)
        except BaseException:
            group.remove()
            raise
        return group

    def _limit(self, memory_bytes: int, processes: int) -> None:
        m = self.memory_dir
        if self.support.version == 2:
            _write(m / "memory.max", memory_bytes)
            for name, value in (("memory.swap.max", 0), ("memory.oom.group", 1)):
                if (m / name).exists():  # no swap accounting / an older kernel: memory.max still holds
                    try:
                        _write(m / name, value)
                    except OSError:
                        pass
            if (m / "pids.max").exists():
                _write(m / "pids.max", processes)
            return
        _write(m / "memory.limit_in_bytes", memory_bytes)
        if (m / "memory.memsw.limit_in_bytes").exists():  # memory + swap: swapping out gains nothing
            try:
                _write(m / "memory.memsw.limit_in_bytes", memory_bytes)
            except OSError:
                pass
        if self.pids_dir is not None:
            _write(self.pids_dir / "pids.max", processes)

    @property
    def bounds_processes(self) -> bool:
        """Whether pids.max bounds this group (else RLIMIT_NPROC must)."""
        if self.support.version == 2:
            return (self.memory_dir / "pids.max").exists()
        return self.pids_dir is not None

    def attach(self, pid: int) -> None:
        for folder in self.dirs:
            _write(folder / "cgroup.procs", pid)

    def oom_kills(self) -> int:
        """How many processes of the group the kernel's OOM killer killed (at the limit)."""
        name = "memory.events" if self.support.version == 2 else "memory.oom_control"
        for line in _read(self.memory_dir / name).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def peak(self) -> Optional[int]:
        """The group's largest memory use in bytes, where the kernel says (v1; v2 from Linux 5.19)."""
        name = "memory.peak" if self.support.version == 2 else "memory.max_usage_in_bytes"
        value = _read(self.memory_dir / name).strip()
        return int(value) if value.isdigit() else None

    def processes(self) -> list[int]:
        pids: set[int] = set()
        for folder in self.dirs:
            pids.update(int(p) for p in _read(folder / "cgroup.procs").split() if p.isdigit())
        return sorted(pids)

    def kill(self) -> None:
        """SIGKILL every process of the group until none is left."""
        if self.support.version == 2 and (self.memory_dir / "cgroup.kill").exists():
            try:  # Linux >= 5.14: the kernel kills the whole group at once, forks included
                _write(self.memory_dir / "cgroup.kill", 1)
            except OSError:
                pass
        _kill_listed(self.processes)

    def remove(self) -> bool:
        """Kill what is left, then remove the group's folders; False when one could not be removed
        (it is removed when a grader next makes a group of this name)."""
        self.kill()
        done = True
        for folder in reversed(self.dirs):
            done = _rmdir(folder) and done
        self.dirs = [d for d in self.dirs if d.exists()]
        return done


def _kill_listed(list_pids) -> None:
    for round_ in range(KILL_ROUNDS):
        pids = list_pids()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.002 * min(round_ + 1, 10))


def _rmdir(folder: Path) -> bool:
    """Remove an empty group; killed tasks leave it a moment after their SIGKILL (EBUSY until then)."""
    deadline = time.monotonic() + REMOVE_SECONDS
    while True:
        try:
            folder.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            _kill_listed(lambda: [int(p) for p in _read(folder / "cgroup.procs").split() if p.isdigit()])
            time.sleep(0.01)


def remove_stale(support: Support, prefix: str) -> None:
    """Remove the groups whose name starts with `prefix` that a grader left behind (it was killed
    before it could), killing what is still in them."""
    for base in support.bases():
        for folder in base.glob(prefix + "*"):
            _remove_group(folder)


def _remove_group(folder: Path) -> None:
    if folder.is_dir():
        _kill_listed(lambda: [int(p) for p in _read(folder / "cgroup.procs").split() if p.isdigit()])
        _rmdir(folder)


class Attach:
    """Moves a child into a group between fork and exec (see the module doc).

    Give `in_child` to spawn's preexec step, call `finish()` once Popen returned (or failed); then
    `joined` says whether the child is in the group.
    """

    def __init__(self, group: Group):
        self.group = group
        self.joined = False
        self._pid_r, self._pid_w = os.pipe()  # child → grader: its pid
        self._go_r, self._go_w = os.pipe()  # grader → child: moved (or not), go on
        self._thread = threading.Thread(target=self._serve, daemon=True, name="grader-cgroup-attach")
        self._thread.start()

    def in_child(self) -> None:
        """In the child, after fork: only system calls (no lock another thread might hold)."""
        os.write(self._pid_w, str(os.getpid()).encode())
        os.read(self._go_r, 1)

    def _serve(self) -> None:
        try:
            data = os.read(self._pid_r, 32)
        except OSError:
            return
        if not data:  # the child died (or was never started) before saying its pid
            return
        try:
            self.group.attach(int(data))
            self.joined = True
        except (OSError, ValueError):
            pass
        finally:
            try:
                os.write(self._go_w, b"1")
            except OSError:
                pass

    def finish(self) -> None:
        """After Popen: close our ends (a child that never wrote makes the helper read EOF)."""
        os.close(self._pid_w)
        self._thread.join(10)
        for fd in (self._pid_r, self._go_r, self._go_w):
            os.close(fd)
