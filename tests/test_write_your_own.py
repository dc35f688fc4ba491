"""docs/assignments.md ("Write your own assignment") is true: the example assignment built from the page's
files alone, in a course folder outside the repository named by $GRADER_ASSIGNMENTS, is found by
`grade template`, `grade check` and `grade selftest`; its reference gets full marks, its generated
template 0 without a crash, a wrong submission loses points; and a course folder cannot replace one of
the grader's own assignments. Plain numpy: a few seconds.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.engine import assignment
from grader.instructor.selftest import SelftestOptions, load_cases, selftest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "assignments.md"
NAME = "relu_intro"
# a fenced block whose info string names the file it is: ```python file=assignments/relu_intro/checks.py
BLOCK = re.compile(r"^```\w+ file=(\S+)\n(.*?)^```$", re.S | re.M)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("course")
    files = BLOCK.findall(PAGE.read_text())
    assert {f for f, _ in files} >= {f"assignments/{NAME}/{n}" for n in
                                     ("__init__.py", "statement.md", "probes.py", "oracle.py", "checks.py",
                                      "hidden.py", "cases.py")} | {f"reference/{NAME}/relu.py"}
    for rel, text in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture(autouse=True)
def on_search_path(course, monkeypatch):
    monkeypatch.setenv(assignment.ENV_PATH, str(course))


def _grade(path: Path, *extra: str) -> dict:
    r = CliRunner().invoke(main, ["check", str(path), "--format", "json", *extra])
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.stdout)


def test_template_reference_and_wrong_submission(course, tmp_path):
    r = CliRunner().invoke(main, ["template", NAME])
    assert r.exit_code == 0, r.output
    template = course / "student_template" / NAME
    assert "NotImplementedError" in (template / "relu.py").read_text()
    assert (template / ".grade.toml").read_text() == f'assignment = "{NAME}"\n'
    # the template's student wheel carries the course's assignment (public files only)
    import zipfile

    from grader.instructor.publish.wheel import wheel_name

    with zipfile.ZipFile(template / "wheels" / wheel_name()) as z:
        names = set(z.namelist())
    assert {f"assignments/{NAME}/{f}" for f in ("__init__.py", "checks.py", "probes.py", "oracle.py")} <= names
    assert not {f"assignments/{NAME}/{f}" for f in ("hidden.py", "cases.py")} & names

    ref = _grade(course / "reference" / NAME, "-a", NAME, "--hidden")
    assert ref["status"] == "graded" and ref["score"] == ref["max_score"] == 5
    assert [c["id"] for c in ref["checks"]] == ["relu.values", "relu.grad", "relu.grad_at_zero"]
    assert _grade(course / "reference" / NAME, "-a", NAME)["max_score"] == 4  # public checks only

    tpl = _grade(template, "--hidden")  # the assignment from the template's .grade.toml
    assert tpl["score"] == 0 and len(tpl["checks"]) == 3
    assert all(c["status"] not in ("error", "timeout") for c in tpl["checks"]), tpl["checks"]

    wrong = next(w for w in load_cases(assignment.load(NAME)).wrong if w.name == "grad_at_zero_is_one")
    sub = tmp_path / "wrong"
    sub.mkdir()
    (sub / wrong.file).write_text((course / "reference" / NAME / wrong.file).read_text().replace(wrong.old, wrong.new))
    got = {c["id"]: c for c in _grade(sub, "-a", NAME, "--hidden")["checks"]}
    assert got["relu.grad_at_zero"]["score"] == 0 and "relu_grad(x)" in got["relu.grad_at_zero"]["message"]
    assert got["relu.values"]["score"] == 2 and got["relu.grad"]["score"] == 2


def test_selftest_proves_the_checks(course):
    generated = CliRunner().invoke(main, ["template", NAME])
    assert generated.exit_code == 0, generated.output
    r = selftest(NAME, SelftestOptions(jobs=2))
    assert r.problems == [] and r.ok, r.problems
    assert {c.name for c in r.of("wrong")} == {"relu_is_abs", "grad_is_sign", "grad_at_zero_is_one"}
    assert [v.status for v in r.of("variant")] == ["graded"]
    assert r.mutants_found > 0 and r.uncaught == []


def test_a_course_folder_cannot_replace_the_graders_own_assignment(course):
    shadow = course / "assignments" / "relu_fit"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise SystemExit('a course folder replaced relu_fit')\n")
    try:
        assert NAME in assignment.available() and assignment.available().count("relu_fit") == 1
        own = Path(assignment.__file__).resolve().parents[2] / "assignments" / "relu_fit"
        assert assignment.load("relu_fit").folder == own
    finally:
        (shadow / "__init__.py").unlink()
        shadow.rmdir()


def test_without_the_variable_the_course_is_not_seen(monkeypatch):
    monkeypatch.delenv(assignment.ENV_PATH)
    assert NAME not in assignment.available()


def test_gradescope_bundles_the_course_assignment(course):
    from grader.instructor.publish.gradescope import SOURCE_DIR, autograder_files

    files = autograder_files(NAME)
    for name in ("__init__.py", "checks.py", "hidden.py", "probes.py", "oracle.py"):
        assert files[f"{SOURCE_DIR}/assignments/{NAME}/{name}"] == (course / "assignments" / NAME / name).read_bytes()
    assert not any("/reference/" in f or f.startswith("reference/") for f in files)


def test_a_forkserver_started_before_the_variable_still_sees_the_course(course, monkeypatch):
    """The batch's and selftest's forkserver is started once per process, perhaps before
    $GRADER_ASSIGNMENTS was set: each grading request carries the caller's course folders."""
    from multiprocessing import forkserver

    from grader.instructor.isolated.grade import GradeRequest, grade_isolated
    from grader.instructor.isolated.process import fork_context, warm_up

    if fork_context() is None:
        pytest.skip("no forkserver on this platform")
    forkserver._forkserver._stop()  # a private helper (CPython's own tests use it): a fresh server
    monkeypatch.delenv(assignment.ENV_PATH)
    warm_up()  # started without the course
    monkeypatch.setenv(assignment.ENV_PATH, str(course))
    report = grade_isolated(GradeRequest(NAME, folder=course / "reference" / NAME, budget=60))
    assert report.status == "graded" and report.score == report.max_score == 5, report.message
