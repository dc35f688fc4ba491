"""Starting, talking to and killing sandboxed workers.

Isolation levels (the report states which one graded a submission):

* ``bwrap`` (Linux with bubblewrap): the worker sees a read-only system and Python, a scratch copy of
  the submission as its only writable place besides a private /tmp, no network, its own pid
  namespace (everything it started dies with it), and nothing of the grader's project: not
  reference/, not the hidden checks, not other submissions.
* ``rlimits`` (no bubblewrap, e.g. macOS): resource limits, its own session/process group killed
  whole, leftover processes hunted down by an environment token and (Linux) by making the grader a
  child subreaper, a scratch copy as working directory. The file system and network stay visible:
  weaker, and documented as such (docs/security.md).

In both, a grader running as root runs student code as an unprivileged user (nobody by default).
"""
from __future__ import annotations

import ctypes
import functools
import json
import os
import pwd
import resource
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .model import Limits
from . import fs
from ..worker import protocol

WORKER_PACKAGE = Path(__file__).resolve().parents[1] / "worker"
ISOLATION_MODES = ("auto", "bwrap", "rlimits")
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_LIVE_WORKERS: set[int] = set()  # pids of the workers this process is running (never reaped as orphans)
_SPAWN_LOCK = threading.Lock()
_SUBREAPER = False  # whether this process is a child subreaper (see _become_subreaper)


class WorkerTimeout(Exception):
    pass


class WorkerDied(Exception):
    def __init__(self, message: str, returncode: Optional[int] = None):
        super().__init__(message)
        self.returncode = returncode


class ReplyTooLarge(WorkerDied):
    """A reply frame larger than the request allows: never read, the worker is killed."""


DEFAULT_REPLY_BYTES = 32 * 2**20  # the default reply limit per request (Limits.reply_mb)


def _unprivileged_ids() -> tuple[int, int]:
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


@functools.lru_cache(maxsize=None)
def _bwrap_help() -> str:
    try:
        out = subprocess.run([shutil.which("bwrap") or "bwrap", "--help"], capture_output=True,
                             text=True, timeout=10)
        return out.stdout + out.stderr
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _bwrap_has_size() -> bool:
    """bubblewrap >= 0.8 can bound a tmpfs (`--size`); older ones reject the option."""
    return "--size" in _bwrap_help()


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


def _system_binds() -> list[str]:
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


@dataclass
class Runtime:
    """A folder holding the worker package and the assignment's probes: all the sandbox may read."""

    folder: Path

    @classmethod
    def create(cls, probes: Path) -> "Runtime":
        folder = Path(tempfile.mkdtemp(prefix="grader-rt-"))
        shutil.copytree(WORKER_PACKAGE, folder / "gradeworker",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(probes, folder / "probes.py")
        os.chmod(folder, 0o755)
        return cls(folder)

    def cleanup(self) -> None:
        fs.remove_tree(self.folder)


def _copy_submission(src: Path, dest: Path, owner: Optional[tuple[int, int]]) -> None:
    """A scratch copy: student code may write here, and only here (under bwrap).

    `src` is the session's snapshot (grader.engine.fs.snapshot_copy), which the grader made and checked:
    folders and regular files only, within the submission's budget, nested at most a few levels.
    Links leaving the submission, FIFOs and devices were left out there.
    """
    shutil.copytree(src, dest, symlinks=True)
    if owner:
        for dirpath, dirnames, filenames in os.walk(dest):
            os.chown(dirpath, *owner)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), *owner)


class Worker:
    """One sandboxed worker process serving one submission, reused across checks."""

    def __init__(self, runtime: Runtime, submission: Path, limits: Limits, isolation: str,
                 notebook_mode: str = "definitions", data_dir: Optional[Path] = None,
                 threads: int = 1):
        self.runtime, self.submission, self.limits = runtime, submission, limits
        self.isolation, self.notebook_mode, self.data_dir = isolation, notebook_mode, data_dir
        self.threads = threads
        self.proc: Optional[subprocess.Popen] = None
        self._req = self._res = -1
        self.token = secrets.token_hex(16)
        self._next_id = 0
        self._root = os.geteuid() == 0
        self.scratch_parent = Path(tempfile.mkdtemp(prefix="grader-sub-"))
        self.scratch = self.scratch_parent / "submission"
        self.output_path = self.scratch_parent / "output.log"

    # --- life cycle -------------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> None:
        owner = _unprivileged_ids() if self._root else None
        _copy_submission(self.submission, self.scratch, owner)
        if owner:
            # the sandbox user may reach its scratch copy, but must not replace output.log next to it
            # by a symlink to a file that the grader would then show back as "the student's output"
            os.chmod(self.scratch_parent, 0o711)
        if self.isolation == "rlimits":
            _become_subreaper()  # escaped (setsid, double-forked) processes come back to us
        req_r, req_w = os.pipe()
        res_r, res_w = os.pipe()
        out = open(self.output_path, "ab")
        sub_path = "/submission" if self.isolation == "bwrap" else str(self.scratch)
        rt_path = "/grader" if self.isolation == "bwrap" else str(self.runtime.folder)
        config = {
            "req_fd": req_r, "res_fd": res_w, "submission": sub_path,
            "probes": f"{rt_path}/probes.py", "notebook_mode": self.notebook_mode,
            "drop_to": list(owner) if (owner and self.isolation == "bwrap") else None,
        }
        boot = (f"import sys; sys.path.insert(0, {rt_path!r}); "
                f"from gradeworker.main import main; main(sys.argv[1:])")
        python = [sys.executable, "-I", "-B", "-c", boot, json.dumps(config)]
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp" if self.isolation == "bwrap" else str(self.scratch),
            "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": str(self.threads), "OPENBLAS_NUM_THREADS": str(self.threads),
            "MKL_NUM_THREADS": str(self.threads), "MPLBACKEND": "Agg",
            "GRADER_WORKER_TOKEN": self.token,
        }
        if self.data_dir:
            env["GRADER_DATA"] = "/data" if self.isolation == "bwrap" else str(self.data_dir)
        if self.isolation == "bwrap":
            cmd = self._bwrap_command(env) + python
            popen_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            user = group = None
        else:
            cmd, popen_env = python, env
            user, group = (owner if owner else (None, None))
        limits = self.limits

        def preexec() -> None:  # runs in the child between fork and exec
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
            if self._root:  # per-uid count: only meaningful for the dedicated unprivileged user
                try:
                    resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
                except (ValueError, OSError):
                    pass

        kwargs = {}
        if user is not None:
            kwargs.update(user=user, group=group, extra_groups=[])
        try:
            with _SPAWN_LOCK:  # no orphan hunt (_kill_orphans) between the fork and the registration
                self.proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=popen_env,
                    pass_fds=(req_r, res_w), start_new_session=True, preexec_fn=preexec,
                    cwd=str(self.scratch), **kwargs)
                _LIVE_WORKERS.add(self.proc.pid)
        except BaseException as exc:
            for fd in (req_r, req_w, res_r, res_w):
                os.close(fd)
            if isinstance(exc, PermissionError) and user is not None:
                raise WorkerDied(
                    f"the sandbox user (uid {user}) cannot run {sys.executable} ({exc.strerror}): "
                    "install Python where that user can read it (e.g. not under /root, mode "
                    "0700) or use bwrap isolation") from None
            raise
        finally:
            out.close()
        os.close(req_r)
        os.close(res_w)
        os.set_blocking(req_w, False)  # requests are written with a deadline (see _write)
        self._req, self._res = req_w, res_r
        hello = self._read(timeout)
        if not hello.get("ready"):
            raise WorkerDied("the worker did not start")

    def _bwrap_command(self, env: dict[str, str]) -> list[str]:
        cmd = [shutil.which("bwrap") or "bwrap", "--die-with-parent", "--new-session",
               "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
               "--hostname", "sandbox", "--clearenv"]
        if self._root:
            # bwrap runs privileged to build the mounts; the worker's first act is to drop to nobody
            cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            cmd += ["--unshare-user"]
        cmd += ["--proc", "/proc", "--dev", "/dev"]
        # Writable tmpfs are the host's memory: /tmp (4 × the file size limit) and /dev/shm (1 ×;
        # multiprocessing needs it) are bounded where bubblewrap can (>= 0.8), mode 1777 so that the
        # sandbox user may write (as root they would be root-owned 0755); without --size, /dev/shm
        # stays bwrap's own (not writable as root).
        sized = _bwrap_has_size()
        perms = ["--perms", "1777"] if "--perms" in _bwrap_help() else []  # bubblewrap >= 0.5
        for folder, factor in (("/tmp", 4), ("/dev/shm", 1)):
            if sized:
                cmd += ["--size", str(factor * self.limits.file_size_mb * 2**20), *perms, "--tmpfs", folder]
            elif folder == "/tmp":
                cmd += [*perms, "--tmpfs", folder]
        # the system and Python binds come after the tmpfs mounts: a Python or venv living under
        # /tmp (a CI checkout's .venv) must stay visible on top of the sandbox's empty /tmp
        cmd += _system_binds()
        cmd += ["--ro-bind", str(self.runtime.folder), "/grader",
                "--bind", str(self.scratch), "/submission", "--chdir", "/submission"]
        if self.data_dir:
            cmd += ["--ro-bind", str(self.data_dir), "/data"]
        # bwrap's root is a tmpfs too, writable when bwrap runs as the user (no root): make it read-only
        cmd += ["--remount-ro", "/"]
        for k, v in env.items():
            cmd += ["--setenv", k, v]
        return cmd

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Kill the worker and everything it started; leave no process behind."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        _LIVE_WORKERS.discard(self.proc.pid)
        _kill_by_token(self.token)
        _kill_orphans(_unprivileged_ids()[0] if self._root else None)
        for fd in (self._req, self._res):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc = None

    def close(self, graceful: bool = True) -> None:
        """Shut the worker down (politely when `graceful` and it is idle), kill what is left."""
        if graceful and self.alive():
            try:
                self._write(protocol.dumps({"op": "shutdown"}), time.monotonic() + 1)
                self.proc.wait(timeout=2)
            except (OSError, WorkerDied, WorkerTimeout, subprocess.TimeoutExpired):
                pass
        self.kill()
        fs.remove_tree(self.scratch_parent)  # iterative, never raises: student code made this tree

    # --- requests ---------------------------------------------------------------------------
    def output_size(self) -> int:
        try:
            return self.output_path.stat().st_size
        except OSError:
            return 0

    def read_output(self, since: int, limit: int = 8000) -> str:
        """What student code printed since `since`, truncated: only ever shown, never parsed."""
        try:  # O_NOFOLLOW: never show another file, should output.log have been replaced by a link
            with os.fdopen(os.open(self.output_path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as f:
                f.seek(since)
                data = f.read(limit + 1)
        except OSError:
            return ""
        text = data[:limit].decode("utf-8", errors="replace")
        return text + ("\n… (output truncated)" if len(data) > limit else "")

    def request(self, message: dict, timeout: float, max_bytes: int = DEFAULT_REPLY_BYTES) -> dict:
        """Send one request and wait for its reply, all within `timeout` seconds.

        A reply larger than `max_bytes` is never read (ReplyTooLarge): the grader's memory per
        reply is bounded by what the check expects, not by what the worker sends.
        """
        deadline = time.monotonic() + timeout
        self._next_id += 1
        self._write(protocol.dumps(dict(message, id=self._next_id)), deadline)
        reply = self._read(deadline - time.monotonic(), max_bytes)
        if reply.get("id") != self._next_id:
            # the worker answers each request exactly once: any other frame was written by student
            # code on the result pipe. Its channel cannot be trusted any more: the caller kills it.
            raise WorkerDied("the worker's result channel carried a frame that is not the reply "
                             "(did the code write to the grader's pipe?)")
        return reply

    def _write(self, data: bytes, deadline: float) -> None:
        """Write a request; a worker that stops reading (e.g. a thread holding the GIL) times out."""
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._req, view):]
                continue
            except BlockingIOError:
                pass
            except OSError:  # EPIPE: the worker is gone
                raise self._died() from None
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerTimeout()
            select.select([], [self._req], [], left)

    def _read(self, timeout: float, max_bytes: int = DEFAULT_REPLY_BYTES) -> dict:
        deadline = time.monotonic() + timeout
        buf = bytearray()
        need = 8
        size = None
        while len(buf) < need:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerTimeout()
            ready, _, _ = select.select([self._res], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._res, min(need - len(buf), 1 << 20))
            if not chunk:
                raise self._died()
            buf += chunk
            if size is None and len(buf) >= 8:
                size = int.from_bytes(buf[:8], "big")
                if size > min(max_bytes, protocol.MAX_FRAME):
                    raise ReplyTooLarge(f"returned {size / 2**20:.1f} MB of data, more than the "
                                        f"{max_bytes / 2**20:g} MB this check expects")
                need = 8 + size
        try:
            return protocol.loads(bytes(buf[8:]))
        except protocol.ProtocolError as exc:  # garbage written on the pipe by student code
            raise WorkerDied(f"the worker sent a malformed frame ({exc})") from None

    def _died(self) -> WorkerDied:
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if code is not None and code < 0:
            how = f"was killed by signal {signal.Signals(-code).name}"
        elif code is not None:
            how = f"exited with code {code}"
        else:
            how = "closed its channel"
        return WorkerDied(f"the worker process {how}", code)


def _become_subreaper() -> bool:
    """Linux: make this process the child subreaper of everything it starts.

    A worker's descendant that leaves its session and double-forks is re-parented to us instead of
    init, so that `_kill_orphans` finds it even when it cleared its environment (token). Only the
    rlimits mode needs it (bwrap's pid namespace takes everything down with the worker).
    """
    global _SUBREAPER
    if not _SUBREAPER and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            _SUBREAPER = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except Exception:
            pass
    return _SUBREAPER


def _proc_stat(pid: str) -> Optional[tuple[int, int, int]]:
    """(ppid, session id, real uid) of a process, from /proc; None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        uid = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("Uid:"))
        return int(fields[1]), int(fields[3]), uid
    except (OSError, ValueError, StopIteration):
        return None


def _kill_orphans(sandbox_uid: Optional[int]) -> None:
    """Kill and reap the orphans re-parented to us (see _become_subreaper) that came from a worker.

    Ours are: children of this process that are not a running worker and are in another session than
    ours (every worker starts a new session, its descendants can never join ours) or, when the
    grader runs as root, belong to the sandbox user.
    """
    if not _SUBREAPER:
        return
    with _SPAWN_LOCK:
        _kill_orphans_locked(sandbox_uid)


def _kill_orphans_locked(sandbox_uid: Optional[int]) -> None:
    me, my_sid = os.getpid(), os.getsid(0)
    for _ in range(50):  # each round catches the children of the orphans killed in the last one
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in _LIVE_WORKERS:
                continue
            info = _proc_stat(entry)
            if info and info[0] == me and (info[1] != my_sid or info[2] == sandbox_uid):
                found.append(int(entry))
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in found:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _kill_by_token(token: str) -> None:
    """Kill processes that escaped the process group (setsid, double fork) but kept our token."""
    proc = Path("/proc")
    if not proc.is_dir():
        return
    needle = f"GRADER_WORKER_TOKEN={token}".encode()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue
