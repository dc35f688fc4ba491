"""A small class (a Gradescope export of 6) graded for real with `--task softmax`: resume after
SIGKILL, determinism, the Dask path on a real distributed.LocalCluster, --only, the wall-clock
budget and crashes of a submission's grading.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from batch_class import build_gradescope_class
from grader.instructor.isolated.grade import GradeRequest, grade_isolated
from grader.engine.assignment import load
from grader.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("batch_small")]  # about a minute: batches of 6

KINDS = ["reference", "mutant:softmax_wrong_axis", "mutant:jacobian_diagonal_only", "notebook", "template",
         "hostile:forged_output"]
N = len(KINDS)
GRADE = ["-a", "backprop", "--task", "softmax"]
SOFTMAX_CHECKS = [c for c in load("backprop").checks(hidden=True) if c.task == "softmax"]
SOFTMAX_POINTS = sum(c.points for c in SOFTMAX_CHECKS)


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def table(db: Path, query: str) -> list[dict]:
    con = sqlite3.connect(db, timeout=30)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(query)]
    finally:
        con.close()


def scores(out: Path) -> dict:
    """{student: (status, score, {check: (score, status, message)})}: what two runs must agree on."""
    db = out / "gradebook.sqlite"
    per: dict[str, dict] = {}
    for c in table(db, "SELECT * FROM check_results"):
        per.setdefault(c["student"], {})[c["check_id"]] = (c["score"], c["status"], c["message"])
    return {s["student"]: (s["status"], s["score"], per.get(s["student"], {}))
            for s in table(db, "SELECT * FROM submissions")}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    base = tmp_path_factory.mktemp("small")
    expected = build_gradescope_class(base / "export", base / "store", KINDS)
    out = base / "local"
    r = cli("batch", base / "export", *GRADE, "--out", out, "--jobs", "2")
    assert r.exit_code == 0, r.output
    return SimpleNamespace(base=base, export=base / "export", expected=expected, out=out, output=r.output)


def test_gradescope_export_graded_like_grade_check(small):
    got = scores(small.out)
    assert set(got) == set(small.expected)
    rows = {s["student"]: s for s in table(small.out / "gradebook.sqlite", "SELECT * FROM submissions")}
    assert rows["s100"]["name"] == "Student 0" and rows["s100"]["email"] == "student0@uni.example"
    assert rows["s100"]["layout"] == "gradescope" and rows["s100"]["lms_id"] == "7000"
    for student, folder in small.expected.items():
        r = cli("check", folder, "-a", "backprop", "--task", "softmax", "--hidden", "--format", "json")
        want = {c["id"]: c["score"] for c in json.loads(r.stdout)["checks"]}
        status, total, checks = got[student]
        assert status == "graded" and {k: v[0] for k, v in checks.items()} == want, student
    assert got["s100"][1] == SOFTMAX_POINTS and got["s104"][1] == 0  # reference full marks, template nothing
    assert len({total for _, total, _ in got.values()}) >= 4


def test_rerun_is_a_resume_that_grades_nothing(small, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(small.out, out)
    before = table(out / "gradebook.sqlite", "SELECT student, started_at, attempts FROM submissions")
    r = cli("batch", small.export, *GRADE, "--out", out, "--jobs", "2")
    assert r.exit_code == 0 and f"0 graded now, {N} up to date" in r.output, r.output
    assert table(out / "gradebook.sqlite", "SELECT student, started_at, attempts FROM submissions") == before
    # a changed submission is graded again, the others are not
    template = small.export / "submission_7004" / "softmax.py"
    saved = template.read_text()
    template.write_text((small.expected["s100"] / "softmax.py").read_text())
    try:
        r = cli("batch", small.export, *GRADE, "--out", out, "--jobs", "2", "--quiet")
        assert r.exit_code == 0 and r.output.count("\n") == 1, r.output  # --quiet: only the final line
        assert scores(out)["s104"][1] == SOFTMAX_POINTS
    finally:
        template.write_text(saved)
    attempts = {s["student"]: s["attempts"] for s in table(out / "gradebook.sqlite", "SELECT * FROM submissions")}
    assert attempts == {s: 2 if s == "s104" else 1 for s in small.expected}


def test_sigkill_half_way_then_resume(small, tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "grader.cli", "batch", str(small.export), *GRADE, "--out", str(out),
                             "--jobs", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = out / "gradebook.sqlite"
    deadline = time.monotonic() + 240
    done: list[dict] = []
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                done = table(db, "SELECT student, started_at, finished_at, attempts FROM submissions")
            except sqlite3.OperationalError:  # the schema is being created
                continue
            if len(done) >= 3:
                break
    assert proc.poll() is None, "the batch ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    after_kill = table(db, "SELECT student, started_at, finished_at, attempts FROM submissions")
    assert 3 <= len(after_kill) < N
    counts = table(db, "SELECT student, COUNT(*) AS n FROM check_results GROUP BY student")
    assert {c["student"] for c in counts} == {s["student"] for s in after_kill}
    assert {c["n"] for c in counts} == {len(SOFTMAX_CHECKS)}  # every recorded submission complete, none half-recorded
    time.sleep(1.0)  # the killed batch's grading processes notice and exit
    r = cli("batch", small.export, *GRADE, "--out", out, "--jobs", "2")
    assert r.exit_code == 0, r.output
    assert f"{N - len(after_kill)} graded now, {len(after_kill)} up to date" in r.output, r.output
    final = {s["student"]: s for s in table(db, "SELECT student, started_at, finished_at, attempts FROM submissions")}
    for s in after_kill:  # what had finished was not graded again
        assert final[s["student"]] == s
    assert scores(out) == scores(small.out)  # and the gradebook ends the same


def test_dask_local_cluster_gives_the_same_gradebook(small, tmp_path):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        r = cli("batch", small.export, *GRADE, "--out", out, "--scheduler", cluster.scheduler_address)
    assert r.exit_code == 0 and f"{N} graded now" in r.output, r.output
    assert scores(out) == scores(small.out)  # a second run, elsewhere: identical scores and messages
    local = {s["student"]: s["content_hash"] for s in table(small.out / "gradebook.sqlite", "SELECT * FROM submissions")}
    dask = {s["student"]: s["content_hash"] for s in table(out / "gradebook.sqlite", "SELECT * FROM submissions")}
    assert local == dask


def test_only_regrades_one_check_and_keeps_the_rest(small, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(small.out, out)
    db = out / "gradebook.sqlite"
    before = {(c["student"], c["check_id"]): c for c in table(db, "SELECT * FROM check_results")}
    r = cli("batch", small.export, *GRADE, "--out", out, "--only", "softmax.values", "--jobs", "2")
    assert r.exit_code == 0 and f"{N} graded now" in r.output, r.output
    after = {(c["student"], c["check_id"]): c for c in table(db, "SELECT * FROM check_results")}
    assert set(after) == set(before)
    for key, row in after.items():
        if key[1] == "softmax.values":
            assert row["graded_at"] > before[key]["graded_at"] and row["score"] == before[key]["score"]
        else:
            assert row == before[key]  # kept as it was
    assert scores(out) == scores(small.out)
    assert {s["attempts"] for s in table(db, "SELECT attempts FROM submissions")} == {2}
    r = cli("batch", small.export, *GRADE, "--out", out, "--only", "layers.linear")
    assert r.exit_code == 2 and "not a check of --task softmax" in r.output


def test_budget_stops_a_hung_submission_and_others_go_on(tmp_path):
    from batch_class import HOSTILE, TESTS  # noqa: F401

    subs = tmp_path / "class"
    shutil.copytree(TESTS / "hostile" / "loop_in_function", subs / "hangs")
    (subs / "fine").mkdir()
    shutil.copy(TESTS.parent / "reference" / "backprop" / "softmax.py", subs / "fine" / "softmax.py")
    t0 = time.monotonic()
    r = cli("batch", subs, "-a", "backprop", "--only", "softmax.values", "--out", tmp_path / "out",
            "--timeout-per-submission", "6", "--jobs", "2")
    assert r.exit_code == 0, r.output
    assert time.monotonic() - t0 < 60
    got = {s["student"]: s for s in table(tmp_path / "out" / "gradebook.sqlite", "SELECT * FROM submissions")}
    assert got["hangs"]["status"] == "timeout" and "budget of 6 s" in got["hangs"]["message"]
    assert got["fine"]["status"] == "graded" and got["fine"]["score"] == 3
    feedback = json.loads((tmp_path / "out" / "reports" / "hangs" / "report.json").read_text())
    assert feedback["score"] == 0 and "ran out of time" in feedback["checks"][0]["message"]
    # a later run on the whole task completes "fine" with the checks it lacks; "hangs" is final
    db = tmp_path / "out" / "gradebook.sqlite"
    values = table(db, "SELECT graded_at FROM check_results WHERE student = 'fine'")
    r = cli("batch", subs, *GRADE, "--out", tmp_path / "out", "--jobs", "2")
    assert r.exit_code == 0 and "1 graded now, 1 up to date" in r.output, r.output
    rows = {c["check_id"]: c for c in table(db, "SELECT * FROM check_results WHERE student = 'fine'")}
    assert len(rows) == len(SOFTMAX_CHECKS) and rows["softmax.values"]["graded_at"] == values[0]["graded_at"]
    assert table(db, "SELECT score FROM submissions WHERE student = 'fine'") == [{"score": SOFTMAX_POINTS}]


def test_a_crash_of_the_grading_is_that_submissions_error():
    softmax = (Path(__file__).resolve().parents[1] / "reference" / "backprop" / "softmax.py").read_bytes()
    # the grading process itself fails (here: an assignment the engine cannot load)
    r = grade_isolated(GradeRequest(assignment="no_such_assignment", files={"softmax.py": softmax}, name="x",
                                    budget=60))
    assert r.status == "error" and "crashed" in r.message and r.checks == []
    assert "Traceback (most recent call last)" in r.internal[0] and "KeyError" in r.internal[0]
    ok = grade_isolated(GradeRequest(assignment="backprop", files={"softmax.py": softmax}, name="y",
                                     check_ids=["softmax.values"], budget=60))
    assert ok.status == "graded" and ok.score == 3 and ok.hidden_included and ok.submission == "y"


def test_usage_errors_exit_2(tmp_path):
    (tmp_path / "class").mkdir()
    assert cli("batch", tmp_path / "class", "-a", "nope", "--out", tmp_path / "o").exit_code == 2
    assert cli("batch", tmp_path / "missing", "-a", "backprop", "--out", tmp_path / "o").exit_code == 2
    assert cli("batch", tmp_path / "class", "-a", "backprop", "--out", tmp_path / "class" / "o").exit_code == 2
    assert cli("batch", tmp_path / "class", "-a", "backprop", "--out", tmp_path / "o", "--only", "x.y").exit_code == 2
    assert cli("batch", tmp_path / "class", "-a", "backprop", "--out", tmp_path / "o", "--task", "x").exit_code == 2
    r = cli("batch", tmp_path / "class", "-a", "backprop", "--out", tmp_path / "o", "--jobs", "1")
    assert r.exit_code == 0  # an empty class is a batch that ran
    r = cli("batch", tmp_path / "class", "-a", "relu_fit", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "gradebook of 'backprop'" in r.output


def test_each_submission_is_read_once_for_planning_grading_and_the_similarity_screen(tmp_path, monkeypatch):
    """One intake (issue 14): the batch reads a submission's files once, whatever uses them."""
    from grader.instructor.batch import intake
    from grader.instructor.batch.run import BatchOptions, run_batch

    softmax = (Path(__file__).resolve().parents[1] / "reference" / "backprop" / "softmax.py").read_text()
    klass = tmp_path / "class"
    for i, name in enumerate(["ann", "bob", "cat"]):
        (klass / name).mkdir(parents=True)
        (klass / name / "softmax.py").write_text(softmax + f"\n# {i}\n")
    reads: list[str] = []
    real = intake.read_entry
    monkeypatch.setattr(intake, "read_entry", lambda e, *a, **k: reads.append(e.student) or real(e, *a, **k))
    summary = run_batch(BatchOptions(submissions=klass, assignment="backprop", out=tmp_path / "out", jobs=2,
                                     tasks=["softmax"], only=["softmax.values"], quiet=True))
    assert summary.graded == 3 and summary.statuses == {"graded": 3}
    assert summary.similarity is not None and summary.similarity["submissions"] == 3  # screened: read for it too
    assert sorted(reads) == ["ann", "bob", "cat"]
