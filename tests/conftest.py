"""Shared helpers: build submissions from the reference by edits, and grade them."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader import assignment
from grader.model import Report
from grader.runner import GradeOptions, grade

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference"
TEMPLATE = ROOT / "student_template"
SUBMISSIONS = Path(__file__).parent / "submissions"


def make_submission(dest: Path, source: Path, edits=(), extra: Path | None = None) -> Path:
    """Copy `source`, apply (file, old, new) edits (each must match exactly once), overlay `extra`."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__"))
    for file, old, new in edits:
        path = dest / file
        text = path.read_text()
        assert text.count(old) == 1, f"edit {old!r} does not match exactly once in {file}"
        path.write_text(text.replace(old, new))
    if extra is not None:
        shutil.copytree(extra, dest, dirs_exist_ok=True)
    return dest


def run_grade(path: Path, name: str, tasks=None, hidden: bool = True, check_ids=None, **options) -> Report:
    return grade(path, assignment.load(name), tasks=list(tasks) if tasks else None, hidden=hidden,
                 check_ids=check_ids, options=GradeOptions(**options))


def by_id(report: Report) -> dict:
    return {c.id: c for c in report.checks}


@pytest.fixture
def submission(tmp_path):
    def build(source: Path, edits=(), extra: Path | None = None) -> Path:
        return make_submission(tmp_path / "submission", source, edits, extra)
    return build
