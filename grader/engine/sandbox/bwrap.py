"""The bubblewrap command line: a read-only system and Python, the runtime, the scratch copy,
bounded tmpfs, no network, its own pid namespace; nothing of the grader's project."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

from ..model import Limits

# where the sandbox sees its folders
RUNTIME_MOUNT = "/grader"
SUBMISSION_MOUNT = "/submission"
DATA_MOUNT = "/data"


@functools.lru_cache(maxsize=None)
def bwrap_help() -> str:
    try:
        out = subprocess.run([shutil.which("bwrap") or "bwrap", "--help"], capture_output=True,
                             text=True, timeout=10)
        return out.stdout + out.stderr
    except (OSError, subprocess.TimeoutExpired):
        return ""


def bwrap_has_size() -> bool:
    """bubblewrap >= 0.8 can bound a tmpfs (`--size`); older ones reject the option."""
    return "--size" in bwrap_help()


def command(runtime: Path, scratch: Path, env: dict[str, str], limits: Limits, *,
            data_dir: Optional[Path] = None, as_root: bool = False,
            tmp_dirs: Optional[tuple[Path, Path]] = None) -> list[str]:
    """bwrap and its options, to be followed by the command to run inside (with `env` only).

    `tmp_dirs`: host folders to serve as /tmp and /dev/shm, inside the scratch's bounded tmpfs
    (sandbox/disk.py), so that one bound covers every writable place; else bwrap's own tmpfs.
    """
    cmd = [shutil.which("bwrap") or "bwrap", "--die-with-parent", "--new-session",
           "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--hostname", "sandbox", "--clearenv"]
    if as_root:
        # bwrap runs privileged to build the mounts; the worker's first act is to drop to its sandbox uid
        cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        cmd += ["--unshare-user"]
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    # Writable tmpfs are the host's memory. With a bounded scratch tmpfs, /tmp and /dev/shm are
    # folders of it (one bound for all). Else /tmp (4 × the file size limit) and /dev/shm (1 ×;
    # multiprocessing needs it) are bounded where bubblewrap can (>= 0.8), never above the disk
    # limit, mode 1777 so that the sandbox user may write (as root they would be root-owned 0755);
    # without --size, /dev/shm stays bwrap's own (not writable as root).
    sized = bwrap_has_size()
    perms = ["--perms", "1777"] if "--perms" in bwrap_help() else []  # bubblewrap >= 0.5
    for i, (folder, factor) in enumerate((("/tmp", 4), ("/dev/shm", 1))):
        size = factor * limits.file_size_mb * 2**20
        if limits.disk_mb:
            size = min(size, limits.disk_mb * 2**20)
        if tmp_dirs is not None:
            cmd += ["--bind", str(tmp_dirs[i]), folder]
        elif sized:
            cmd += ["--size", str(size), *perms, "--tmpfs", folder]
        elif folder == "/tmp":
            cmd += [*perms, "--tmpfs", folder]
    # the system and Python binds come after the tmpfs mounts: a Python or venv living under
    # /tmp (a CI checkout's .venv) must stay visible on top of the sandbox's empty /tmp
    cmd += system_binds()
    cmd += ["--ro-bind", str(runtime), RUNTIME_MOUNT,
            "--bind", str(scratch), SUBMISSION_MOUNT, "--chdir", SUBMISSION_MOUNT]
    if data_dir:
        cmd += ["--ro-bind", str(data_dir), DATA_MOUNT]
    # bwrap's root is a tmpfs too, writable when bwrap runs as the user (no root): make it read-only
    cmd += ["--remount-ro", "/"]
    for k, v in env.items():
        cmd += ["--setenv", k, v]
    return cmd


def system_binds() -> list[str]:
    """Read-only binds of the system and of this Python, never of the project folder."""
    args: list[str] = []
    for top in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"):
        p = Path(top)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), top]
        elif p.is_dir():
            args += ["--ro-bind", top, top]
    for etc in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
                "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    seen: list[str] = []
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    roots |= {p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)}
    made: set[str] = set()
    for root in sorted(roots, key=len):
        real = os.path.realpath(root)
        if real.startswith("/usr/") or any(real == s or real.startswith(s + "/") for s in seen):
            continue
        seen.append(real)
        for dest in dict.fromkeys((real, root)):
            # bwrap creates missing parents with mode 0700 (e.g. /root for a pyenv Python): make them
            # 0755 so that the unprivileged user can still reach the Python inside
            for parent in reversed(Path(dest).parents[:-1]):
                if str(parent) not in made:
                    made.add(str(parent))
                    args += ["--perms", "0755", "--dir", str(parent)]
            args += ["--ro-bind", real, dest]
    for hidden in _grader_package_dirs(seen + [r for r in roots if os.path.isdir(r)]):
        args += ["--tmpfs", hidden, "--remount-ro", hidden]  # hidden checks, oracles: not in here
    return args


def _grader_package_dirs(bound: list[str]) -> list[str]:
    """Installed copies of the grader's own `assignments` package inside the bound folders.

    A regular (non-editable) install puts assignments/<name>/hidden.py and the oracles into
    site-packages, which the sandbox must see (numpy, torch): those folders get an empty tmpfs on top.
    """
    found = []
    candidates = [os.path.join(b, "assignments") for b in bound]
    try:
        import assignments  # the grader's own package, wherever it is installed

        candidates += [os.path.realpath(p) for p in assignments.__path__]
    except ImportError:
        pass
    for cand in dict.fromkeys(candidates):
        inside = cand.startswith(("/usr/", "/lib/", "/lib64/")) or any(
            cand == b or cand.startswith(b.rstrip("/") + "/") for b in bound)
        try:
            ours = any(os.path.exists(os.path.join(cand, d, "probes.py")) for d in os.listdir(cand))
        except OSError:
            ours = False
        if inside and ours:
            found.append(cand)
    return found
