"""Starting a worker process: resource limits, its own session, killed when the grader dies,
as the sandbox user when asked; registered so that the orphan hunt never takes it.

Where POSIX process control does not exist (Windows) the worker is a plain subprocess in its own
process group, given its pipes as inheritable handles; the `process` isolation mode bounds it from
outside instead (time limit and memory watch in worker.py, tree kill in reaper.py).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from ..model import Limits
from . import reaper
from .errors import WorkerDied
from .host import POSIX_SPAWN, resource

if TYPE_CHECKING:
    from .cgroup import Attach

_PR_SET_PDEATHSIG = 1


def child_ends(fds: tuple[int, ...]) -> tuple[int, ...]:
    """What the worker is told to open for `fds`: the same numbers on POSIX (pass_fds), inheritable
    handles on Windows (msvcrt.open_osfhandle turns them back into descriptors in the worker)."""
    if POSIX_SPAWN:
        return fds
    import msvcrt  # Windows only

    handles = []
    for fd in fds:
        handle = msvcrt.get_osfhandle(fd)
        os.set_handle_inheritable(handle, True)
        handles.append(handle)
    return tuple(handles)


def spawn(cmd: list[str], *, env: dict[str, str], cwd: Path, output: Path, pass_fds: tuple[int, ...],
          limits: Limits, user: Optional[tuple[int, int]] = None,
          count_processes: bool = False, rlimits: bool = True,
          attach: "Optional[Attach]" = None) -> subprocess.Popen:
    """Start `cmd` with `limits`, its stdout and stderr appended to `output`.

    `pass_fds` are child_ends(): descriptors (POSIX) or handles (Windows) the worker inherits.
    `user` is the (uid, gid) to run as; `count_processes` applies the per-uid process limit, only
    meaningful for a dedicated unprivileged user; `rlimits` False: no POSIX resource limits (the
    `process` mode, or a system without them). `attach` puts the child into its cgroup before exec
    (POSIX only; see cgroup.Attach): nothing it runs is ever outside the group.
    """
    kwargs: dict = {}
    if POSIX_SPAWN:
        kwargs.update(pass_fds=pass_fds, start_new_session=True,
                      preexec_fn=_limiter(limits, count_processes, rlimits and resource is not None, attach))
        if user is not None:
            kwargs.update(user=user[0], group=user[1], extra_groups=[])
    else:  # Windows: only the listed handles are inherited; a group of its own for CTRL_BREAK
        kwargs.update(close_fds=True, creationflags=subprocess.CREATE_NEW_PROCESS_GROUP,
                      startupinfo=subprocess.STARTUPINFO(lpAttributeList={"handle_list": list(pass_fds)}))
    try:
        out = open(output, "ab")
    except BaseException:
        if attach is not None:
            attach.finish()
        raise
    try:
        with reaper.SPAWN_LOCK:  # no orphan hunt between the fork and the registration
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env,
                                    cwd=str(cwd), **kwargs)
            reaper.LIVE_WORKERS.add(proc.pid)
    except PermissionError as exc:
        if user is None:
            raise
        raise WorkerDied(
            f"the sandbox user (uid {user[0]}) cannot run {sys.executable} ({exc.strerror}): "
            "install Python where that user can read it (e.g. not under /root, mode "
            "0700) or use bwrap isolation") from None
    finally:
        out.close()
        if attach is not None:
            attach.finish()
    return proc


def _limiter(limits: Limits, count_processes: bool, rlimits: bool,
             attach: "Optional[Attach]" = None) -> Callable[[], None]:
    """What the child runs between fork and exec: join its cgroup, die with the grader, then the
    resource limits."""

    def preexec() -> None:
        if attach is not None:
            attach.in_child()  # first: whatever the child allocates from here on is the group's
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the grader (Linux)
        except Exception:
            pass
        if not rlimits:
            return
        mem = limits.memory_mb * 2**20
        for res, val in ((resource.RLIMIT_AS, mem), (resource.RLIMIT_CPU, limits.cpu_seconds),
                         (resource.RLIMIT_FSIZE, limits.file_size_mb * 2**20),
                         (resource.RLIMIT_NOFILE, limits.open_files), (resource.RLIMIT_CORE, 0)):
            try:
                resource.setrlimit(res, (val, val))
            except (ValueError, OSError):
                pass
        if count_processes:  # per-uid count: only meaningful for a uid of the submission's own
            try:
                resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
            except (ValueError, OSError):
                pass

    return preexec
