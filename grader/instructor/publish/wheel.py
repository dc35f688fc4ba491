"""What each audience installs: the student edition of the grader, built from this repository.

`dl-grader-student` (`grade dist student`) holds the engine, the CLI, and for every assignment its
statement, probes, public checks and oracles. It leaves out what only instructors may have: the
hidden checks (`hidden.py`: their inputs are generated from the assignment's seed, so their code is
as secret as their answers), `reference/`, the registered cases (`cases.py`, `variants/`: pieces of
the solution), the template generator, batch grading, `grade selftest` and this builder. The instructor
install (`pip install -e .` of this repository) keeps everything.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ... import TORCH_VERSION, __version__
from .. import SOURCE_ROOT

ROOT = SOURCE_ROOT
STUDENT_DIST = "dl-grader-student"
# What students get is decided by the layout, not by a list of what to leave out: the whole of
# grader/ but its instructor package, and of each assignment only these files (an allow-list: a new
# file of an assignment, like hidden.py, cases.py or variants/, stays with the instructor).
INSTRUCTOR_PACKAGE = "instructor"
STUDENT_FILES = ("__init__.py", "probes.py", "checks.py", "oracle.py", "statement.md", "reference_curves.json")
_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc")


def _grader_ignore(folder: str, names: list[str]) -> set[str]:
    junk = _JUNK(folder, names)
    if Path(folder).resolve() == (ROOT / "grader").resolve():
        junk.add(INSTRUCTOR_PACKAGE)
    return junk


def _assignments_ignore(folder: str, names: list[str]) -> set[str]:
    if Path(folder).resolve() == (ROOT / "assignments").resolve():  # the package and its assignment folders
        return {n for n in names if n != "__init__.py" and not (Path(folder) / n).is_dir()}
    return {n for n in names if n not in STUDENT_FILES}


PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "Autograder for deep-learning courses: student edition (public checks only)"
requires-python = ">=3.11"
dependencies = [
    "numpy>=1.26,<3",
    "scipy>=1.11",
    "torch=={torch}",
    "nbformat>=5.9",
    "click>=8.1",
    "rich>=13",
    "pooch>=1.8",
    "platformdirs>=4",
    # the plots of the HTML report (grade check --html): gradient error maps, training curves
    "matplotlib>=3.7",
    # Windows and macOS: the worker's memory watched, its process tree killed (grader/engine/sandbox/)
    "psutil>=5.9",
]

[project.scripts]
grade = "grader.cli:main"

[tool.setuptools.packages.find]
include = ["grader*", "assignments*"]

[tool.setuptools.package-data]
assignments = ["*/*.md", "*/reference_curves.json"]
grader = ["**/*.json"]
"""


def stage_student(dest: Path) -> Path:
    """Lay out the student edition's source tree in `dest` (a new folder)."""
    dest.mkdir(parents=True)
    shutil.copytree(ROOT / "grader", dest / "grader", ignore=_grader_ignore)
    shutil.copytree(ROOT / "assignments", dest / "assignments", ignore=_assignments_ignore)
    (dest / "grader" / "edition.py").write_text(
        '"""Which edition of the grader this is (the instructor install has no such file)."""\n'
        'EDITION = "student"\n')
    (dest / "pyproject.toml").write_text(PYPROJECT.format(name=STUDENT_DIST, version=__version__, torch=TORCH_VERSION))
    (dest / "README.md").write_text(f"# {STUDENT_DIST}\n\nThe `grade` command for students: "
                                    "`grade check` runs the public checks of an assignment.\n")
    return dest


def build_student_wheel(out_dir: Path) -> Path:
    """Build the student edition's wheel into `out_dir`; return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grader-dist-") as tmp:
        stage = stage_student(Path(tmp) / "src")
        # --no-build-isolation: setuptools from this environment (no download); --no-deps: only ours
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                        "--no-build-isolation", "--wheel-dir", str(out_dir), str(stage)],
                       check=True, capture_output=True, text=True)
    wheels = sorted(out_dir.glob(f"{STUDENT_DIST.replace('-', '_')}-{__version__}-*.whl"))
    if not wheels:
        raise RuntimeError(f"no wheel of {STUDENT_DIST} was built in {out_dir}")
    return wheels[-1]
