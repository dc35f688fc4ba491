"""Starting, talking to and killing sandboxed workers.

Isolation levels (the report states which one graded a submission):

* ``bwrap`` (Linux with bubblewrap): the worker sees a read-only system and Python, a scratch copy of
  the submission as its only writable place besides a private /tmp, no network, its own pid
  namespace (everything it started dies with it), and nothing of the grader's project: not
  reference/, not the hidden checks, not other submissions.
* ``rlimits`` (no bubblewrap, e.g. macOS): resource limits, its own session/process group killed
  whole, leftover processes hunted down by an environment token, a scratch copy as working
  directory. The file system and network stay visible: weaker, and documented as such.

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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .model import Limits
from .worker import protocol

WORKER_PACKAGE = Path(__file__).parent / "worker"
ISOLATION_MODES = ("auto", "bwrap", "rlimits")
_PR_SET_PDEATHSIG = 1


class WorkerTimeout(Exception):
    pass


class WorkerDied(Exception):
    def __init__(self, message: str, returncode: Optional[int] = None):
        super().__init__(message)
        self.returncode = returncode


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
    return args


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
        shutil.rmtree(self.folder, ignore_errors=True)


def _copy_submission(src: Path, dest: Path, owner: Optional[tuple[int, int]]) -> None:
    """A scratch copy: student code may write here, and only here (under bwrap)."""
    shutil.copytree(src, dest, symlinks=False, ignore_dangling_symlinks=True,
                    ignore=shutil.ignore_patterns(".git", "__pycache__", ".ipynb_checkpoints",
                                                  ".venv", "venv", "node_modules"))
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
            os.chown(self.scratch_parent, *owner)
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
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=popen_env,
            pass_fds=(req_r, res_w), start_new_session=True, preexec_fn=preexec,
            cwd=str(self.scratch), **kwargs)
        os.close(req_r)
        os.close(res_w)
        out.close()
        self._req, self._res = req_w, res_r
        hello = self._read(timeout, starting=True)
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
        cmd += _system_binds()
        cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                "--ro-bind", str(self.runtime.folder), "/grader",
                "--bind", str(self.scratch), "/submission", "--chdir", "/submission"]
        if self.data_dir:
            cmd += ["--ro-bind", str(self.data_dir), "/data"]
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
        _kill_by_token(self.token)
        for fd in (self._req, self._res):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc = None

    def close(self) -> None:
        if self.alive():
            try:
                protocol.write_frame(self._req, {"op": "shutdown"})
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        shutil.rmtree(self.scratch_parent, ignore_errors=True)

    # --- requests ---------------------------------------------------------------------------
    def output_size(self) -> int:
        try:
            return self.output_path.stat().st_size
        except OSError:
            return 0

    def read_output(self, since: int, limit: int = 8000) -> str:
        """What student code printed since `since`, truncated: only ever shown, never parsed."""
        try:
            with open(self.output_path, "rb") as f:
                f.seek(since)
                data = f.read(limit + 1)
        except OSError:
            return ""
        text = data[:limit].decode("utf-8", errors="replace")
        return text + ("\n… (output truncated)" if len(data) > limit else "")

    def request(self, message: dict, timeout: float) -> dict:
        self._next_id += 1
        message = dict(message, id=self._next_id)
        try:
            protocol.write_frame(self._req, message)
        except (BrokenPipeError, OSError):
            raise self._died() from None
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._next_id:
                return reply
            # a frame with a stale id can only be forged: ignore it

    def _read(self, timeout: float, starting: bool = False) -> dict:
        deadline = time.monotonic() + timeout
        buf = b""
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
                if size > protocol.MAX_FRAME:
                    raise WorkerDied("the worker sent an oversized frame")
                need = 8 + size
        return protocol.loads(buf[8:])

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
