"""Which isolation a worker gets: whether bubblewrap works here, the mode chosen, the user that runs
student code, how a report names it, and when grading is refused rather than run unisolated.

Modes:

* ``bwrap``: Linux with bubblewrap (see bwrap.py);
* ``rlimits``: POSIX resource limits, own session (Linux without bubblewrap, macOS, containers);
* ``process``: where POSIX resource limits do not exist (Windows): a plain subprocess with the
  wall-clock time limit, its whole process tree killed, its memory watched from outside (psutil).

`auto` takes the first that works here. As root, student code runs unprivileged: each worker as a
uid of its own from $GRADER_SANDBOX_UIDS (slots.py), or as the one sandbox user (nobody,
$GRADER_SANDBOX_USER) when that range is turned off; when that uid cannot run this Python (a pyenv
under /root, mode 0700) and bubblewrap is missing,
a student's own `grade check` runs it as the invoking user (said in the report), and instructor
grading is refused (`IsolationRefused`) unless explicitly allowed (`--allow-unisolated`). Instructor
grading without bubblewrap is refused the same way while the user that would run student code could
read the assignment's hidden material (exposure.py; `grade protect` fixes it), and always when the
grader is not root (student code would run as the grader's own user).
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from ..assignment import ENV_PATH
from . import bounds, slots
from .exposure import PROTECT_COMMAND, exposure_problem
from .host import HAVE_RLIMITS, RLIMIT_AS_ENFORCED, is_root, pwd

if TYPE_CHECKING:
    from ..assignment import Assignment

ISOLATION_MODES = ("auto", "bwrap", "rlimits", "process")
ALLOW_ENV = "GRADER_ALLOW_UNISOLATED"  # "1": instructor grading may run student code unisolated as root
PROBE_TIMEOUT = 60.0  # seconds for the sandbox user's test run of this Python (imports numpy)


class IsolationUnavailable(RuntimeError):
    """The isolation mode asked for does not exist here (bwrap without bubblewrap, rlimits on Windows)."""


class IsolationRefused(RuntimeError):
    """Instructor grading that would run untrusted code as root without isolation: never started."""


def sandbox_user_name() -> str:
    return os.environ.get("GRADER_SANDBOX_USER", "nobody")


def unprivileged_ids() -> tuple[int, int]:
    """(uid, gid) of the sandbox user ($GRADER_SANDBOX_USER, default nobody): what every worker runs
    as when uid slots are off (slots.py); with slots each worker leases its own uid instead."""
    try:
        pw = pwd.getpwnam(sandbox_user_name())  # type: ignore[union-attr]
        return pw.pw_uid, pw.pw_gid
    except (KeyError, AttributeError):  # no such user, or no pwd module (not POSIX)
        return 65534, 65534


@functools.lru_cache(maxsize=None)
def bwrap_works() -> bool:
    """True when bubblewrap is installed and can create the namespaces we need here."""
    exe = shutil.which("bwrap")
    if not exe or not sys.platform.startswith("linux"):
        return False
    args = [exe, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--die-with-parent"]
    if not is_root():
        args.append("--unshare-user")
    try:
        return subprocess.run(args + ["true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def resolve_isolation(mode: str = "auto") -> str:
    """The mode that will run: `auto` (or $GRADER_ISOLATION) becomes the strongest one available."""
    if mode not in ISOLATION_MODES:
        raise ValueError(f"isolation must be one of {ISOLATION_MODES}")
    if mode == "auto":
        mode = os.environ.get("GRADER_ISOLATION", "auto")
    if mode == "auto":
        return "bwrap" if bwrap_works() else ("rlimits" if HAVE_RLIMITS else "process")
    if mode == "bwrap" and not bwrap_works():
        raise IsolationUnavailable("bubblewrap (bwrap) is not installed or cannot create namespaces here")
    if mode == "rlimits" and not HAVE_RLIMITS:
        raise IsolationUnavailable("rlimits isolation needs POSIX resource limits, which this system does not "
                           "have (Windows): use --isolation auto or process")
    return mode


@functools.lru_cache(maxsize=None)
def sandbox_user_problem() -> str:
    """Why the sandbox user cannot run this Python and import numpy ("" when it can).

    Tried once per grader process (about 0.2 s), as root only: up front, rather than every check
    failing to start its worker.
    """
    if not is_root():
        return ""
    try:
        slot_range = slots.configured_range()
    except ValueError as exc:
        return str(exc)
    lease = None
    if slot_range is not None:  # tried as a uid of the range: all of them are "others" to the files
        try:
            lease = slots.acquire(slot_range)
        except (slots.NoFreeSlot, OSError) as exc:
            return f"no sandbox uid can be had ({exc})"
        uid = gid = lease.uid
        who = f"the sandbox uid {uid} (one of the {slots.describe_range(slot_range)})"
    else:
        uid, gid = unprivileged_ids()
        who = f"the sandbox user {sandbox_user_name()} (uid {uid})"
    try:
        return _run_probe(uid, gid, who)
    finally:
        if lease is not None:
            lease.release()


def _run_probe(uid: int, gid: int, who: str) -> str:
    real = os.path.realpath(sys.executable)
    python = sys.executable if real == sys.executable else f"{sys.executable} (→ {real})"
    try:
        done = subprocess.run([sys.executable, "-I", "-B", "-c", "import numpy"], user=uid, group=gid,
                              extra_groups=[], cwd="/", env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=PROBE_TIMEOUT)
    except PermissionError as exc:
        return f"{who} cannot run {python} ({exc.strerror})"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{who} cannot run {python} ({exc})"
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"{who} cannot run {python} and import numpy ({lines[-1] if lines else done.returncode})"
    return ""


def allowed_by_environment() -> bool:
    return os.environ.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Isolation:
    """The isolation a session's workers get: the mode, who runs student code, why so."""

    mode: str
    user: Optional[tuple[int, int]] = None  # (uid, gid) to run the worker as; None: the invoking user
    fallback: str = ""  # why a root grader runs student code as itself (the sandbox user's problem)
    # with `user`: the range each worker leases a uid of its own from (slots.py); None: `user` for all
    uid_range: Optional[tuple[int, int]] = None

    def describe(self) -> str:
        """The report's isolation line: what was and was not limited, exactly (bounds.describe: how
        the whole submission's memory and processes were)."""
        slot_who, memory, processes = bounds.describe(self.mode, self.user is not None, self.uid_range)
        whole = memory + (f", {processes}" if processes and processes != "not limited" else "")
        if self.mode == "bwrap":
            who = (slot_who or "as an unprivileged user") if is_root() else "as the current user"
            return f"bwrap: read-only system, scratch copy, no network, own pid namespace, rlimits, {who}; {whole}"
        if self.fallback:
            who = (f"as the invoking user (root): {self.fallback}, so your code ran unisolated with "
                   "root's rights")
        else:
            who = slot_who or "as the current user"
        if self.mode == "rlimits":
            memory_rlimit = "" if RLIMIT_AS_ENFORCED else " (ignored by this OS)"
            unbounded = "; processes not limited beyond the user's own" if processes == "not limited" else ""
            return (f"rlimits only (bubblewrap unavailable): own process group, rlimits (CPU, memory{memory_rlimit}, "
                    f"file size, open files), {who}; {whole}{unbounded}; files and network visible")
        unlimited = "CPU time, file size, open files and processes" if processes == "not limited" else \
            "CPU time, file size and open files"
        return (f"process only (no bubblewrap, no POSIX resource limits on this system): a plain subprocess, "
                f"{who}; wall-clock time limit per check, its whole process tree killed, {whole}; "
                f"{unlimited} not limited; files and network visible")


def sandbox_isolation(mode: str) -> Isolation:
    """`mode` with its default user: as root, unprivileged (a uid per slot unless slots are off)."""
    if not is_root():
        return Isolation(mode)
    return Isolation(mode, unprivileged_ids(), uid_range=slots.configured_range())


def plan_isolation(mode: str = "auto", *, instructor: bool = False, allow_unisolated: bool = False,
                   assignment: "Optional[Assignment]" = None) -> Isolation:
    """The isolation to grade with, or IsolationRefused (instructor grading only; see module doc).

    Without bubblewrap, instructor grading is also refused when the user that would run student code
    could read the grader-only material of `assignment` (exposure.py): as root, the sandbox user,
    unless `grade protect` made it the grader's alone; as any other user, always (it is the grader's
    own user).
    """
    mode = resolve_isolation(mode)
    allowed = allow_unisolated or allowed_by_environment()
    try:
        planned = sandbox_isolation(mode)
    except ValueError as exc:  # a malformed $GRADER_SANDBOX_UIDS
        raise IsolationUnavailable(str(exc)) from None
    if mode == "bwrap":  # bwrap mounts Python readable for the sandbox user and drops to it as root
        return planned
    if is_root():
        problem = sandbox_user_problem()
        if problem:
            if instructor and not allowed:
                raise IsolationRefused(refusal_message(problem))
            return Isolation(mode, None, fallback=problem)
    if instructor and not allowed:
        ids, who = sandbox_reader() if is_root() else (None, "")
        exposed = exposure_problem(assignment, ids, who)
        if exposed:
            raise IsolationRefused(exposure_refusal(exposed, mode, as_root=is_root()))
    return planned


def sandbox_reader() -> tuple[tuple[int, int], str]:
    """(uid, gid) and name of who runs student code as root, for the question "could it read this?":
    a uid of the slot range (gid = uid, no groups: what one may read, all may) or the one sandbox user."""
    uid_range = slots.configured_range()
    if uid_range:
        return (uid_range[0], uid_range[0]), f"sandbox uids {uid_range[0]}-{uid_range[1]}"
    return unprivileged_ids(), f"sandbox user {sandbox_user_name()}"


def refusal_message(problem: str) -> str:
    """What an instructor reads when grading is refused, with every way out."""
    return (
        "refusing to run untrusted submissions as root without isolation: bubblewrap is not available here "
        f"and {problem}. Do one of:\n"
        "  * install bubblewrap (apt-get install bubblewrap) where user namespaces are allowed (in Docker: "
        "--security-opt seccomp=unconfined, or a privileged container);\n"
        "  * make the virtual environment from a Python that user can read (e.g. /usr/bin/python3, or "
        "Python under /opt or /usr/local; not under /root, mode 0700), then reinstall the grader in it;\n"
        "  * on a disposable machine or container only, opt in: --allow-unisolated (or "
        f"{ALLOW_ENV}=1), which runs student code as root with resource limits only.")


def exposure_refusal(problem: str, mode: str, as_root: bool) -> str:
    """What an instructor reads when student code could read the hidden material, with every way out."""
    protect = (f"  * protect it: run `{PROTECT_COMMAND}` as root (with the same ${ENV_PATH}, if any): the "
               "grader's user then owns the assignments' folders, reference solutions and installed copies, "
               "and group and others may not read them (scripts/install as root and Gradescope's setup.sh "
               "do this);\n")
    if not as_root:
        protect = (f"  * grade as root after `{PROTECT_COMMAND}`: student code then runs as the sandbox user "
                   f"({sandbox_user_name()}), which may not read what that command protects;\n")
    return (
        f"refusing to grade with hidden checks: without bubblewrap (isolation {mode}), only file permissions "
        f"keep the hidden checks, oracles and solutions from student code, and {problem}\nDo one of:\n"
        f"{protect}"
        "  * install bubblewrap (apt-get install bubblewrap) where user namespaces are allowed;\n"
        "  * on a disposable machine or container only, opt in: --allow-unisolated (or "
        f"{ALLOW_ENV}=1), knowing that student code can then read them.")


def describe_isolation(mode: str) -> str:
    """The report's line for `mode` with its default user (kept for callers that have only a mode)."""
    return sandbox_isolation(mode).describe()
