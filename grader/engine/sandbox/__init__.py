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
* ``process`` (no POSIX resource limits: Windows): a plain subprocess, the time limit, its process
  tree killed, its memory watched from outside (psutil).

A grader running as root runs student code unprivileged: each worker as a uid of its own
($GRADER_SANDBOX_UIDS; one shared sandbox user, nobody, when that is off); where that uid cannot run
this Python, only a student's own public checks run as the invoking user (said in the report), and
instructor grading is refused (isolation.IsolationRefused) unless allowed. Whatever the mode, memory
and processes are bounded for the whole submission, not per process (bounds.py).

    host       what this OS offers (POSIX modules imported only where they exist)
    isolation  which level a worker gets: is bubblewrap usable here, the sandbox user, refusals
    exposure   the grader-only material (hidden checks, oracles, solutions), who could read it, protect
    bwrap      the bubblewrap command line: what the sandbox sees (binds, bounded tmpfs)
    runtime    the folders a worker sees: the runtime (worker package, probes), the scratch copy
    disk       the bounded scratch: a tmpfs of the disk limit, or a watched folder; cleanup by uid
    spawn      starting the worker process: resource limits, own session, dies with the grader
    channel    the framed pipes to a worker: requests and replies with deadlines, bounded replies
    reaper     killing what a worker left behind: its process group, token, re-parented orphans
    slots      a uid of its own per concurrent worker (root): flock leases from a configured range
    cgroup     a cgroup per worker: the kernel bounds the whole submission's memory and processes
    watch      the whole submission's memory watched from outside (its OOM kills, or summed)
    bounds     slots, cgroup and watch composed for one worker
    errors     how talking to a worker fails: timeout, death, a reply too large
    worker     Worker: one worker process serving one submission, composed of the above

The names below are the package's interface for the rest of the engine.
"""
from .errors import ReplyTooLarge, WorkerDied, WorkerOutOfDisk, WorkerOutOfMemory, WorkerTimeout
from .isolation import (ISOLATION_MODES, Isolation, IsolationRefused, IsolationUnavailable, describe_isolation,
                        plan_isolation, resolve_isolation)
from .runtime import Runtime
from .worker import Worker

__all__ = ["ISOLATION_MODES", "Isolation", "IsolationRefused", "IsolationUnavailable", "ReplyTooLarge", "Runtime", "Worker",
           "WorkerDied", "WorkerOutOfDisk", "WorkerOutOfMemory", "WorkerTimeout", "describe_isolation", "plan_isolation",
           "resolve_isolation"]
