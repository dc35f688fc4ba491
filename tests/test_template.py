"""Templates generated from the reference (grader/instructor/publish/template.py): the committed templates are what the
generator writes, markers are strict, and the generated stubs behave as a template must."""
from __future__ import annotations

import ast
import io
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from grader.engine import assignment
from grader.cli import main
from grader.instructor.publish.template import (ROOT, TemplateError, generate, strip_solutions, template_files,
                                                template_wheel)
from grader.instructor.publish.wheel import DEFAULT_EPOCH, student_wheel_bytes, wheel_name


@pytest.mark.parametrize("name", [n for n in assignment.available() if (ROOT / "reference" / n).is_dir()])
def test_committed_templates_are_what_the_generator_writes(name):
    assert generate(name, check=True) == [], f"run `grade template {name}` and commit the result"


def test_grade_template_check_passes_on_the_repository():
    r = CliRunner().invoke(main, ["template", "--check"])
    assert r.exit_code == 0, r.output


REFERENCE = '''"""A module."""
import numpy as np


# BEGIN SOLUTION
def _helper(x):
    return x * 2
# END SOLUTION


def double(x):
    """Twice x.

    Inputs:
    - x: array
    """
    # TODO: Multiply by two; broadcasting
    #       does the rest.
    # BEGIN SOLUTION
    return _helper(np.asarray(x))
    # END SOLUTION


class Layer:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        ### BEGIN SOLUTION hint="Cache x, return it."
        self.cache = x
        return x
        ### END SOLUTION

    # BEGIN SOLUTION
    def _private(self):
        return 1
    # END SOLUTION


SCALE = 3.0  # SOLUTION
'''


def test_blocks_become_banners_naming_the_function():
    out = strip_solutions(REFERENCE, "ref.py")
    assert "_helper" not in out and "_private" not in out  # solution helpers removed
    assert '    raise NotImplementedError("double: not implemented yet")' in out
    assert '        raise NotImplementedError("Layer.forward: not implemented yet")' in out
    assert "# TODO: Multiply by two; broadcasting does the rest." in out  # the hint above BEGIN
    assert "# TODO: Cache x, return it." in out  # hint="..."
    assert "return x * 2" not in out and "self.cache = x" not in out
    assert '"""Twice x.' in out and "- x: array" in out  # docstrings kept
    assert "import numpy as np" in out and "self.cache = None" in out  # code outside markers kept
    assert "SCALE = ...  # TODO" in out
    assert "BEGIN SOLUTION" not in out and "END SOLUTION" not in out
    ast.parse(out)
    for line in out.splitlines():
        assert len(line) <= 79 or not line.lstrip().startswith("#"), line


@pytest.mark.parametrize("source, where, what", [
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "ref.py:2", "without an END"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "ref.py:3", "without a BEGIN"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n",
     "ref.py:3", "inside the block"),
    ("# BEGIN SOLUTION\ndef public(x):\n    return x\n# END SOLUTION\n", "ref.py:1", "public would vanish"),
])
def test_bad_markers_are_errors_with_file_and_line(source, where, what):
    with pytest.raises(TemplateError) as exc:
        strip_solutions(source, "ref.py")
    assert str(exc.value).startswith(where) and what in str(exc.value), str(exc.value)


def test_the_template_repository_files():
    files = template_files("backprop", ROOT / "reference" / "backprop")
    assert files[".grade.toml"] == 'assignment = "backprop"\n'
    assert "torch==2.13.0" in files["requirements.txt"]
    assert "./wheels/dl_grader_student-0.1.0-py3-none-any.whl" in files["requirements.txt"].splitlines()
    workflow = yaml.safe_load(files[".github/workflows/grade.yml"])
    assert set(workflow[True]) == {"push", "pull_request"}  # YAML reads the key `on` as True
    run = " ".join(step.get("run", "") for step in workflow["jobs"]["grade"]["steps"])
    assert "grade check --report junit junit.xml" in run and "GITHUB_STEP_SUMMARY" in run
    assert "torch==2.13.0" in run
    classroom = yaml.safe_load(files[".github/workflows/classroom.yml"])
    steps = classroom["jobs"]["run-autograding-tests"]["steps"]
    grade = next(s for s in steps if s.get("id") == "grade")
    assert "grade check --format classroom --base64" in grade["run"] and "GITHUB_OUTPUT" in grade["run"]
    reporter = next(s for s in steps if "autograding-grading-reporter" in s.get("uses", ""))
    assert reporter["with"]["runners"] == "grade" and "steps.grade.outputs.result" in reporter["env"]["GRADE_RESULTS"]


# ------------------------------------------------------------------------------ the student wheel
def test_every_template_carries_the_student_wheel_its_requirements_name():
    for name in [n for n in assignment.available() if (ROOT / "reference" / n).is_dir()]:
        folder = ROOT / "student_template" / name
        wanted = [line for line in (folder / "requirements.txt").read_text().splitlines() if line.startswith("./")]
        assert wanted == [f"./wheels/{wheel_name()}"] and (folder / wanted[0]).is_file(), name
        assert sorted(p.name for p in (folder / "wheels").iterdir()) == [wheel_name()]


def test_the_wheel_is_reproducible(monkeypatch):
    """Same sources, same bytes: a fixed date, sorted entries, fixed permissions (no build
    backend's version, no clock, no umask in them)."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = student_wheel_bytes()
    assert student_wheel_bytes() == first
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        infos = z.infolist()
    names = [i.filename for i in infos]
    packages = [n for n in names if ".dist-info/" not in n]
    assert packages == sorted(packages) and names[-1].endswith(".dist-info/RECORD")
    assert {i.date_time for i in infos} == {(2000, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644} and {i.create_system for i in infos} == {3}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(DEFAULT_EPOCH + 86400))  # reproducible-builds.org's variable
    with zipfile.ZipFile(io.BytesIO(student_wheel_bytes())) as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 2, 0, 0, 0)}


def _course_copy(tmp_path: Path, name: str) -> Path:
    for part in ("reference", "student_template"):
        shutil.copytree(ROOT / part / name, tmp_path / part / name)
    return tmp_path


def test_a_stale_or_old_wheel_is_found_and_replaced(tmp_path):
    root = _course_copy(tmp_path, "relu_fit")
    wheels = root / "student_template" / "relu_fit" / "wheels"
    assert generate("relu_fit", root=root, check=True) == []
    current = wheels / wheel_name()
    with zipfile.ZipFile(current, "a") as z:  # the grader changed since the wheel was made
        z.writestr("grader/new_module.py", "X = 1\n")
    (wheels / wheel_name("0.0.9")).write_bytes(b"an older release")
    assert generate("relu_fit", root=root, check=True) == [f"wheels/{wheel_name()}", f"wheels/{wheel_name('0.0.9')}"]
    assert generate("relu_fit", root=root) != []
    assert sorted(p.name for p in wheels.iterdir()) == [wheel_name()]
    assert current.read_bytes() == template_wheel("relu_fit")[1]
    assert generate("relu_fit", root=root, check=True) == []


def test_regenerating_with_the_same_contents_leaves_the_file_alone(tmp_path):
    """A wheel holding the same files, compressed differently (another zlib), is not rewritten."""
    root = _course_copy(tmp_path, "relu_fit")
    path = root / "student_template" / "relu_fit" / "wheels" / wheel_name()
    with zipfile.ZipFile(io.BytesIO(template_wheel("relu_fit")[1])) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info), compress_type=zipfile.ZIP_STORED)
    stored = path.read_bytes()
    assert stored != template_wheel("relu_fit")[1]
    assert generate("relu_fit", root=root) == [] and path.read_bytes() == stored


# ------------------------------------------------------------------------- the student notebook
def test_the_student_notebook_is_the_statement_the_stubs_and_a_check_after_each_task():
    import nbformat

    from grader.instructor.publish.notebook import student_notebook

    text = template_files("backprop", ROOT / "reference" / "backprop")["backprop.ipynb"]
    assert text == student_notebook("backprop", ROOT / "reference" / "backprop")  # deterministic
    nb = nbformat.reads(text, 4)
    nbformat.validate(nb)
    kinds = [(c.cell_type, c.source) for c in nb.cells]
    headings = [s.splitlines()[0] for k, s in kinds if k == "markdown" and s.startswith("## ")]
    assert headings[:3] == ["## Conventions", "## 1.1 `softmax.py`",
                            "## 1.2 `scalar_backprop.py` — plain Python only"]
    code = [s for k, s in kinds if k == "code"]
    checks = [s for s in code if s.startswith("check(")]
    assert checks == ['check("softmax")', 'check("scalar")', 'check("layers")', 'check("mlp")']
    # each check cell comes after the stubs of its task and before the next section's code
    order = [s for s in code if s.startswith(("check(", "def softmax(", "def forward(", "class MLP"))]
    assert [s.split("(")[0].split(":")[0] for s in order] == [
        "def softmax", "check", "def forward", "check", "class MLP", "check", "check"]
    stubs = "\n".join(code)
    assert 'raise NotImplementedError("softmax: not implemented yet")' in stubs and "# TODO:" in stubs
    assert "BEGIN SOLUTION" not in stubs and "from layers import" not in stubs  # one namespace
    assert "np.exp(o - np.max(o, axis=-1, keepdims=True))" not in stubs  # no reference code
    for s in code:
        ast.parse(s)
    assert len({c.id for c in nb.cells}) == len(nb.cells)  # fixed, unique ids


def test_a_name_two_modules_define_is_marked_for_its_module():
    """A4's linear.py and cnn.py both define `train`: each cell is marked, and the loader skips
    the other module's cell (worker/loader.py), as separate files would."""
    import nbformat

    from grader.worker.loader import cell_owner

    nb = nbformat.reads(template_files("regularised_cnn", ROOT / "reference" / "regularised_cnn")
                        ["regularised_cnn.ipynb"], 4)
    owners = {cell_owner(c.source): c.source for c in nb.cells if c.cell_type == "code" and cell_owner(c.source)}
    assert set(owners) == {"linear", "cnn"} and all("def train(" in s for s in owners.values())


def test_the_loader_skips_cells_marked_for_another_module(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from grader.worker.loader import notebook_code, notebook_source

    nb = new_notebook(cells=[new_code_cell("# grader-module: linear\ndef train():\n    return 1"),
                             new_code_cell("# grader-module: cnn\ndef train():\n    return 2"),
                             new_code_cell("X_SHARED = 3")])
    nbformat.write(nb, str(tmp_path / "a4.ipynb"))
    cells, _ = notebook_code(tmp_path / "a4.ipynb", module="linear")
    assert [c.name for c in cells] == ["a4.ipynb[cell 1]", "a4.ipynb[cell 3]"]
    assert "return 2" not in notebook_source(tmp_path / "a4.ipynb", "linear")
    assert len(notebook_code(tmp_path / "a4.ipynb")[0]) == 3  # not for a module: every cell
