"""Bounds per submission, not per process (docs/security.md, "Bounds of a whole submission").

* memory of the whole process tree: a cgroup's limit where the grader can make one (v1 here), else
  the memory watch (forced with GRADER_CGROUPS=off); a tree of 4 processes, each touching memory up
  to its own RLIMIT_AS, is stopped as `out_of_memory` with the tree's peak near the submission's limit
  (before: about 3.3 × the limit at 512 MB, the processes held until the time limit);
* a uid of its own per concurrent worker (root only): a fork bomb in one slot does not make another
  slot's thread or process starts fail; two workers, threads or processes, never share a uid;
* cleanup: after a worker is killed nothing of its uid runs and its cgroup is gone.

Real cgroups and uids: root on Linux; the cases skip cleanly elsewhere. Both isolation modes.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from grader.engine.assignment import Assignment, load
from grader.engine.model import Limits, Status
from grader.engine.runner import grade
from grader.engine.sandbox import Runtime, Worker, bounds, cgroup, slots, watch
from grader.engine.sandbox.isolation import bwrap_works, sandbox_user_problem
from grader.engine.session import GradeOptions

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = Path(__file__).parent / "hostile"
IS_ROOT = os.geteuid() == 0
BACKPROP = load("backprop")
CHECKS = {c.id: c for c in BACKPROP.checks(hidden=True)}
TREE = Limits(timeout=8.0, memory_mb=512)  # 4 × 512 MB would be 2 GB; the tree must stay near 512

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only (cgroups, /proc)")
needs_root = pytest.mark.skipif(not IS_ROOT, reason="uids per slot need a root grader")
needs_cgroups = pytest.mark.skipif(cgroup.support() is None, reason="no writable cgroup here")
BWRAP = pytest.param("bwrap", marks=pytest.mark.skipif(not bwrap_works(), reason="bubblewrap unavailable"))
RLIMITS = pytest.param("rlimits", marks=pytest.mark.skipif(
    bool(sandbox_user_problem()), reason="as root, the sandbox uid cannot run this Python"))
MODES = [BWRAP, RLIMITS]


@pytest.fixture
def workdir():
    folder = Path(tempfile.mkdtemp(prefix="bounds-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def assignment_with(*ids: str, limits: Limits) -> Assignment:
    return Assignment(name=BACKPROP.name, title=BACKPROP.title, tasks=BACKPROP.tasks, package=BACKPROP.package,
                      seed=BACKPROP.seed, _checks=[replace(CHECKS[i], limits=limits) for i in ids])


def hostile(workdir: Path, name: str) -> tuple[Path, str]:
    """tests/hostile/<name>, readable by the sandbox, with a process marker in case.json."""
    folder = workdir / name
    shutil.copytree(HOSTILE / name, folder)
    marker = "bd" + secrets.token_hex(6)
    (folder / "case.json").write_text(json.dumps({"marker": marker}))
    for path in [folder, *folder.iterdir()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return folder, marker


def marked(marker: str) -> list[int]:
    """Live processes named `marker` (the hostile cases name theirs so)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and Path(f"/proc/{entry}/comm").read_text().strip() == marker:
                if Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(entry))
        except OSError:
            pass
    return found


class PeakMemory:
    """The largest sum, over the processes named `marker`, of their anonymous and shared-memory
    pages (what they allocated), sampled every 20 ms while the block runs. Pages a fork shares with
    its parent count in both: the sum slightly overstates what the tree holds."""

    def __init__(self, marker: str):
        self.marker, self.peak = marker, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(watch._linux_memory(p) for p in marked(self.marker)))
            time.sleep(0.02)


def grade_tree(workdir: Path, mode: str) -> tuple:
    folder, marker = hostile(workdir, "memory_tree")
    with PeakMemory(marker) as peak:
        report = grade(folder, assignment_with("softmax.values", "softmax.cross_entropy", limits=TREE),
                       options=GradeOptions(isolation=mode))
    return {c.id: c for c in report.checks}, peak.peak, report, marker


# --------------------------------------------------------------------------------------- memory
@needs_cgroups
@pytest.mark.parametrize("mode", MODES)
def test_a_tree_of_memory_hogs_is_bounded_by_the_cgroup(workdir, mode):
    checks, peak, report, marker = grade_tree(workdir, mode)
    r = checks["softmax.values"]
    assert r.status == Status.OUT_OF_MEMORY, (r.status, r.message)
    assert "processes together used more than 512 MB" in r.message
    # the kernel's hard limit; the sampled sum counts the pages forks share with their parent twice
    assert peak < 1.3 * TREE.memory_mb * 2**20, f"the tree held {peak / 2**20:.0f} MiB"
    assert r.duration < TREE.timeout, "stopped for its memory, not at the time limit"
    assert checks["softmax.cross_entropy"].status == Status.PASSED
    assert f"cgroup v{cgroup.support().version}" in report.isolation
    assert marked(marker) == []


@pytest.mark.parametrize("mode", MODES)
def test_without_cgroups_the_watch_stops_the_tree(workdir, mode, monkeypatch):
    monkeypatch.setenv(cgroup.CGROUPS_ENV, "off")
    checks, peak, report, marker = grade_tree(workdir, mode)
    r = checks["softmax.values"]
    assert r.status == Status.OUT_OF_MEMORY, (r.status, r.message)
    assert "processes together used more than 512 MB" in r.message
    # polled every 0.1 s: the tree may pass the limit by what 4 processes allocate in that time
    assert peak < 2 * TREE.memory_mb * 2**20, f"the tree held {peak / 2**20:.0f} MiB"
    assert "memory of its process tree watched" in report.isolation
    assert checks["softmax.cross_entropy"].status == Status.PASSED
    assert marked(marker) == []


# ------------------------------------------------------------------------------------ processes
INNOCENT = """\
import os
import threading

import numpy as np


def softmax(o):
    # what innocent code does: threads and a child process; fails where the slot's processes are taken
    done = []
    threads = [threading.Thread(target=done.append, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    o = np.asarray(o, dtype=np.float64)
    e = np.exp(o - o.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
"""


@needs_root
@pytest.mark.parametrize("mode", MODES)
def test_a_fork_bomb_in_one_slot_does_not_starve_another(workdir, mode):
    """Before uids per slot, every worker ran as nobody: a bomb at its RLIMIT_NPROC made the other
    slots' thread and process starts fail for its whole time limit."""
    bomb, marker = hostile(workdir, "fork_bomb")
    innocent = workdir / "innocent"
    innocent.mkdir()
    (innocent / "softmax.py").write_text(INNOCENT)
    for path in (innocent, innocent / "softmax.py"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    limits = Limits(timeout=16.0)  # the normal process limit (256); long enough to grade beside it
    bombed = {}
    t = threading.Thread(target=lambda: bombed.update(report=grade(
        bomb, assignment_with("softmax.values", limits=limits), options=GradeOptions(isolation=mode))))
    t.start()
    try:
        deadline = time.monotonic() + 6
        while len(marked(marker)) < 100 and time.monotonic() < deadline:  # the bomb is at its limit
            time.sleep(0.05)
        assert len(marked(marker)) >= 100, "the bomb did not start"
        t0 = time.monotonic()
        report = grade(innocent, assignment_with("softmax.values", limits=replace(limits, timeout=20.0)),
                       options=GradeOptions(isolation=mode))
        took, still_bombing = time.monotonic() - t0, len(marked(marker))
    finally:
        t.join()
    r = report.checks[0]
    assert r.status == Status.PASSED, (r.status, r.message, r.output)
    assert still_bombing, f"the innocent was graded after the bomb, not beside it ({took:.1f} s)"
    assert bombed["report"].checks[0].status == Status.TIMEOUT
    assert marked(marker) == []


# ----------------------------------------------------------------------------------------- uids
@needs_root
def test_concurrent_leases_never_share_a_uid():
    """Threads of one grader and other processes: the flock of each uid is exclusive."""
    uid_range = slots.configured_range()
    assert uid_range is not None
    holder = subprocess.Popen(
        [sys.executable, "-c", "from grader.engine.sandbox import slots\n"
         "lease = slots.acquire(slots.configured_range())\nprint(lease.uid, flush=True)\ninput()"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        other = int(holder.stdout.readline())
        leases = [slots.acquire(uid_range) for _ in range(3)]
        try:
            uids = [lease.uid for lease in leases]
            assert len(set(uids + [other])) == 4, (uids, other)
            assert all(uid_range[0] <= u <= uid_range[1] for u in uids)
        finally:
            for lease in leases:
                lease.release()
    finally:
        holder.communicate("\n", timeout=10)
    again = slots.acquire((other, other))  # freed with the process that held it
    again.release()


LEAVER = """\
import os
import subprocess
import sys

SLEEP = "import time\\nwhile True: time.sleep(1000)"
subprocess.Popen([sys.executable, "-c", SLEEP], stdin=subprocess.DEVNULL)
if os.fork() == 0:  # a double-forked daemon with a cleared environment: no token to find it by
    os.setsid()
    if os.fork() == 0:
        os.execve(sys.executable, [sys.executable, "-c", SLEEP], {})
    os._exit(0)
os.wait()
"""


@pytest.fixture
def runtime():
    made = Runtime.create(ROOT / "assignments" / "backprop" / "probes.py")
    yield made
    made.cleanup()


@needs_root
@pytest.mark.parametrize("cgroups", ["auto", "off"])
@pytest.mark.parametrize("mode", MODES)
def test_two_workers_run_as_different_uids_and_leave_nothing(workdir, runtime, mode, cgroups, monkeypatch):
    monkeypatch.setenv(cgroup.CGROUPS_ENV, cgroups)
    folder = workdir / "leaver"
    folder.mkdir()
    (folder / "softmax.py").write_text(LEAVER)
    for path in (folder, folder / "softmax.py"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    workers = [Worker(runtime, folder, Limits(timeout=10.0), mode) for _ in range(2)]
    try:
        for w in workers:
            w.start()
        uids = [w.user[0] for w in workers]
        assert uids[0] != uids[1] and all(slots.configured_range()[0] <= u for u in uids), uids
        for w in workers:
            assert w.request({"op": "import", "module": "softmax", "seed": 0, "modules": ["softmax"]}, 20)["ok"]
        groups = [w.bounds.group for w in workers]
        if cgroups == "auto" and cgroup.support() is not None:
            assert all(g is not None and g.dirs for g in groups)
            for w, g in zip(workers, groups):
                assert set(g.processes()) >= set(slots.uid_processes(w.user[0]))  # nothing outside it
        for w, uid in zip(workers, uids):
            assert len(slots.uid_processes(uid)) >= 3  # the worker, its child, the daemon
        dirs = [d for g in groups if g is not None for d in g.dirs]
        workers[0].close(graceful=False)
        assert slots.uid_processes(uids[0]) == []
        assert len(slots.uid_processes(uids[1])) >= 3  # the other slot untouched
        workers[1].close()
        assert slots.uid_processes(uids[1]) == []
        assert [d for d in dirs if d.exists()] == []
    finally:
        for w in workers:
            w.close(graceful=False)


def test_a_malformed_uid_range_is_refused(monkeypatch):
    for bad in ("0-100", "61000-60000", "lots", "-5"):
        monkeypatch.setenv(slots.UIDS_ENV, bad)
        with pytest.raises(ValueError, match=slots.UIDS_ENV):
            slots.configured_range()
    monkeypatch.setenv(slots.UIDS_ENV, "off")
    assert slots.configured_range() is None
    monkeypatch.setenv(slots.UIDS_ENV, "70000-70009")
    assert slots.configured_range() == (70000, 70009)
    monkeypatch.delenv(slots.UIDS_ENV)
    assert slots.configured_range() == slots.DEFAULT_RANGE


def test_cgroup_v2_groups_are_made_where_memory_is_delegated(tmp_path, monkeypatch):
    """v2 cannot run here (this machine's controllers are on v1): the choice of folder and the
    files written, on a fake hierarchy whose own cgroup holds processes (so: beside it)."""
    mount = tmp_path / "unified"
    own = mount / "system.slice" / "grader.service"
    own.mkdir(parents=True)
    (own / "cgroup.controllers").write_text("cpu memory pids\n")
    (mount / "system.slice" / "cgroup.subtree_control").write_text("memory pids\n")

    real_mkdir = Path.mkdir

    def mkdir(self, *a, **k):  # cgroupfs makes the control files of a new group itself
        real_mkdir(self, *a, **k)
        for name in ("cgroup.subtree_control", "cgroup.procs", "memory.max", "memory.events", "pids.max"):
            (self / name).write_text("")

    def enable(folder, controller):  # a cgroup holding processes cannot hand controllers down
        if folder == own:
            return False
        control = folder / "cgroup.subtree_control"
        control.write_text(f"{control.read_text()} {controller}")
        return True

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(cgroup, "_enable", enable)
    found = cgroup._v2([("/", str(mount), "cgroup2", ["rw"])], {"": "/system.slice/grader.service"})
    beside = mount / "system.slice" / cgroup.FOLDER
    assert found == cgroup.Support(2, beside, beside)
    group = cgroup.Group(found, "slot-60600-0123abcd")
    group.memory_dir.mkdir()
    group.dirs.append(group.memory_dir)
    group._limit(512 * 2**20, 256)
    assert (group.memory_dir / "memory.max").read_text() == str(512 * 2**20)
    assert (group.memory_dir / "pids.max").read_text() == "256"
    (group.memory_dir / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert group.oom_kills() == 1 and group.bounds_processes


@needs_root
def test_the_sweep_after_a_killed_grader_spares_live_workers():
    """A grading process killed on its budget frees its uids with its descriptors; what escaped
    under such a uid, and its group, are removed by the sweep; a uid a live worker holds is not."""
    held, crashed = slots.acquire(slots.configured_range()), slots.acquire(slots.configured_range())
    sleepers = {lease.uid: subprocess.Popen(["sleep", "60"], user=lease.uid, group=lease.uid, extra_groups=[])
                for lease in (held, crashed)}
    support = cgroup.support()
    group = None
    try:
        if support is not None:
            group = cgroup.Group.create(support, f"slot-{crashed.uid}-deadbeef", 64 * 2**20, 16)
            group.attach(sleepers[crashed.uid].pid)
        os.close(crashed._fd)  # the grader holding it died without cleaning up
        crashed._fd = -1
        bounds.sweep()
        assert sleepers[crashed.uid].wait(5) == -9
        assert sleepers[held.uid].poll() is None
        if group is not None:
            assert [d for d in group.dirs if d.exists()] == []
    finally:
        held.release()
        for p in sleepers.values():
            p.kill()
            p.wait()


@needs_root
def test_the_up_front_probe_runs_as_a_uid_of_the_range(monkeypatch):
    """The uid that will run student code is a slot's: the probe of this Python is run as one."""
    from grader.engine.sandbox import isolation

    seen = []
    real_run = subprocess.run

    def run(cmd, **kw):
        seen.append((kw.get("user"), kw.get("group"), slots.uid_processes(kw.get("user"))))
        return real_run(cmd, **kw)

    monkeypatch.setattr(isolation.subprocess, "run", run)
    problem = isolation.sandbox_user_problem.__wrapped__()
    lo, hi = slots.configured_range()
    assert len(seen) == 1 and lo <= seen[0][0] <= hi and seen[0][0] == seen[0][1], seen
    assert seen[0][2] == []  # leased: nothing else ran as it
    assert problem == sandbox_user_problem()
    monkeypatch.setenv(slots.UIDS_ENV, "off")  # one shared user: probed as that user
    isolation.sandbox_user_problem.__wrapped__()
    assert seen[1][0] == isolation.unprivileged_ids()[0]
