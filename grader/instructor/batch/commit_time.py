"""The time of a GitHub Classroom clone's HEAD commit, read without running git.

A clone's .git is the student's: its config may name programs (`gpg.program`, `core.fsmonitor`,
hooks) that `git log` would run, and its objects may be corrupt or built to exhaust memory. So it
is read with dulwich (a pure-Python reader of git's files, which runs nothing and reads the config
as text only), in a child process with a memory limit and a deadline: whatever the .git holds, the
batch gets a time or None, never a crash or a hang.

The committer's time is what the student's computer said (it can be set at will): advisory.

    commit_times([clone, ...]) -> {clone: datetime or None}
    python -m grader.instructor.batch.commit_time CLONE...   (the child; JSON on stdout)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

# the child's address space: enough for dulwich, not for a bomb (dulwich's own 512 MiB bound on an
# object can be raised by the clone's config: core.bigFileThreshold)
MEMORY_BYTES = 256 * 2**20
SECONDS_PER_CLONE = 2.0


def head_commit_time(clone: Path) -> Optional[datetime]:
    """The committer time of HEAD's commit of `clone`/.git (in this process: use commit_times)."""
    from dulwich.objects import Commit
    from dulwich.repo import Repo

    git = Path(clone) / ".git"
    if git.is_symlink() or not git.is_dir():  # a `gitdir:` file or a link could point anywhere
        return None
    with Repo(str(clone)) as repo:
        commit = repo[repo.head()]
        if not isinstance(commit, Commit):
            return None
        return datetime.fromtimestamp(commit.commit_time, timezone(timedelta(seconds=commit.commit_timezone)))


def _limit() -> None:
    """In the child, before any .git is read (not a preexec_fn: the batch's process has threads)."""
    try:
        import resource
    except ImportError:  # Windows: the deadline still holds
        return
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child(clones: list[Path]) -> dict[str, Optional[datetime]]:
    """Run the reader in a bounded child; {} when the child failed as a whole."""
    try:
        done = subprocess.run([sys.executable, "-I", "-m", __name__, *map(str, clones)], capture_output=True,
                              timeout=5 + SECONDS_PER_CLONE * len(clones), cwd="/", stdin=subprocess.DEVNULL,
                              env={"PATH": os.environ.get("PATH", "")})
        found = json.loads(done.stdout.decode() or "{}") if done.returncode == 0 else {}
    except (subprocess.TimeoutExpired, OSError, ValueError):
        return {}
    return {k: (datetime.fromisoformat(v) if v else None) for k, v in found.items()}


def commit_times(clones: list[Path]) -> dict[Path, Optional[datetime]]:
    """{clone: HEAD's committer time or None}; one child for all, then one per clone if it failed."""
    if not clones:
        return {}
    clones = [Path(os.path.abspath(c)) for c in clones]  # the child runs in /
    found = _child(clones)
    if len(found) < len(clones):  # a clone killed the shared child: each on its own, so it costs only itself
        found = {}
        for c in clones:
            found.update(_child([c]))
    return {c: found.get(str(c)) for c in clones}  # keyed by the absolute path


def main(argv: list[str]) -> None:
    _limit()
    out: dict[str, Optional[str]] = {}
    for arg in argv:
        try:
            t = head_commit_time(Path(arg))
        except Exception:  # corrupt, missing, hostile: no time
            t = None
        out[arg] = t.isoformat() if t else None
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
