"""The student edition (`grade dist student`): built, checked for what it must not hold (its scans
for answers are in tests/test_no_answers.py), installed into a new virtual environment and used
there as a student would."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from grader.instructor.publish.wheel import build_student_wheel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_student_wheel(tmp_path_factory.mktemp("dist"))


def test_the_wheel_holds_no_hidden_check_and_no_solution(wheel):
    """No hidden check, no reference file, no registered case or variant in the wheel. That no
    module of it computes a task's answer is shown by the two scans of tests/test_no_answers.py."""
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert not [n for n in names if n.endswith(("hidden.py", "template.py", "dist.py"))]
    assert not [n for n in names if n.startswith("reference/") or "/reference/" in n]
    assert not [n for n in names if n.startswith("grader/instructor/")]  # the instructor's package, whole
    assert not [n for n in names if "/cases.py" in n or "/variants/" in n]
    assert "grader/edition.py" in names and "assignments/backprop/checks.py" in names
    assert "assignments/backprop/statement.md" in names


@pytest.mark.slow
def test_a_student_installs_it_and_grades(wheel, tmp_path):
    """A new virtual environment with the wheel installed in it (its dependencies, numpy and torch,
    come from this environment's site-packages through a .pth file: a venv with this repository
    `pip install -e`'d would otherwise download them again; the editable install of this repository
    is not visible there, since .pth files inside an added path are not processed)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True)
    grade = venv / "bin" / "grade"
    where = subprocess.run([str(py), "-c", "import grader, assignments; print(grader.__file__, assignments.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert str(ROOT) not in where and str(site) in where
    # every module the student edition ships imports there (grader.worker runs only inside the
    # sandbox, as the package gradeworker, with the probes), and nothing instructor-only is importable
    probe = ("import importlib, importlib.util, pkgutil, grader, assignments\n"
             "mods = [m.name for p in (grader, assignments) for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.')]\n"
             "for m in mods: m.startswith('grader.worker') or m.endswith('.probes') or importlib.import_module(m)\n"
             # what the A3/A4 statements and template READMEs tell students to write
             "from grader.data import load_fashion_mnist, make_synthetic\n"
             "absent = ['grader.instructor', 'grader.instructor.batch', 'assignments.backprop.hidden', 'assignments.backprop.cases']\n"
             "found = []\n"
             "for m in absent:\n"
             "    try: importlib.import_module(m); found.append(m)\n"
             "    except ModuleNotFoundError: pass\n"
             "print(len(mods), found)")
    imported = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    count, present = imported.stdout.split(" ", 1)
    assert int(count) > 30 and present.strip() == "[]"

    work = tmp_path / "relu_fit"
    shutil.copytree(ROOT / "student_template" / "relu_fit", work)
    os.chmod(tmp_path, 0o755)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([str(grade), "check"], cwd=work, capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "Total: 0 / 35" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([str(grade), "check", "--hidden"], cwd=work, capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "hidden checks are not installed" in r.stderr
    r = subprocess.run([str(grade), "template"], cwd=work, capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "for instructors" in r.stderr
    for f in (ROOT / "reference" / "relu_fit").glob("*.py"):
        shutil.copy(f, work)
    r = subprocess.run([str(grade), "check"], cwd=work, capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "Total: 35 / 35 (100.0%)" in r.stdout, r.stdout + r.stderr
