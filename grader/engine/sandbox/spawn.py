"""Starting a worker process: resource limits, its own session, killed when the grader dies,
as the sandbox user when asked; registered so that the orphan hunt never takes it."""
from __future__ import annotations

import ctypes
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable, Optional

from ..model import Limits
from . import reaper
from .errors import WorkerDied

_PR_SET_PDEATHSIG = 1


def spawn(cmd: list[str], *, env: dict[str, str], cwd: Path, output: Path, pass_fds: tuple[int, ...],
          limits: Limits, user: Optional[tuple[int, int]] = None,
          count_processes: bool = False) -> subprocess.Popen:
    """Start `cmd` with `limits`, its stdout and stderr appended to `output`.

    `user` is the (uid, gid) to run as; `count_processes` applies the per-uid process limit, only
    meaningful for a dedicated unprivileged user.
    """
    kwargs = {}
    if user is not None:
        kwargs.update(user=user[0], group=user[1], extra_groups=[])
    out = open(output, "ab")
    try:
        with reaper.SPAWN_LOCK:  # no orphan hunt between the fork and the registration
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env,
                pass_fds=pass_fds, start_new_session=True,
                preexec_fn=_limiter(limits, count_processes), cwd=str(cwd), **kwargs)
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
    return proc


def _limiter(limits: Limits, count_processes: bool) -> Callable[[], None]:
    """What the child runs between fork and exec: die with the grader, then the resource limits."""

    def preexec() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the grader
        except Exception:
            pass
        mem = limits.memory_mb * 2**20
        for res, val in ((resource.RLIMIT_AS, mem), (resource.RLIMIT_CPU, limits.cpu_seconds),
                         (resource.RLIMIT_FSIZE, limits.file_size_mb * 2**20),
                         (resource.RLIMIT_NOFILE, limits.open_files), (resource.RLIMIT_CORE, 0)):
            try:
                resource.setrlimit(res, (val, val))
            except (ValueError, OSError):
                pass
        if count_processes:  # per-uid count: only meaningful for the dedicated unprivileged user
            try:
                resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
            except (ValueError, OSError):
                pass

    return preexec
