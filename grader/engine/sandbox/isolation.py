"""Which isolation a worker gets: whether bubblewrap works here, the mode chosen, how a report
names it, and the unprivileged user that runs student code when the grader is root."""
from __future__ import annotations

import functools
import os
import pwd
import shutil
import subprocess
import sys

ISOLATION_MODES = ("auto", "bwrap", "rlimits")


def unprivileged_ids() -> tuple[int, int]:
    """(uid, gid) of the sandbox user ($GRADER_SANDBOX_USER, default nobody)."""
    try:
        pw = pwd.getpwnam(os.environ.get("GRADER_SANDBOX_USER", "nobody"))
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return 65534, 65534


@functools.lru_cache(maxsize=None)
def bwrap_works() -> bool:
    """True when bubblewrap is installed and can create the namespaces we need here."""
    exe = shutil.which("bwrap")
    if not exe or not sys.platform.startswith("linux"):
        return False
    args = [exe, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--die-with-parent"]
    if os.geteuid() != 0:
        args.append("--unshare-user")
    try:
        return subprocess.run(args + ["true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def resolve_isolation(mode: str = "auto") -> str:
    if mode not in ISOLATION_MODES:
        raise ValueError(f"isolation must be one of {ISOLATION_MODES}")
    if mode == "auto":
        mode = os.environ.get("GRADER_ISOLATION", "auto")
    if mode == "auto":
        return "bwrap" if bwrap_works() else "rlimits"
    if mode == "bwrap" and not bwrap_works():
        raise RuntimeError("bubblewrap (bwrap) is not installed or cannot create namespaces here")
    return mode


def describe_isolation(mode: str) -> str:
    user = "as an unprivileged user" if os.geteuid() == 0 else "as the current user"
    if mode == "bwrap":
        return f"bwrap: read-only system, scratch copy, no network, own pid namespace, rlimits, {user}"
    return f"rlimits only (bubblewrap unavailable): own process group, rlimits, {user}; files and network visible"
