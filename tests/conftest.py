"""Shared helpers: build submissions from the reference by edits, and grade them."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from grader.engine import assignment
from grader.engine.model import Report
from grader.engine.runner import grade
from grader.engine.session import GradeOptions
from grader.instructor.selftest.cases import (Variant, Wrong, apply_edits, load_cases, read_folder, variant_files,
                                   wrong_files, write)

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference"
TEMPLATE = ROOT / "student_template"
HAVE_FASHION = Path("/usr/share/datasets/fashion-mnist").is_dir() or bool(os.environ.get("GRADER_DATA"))


def make_submission(dest: Path, source: Path, edits=(), extra: Path | None = None) -> Path:
    """Copy `source`, apply (file, old, new) edits (each must match exactly once), overlay `extra`."""
    write(apply_edits(read_folder(source), edits, f"a submission from {source.name}"), dest)
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


# --- the assignments' registered cases (assignments/<name>/cases.py) --------------------------------
def needs_data(name: str) -> frozenset[str]:
    """The checks of assignment `name` that read FashionMNIST."""
    return frozenset(c.id for c in assignment.load(name).checks(hidden=True) if c.needs_data)


def case_submission(dest: Path, name: str, case: Wrong | Variant) -> Path:
    """A registered wrong submission or variant of assignment `name`, written into `dest`."""
    reference = read_folder(REFERENCE / name)
    if isinstance(case, Variant):
        files = variant_files(reference, case, load_cases(assignment.load(name)))
    else:
        files = wrong_files(reference, case)
    return write(files, dest)


def variant_checks(name: str, variant: Variant, data: bool = HAVE_FASHION) -> list[str]:
    """The checks a variant is graded on: its tasks', less `skip` (and the data checks without data)."""
    left_out = variant.skip | (frozenset() if data else needs_data(name))
    return [c.id for c in assignment.load(name).checks(hidden=True)
            if (not variant.tasks or c.task in variant.tasks) and c.id not in left_out]


def variant_failures(tmp_path: Path, name: str, variant: Variant) -> dict:
    """Grade a registered variant on its checks: {check id: (status, message)} of those not passed."""
    path = case_submission(tmp_path / "variant", name, variant)
    report = grade(path, assignment.load(name), hidden=True, check_ids=variant_checks(name, variant))
    return {c.id: (str(c.status), c.message) for c in report.checks if str(c.status) != "passed"}
