"""The hostile-submission corpus (tests/hostile/): every attack is held.

Each case is graded with the A1 softmax checks (plus a few own checks) and short limits, through the
public `grader.engine.runner.grade`, in both isolation modes where the guarantee holds in both:

* ``bwrap``: read-only system, scratch copy, no network, own pid namespace, rlimits;
* ``rlimits`` (the fallback, e.g. macOS): rlimits, own session, leftover processes hunted down; the
  file system and the network stay visible. As root, both run student code unprivileged (a uid of
  its own per worker, or the sandbox user nobody with uid slots off), so that Unix permissions
  protect root-owned files in the fallback too.

Guarantees that only bwrap gives are marked ``bwrap`` only and say what the fallback does instead.
docs/security.md describes the threat model and the corpus.
"""
from __future__ import annotations

import json
import os
import resource
import secrets
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from grader.engine import judge, session
from grader.engine.assignment import Assignment, load
from grader.engine.model import Check, CheckResult, Limits, Report, Status
from grader.engine.runner import grade
from grader.engine.sandbox import IsolationRefused, bwrap, disk, exposure, isolation, slots
from grader.engine.sandbox.isolation import bwrap_works, unprivileged_ids
from grader.engine.session import GradeOptions

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = Path(__file__).parent / "hostile"
HOSTILE_BATCH = Path(__file__).parent / "hostile_batch"  # the batch's attacks (tests/test_hostile_batch.py)
REFERENCE_SOFTMAX = ROOT / "reference" / "backprop" / "softmax.py"
HIDDEN = ROOT / "assignments" / "backprop" / "hidden.py"
ORACLE = ROOT / "assignments" / "backprop" / "oracle.py"
IS_ROOT = os.geteuid() == 0

# The corpus runs on Linux (CI, batch grading). Elsewhere the fallback cannot bound memory (macOS does
# not enforce RLIMIT_AS) and a memory or fork bomb would hit the developer's machine itself.
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only (see above)")

BACKPROP = load("backprop")
CHECKS = {c.id: c for c in BACKPROP.checks(hidden=True)}
# Short limits keep the corpus fast; the defaults (20 s, 3 GB) behave the same, only slower.
FAST = Limits(timeout=3.0)
SMALL_MEMORY = Limits(timeout=8.0, memory_mb=512)  # filling 512 MB takes a while
SLACK = 6.0  # seconds on top of a time limit: worker start, kill, a machine busy with other tests


def rlimits_usable() -> bool:
    """Whether the fallback can run here as it does for instructors: as root it runs Python as the
    sandbox user, who must be able to read it (a pyenv Python under /root, mode 0700, is out of its
    reach; scripts/install makes CI's venv from a Python that user can run). The product's own probe."""
    return not isolation.sandbox_user_problem()


BWRAP = pytest.param("bwrap", marks=pytest.mark.skipif(not bwrap_works(),
                                                       reason="bubblewrap unavailable"))
RLIMITS = pytest.param("rlimits", marks=pytest.mark.skipif(
    not rlimits_usable(), reason="as root, the sandbox user cannot run this Python (CI makes its "
    "venv from one it can: test_ci_runs_the_rlimits_cases)"))
MODES = [BWRAP, RLIMITS]
# where running the attack in the fallback would hit the grader itself (same user, no namespaces)
RLIMITS_AS_ROOT = pytest.param("rlimits", marks=[
    RLIMITS.marks[0], pytest.mark.skipif(not IS_ROOT, reason="only a root grader runs the fallback "
                                         "as another user; as the same user this attack reaches it")])
bwrap_only = pytest.mark.skipif(not bwrap_works(), reason="bubblewrap unavailable")


# ------------------------------------------------------------------------------------------ helpers
@pytest.fixture(autouse=True)
def short_import_timeout(monkeypatch):
    monkeypatch.setattr(session, "IMPORT_TIMEOUT", 3.0)


@pytest.fixture(scope="module", autouse=True)
def warm_oracles():
    """Import torch for the oracles once, outside any timing assertion."""
    from grader.engine.oracles import torch

    torch()


@pytest.fixture
def workdir():
    """A 0755 folder under /tmp: submissions as an instructor keeps them, readable, not writable,
    by the sandbox user (pytest's own tmp_path is 0700, which would make writes fail for free)."""
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def checks(*ids: str, limits: Limits = FAST) -> list[Check]:
    return [replace(CHECKS[i], limits=limits) for i in ids]


def assignment_with(check_list: list[Check]) -> Assignment:
    return Assignment(name=BACKPROP.name, title=BACKPROP.title, tasks=BACKPROP.tasks,
                      package=BACKPROP.package, seed=BACKPROP.seed, _checks=list(check_list))


@dataclass
class Graded:
    folder: Path
    marker: str
    report: Report

    def __getitem__(self, check_id: str) -> CheckResult:
        return next(c for c in self.report.checks if c.id == check_id)

    @property
    def output(self) -> str:
        return "\n".join(c.output for c in self.report.checks)


def grade_case(workdir: Path, name: str, mode: str, check_list=None, corpus: Path = HOSTILE, **case) -> Graded:
    """Copy tests/hostile/<name>, tell it what an attacker would guess (case.json), grade it."""
    folder = workdir / name
    shutil.copytree(corpus / name, folder)
    for path in [folder, *folder.iterdir()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    marker = "hb" + secrets.token_hex(6)  # 14 characters: fits in a process name (15)
    info = {"marker": marker, "original": str(folder), "repo": str(ROOT), "home": str(Path.home()),
            "paths": [str(REFERENCE_SOFTMAX), str(HIDDEN), str(ORACLE)], **case}
    (folder / "case.json").write_text(json.dumps(info))
    os.chmod(folder / "case.json", 0o644)
    check_list = check_list or checks("softmax.values", "softmax.cross_entropy")
    report = grade(folder, assignment_with(check_list), options=GradeOptions(isolation=mode))
    return Graded(folder, marker, report)


def processes_with(marker: str) -> list[str]:
    """Live processes whose name or command line holds `marker` (zombies are dead: not counted)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (marker in comm or marker.encode() in cmdline):
            found.append(f"{entry.name} [{state}] {comm} {cmdline[:80]!r}")
    return found


def no_processes_left(marker: str, wait: float = 3.0) -> list[str]:
    deadline = time.monotonic() + wait
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def tree_digest(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_other_check_passed(graded: Graded, check_id: str = "softmax.cross_entropy") -> None:
    r = graded[check_id]
    assert r.status == Status.PASSED, (r.status, r.message)


# ------------------------------------------------------------------------- time, exits, crashes
@pytest.mark.parametrize("mode", MODES)
def test_endless_loop_in_a_function_times_out_and_the_rest_runs(workdir, mode):
    g = grade_case(workdir, "loop_in_function", mode)
    r = g["softmax.values"]
    assert r.status == Status.TIMEOUT and r.score == 0
    assert "time limit of 3 s" in r.message
    assert r.duration < FAST.timeout + SLACK, "the check's time limit was not enforced"
    assert_other_check_passed(g)  # a fresh worker served the next check


@pytest.mark.parametrize("mode", MODES)
def test_endless_loop_at_import_times_out_each_check_once(workdir, mode):
    t0 = time.monotonic()
    g = grade_case(workdir, "loop_at_import", mode,
                   checks("softmax.values", "softmax.stable", "softmax.cross_entropy", "layers.linear"))
    for cid in ("softmax.values", "softmax.stable", "softmax.cross_entropy"):
        assert g[cid].status == Status.TIMEOUT, (cid, g[cid].status, g[cid].message)
        assert "importing softmax took longer than 3 s" in g[cid].message
    # the import is tried once: the other checks of the module reuse its failure
    assert g["softmax.stable"].duration < 1 and g["softmax.cross_entropy"].duration < 1
    assert g["layers.linear"].status == Status.MISSING  # another module: graded by a fresh worker
    assert time.monotonic() - t0 < session.IMPORT_TIMEOUT + 2 * SLACK


@pytest.mark.parametrize("mode", MODES)
def test_os_exit_at_import_is_an_error_for_the_module(workdir, mode):
    g = grade_case(workdir, "exit_at_import", mode,
                   checks("softmax.values", "softmax.cross_entropy", "layers.linear"))
    for cid in ("softmax.values", "softmax.cross_entropy"):
        assert g[cid].status == Status.ERROR and g[cid].score == 0
        assert "exited with code 3" in g[cid].message
    assert g["layers.linear"].status == Status.MISSING


@pytest.mark.parametrize("mode", MODES)
def test_sys_exit_in_a_function_is_an_error_and_the_worker_goes_on(workdir, mode):
    g = grade_case(workdir, "sys_exit", mode)
    r = g["softmax.values"]
    assert r.status == Status.ERROR and r.score == 0
    assert "sys.exit(1)" in r.message
    assert_other_check_passed(g)


# ----------------------------------------------------------------------------- memory, processes
@pytest.mark.parametrize("case", ["memory_numpy", "memory_list"])
@pytest.mark.parametrize("mode", MODES)
def test_memory_bomb_is_out_of_memory(workdir, mode, case):
    g = grade_case(workdir, case, mode,
                   checks("softmax.values", "softmax.cross_entropy", limits=SMALL_MEMORY))
    r = g["softmax.values"]
    assert r.status == Status.OUT_OF_MEMORY, (r.status, r.message)
    assert "out of memory" in r.message
    assert_other_check_passed(g)


@pytest.mark.parametrize("mode", MODES)
def test_lifting_the_rlimits_is_refused(workdir, mode):
    g = grade_case(workdir, "raise_rlimits", mode,
                   checks("softmax.values", "softmax.cross_entropy", limits=SMALL_MEMORY))
    assert "RAISED RLIMIT_AS" not in g.output and "could not raise RLIMIT_AS" in g.output
    assert g["softmax.values"].status == Status.OUT_OF_MEMORY
    assert_other_check_passed(g)


@pytest.mark.skipif(not IS_ROOT, reason="RLIMIT_NPROC is set for the sandbox uid only: as a normal "
                    "user the bomb would be bounded by the user's own limit, i.e. load this machine")
@pytest.mark.parametrize("mode", MODES)
def test_fork_bomb_is_contained_and_killed(workdir, mode):
    # the normal process limit: each worker has a uid (and a pids cgroup) of its own, so the bomb
    # cannot take the processes of the tests running beside this one (tests/test_bounds.py)
    g = grade_case(workdir, "fork_bomb", mode)
    assert g["softmax.values"].status == Status.TIMEOUT
    assert no_processes_left(g.marker) == []
    assert_other_check_passed(g)


@pytest.mark.parametrize("mode", MODES)
def test_no_process_survives_grading(workdir, mode):
    """A new-session child, double-forked daemons (one with an empty environment, all ignoring
    SIGTERM/SIGHUP) and a child in its own process group: none outlives the grading."""
    g = grade_case(workdir, "leftover_processes", mode)
    assert g["softmax.values"].status == Status.FAILED and g["softmax.values"].score == 0
    assert no_processes_left(g.marker) == []
    assert_other_check_passed(g)


# ------------------------------------------------------------------------------ the result channel
@pytest.mark.parametrize("mode", MODES)
def test_forged_results_change_nothing(workdir, mode):
    g = grade_case(workdir, "forged_output", mode)
    r = g["softmax.values"]
    assert r.score == 0 and r.status in (Status.ERROR, Status.FAILED)
    # a forged frame on the result pipe is detected, the worker replaced
    assert "not the reply" in r.message or "malformed" in r.message
    assert "softmax.values PASSED 3/3" in r.output  # what it printed is shown, never parsed
    assert_other_check_passed(g)
    assert g.report.score == g["softmax.cross_entropy"].max_score


@pytest.mark.parametrize("mode", MODES)
def test_flooding_the_result_pipe_cannot_exhaust_the_graders_memory(workdir, mode):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    g = grade_case(workdir, "channel_flood", mode)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    r = g["softmax.values"]
    # larger than the check's reply limit (32 MB): never read, let alone decoded
    assert r.status == Status.FAILED and r.score == 0 and "more than the 32 MB" in r.message, r.message
    assert grown_mb < 400, f"the grader grew by {grown_mb:.0f} MB"
    assert_other_check_passed(g)


def test_the_worker_refuses_to_send_too_many_values(monkeypatch):
    """The same bound on the worker's side: a student function returning a huge nested list gets a
    failed check ("bad_return": the worker's ValueError handler), not a frame the grader rejects."""
    from grader.worker import protocol

    monkeypatch.setattr(protocol, "MAX_VALUES", 1000)
    with pytest.raises(ValueError, match="numpy arrays"):
        protocol.dumps({"id": 1, "ok": True, "value": list(range(2000))})
    protocol.dumps({"id": 1, "ok": True, "value": np.arange(10**6)})  # arrays: one value each


@pytest.mark.parametrize("mode", MODES)
def test_objects_claiming_equality_are_not_plain_data(workdir, mode):
    g = grade_case(workdir, "liar_object", mode)
    for cid in ("softmax.values", "softmax.cross_entropy"):  # a Liar; a fake torch tensor
        r = g[cid]
        assert r.status == Status.FAILED and r.score == 0, (cid, r.status, r.message)
        assert "returned an object of type softmax.Liar" in r.message
        assert "expected numbers" in r.message


@pytest.mark.parametrize("mode", MODES)
def test_lying_number_subclasses_are_judged_as_numbers(workdir, mode):
    g = grade_case(workdir, "number_subclasses", mode,
                   checks("softmax.values", "softmax.cross_entropy", "softmax.jacobian"))
    for cid in ("softmax.values", "softmax.cross_entropy", "softmax.jacobian"):
        r = g[cid]
        assert r.status == Status.FAILED and r.score == 0, (cid, r.status, r.message)
        assert "entries wrong" in r.message and "expected" in r.message


def _hog_judge(ctx):
    """Passes a first probe; then, once the hostile thread holds the GIL, sends a 2.4 MB request."""
    o = ctx.rng.normal(size=(3, 4))
    e = np.exp(o - o.max(axis=1, keepdims=True))
    judge.close("softmax(o)", ctx.probe("call", "softmax", "softmax", o), e / e.sum(1, keepdims=True),
                rtol=1e-6, atol=1e-9)
    time.sleep(1.0)  # grader time: not charged to the check
    ctx.probe("call", "softmax", "softmax", np.zeros((300, 1000)))


@pytest.mark.parametrize("mode", MODES)
def test_a_worker_that_stops_reading_times_out_instead_of_hanging_the_grader(workdir, mode):
    hog = Check(id="softmax.gil_hog", task="softmax", title="large request", points=1,
                run=_hog_judge, module="softmax", limits=FAST)
    t0 = time.monotonic()
    g = grade_case(workdir, "gil_hog", mode, [hog, *checks("softmax.cross_entropy")])
    assert g["softmax.gil_hog"].status == Status.TIMEOUT, (g["softmax.gil_hog"].status, g["softmax.gil_hog"].message)
    assert time.monotonic() - t0 < 1.0 + FAST.timeout + 2 * SLACK
    assert_other_check_passed(g)


# ----------------------------------------------------------------------- output, files, signals
@pytest.mark.parametrize("mode", MODES)
def test_ten_megabytes_of_output_are_truncated(workdir, mode):
    g = grade_case(workdir, "big_output", mode)
    r = g["softmax.values"]
    assert r.status == Status.PASSED
    assert len(r.output) < 10_000 and r.output.endswith("(output truncated)")
    assert_other_check_passed(g)


@pytest.mark.parametrize("mode", MODES)
def test_a_huge_file_hits_the_file_size_limit(workdir, mode):
    g = grade_case(workdir, "huge_file", mode)
    r = g["softmax.values"]
    assert r.status == Status.ERROR and "OSError" in r.message and "File too large" in r.message
    assert_other_check_passed(g)
    assert not (g.folder / "huge.bin").exists()  # it wrote in the scratch copy, if anywhere


@bwrap_only
@pytest.mark.skipif(not bwrap_works() or not bwrap.bwrap_has_size(),
                    reason="this bubblewrap cannot bound a tmpfs (--size, bubblewrap >= 0.8)")
def test_filling_tmp_is_bounded(workdir):
    """/tmp and /dev/shm in the sandbox are tmpfs, i.e. the host's memory. Where the grader may mount
    (root), they are folders of the scratch's tmpfs of the disk limit: filling them is `out_of_disk`;
    else bwrap's own, bounded to 4 × and 1 × the file size limit (at most the disk limit): the writes
    fail, the check goes on. (In the fallback they are the host's: cleaned after, not bounded.)"""
    g = grade_case(workdir, "tmp_fill", "bwrap",
                   checks("softmax.values", "softmax.cross_entropy", limits=replace(FAST, disk_mb=128)))
    r = g["softmax.values"]
    if disk.mount_possible():
        assert r.status == Status.OUT_OF_DISK and "may hold 128 MB" in r.message, (r.status, r.message)
    else:
        assert r.status == Status.FAILED, (r.status, r.message, r.output)
    assert "No space left on device" in r.output
    assert_other_check_passed(g)


# the disk bound: a tmpfs of the disk limit where the grader may mount (root), else a watched folder
MOUNT = pytest.param("tmpfs", marks=pytest.mark.skipif(not disk.mount_possible(),
                                                       reason="only a root grader may mount a tmpfs"))
BOUNDS = [MOUNT, "watcher"]
SMALL_DISK = Limits(timeout=3.0, processes=128, file_size_mb=16, disk_mb=64)


def leftovers(marker: str) -> list[str]:
    """Files named after `marker` in the host's world-writable folders, and scratch folders or
    tmpfs mounts of this process: all must be gone after grading."""
    found = [str(p) for folder in disk.WORLD_WRITABLE if os.path.isdir(folder)
             for p in Path(folder).iterdir() if marker in p.name]
    found += [str(p) for p in Path(tempfile.gettempdir()).glob(f"{disk.FOLDER_PREFIX}{os.getpid()}-*")]
    mounts = Path("/proc/self/mountinfo").read_text()
    return found + [f"mount of {disk.SOURCE_PREFIX}{os.getpid()}"] * (f" {disk.SOURCE_PREFIX}{os.getpid()} " in mounts)


@pytest.mark.parametrize("bound", BOUNDS)
@pytest.mark.parametrize("mode", [BWRAP, RLIMITS_AS_ROOT])
def test_filling_every_writable_place_is_out_of_disk(workdir, mode, bound, monkeypatch):
    """The batch's filler (files under the size limit, in every place it may write, round after
    round): stopped at the disk limit, `out_of_disk` with written vs the limit; nothing left."""
    if bound == "watcher":
        monkeypatch.setenv(disk.MOUNT_ENV, "0")
    g = grade_case(workdir, "filler", mode, checks("softmax.values", "softmax.cross_entropy", limits=SMALL_DISK),
                   corpus=HOSTILE_BATCH)
    r = g["softmax.values"]
    assert r.status == Status.OUT_OF_DISK and r.score == 0, (r.status, r.message, r.output)
    assert "out of disk: the code wrote" in r.message and "may hold 64 MB" in r.message
    assert ("a tmpfs of 64 MB" if bound == "tmpfs" else "stopped above 64 MB") in g.report.isolation
    assert_other_check_passed(g)  # a fresh worker, a fresh scratch
    assert leftovers(g.marker) == []


@pytest.mark.parametrize("bound", BOUNDS)
def test_a_submission_larger_than_the_disk_limit_is_out_of_disk(workdir, bound, monkeypatch):
    if bound == "watcher":
        monkeypatch.setenv(disk.MOUNT_ENV, "0")
    folder = workdir / "big"
    folder.mkdir()
    shutil.copy(REFERENCE_SOFTMAX, folder / "softmax.py")
    (folder / "data.bin").write_bytes(os.urandom(3 * 2**20))
    for p in (folder, *folder.iterdir()):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    r = grade(folder, assignment_with(checks("softmax.values", limits=replace(FAST, disk_mb=2))),
              options=GradeOptions(isolation="bwrap" if bwrap_works() else "auto")).checks[0]
    assert r.status == Status.OUT_OF_DISK and "files take more than 2 MB" in r.message, (r.status, r.message)


def test_what_a_sandbox_uid_left_is_found_by_uid(tmp_path):
    """Cleanup outside bwrap: entries owned by the slot's uid in world-writable folders (at the top,
    and in others' world-writable folders there), never the grader's or another uid's."""
    uid = 54321 if IS_ROOT else os.getuid()
    shared = tmp_path / "tmp"
    (shared / "sticky").mkdir(parents=True)
    os.chmod(shared, 0o1777)
    os.chmod(shared / "sticky", 0o1777)
    mine = [shared / "a.bin", shared / "dir", shared / "sticky" / "b.bin"]
    mine[0].write_bytes(b"x")
    (mine[1] / "deep").mkdir(parents=True)
    mine[2].write_bytes(b"x")
    other = shared / "other.bin"
    other.write_bytes(b"x")
    if IS_ROOT:
        for p in [*mine, mine[1] / "deep"]:
            os.chown(p, uid, uid)
        os.chown(other, 54322, 54322)
    found = sorted(map(str, disk.files_of(uid, (str(shared),))))
    assert found == sorted(map(str, mine)) if IS_ROOT else set(map(str, mine)) <= set(found)
    if IS_ROOT:
        before = frozenset({str(mine[0])})  # owned before the worker started: another program's
        assert disk.remove_files_of(uid, (str(shared),), keep=before) == 2
        assert mine[0].exists() and not any(p.exists() for p in mine[1:]) and other.exists()


def test_tree_size_counts_allocated_bytes(tmp_path):
    with open(tmp_path / "sparse", "wb") as f:
        f.truncate(2**30)  # a sparse gigabyte costs nothing on disk
    (tmp_path / "full").write_bytes(b"\1" * 2**20)
    size = disk.tree_size(tmp_path)
    assert 2**20 <= size < 2**20 + 64 * 1024
    assert disk.tree_size(tmp_path, stop_above=1000) > 1000  # stops early, over the bound


@pytest.mark.skipif(not disk.mount_possible(), reason="only a root grader may mount a tmpfs")
def test_the_scratch_of_a_dead_grader_is_swept(tmp_path, monkeypatch):
    """A grading process killed by the batch's budget leaves its scratch (and tmpfs) behind: the next
    worker's start removes those of processes that no longer exist."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"{disk.FOLDER_PREFIX}{dead.pid}-x"
    (stale / "disk").mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", f"{disk.SOURCE_PREFIX}{dead.pid}",
                    str(stale / "disk")], check=True)
    (stale / "disk" / "junk").write_bytes(b"x" * 1000)
    live = tmp_path / f"{disk.FOLDER_PREFIX}{os.getpid()}-y"
    live.mkdir()
    assert disk.sweep_stale(force=True) == 1
    assert not stale.exists() and live.exists()
    assert f"{disk.SOURCE_PREFIX}{dead.pid} " not in Path("/proc/self/mountinfo").read_text()


@pytest.mark.parametrize("mode", [BWRAP, RLIMITS_AS_ROOT])
def test_writes_outside_the_scratch_copy_change_nothing(workdir, mode):
    folder_before = tree_digest(HOSTILE / "write_outside")
    repo_before = sorted(p.name for p in ROOT.iterdir())
    tmp_target = None
    try:
        g = grade_case(workdir, "write_outside", mode)
        tmp_target = Path("/tmp") / f"pwned-{g.marker}"
        assert g["softmax.values"].status == Status.FAILED
        out = g.output
        assert "WROTE" in out and "scratch-ok" in out  # the control: its own scratch copy is writable
        wrote = [line for line in out.splitlines() if line.startswith("WROTE")]
        # its scratch copy, its $HOME and /tmp: a private tmpfs under bwrap; the host's world-writable
        # /tmp under rlimits, which the fallback cannot protect
        allowed = ("scratch-ok", f"home-ok-{g.marker}", str(tmp_target))
        assert [w for w in wrote if not w.endswith(allowed)] == []
        # nothing outside changed: the original submission, the repository, $HOME, /root, /tmp
        assert tree_digest(g.folder) == {**folder_before, "case.json": (g.folder / "case.json").read_bytes()}
        assert sorted(p.name for p in ROOT.iterdir()) == repo_before
        for target in (Path.home(), Path("/root")):
            assert not (target / f"pwned-{g.marker}").exists()
        if mode == "bwrap":
            assert not tmp_target.exists()  # it wrote to its private /tmp
        assert_other_check_passed(g)
    finally:
        if tmp_target is not None and tmp_target.exists():
            tmp_target.unlink()


@bwrap_only
def test_under_bwrap_the_original_folder_is_safe_even_when_world_writable(workdir):
    """Under rlimits only Unix permissions protect the original submission; under bwrap it is not
    even visible."""
    folder = workdir / "write_outside"
    shutil.copytree(HOSTILE / "write_outside", folder)
    os.chmod(folder, 0o777)
    os.chmod(folder / "softmax.py", 0o666)
    before = tree_digest(folder)
    (folder / "case.json").write_text(json.dumps({"original": str(folder), "marker": "x"}))
    before["case.json"] = (folder / "case.json").read_bytes()
    grade(folder, assignment_with(checks("softmax.values")), options=GradeOptions(isolation="bwrap"))
    assert tree_digest(folder) == before


@pytest.mark.parametrize("mode", MODES)
def test_the_capture_file_cannot_be_swapped_for_another_file(workdir, mode):
    g = grade_case(workdir, "output_log_swap", mode)
    assert g["softmax.values"].status == Status.FAILED
    assert "SWAPPED" not in g.output
    secret = "subtracting the row max"  # a comment of the reference solution
    assert secret in REFERENCE_SOFTMAX.read_text()
    assert all(secret not in c.output for c in g.report.checks)
    assert_other_check_passed(g)


@pytest.mark.parametrize("mode", [BWRAP, RLIMITS_AS_ROOT])
def test_killing_the_parent_does_not_reach_the_grader(workdir, mode):
    g = grade_case(workdir, "kill_parent", mode)
    # as root: refused (another uid). A grader running as a normal user under bwrap: the parent is
    # the namespace's init, which ignores SIGKILL from inside; either way the grader goes on.
    assert g["softmax.values"].status == Status.FAILED and g["softmax.values"].score == 0
    if IS_ROOT:
        assert "KILLED" not in g.output
    assert_other_check_passed(g)


@bwrap_only
@pytest.mark.skipif(not IS_ROOT, reason="needs a process of the sandbox user outside the sandbox")
def test_kill_minus_one_stays_inside_the_pid_namespace(workdir, monkeypatch):
    """kill(-1, SIGKILL) reaches every process of the sandbox user: in bwrap's pid namespace, only the
    sandbox. (In the fallback it would reach every process of that uid on the machine: with a uid per
    slot, only its own.) With one sandbox user shared by all workers (uid slots off), as here, a
    process of that user outside the sandbox must survive."""
    monkeypatch.setenv(slots.UIDS_ENV, "off")
    uid, gid = unprivileged_ids()
    # a process of the sandbox user outside the sandbox, started through a root parent
    keeper = subprocess.Popen(
        [sys.executable, "-c", "import subprocess\n"
         f"p = subprocess.Popen(['sleep', '60'], user={uid}, group={gid}, extra_groups=[])\n"
         "print(p.pid, flush=True)\np.wait()"], stdout=subprocess.PIPE, text=True)
    victim = int(keeper.stdout.readline())
    try:
        g = grade_case(workdir, "kill_all", "bwrap")
        assert g["softmax.values"].status == Status.FAILED
        assert Path(f"/proc/{victim}").exists(), "kill(-1) escaped the sandbox"
        assert_other_check_passed(g)
    finally:
        for pid in (victim, keeper.pid):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        keeper.wait()


# ------------------------------------------------------------------------- privileges, secrets
@pytest.mark.parametrize("mode", MODES)
def test_student_code_never_runs_privileged(workdir, mode):
    g = grade_case(workdir, "privileges", mode)
    assert "PRIVILEGES: none" in g.output, g.output
    assert g["softmax.values"].status == Status.FAILED and g["softmax.values"].score == 0
    assert_other_check_passed(g)


@bwrap_only
def test_reference_solution_and_other_submissions_are_out_of_reach(workdir):
    """Under rlimits the file system stays visible: the reference (when world-readable) could be
    read; that is the documented weakness of the fallback."""
    other = workdir / "another_student"
    other.mkdir()
    shutil.copy(REFERENCE_SOFTMAX, other / "softmax.py")
    os.chmod(other, 0o755)
    g = grade_case(workdir, "read_reference", "bwrap",
                   paths=[str(REFERENCE_SOFTMAX), str(other / "softmax.py")])
    assert "FOUND" not in g.output
    assert "import grader: ModuleNotFoundError" in g.output
    assert g["softmax.values"].status == Status.FAILED and g["softmax.values"].score == 0
    assert_other_check_passed(g)


@bwrap_only
def test_hidden_checks_and_oracle_are_out_of_reach(workdir):
    g = grade_case(workdir, "read_hidden", "bwrap")
    assert "FOUND" not in g.output
    assert "import assignments: ModuleNotFoundError" in g.output
    assert g["softmax.values"].status == Status.FAILED and g["softmax.values"].score == 0
    assert_other_check_passed(g)


@bwrap_only
def test_an_installed_copy_of_the_assignments_is_hidden(workdir, monkeypatch):
    """A regular `pip install` puts assignments/ (hidden checks, oracles) into site-packages, which
    the sandbox must see for numpy and torch: that folder is covered by an empty tmpfs."""
    site = workdir / "fake-venv" / "site-packages"
    shutil.copytree(ROOT / "assignments", site / "assignments",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (site / "harmless.py").write_text("VISIBLE = True\n")
    for path in [workdir / "fake-venv", *site.rglob("*"), site]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    g = grade_case(workdir, "read_hidden", "bwrap",
                   paths=[str(site / "assignments" / "backprop" / "hidden.py"),
                          str(site / "assignments" / "backprop" / "oracle.py")])
    assert "FOUND" not in g.output
    assert g["softmax.values"].status == Status.FAILED
    binds = bwrap.system_binds()
    assert any(binds[i:i + 2] == ["--tmpfs", str(site / "assignments")] for i in range(len(binds)))


@pytest.mark.skipif(not (IS_ROOT and rlimits_usable()), reason="the fallback as root, with a Python the "
                    "sandbox user can run (as another user, student code runs as that user: refused instead)")
def test_hidden_checks_out_of_reach_in_the_fallback_after_grade_protect(workdir, monkeypatch):
    """Without bubblewrap only permissions hold: after `grade protect` (scripts/install runs it as
    root) the checkout's hidden checks and an installed copy in site-packages are root's alone, and
    the same attack finds nothing, while the worker still starts as the sandbox user."""
    site = workdir / "fake-venv" / "site-packages"
    shutil.copytree(ROOT / "assignments", site / "assignments", ignore=shutil.ignore_patterns("__pycache__"))
    for path in [workdir / "fake-venv", *site.rglob("*"), site]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    copy = site / "assignments" / "backprop"
    assert copy in exposure.grader_only_paths(BACKPROP)
    assert exposure.protect([copy]) == []
    exposed = exposure.readable_by(exposure.grader_only_paths(BACKPROP), *unprivileged_ids())
    assert not exposed, f"run `grade protect` (scripts/install as root does): {exposed}"
    g = grade_case(workdir, "read_hidden", "rlimits",
                   paths=[str(HIDDEN), str(ORACLE), str(copy / "hidden.py"), str(copy / "oracle.py")])
    assert "FOUND" not in g.output
    assert "import assignments: ImportError" in g.output  # the folder cannot be searched
    assert g["softmax.values"].status == Status.FAILED and g["softmax.values"].score == 0
    assert_other_check_passed(g)


@bwrap_only
def test_no_network(workdir):
    """Under rlimits the network stays reachable (documented): bwrap only."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        g = grade_case(workdir, "network", "bwrap", port=server.getsockname()[1])
        ready, _, _ = select.select([server], [], [], 0.2)
        assert ready == [], "a connection from the sandbox arrived"
    assert "CONNECTED" not in g.output
    assert g["softmax.values"].status == Status.FAILED and g["softmax.values"].score == 0
    assert_other_check_passed(g)


@pytest.mark.parametrize("mode", MODES)
def test_symlinks_out_of_the_submission_are_not_followed(workdir, mode):
    """The scratch copy is made with the grader's rights: a symlink to the reference would hand the
    reference to the sandbox, a FIFO would block the copy. Links inside the submission still work."""
    hostile = workdir / "symlink_reference"
    hostile.mkdir()
    (hostile / "softmax.py").symlink_to(REFERENCE_SOFTMAX)
    os.mkfifo(hostile / "notes.fifo")
    honest = workdir / "symlink_inside"
    (honest / "src").mkdir(parents=True)
    (honest / "src" / "impl.py").write_text(
        "import numpy as np\n\n\ndef softmax(o):\n    e = np.exp(o - np.max(o, axis=-1, keepdims=True))\n"
        "    return e / e.sum(axis=-1, keepdims=True)\n")
    (honest / "softmax.py").symlink_to(Path("src") / "impl.py")
    for folder in (hostile, honest):
        os.chmod(folder, 0o755)
    a = assignment_with(checks("softmax.values"))
    r = grade(hostile, a, options=GradeOptions(isolation=mode)).checks[0]
    assert r.status == Status.MISSING and "softmax.py" in r.message, (r.status, r.message)
    r = grade(honest, a, options=GradeOptions(isolation=mode)).checks[0]
    assert r.status == Status.PASSED, (r.status, r.message)


@pytest.mark.skipif(not os.environ.get("CI"), reason="CI only (.ci/run sets up the Python)")
def test_ci_runs_the_rlimits_cases():
    """In CI none of the rlimits cases may skip: .ci/run makes the venv from a Python the sandbox
    user can run. If this fails, the cases above skipped: see why."""
    assert rlimits_usable(), isolation.sandbox_user_problem()


def test_rlimits_without_a_usable_sandbox_user(workdir, monkeypatch):
    """As root, when the sandbox user cannot run this Python (simulated here; tests/test_platform.py
    builds a real 0700 case): a student's own public checks run as the invoking user, and the report
    says so; instructor grading (hidden checks) is refused before anything runs, never a report
    where every check is an error."""
    monkeypatch.setattr(isolation, "is_root", lambda: True)
    monkeypatch.setattr(isolation, "sandbox_user_problem",
                        lambda: "the sandbox user nobody (uid 65534) cannot run /root/py (Permission denied)")
    monkeypatch.delenv(isolation.ALLOW_ENV, raising=False)
    folder = workdir / "ref"
    folder.mkdir()
    shutil.copy(REFERENCE_SOFTMAX, folder / "softmax.py")
    asg = assignment_with(checks("softmax.values", "softmax.cross_entropy"))
    report = grade(folder, asg, options=GradeOptions(isolation="rlimits"))
    assert [c.status for c in report.checks] == [Status.PASSED, Status.PASSED]
    assert "as the invoking user (root)" in report.isolation and "cannot run /root/py" in report.isolation
    with pytest.raises(IsolationRefused, match="(?s)install bubblewrap.*--allow-unisolated"):
        grade(folder, asg, hidden=True, options=GradeOptions(isolation="rlimits"))
    allowed = grade(folder, asg, hidden=True, options=GradeOptions(isolation="rlimits", allow_unisolated=True))
    assert allowed.score == allowed.max_score and "as the invoking user (root)" in allowed.isolation


def test_python_binds_come_after_the_tmp_tmpfs(tmp_path, monkeypatch):
    """A venv under /tmp (a CI checkout's .venv) must not be hidden by the sandbox's empty /tmp."""
    monkeypatch.setattr(bwrap, "system_binds", lambda: ["--ro-bind", "/tmp/venv", "/tmp/venv"])
    cmd = bwrap.command(tmp_path, tmp_path / "submission", {}, Limits())
    tmpfs = max(i for i, a in enumerate(cmd) if a == "/tmp" and cmd[i - 1] == "--tmpfs")
    assert tmpfs < cmd.index("/tmp/venv")
