"""`grade gradescope A -o autograder.zip`: the zip, and its run_autograder run as Gradescope runs it.

Gradescope unpacks the zip into /autograder/source, runs setup.sh once (not here: it installs
Python 3.11 and torch with apt and pip), then for every submission copies run_autograder to
/autograder/run_autograder and runs it with the student's files in /autograder/submission. Here
/autograder is a temporary folder ($GRADER_AUTOGRADER_ROOT) and the Python is this one
($GRADER_AUTOGRADER_PYTHON); the grader that runs is the one inside the zip.
"""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.engine import assignment
from grader.cli import main
from grader.engine.fs import list_files
from grader.engine.submission_root import MAX_DEPTH, find_root
from grader.instructor.publish.gradescope import build_autograder

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "relu_fit"
GRADESCOPE_TEST_FIELDS = {"name", "number", "score", "max_score", "status", "output", "visibility", "tags"}


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    r = CliRunner().invoke(main, ["gradescope", "relu_fit", "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "Gradescope autograder for relu_fit" in r.output
    return out


def unpack_like_gradescope(zip_path: Path, root: Path) -> Path:
    source = root / "source"
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():  # unzip honours the Unix modes: so do we
            zf.extract(info, source)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(source / info.filename, mode)
    shutil.copy(source / "run_autograder", root / "run_autograder")
    (root / "results").mkdir()
    return root


def run_autograder(root: Path) -> dict:
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root), "GRADER_AUTOGRADER_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    # from another folder than this checkout, so that nothing of it can be imported by accident
    proc = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=300, cwd=root.parent)
    assert proc.returncode == 0, proc.stderr
    return json.loads((root / "results" / "results.json").read_text())


# ------------------------------------------------------------------------------------- the zip
def test_zip_layout_and_safety(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert zf.testzip() is None
    assert names == sorted(names)  # deterministic order
    assert "setup.sh" in names and "run_autograder" in names  # at the zip's root
    for i in infos:
        assert not i.filename.startswith("/") and ".." not in i.filename.split("/") and "\\" not in i.filename
        assert i.date_time == (1980, 1, 1, 0, 0, 0)
        mode = (i.external_attr >> 16) & 0o777
        assert mode == (0o755 if i.filename in ("setup.sh", "run_autograder") else 0o644), i.filename
        assert not i.filename.endswith(".pyc") and "__pycache__" not in i.filename
    # the grader and this assignment's public and hidden checks; never a reference solution
    for needed in ("dl-grader/pyproject.toml", "dl-grader/grader/engine/runner.py", "dl-grader/grader/worker/main.py",
                   "dl-grader/grader/reports/schema/report.schema.json",
                   "dl-grader/assignments/relu_fit/checks.py", "dl-grader/assignments/relu_fit/hidden.py"):
        assert needed in names, needed
    assert not any(n.startswith(("reference/", "dl-grader/reference/", "dl-grader/tests/",
                                 "dl-grader/student_template/")) for n in names)
    assert not any("/assignments/backprop/" in n for n in names)  # only the assignment asked for
    with zipfile.ZipFile(autograder_zip) as zf:
        packed = {n: zf.read(n) for n in names}
    for ref in REFERENCE.glob("*.py"):  # no file of the reference solution, under any name
        assert ref.read_bytes() not in packed.values(), ref.name


# What the zip may hold (docs/gradescope.md, "What the zip holds"), written out here independently
# of the builder's own lists: the scripts; under dl-grader/ the project files, the grader's top-level
# modules, engine, worker and reports whole, of grader/instructor/ only the runner and grade_isolated,
# and of the one assignment its package, probes, checks (public and hidden), oracles and curves.
ZIP_RULE = re.compile(r"""(setup\.sh|run_autograder|dl-grader/(
    pyproject\.toml|README\.md
  | grader/[a-z_]+\.py
  | grader/(engine|worker|reports)/[a-z_/]+\.py
  | grader/reports/schema/report\.schema\.json
  | grader/instructor/(__init__\.py|isolated/[a-z_]+\.py|publish/(__init__|gradescope)\.py)
  | assignments/__init__\.py
  | assignments/{a}/(__init__|probes|checks|hidden|oracle)\.py
  | assignments/{a}/reference_curves\.json))$""", re.VERBOSE)


@pytest.mark.parametrize("name", ["backprop", "relu_fit", "fashion_mlp", "regularised_cnn"])
def test_zip_holds_what_grading_needs_and_nothing_else(name, tmp_path):
    """Every member is named by the rule (so no cases.py, variants/, selftest, reference/,
    statement or other publisher), and every file of the repository the rule names is a member."""
    names = build_autograder(name, tmp_path / "a.zip")
    rule = re.compile(ZIP_RULE.pattern.replace("{a}", name), re.VERBOSE)
    assert [n for n in names if not rule.fullmatch(n)] == []
    for banned in ("/cases.py", "/variants/", "/selftest/", "reference/", "statement.md", "/batch/", "template.py",
                   "wheel.py", "similarity.py"):
        assert not [n for n in names if banned in n], banned
    wanted = {f"dl-grader/{p.relative_to(ROOT).as_posix()}" for p in ROOT.rglob("*")
              if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")
              and rule.fullmatch(f"dl-grader/{p.relative_to(ROOT).as_posix()}")}
    assert wanted - set(names) == set()  # nothing needed is missing
    assert {f"dl-grader/assignments/{name}/hidden.py", "dl-grader/grader/instructor/isolated/grade.py",
            "dl-grader/grader/engine/sandbox/worker.py"} <= set(names)
    # what the runner, grade_isolated and the assignment's checks import, at the top or inside a
    # function, is in the zip: but the instructor's CLI, which `grade` loads only where it exists
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        sources = {n[len("dl-grader/"):]: zf.read(n) for n in names if n.startswith("dl-grader/") and n.endswith(".py")}
    shipped = {_module_name(rel) for rel in sources}
    imported = {m for rel, src in sources.items() for m in _imports(rel, src)}
    assert {m for m in imported - shipped if _in_repository(m)} == {"grader.instructor.cli"}


def _module_name(rel: str) -> str:
    parts = rel[:-len(".py")].split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(rel: str, source: bytes) -> set[str]:
    """The modules `import` statements of a file name (relative ones resolved), and for
    `from package import name` also package.name (which may be a module)."""
    package = _module_name(rel) if rel.endswith("__init__.py") else _module_name(rel).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m.split(".")[0] in ("grader", "assignments")}


def _in_repository(module: str) -> bool:
    path = ROOT / module.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_zip_is_reproducible(autograder_zip, tmp_path):
    again = tmp_path / "again.zip"
    build_autograder("relu_fit", again)
    assert again.read_bytes() == autograder_zip.read_bytes()


def test_scripts_are_valid_bash(autograder_zip, tmp_path):
    with zipfile.ZipFile(autograder_zip) as zf:
        for name in ("setup.sh", "run_autograder"):
            script = zf.read(name).decode()
            assert script.startswith("#!/usr/bin/env bash\n")
            (tmp_path / name).write_text(script)
            subprocess.run(["bash", "-n", str(tmp_path / name)], check=True)
            if shutil.which("shellcheck"):  # a linter for shell scripts, where installed
                subprocess.run(["shellcheck", str(tmp_path / name)], check=True)
    setup = (tmp_path / "setup.sh").read_text()
    assert "python3.11" in setup and "torch==2.13.0" in setup and "--index-url" in setup
    assert "/venv/bin/grade\" list --assignment relu_fit --hidden" in setup
    assert "dataset-fashion-mnist" not in setup  # relu_fit needs no data set


def test_an_assignment_with_data_fetches_it_in_setup(tmp_path):
    build_autograder("fashion_mlp", tmp_path / "fm.zip")
    setup = zipfile.ZipFile(tmp_path / "fm.zip").read("setup.sh").decode()
    assert "dataset-fashion-mnist" in setup and "find_fashion_mnist" in setup


def test_unknown_assignment_and_missing_folder():
    r = CliRunner().invoke(main, ["gradescope", "nope"])
    assert r.exit_code == 2 and "unknown assignment" in r.output
    r = CliRunner().invoke(main, ["gradescope", "relu_fit", "-o", "/no/such/folder/a.zip"])
    assert r.exit_code == 2 and "no such folder" in r.output


# ------------------------------------------------------------------------------ run_autograder
def test_run_autograder_grades_a_submission_as_gradescope_lays_it_out(autograder_zip, tmp_path):
    root = unpack_like_gradescope(autograder_zip, tmp_path / "autograder")
    submission = root / "submission"
    shutil.copytree(REFERENCE, submission, ignore=shutil.ignore_patterns("__pycache__"))
    # a broken fit: the fit checks fail, the others pass
    relu = submission / "relu_net.py"
    relu.write_text(relu.read_text() + "\n\ndef fit(xs, ys, seed=0):\n    raise ValueError('gave up')\n")

    results = run_autograder(root)
    checks = assignment.load("relu_fit").checks(hidden=True)
    tests = results["tests"]
    assert len(tests) == len(checks)  # one test per check, public and hidden
    assert [t["name"] for t in tests] == [c.title for c in checks]
    for t, c in zip(tests, checks):
        assert GRADESCOPE_TEST_FIELDS <= set(t)
        # visibility: public checks at once, hidden ones once grades are published
        assert t["visibility"] == ("visible" if c.visibility.value == "public" else "after_published")
        assert t["max_score"] == c.points
        if c.task == "fit":
            assert t["status"] == "failed" and t["score"] == 0 and "gave up" in t["output"]
        else:
            assert t["status"] == "passed" and t["score"] == c.points
    assert results["score"] == sum(c.points for c in checks if c.task != "fit")
    assert results["stdout_visibility"] == "hidden" and results["visibility"] == "after_published"
    assert str(tmp_path) not in json.dumps(results)  # no host paths in what students see

    # the grader that ran is the zip's, not this checkout
    env = {**os.environ, "PYTHONPATH": str(root / "source" / "dl-grader")}
    where = subprocess.run([sys.executable, "-c", "import grader, assignments; print(grader.__file__); "
                            "print(assignments.__file__)"], env=env, capture_output=True, text=True,
                           check=True, cwd=root.parent).stdout.split()
    assert all(w.startswith(str(root / "source")) for w in where), where
    # setup.sh's last step, `grade list --assignment relu_fit --hidden`, with the zip's grader alone
    listed = subprocess.run([sys.executable, "-m", "grader.cli", "list", "--assignment", "relu_fit", "--hidden"],
                            env=env, capture_output=True, text=True, cwd=root.parent)
    assert listed.returncode == 0 and "fit.d1" in listed.stdout, listed.stdout + listed.stderr
    helped = subprocess.run([sys.executable, "-m", "grader.cli", "--help"], env=env, capture_output=True, text=True,
                            cwd=root.parent)
    assert helped.returncode == 0 and "batch" not in helped.stdout.split("Commands:")[-1], helped.stderr


def test_run_autograder_always_writes_results(autograder_zip, tmp_path):
    root = unpack_like_gradescope(autograder_zip, tmp_path / "autograder")
    results = run_autograder(root)  # no submission folder at all
    assert results["score"] == 0 and "No submission found" in results["output"] and results["tests"] == []

    broken = tmp_path / "broken"  # a Python that cannot even start the grader
    root2 = unpack_like_gradescope(autograder_zip, broken)
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root2), "GRADER_AUTOGRADER_PYTHON": "/bin/false"}
    subprocess.run([str(root2 / "run_autograder")], env=env, check=True, timeout=60)
    fallback = json.loads((root2 / "results" / "results.json").read_text())
    assert fallback["score"] == 0 and "failed to start" in fallback["output"]


def find_submission_folder(submission: Path, modules: list[str]) -> Path:
    """What the Gradescope runner grades: the submission's root (grader.engine.submission_root)."""
    names = {f"{m}{ext}" for m in modules for ext in (".py", ".ipynb")}
    return submission / find_root(list_files(submission, max_depth=MAX_DEPTH), names)


def test_find_submission_folder(tmp_path):
    modules = ["relu_net", "warmup"]
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "warmup.py").write_text("")
    assert find_submission_folder(tmp_path / "top", modules) == tmp_path / "top"
    nested = tmp_path / "nested"
    (nested / "__MACOSX" / "hw").mkdir(parents=True)
    (nested / "__MACOSX" / "hw" / "warmup.py").write_text("")
    (nested / "hw" / "relu").mkdir(parents=True)
    (nested / "hw" / "relu" / "relu_net.py").write_text("")
    (nested / "hw" / "relu" / "warmup.ipynb").write_text("{}")
    (nested / "notes").mkdir()
    assert find_submission_folder(nested, modules) == nested / "hw" / "relu"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert find_submission_folder(empty, modules) == empty
