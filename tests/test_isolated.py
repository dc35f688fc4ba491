"""Grading out of process (grader/instructor/isolated): the instructor-only `internal` details of a
check our grader could not judge cross from the grading process into the gradebook, and never into
a student's feedback (issue 14: `child.report_dict` once dropped them, so the column stayed empty)."""
from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from grader.engine import assignment as assignments
from grader.engine.assignment import Assignment
from grader.engine.model import Check, Visibility
from grader.instructor.batch.feedback import FILES
from grader.instructor.batch.gradebook import Gradebook, now
from grader.instructor.batch.intake import Submission
from grader.instructor.batch.layouts import Entry
from grader.instructor.batch.pool import Graded
from grader.instructor.batch.run import Job, record, write_reports
from grader.instructor.isolated import child
from grader.instructor.isolated.grade import GradeRequest, grade_isolated, report_from_result

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "backprop"
BUG = "a bug in a hidden check of ours"


def test_an_internal_grader_error_reaches_the_gradebook_and_never_the_feedback(tmp_path, monkeypatch):
    real = assignments.load("backprop")

    def buggy(ctx):
        ctx.probe("call", "softmax", "softmax", [[0.0, 1.0]])
        raise RuntimeError(BUG)

    bug = Check(id="softmax.buggy", task="softmax", title="a check with a bug", points=1, run=buggy,
                module="softmax", visibility=Visibility.HIDDEN)
    values = next(c for c in real.checks(hidden=True) if c.id == "softmax.values")
    asg = Assignment(name=real.name, title=real.title, tasks=real.tasks, package=real.package, seed=real.seed,
                     _checks=[bug, values])
    monkeypatch.setattr(assignments, "load", lambda name: asg)  # what the grading process loads
    sub = tmp_path / "alice"
    sub.mkdir()
    (sub / "softmax.py").write_bytes((REFERENCE / "softmax.py").read_bytes())
    for p in (tmp_path, sub, sub / "softmax.py"):  # readable by the sandbox's user
        os.chmod(p, 0o755 if p.is_dir() else 0o644)

    # the grading process's side (child.py), in this process: grade, write the result file
    result = tmp_path / "result.json"
    child._finish({"submission": str(sub), "assignment": "backprop", "check_ids": None, "result": str(result)})
    # the batch's side: the result file back into a Report, recorded in a real gradebook
    report = report_from_result(json.loads(result.read_text()), GradeRequest("backprop", folder=sub, name="alice"))
    assert report.checks[0].status.value == "error" and "Traceback" in report.checks[0].internal
    out = tmp_path / "out"
    out.mkdir()
    with Gradebook(out / "gradebook.sqlite") as gb:
        gb.claim("backprop", "full", ["softmax.buggy", "softmax.values"])
        job = Job(Submission(Entry("alice", "folder", sub), content_hash="h"), None, False)
        record(gb, job, Graded(report, now(), now()), "backprop", "v", {"softmax.buggy": 0, "softmax.values": 1})
        write_reports(out, gb=gb)
    con = sqlite3.connect(out / "gradebook.sqlite")
    internal = dict(con.execute("SELECT check_id, internal FROM check_results WHERE student = 'alice'"))
    con.close()
    assert BUG in internal["softmax.buggy"] and "RuntimeError" in internal["softmax.buggy"]
    assert internal["softmax.values"] == ""
    # --feedback full shows hidden checks like public ones, but never the instructor-only details
    for name in FILES:
        body = (out / "reports" / "alice" / name).read_text()
        assert BUG not in body and "Traceback" not in body, name
    assert "internal grader error in check softmax.buggy" in (out / "reports" / "alice" / "report.json").read_text()


def test_files_that_would_land_outside_the_folder_are_a_report_not_an_exception():
    """grade_isolated never raises for what a request's files hold (a self-test case, a Dask task)."""
    report = grade_isolated(GradeRequest(assignment="backprop", files={"../softmax.py": b"x = 1\n"}, name="s1"))
    assert report.status == "error" and report.checks == []
    assert "could not be written" in report.message and "outside the submission" in report.message
