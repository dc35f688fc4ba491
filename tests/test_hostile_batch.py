"""The hostile batch (issue 16, item 4): `grade batch` of A1 submissions where innocent ones sit
beside a fork bomb that holds its processes, a spinner on every core, a tree of 4 processes each
holding memory up to its limit and a filler of every writable place (tests/hostile_batch/).

The batch runs once per isolation mode (module fixture: bwrap, and the rlimits fallback where the
sandbox user can run this Python) with 2 slots, small limits (tests/hostile_batch_class.py: 4 s per
check, 256 MB, 32 processes, 16 MB per file, 64 MB of disk) and 3 softmax checks, while a sampler
watches the host: the memory of the grader's descendants (PSS, by uid) and
the scratch folders' size. Each test asserts one bound, so that one that does not hold yet (the
memory of a process tree, until it is bounded per submission) does not hide the others.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import hostile_batch_class as hb
from grader.engine import assignment
from grader.engine.runner import grade
from grader.engine.sandbox import disk
from grader.engine.sandbox import isolation
from grader.engine.sandbox.isolation import bwrap_works
from grader.engine.session import GradeOptions

# about half a minute per mode on 2 cores (the attacks run to their time limits); one xdist worker
pytestmark = [
    pytest.mark.slow, pytest.mark.xdist_group("hostile_batch"),
    pytest.mark.skipif(os.geteuid() != 0, reason="RLIMIT_NPROC and the sandbox users need a root grader: "
                       "as a normal user the fork bomb would load this machine"),
]

SLOTS = 2
# The batch's budget: each attack costs two checks' time limits (4 s), a kill and a fresh worker;
# an innocent a grading process (Python, torch) and three quick checks. Generous for a busy machine.
BUDGET = 150.0
MB = 2**20


MODES = [pytest.param("bwrap", marks=pytest.mark.skipif(not bwrap_works(), reason="bubblewrap unavailable")),
         pytest.param("rlimits", marks=pytest.mark.skipif(
             bool(isolation.sandbox_user_problem()), reason="the sandbox user cannot run this Python "
             "(see tests/test_security.py rlimits_usable)"))]


@pytest.fixture(scope="module", params=MODES)
def batch(request):
    mode = request.param
    root = Path(tempfile.mkdtemp(prefix="hostile-batch-"))
    os.chmod(root, 0o755)
    scratch = root / "scratch"  # the batch's $TMPDIR: its scratch folders, and only them
    scratch.mkdir(mode=0o711)
    os.chmod(scratch, 0o711)
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv(assignment.ENV_PATH, str(hb.build_course(root / "course")))
        mp.delenv(hb.LIMITS_ENV, raising=False)
        students = hb.build_class(root / "class")
        asg = assignment.load(hb.ASSIGNMENT)
        markers = {s: hb.marker(root / "class" / s) for s, k in students.items() if k in hb.HOSTILE}
        uid_entries_before = _uid_entries()
        alone = {s: {c.id: c.score for c in grade(root / "class" / s, asg, hidden=True,
                                                   options=GradeOptions(isolation=mode)).checks}
                 for s, k in students.items() if k not in hb.HOSTILE}
        t0 = time.monotonic()
        summary, peaks = hb.run_hostile_batch(root / "class", root / "out", scratch, jobs=SLOTS, isolation=mode)
        elapsed = time.monotonic() - t0
        con = sqlite3.connect(root / "out" / "gradebook.sqlite")
        con.row_factory = sqlite3.Row
        subs = {r["student"]: dict(r) for r in con.execute("SELECT * FROM submissions")}
        rows = {}
        for r in con.execute("SELECT student, check_id, score, status, message FROM check_results"):
            rows.setdefault(r["student"], {})[r["check_id"]] = dict(r)
        con.close()
        yield SimpleNamespace(mode=mode, root=root, scratch=scratch, students=students, markers=markers, alone=alone,
                              summary=summary, peaks=peaks, elapsed=elapsed, subs=subs, rows=rows,
                              uid_entries_before=uid_entries_before)
    finally:
        mp.undo()
        shutil.rmtree(root, ignore_errors=True)
        for name in [m for m in sys.modules if m.startswith(f"assignments.{hb.ASSIGNMENT}")]:
            del sys.modules[name]  # its course folder is gone: the next mode's course is imported anew


def _uid_entries() -> set[str]:
    """What the sandbox users own now in /tmp, /var/tmp and /dev/shm (disk.files_of)."""
    from grader.engine.sandbox.isolation import unprivileged_ids

    return {str(p) for p in disk.files_of(unprivileged_ids()[0])}


def test_every_submission_is_graded_within_the_budget(batch):
    assert batch.summary.graded == len(batch.students)
    assert {s["status"] for s in batch.subs.values()} == {"graded"}, batch.subs
    assert batch.elapsed < BUDGET, f"the batch took {batch.elapsed:.0f} s, more than its budget of {BUDGET:.0f} s"


def test_each_innocent_scores_as_when_graded_alone(batch):
    for student, alone in batch.alone.items():
        got = {cid: r["score"] for cid, r in batch.rows[student].items()}
        assert got == alone, (student, {cid: (r["status"], r["message"][:200]) for cid, r in batch.rows[student].items()})


def test_each_attack_is_stopped_with_its_status(batch):
    expected = {"fork_bomb_hold": "timeout", "spinner": "timeout", "memory_tree": {"timeout", "out_of_memory"},
                "filler": "out_of_disk"}
    for student, kind in batch.students.items():
        if kind not in hb.HOSTILE:
            continue
        got = batch.rows[student]
        want = expected[kind]
        assert got["softmax.values"]["status"] in ({want} if isinstance(want, str) else want), (student, got)
        assert got["softmax.cross_entropy"]["status"] == "passed", (student, got)  # after the attack


def test_the_scratch_disk_stays_within_slots_times_the_disk_limit(batch):
    limit = hb.limits()["disk_mb"] * MB
    pk = batch.peaks
    assert pk.samples > 50, pk
    # a tmpfs is a hard bound; the watcher (no mount here) stops a worker one sample after the bound
    slack = 0 if disk.mount_possible() else 32 * MB
    assert pk.scratch_disk_each <= limit + slack, f"one scratch held {pk.scratch_disk_each / MB:.0f} MB"
    assert pk.scratch_disk <= SLOTS * (limit + slack), f"the scratch folders held {pk.scratch_disk / MB:.0f} MB"
    assert pk.scratch_disk_each >= limit * 0.9, "the filler never reached the bound: was it graded?"


def test_the_host_memory_stays_within_slots_times_the_memory_limit(batch):
    """The sandbox users' processes (PSS: a forked copy's shared pages counted once) never hold more
    than slots × the per-submission memory limit at once; the grader's own come on top."""
    pk = batch.peaks
    limit = hb.limits()["memory_mb"] * MB
    assert pk.sandbox_memory <= SLOTS * limit, f"the sandbox held {pk.sandbox_memory / MB:.0f} MB at once"
    assert pk.total_memory <= SLOTS * limit + pk.grader_memory


def test_nothing_of_the_sandbox_survives_the_batch(batch):
    for student, m in batch.markers.items():
        assert hb.processes_with(m) == [], student
    import psutil

    me = os.geteuid()
    left = [p for p in psutil.Process().children(recursive=True) if p.uids().real != me]
    assert left == [], left
    named = [str(p) for folder in disk.WORLD_WRITABLE if os.path.isdir(folder)
             for p in Path(folder).iterdir() if any(m in p.name for m in batch.markers.values())]
    assert named == []
    assert list(batch.scratch.iterdir()) == []  # every scratch folder removed, every tmpfs unmounted
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(batch.scratch) not in mounts
    new = _uid_entries() - batch.uid_entries_before
    assert new == set(), new


def test_the_report_says_how_disk_was_bounded(batch):
    report = (batch.root / "out" / "reports").glob("*/report.json")
    import json

    lines = {json.loads(p.read_text()).get("isolation", "") for p in report}
    want = "a tmpfs of 64 MB" if disk.mount_possible() else "stopped above 64 MB"
    assert lines and all(want in line for line in lines), lines
