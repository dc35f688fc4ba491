"""One notebook under any name holding several tasks (grader/worker/loader.py `single_notebook`):
graded like `softmax.ipynb` when the module has no file of its own, in `grade check` and `grade batch`.

Each test builds its submission with nbformat the way a course hands them in: `assignment1.ipynb`
holding the reference's code for several tasks.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.engine import assignment as assignments_mod
from grader.engine.model import Status
from grader.engine.runner import grade
from grader.engine.session import GradeOptions
from grader.engine.submission_root import find_root, module_files
from grader.worker.loader import single_notebook

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "backprop"


@pytest.fixture(scope="module")
def backprop():
    return assignments_mod.load("backprop")


def notebook(path: Path, *cells: str) -> Path:
    """A notebook of Markdown-separated code cells, as a student's would be."""
    nb = new_notebook(cells=[new_markdown_cell("# Assignment 1")] + [new_code_cell(c) for c in cells])
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def reference(*modules: str) -> list[str]:
    return [(REFERENCE / f"{m}.py").read_text() for m in modules]


def statuses(report) -> set[Status]:
    return {c.status for c in report.checks}


def full(report) -> bool:
    return report.score == report.max_score > 0


def test_the_issue_example_one_notebook_any_name_gets_full_marks(tmp_path, backprop):
    """The issue's example: assignment1.ipynb with the reference's softmax and layers code."""
    notebook(tmp_path / "assignment1.ipynb", *reference("softmax", "layers"))
    report = grade(tmp_path, backprop, tasks=["softmax", "layers"])
    assert full(report), [(c.id, c.status, c.message) for c in report.checks]
    assert report.max_score == 35  # softmax 18 + layers 17: both tasks from the one notebook


def test_one_notebook_with_every_task_and_a_sibling_import(tmp_path, backprop):
    """mlp's `from layers import ...` finds the same notebook; the scalar task's plain-Python check
    does not count the numpy the softmax cells import at the top (run-time audit still applies)."""
    notebook(tmp_path / "hw.ipynb", *reference("softmax", "scalar_backprop", "layers", "mlp"))
    fast = [c.id for c in backprop.checks(hidden=False) if c.task in ("scalar", "mlp") and not c.needs_data
            and "train" not in c.id]
    report = grade(tmp_path, backprop, check_ids=fast)
    assert {c.task for c in report.checks} == {"scalar", "mlp"}
    assert full(report), [(c.id, c.status, c.message) for c in report.checks]


def test_by_hand_audit_still_catches_torch_in_a_function_of_one_notebook(tmp_path, backprop):
    cheat = ("import numpy as np\nimport torch\n\n"
             "def softmax(o):\n    return torch.softmax(torch.as_tensor(o), -1).numpy()\n")
    notebook(tmp_path / "hw.ipynb", *reference("softmax"), cheat)
    report = grade(tmp_path, backprop, check_ids=["softmax.by_hand"])
    r = report.checks[0]
    assert r.status == Status.FAILED and "hw.ipynb[cell 3]" in r.message and "torch" in r.message, r.message


def test_a_failure_names_the_notebook_and_its_cell(tmp_path, backprop):
    bug = "def cross_entropy(o, t):\n    raise ValueError('planted')\n"
    notebook(tmp_path / "assignment1.ipynb", *reference("softmax"), bug)
    report = grade(tmp_path, backprop, check_ids=["softmax.cross_entropy"])
    r = report.checks[0]
    assert r.status == Status.ERROR and "assignment1.ipynb[cell 3]" in r.message, r.message


def test_grade_toml_names_the_notebook_among_several(tmp_path, backprop):
    notebook(tmp_path / "scratch.ipynb", "def softmax(o):\n    return o\n")
    notebook(tmp_path / "final.ipynb", *reference("softmax"))
    (tmp_path / ".grade.toml").write_text('assignment = "backprop"\nnotebook = "final.ipynb"\n')
    assert full(grade(tmp_path, backprop, tasks=["softmax"]))
    (tmp_path / ".grade.toml").write_text('assignment = "backprop"\nnotebook = "scratch.ipynb"\n')
    assert grade(tmp_path, backprop, check_ids=["softmax.values"]).score == 0


def test_two_notebooks_and_no_name_is_a_clear_error_naming_both(tmp_path, backprop):
    notebook(tmp_path / "draft.ipynb", *reference("softmax"))
    notebook(tmp_path / "final.ipynb", *reference("softmax"))
    report = grade(tmp_path, backprop, tasks=["softmax"])
    assert report.score == 0 and statuses(report) == {Status.MISSING}
    msg = report.checks[0].message
    assert "draft.ipynb" in msg and "final.ipynb" in msg and ".grade.toml" in msg, msg


def test_grade_toml_naming_a_missing_notebook(tmp_path, backprop):
    notebook(tmp_path / "final.ipynb", *reference("softmax"))
    (tmp_path / ".grade.toml").write_text('notebook = "final2.ipynb"\n')
    report = grade(tmp_path, backprop, check_ids=["softmax.values"])
    assert report.checks[0].status == Status.MISSING and "final2.ipynb" in report.checks[0].message


def test_the_py_file_wins_over_the_one_notebook(tmp_path, backprop):
    shutil.copy(REFERENCE / "softmax.py", tmp_path / "softmax.py")
    notebook(tmp_path / "assignment1.ipynb", "def softmax(o):\n    return o\n", "raise SystemExit('never run')")
    report = grade(tmp_path, backprop, tasks=["softmax"], options=GradeOptions(notebook_mode="all"))
    assert full(report), [(c.id, c.status, c.message) for c in report.checks]


@pytest.mark.parametrize("body, what", [
    ('{"cells": [', "does not appear to be JSON"),  # not JSON
    ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, '
     '"cells": [{"cell_type": "code", "source": 5, "metadata": {}, "outputs": [], "execution_count": null}]}',
     "ValidationError"),  # JSON, but not nbformat: a source that is a number
])
def test_a_notebook_that_is_not_nbformat_is_the_modules_clear_error(tmp_path, backprop, body, what):
    (tmp_path / "assignment1.ipynb").write_text(body)
    report = grade(tmp_path, backprop, tasks=["softmax"])
    assert report.status == "graded" and report.score == 0 and statuses(report) == {Status.ERROR}
    msg = report.checks[0].message
    assert "assignment1.ipynb cannot be read as a Jupyter notebook" in msg and what in msg, msg


def test_a_failing_kept_cell_of_the_one_notebook_stays_a_warning(tmp_path, backprop):
    notebook(tmp_path / "assignment1.ipynb", "import seaborn_is_not_installed", *reference("softmax"))
    report = grade(tmp_path, backprop, tasks=["softmax"])
    assert full(report)
    assert any("assignment1.ipynb[cell 2]" in w and "seaborn_is_not_installed" in w for w in report.warnings)


def test_single_notebook_rule(tmp_path):
    assert single_notebook(tmp_path) == (None, "")
    notebook(tmp_path / "a.ipynb")
    assert single_notebook(tmp_path) == (tmp_path / "a.ipynb", "")
    (tmp_path / ".hidden.ipynb").write_text("{}")  # hidden files never count
    assert single_notebook(tmp_path)[0] == tmp_path / "a.ipynb"
    notebook(tmp_path / "b.ipynb")
    assert single_notebook(tmp_path)[0] is None
    (tmp_path / ".grade.toml").write_text('notebook = "../etc/x.ipynb"\n')
    assert "not '../etc/x.ipynb'" in single_notebook(tmp_path)[1]


@pytest.mark.parametrize("paths, root", [
    (["hw1/assignment1.ipynb", "README.md"], "hw1"),  # no module file by name: the notebook's folder
    (["assignment1.ipynb"], ""),
    (["src/softmax.py", "notebooks/explore.ipynb"], "src"),  # a module file by name wins
    ([".ipynb_checkpoints/a-checkpoint.ipynb", "w/a.ipynb"], "w"),  # junk never counts
])
def test_the_root_of_a_one_notebook_submission(paths, root, backprop):
    assert find_root(paths, module_files(backprop)) == root


def test_batch_grades_one_notebook_per_student(tmp_path):
    """Canvas's flat download, a bare notebook per student, a Moodle folder, a wrapper folder."""
    from grader.instructor.batch.run import BatchOptions, run_batch

    subs = tmp_path / "subs"
    good = reference("softmax")
    notebook(subs / "smithjohn_4242_998877_assignment1.ipynb", *good)  # Canvas
    notebook(subs / "alice.ipynb", *good)  # one file per student
    notebook(subs / "Ada Lovelace_2000_assignsubmission_file_" / "A1.ipynb", *good)  # Moodle
    notebook(subs / "bob" / "hw1" / "my notebook.ipynb", "def softmax(o):\n    return o\n")  # wrong
    out = tmp_path / "out"
    run_batch(BatchOptions(submissions=subs, assignment="backprop", out=out, jobs=2, quiet=True,
                           tasks=["softmax"], similarity=False))
    with open(out / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    top = float(rows.pop("#max")["total"])  # public and hidden checks of the softmax task
    assert set(rows) == {"smithjohn", "alice", "Ada_Lovelace", "bob"}, rows
    scores = {s: float(r["total"]) for s, r in rows.items()}
    assert top > 18 and scores["smithjohn"] == scores["alice"] == scores["Ada_Lovelace"] == top, rows
    assert scores["bob"] < top / 2
    layouts = {s: r["layout"] for s, r in rows.items()}
    assert layouts == {"smithjohn": "canvas", "alice": "notebook", "Ada_Lovelace": "moodle", "bob": "folder"}


def test_grade_check_on_a_notebook_file_grades_it_alone_even_beside_py_stubs(tmp_path):
    """`grade check backprop.ipynb` in a template repository: the .py stubs beside it do not win."""
    from click.testing import CliRunner

    from grader.cli import main

    shutil.copytree(ROOT / "student_template" / "backprop", tmp_path / "repo")
    notebook(tmp_path / "repo" / "mine.ipynb", "from grader.notebook import check", *reference("softmax"),
             'check("softmax")')
    r = CliRunner().invoke(main, ["check", str(tmp_path / "repo" / "mine.ipynb"), "softmax",
                                  "--format", "json"])
    assert r.exit_code == 0, r.output
    import json

    report = json.loads(r.output)
    assert report["score"] == report["max_score"] == 18, r.output
    assert report["submission"].endswith("mine.ipynb") and not report["warnings"], report["warnings"]
    r = CliRunner().invoke(main, ["check", str(tmp_path / "repo"), "softmax", "--format", "json"])
    assert json.loads(r.output)["score"] == 0  # the folder: its .py stubs win


def test_the_in_notebook_check_lines_do_nothing_while_grading_all_cells(tmp_path, backprop):
    notebook(tmp_path / "hw.ipynb", "from grader.notebook import check", *reference("softmax"), 'check("softmax")')
    report = grade(tmp_path, backprop, tasks=["softmax"], options=GradeOptions(notebook_mode="all"))
    assert full(report) and not report.warnings, [(c.status, c.message) for c in report.checks]
