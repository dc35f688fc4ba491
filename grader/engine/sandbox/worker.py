"""Worker: one sandboxed worker process serving one submission, reused across checks.

Starting one is a composition of this package's steps: a bounded scratch (disk.py) holding a copy of
the submission (runtime.py), the command (bwrap.py, or the bare Python under rlimits), the process
(spawn.py), the channel (channel.py), the bounds of the whole submission (bounds.py: its uid, cgroup,
memory watch); killing one leaves nothing behind (reaper.py, bounds.py, disk.py).
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Optional

from ...worker import protocol
from ..model import Limits
from . import bwrap, disk, reaper
from .channel import DEFAULT_REPLY_BYTES, Channel, pipes
from .bounds import Bounds
from .errors import WorkerDied, WorkerOutOfDisk, WorkerOutOfMemory, WorkerTimeout
from .host import is_root
from .isolation import Isolation, sandbox_isolation
from .runtime import Runtime, copy_submission
from .spawn import child_ends, spawn


class Worker:
    """One sandboxed worker process serving one submission, reused across checks.

    `isolation` is a mode (then the user is the default for it: the sandbox user as root) or an
    Isolation, which also says who runs the student's code (isolation.plan_isolation).
    """

    def __init__(self, runtime: Runtime, submission: Path, limits: Limits, isolation: "str | Isolation",
                 notebook_mode: str = "definitions", data_dir: Optional[Path] = None,
                 threads: int = 1):
        if isinstance(isolation, str):
            isolation = sandbox_isolation(isolation)
        self.runtime, self.submission, self.limits = runtime, submission, limits
        self.isolation, self.notebook_mode, self.data_dir = isolation.mode, notebook_mode, data_dir
        self.user = isolation.user  # None: the invoking user runs student code
        self.threads = threads
        self.proc: Optional[subprocess.Popen] = None
        self.channel: Optional[Channel] = None
        self.token = secrets.token_hex(16)
        self._next_id = 0
        self._root = is_root()
        # its uid (a slot's own, as root), cgroup and memory watch: taken at start, freed by close()
        self.bounds = Bounds(limits, self.token, isolation.uid_range if self.user is not None else None)
        self._over_disk = threading.Event()  # set when the disk bound stopped the worker
        self._uid_had: frozenset = frozenset()  # what the sandbox uid owned in /tmp & co. before
        # a tmpfs where the grader may mount, else a watched folder
        self.disk = disk.ScratchDisk(limits.disk_mb, boxed=self.isolation == "bwrap")
        self.scratch_parent = self.disk.parent
        self.scratch = self.disk.submission
        self.output_path = self.disk.output  # beside the bound, never in it: readable when it is full

    # --- life cycle -------------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> None:
        """Copy the submission, start the worker in its sandbox, wait for it to say it is ready."""
        self.user = self.bounds.acquire() or self.user  # a uid of its own for this worker's slot
        # bwrap as root starts as root and drops to the sandbox user inside; the others start as it
        owner = self.user if self._root else None
        if self._cleans_host_tmp():
            self._uid_had = disk.snapshot_of(self.user[0])  # kept at cleanup: not this worker's
        self._make_scratch(owner)
        if self.isolation == "rlimits":
            reaper.become_subreaper()  # escaped (setsid, double-forked) processes come back to us
        worker_ends, grader_ends = pipes()
        try:
            passed = child_ends(worker_ends)
            cmd, env, user = self._command(passed, owner)
            self.proc = spawn(cmd, env=env, cwd=self.scratch, output=self.output_path,
                              pass_fds=passed, limits=self.limits, user=user,
                              count_processes=owner is not None and self.bounds.per_uid_process_limit(),
                              rlimits=self.isolation != "process", attach=self.bounds.attacher())
        except BaseException:
            for fd in grader_ends:
                os.close(fd)
            raise
        finally:
            for fd in worker_ends:
                os.close(fd)
        self.channel = Channel(*grader_ends, died=self._died, threaded=self.isolation == "process")
        proc = self.proc
        self.bounds.started(proc, lambda: reaper.kill_tree(proc.pid))
        if self.disk.limit:
            threading.Thread(target=self._disk_watch, args=(proc,), daemon=True,
                             name="grader-disk-watch").start()
        if not self.channel.read(timeout).get("ready"):
            raise WorkerDied("the worker did not start")

    def _disk_watch(self, proc: subprocess.Popen) -> None:
        """Stop the worker's whole tree once its scratch is past the bound (then _died says so)."""
        while proc.poll() is None:
            if self.disk.exceeded():
                self._stop_over_disk(proc)
                return
            time.sleep(self.disk.next_look())

    def _stop_over_disk(self, proc: Optional[subprocess.Popen]) -> None:
        self._over_disk.set()
        if proc is not None:
            try:  # first the group (one call, at once: a writer goes on writing meanwhile), then the tree
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: the group is the worker's
            except (AttributeError, OSError):
                pass
            reaper.kill_tree(proc.pid)

    def _make_scratch(self, owner: Optional[tuple[int, int]]) -> None:
        try:
            copy_submission(self.submission, self.scratch, owner)
        except OSError:  # shutil.Error (ENOSPC on the tmpfs) for a submission larger than the bound
            if self.disk.exceeded():
                self._over_disk.set()
                raise WorkerOutOfDisk(self.disk.message(copying=True)) from None
            raise
        if not self.disk.mounted and self.disk.exceeded():  # the watched folder: the copy alone is over
            self._over_disk.set()
            raise WorkerOutOfDisk(self.disk.message(copying=True))
        # the folders beside the copy ($TMPDIR; /tmp, /dev/shm under bwrap) and their permissions
        self.disk.prepare(owner)
        if owner:  # no other slot's uid may read or list this copy
            os.chmod(self.scratch, 0o700)

    def _command(self, fds: tuple[int, int], owner: Optional[tuple[int, int]]
                 ) -> tuple[list[str], dict[str, str], Optional[tuple[int, int]]]:
        """(command, environment of the process started, user to start it as) for this isolation."""
        boxed = self.isolation == "bwrap"
        sub_path = bwrap.SUBMISSION_MOUNT if boxed else str(self.scratch)
        rt_path = bwrap.RUNTIME_MOUNT if boxed else str(self.runtime.folder)
        req_fd, res_fd = fds
        config = {
            "req_fd": req_fd, "res_fd": res_fd, "submission": sub_path,
            # no '/'-joined host paths: the sandbox's own paths are POSIX, the host's are the OS's
            "probes": f"{rt_path}/probes.py" if boxed else os.path.join(rt_path, "probes.py"),
            "notebook_mode": self.notebook_mode,
            "drop_to": list(owner) if (owner and boxed) else None,
            "handles": os.name == "nt",  # req_fd/res_fd are Windows handles (spawn.child_ends)
        }
        boot = (f"import sys; sys.path.insert(0, {rt_path!r}); "
                f"from gradeworker.main import main; main(sys.argv[1:])")
        python = [sys.executable, "-I", "-B", "-c", boot, json.dumps(config)]
        env = self._environment()
        if not boxed:
            return python, env, owner
        # bwrap sets the worker's environment itself (--clearenv, --setenv) and drops to the user
        sandbox = bwrap.command(self.runtime.folder, self.scratch, env, self.limits,
                                data_dir=self.data_dir, as_root=self._root,
                                tmp_dirs=(self.disk.tmp, self.disk.shm) if self.disk.mounted else None)
        return sandbox + python, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, None

    def _environment(self) -> dict[str, str]:
        """The worker's whole environment: nothing of the grader's leaks in."""
        boxed = self.isolation == "bwrap"
        env = {
            "PATH": os.pathsep.join(["/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": "/tmp" if boxed else str(self.scratch),
            # temporary files go inside the bound (outside bwrap /tmp is the host's, unbounded)
            "TMPDIR": "/tmp" if boxed else str(self.disk.tmp),
            "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": str(self.threads), "OPENBLAS_NUM_THREADS": str(self.threads),
            "MKL_NUM_THREADS": str(self.threads), "MPLBACKEND": "Agg",
            "GRADER_WORKER_TOKEN": self.token,
        }
        if self.data_dir:
            env["GRADER_DATA"] = bwrap.DATA_MOUNT if boxed else str(self.data_dir)
        if os.name == "nt":  # Python does not start on Windows without SYSTEMROOT; DLLs are found on PATH
            env["USERPROFILE"] = env["HOME"]
            env["TEMP"] = env["TMP"] = env["TMPDIR"]
            for name in ("SYSTEMROOT", "WINDIR"):
                if name in os.environ:
                    env[name] = os.environ[name]
            env["PATH"] = os.environ.get("PATH", "")
        return env

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Kill the worker and everything it started; leave no process behind."""
        if self.proc is not None:
            reaper.kill_worker(self.proc, self.token, self.user[0] if (self._root and self.user) else None,
                               tree=self.isolation == "process", own_uid=self.bounds.uid is not None)
            if self.channel is not None:
                self.channel.close()
            self.proc = None
        self.bounds.kill()  # everything of its cgroup and uid (the uid is freed by close(), last)

    def close(self, graceful: bool = True) -> None:
        """Shut the worker down (politely when `graceful` and it is idle), kill what is left."""
        if graceful and self.alive():
            try:
                self.channel.write(protocol.dumps({"op": "shutdown"}), time.monotonic() + 1)
                self.proc.wait(timeout=2)
            except (OSError, WorkerDied, WorkerTimeout, subprocess.TimeoutExpired):
                pass
        self.kill()
        self.disk.release()  # unmounted, removed: iterative, never raises (student code made this tree)
        if self._cleans_host_tmp():
            # outside bwrap /tmp, /var/tmp and /dev/shm are the host's: what the sandbox uid left there
            disk.remove_files_of(self.user[0], keep=self._uid_had)
        # last: once the uid is free another worker may take it and write as it
        self.bounds.release()  # the group removed, the uid freed

    def _cleans_host_tmp(self) -> bool:
        """Whether student code writes the host's /tmp, /var/tmp, /dev/shm as a uid of its own."""
        return bool(self._root and self.user and self.isolation != "bwrap")

    # --- requests ---------------------------------------------------------------------------
    def output_size(self) -> int:
        try:
            return self.output_path.stat().st_size
        except OSError:
            return 0

    def read_output(self, since: int, limit: int = 8000) -> str:
        """What student code printed since `since`, truncated: only ever shown, never parsed."""
        try:  # O_NOFOLLOW: never show another file, should output.log have been replaced by a link
            with os.fdopen(os.open(self.output_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as f:
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
        self.channel.write(protocol.dumps(dict(message, id=self._next_id)), deadline)
        reply = self.channel.read(deadline - time.monotonic(), max_bytes)
        if self.disk.exceeded():  # filled between two looks of the watch: the same status, every time
            self._stop_over_disk(self.proc)
            raise self._died()
        if reply.get("id") != self._next_id:
            # the worker answers each request exactly once: any other frame was written by student
            # code on the result pipe. Its channel cannot be trusted any more: the caller kills it.
            raise WorkerDied("the worker's result channel carried a frame that is not the reply "
                             "(did the code write to the grader's pipe?)")
        return reply

    def _died(self) -> WorkerDied:
        if self.bounds.over_memory():
            return WorkerOutOfMemory(self.bounds.message())
        if self._over_disk.is_set():
            return WorkerOutOfDisk(self.disk.message())
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
