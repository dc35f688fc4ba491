"""Submissions crafted against the grader itself (not the worker): docs/security.md, "The grader's
own side". Every case is graded through `grader.engine.runner.grade`, and every student-facing report is
checked for grader tracebacks, host paths and hidden-check text.

Links, FIFOs, sparse files, hard links and deep trees are made here at run time (git cannot store
them); the cases that are plain files live in tests/hostile_grader/.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.engine import fs, runner, text
from grader import reports
from grader.engine.assignment import Assignment, load
from grader.engine.model import Check, Limits, Status, Visibility
from grader.engine.runner import grade
from grader.engine.session import GradeOptions
from report_schemas import check_json, check_junit

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).parent / "hostile_grader"
REFERENCE = ROOT / "reference" / "backprop"
HIDDEN = ROOT / "assignments" / "backprop" / "hidden.py"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

BACKPROP = load("backprop")
CHECKS = {c.id: c for c in BACKPROP.checks(hidden=True)}
FAST = Limits(timeout=10.0, processes=128)


def checks(*ids: str, limits: Limits = FAST) -> list[Check]:
    return [replace(CHECKS[i], limits=limits) for i in ids]


def assignment_with(check_list: list[Check]) -> Assignment:
    return Assignment(name=BACKPROP.name, title=BACKPROP.title, tasks=BACKPROP.tasks,
                      package=BACKPROP.package, seed=BACKPROP.seed, _checks=list(check_list))


SOFTMAX = ("softmax.values", "softmax.cross_entropy")
PLAIN = ("scalar.plain_python",)


@pytest.fixture
def workdir():
    folder = Path(tempfile.mkdtemp(prefix="hostile-grader-"))
    os.chmod(folder, 0o755)
    yield folder
    fs.remove_tree(folder)


def case(workdir: Path, name: str) -> Path:
    """A copy of tests/hostile_grader/<name>, readable by the sandbox user."""
    dest = workdir / name
    shutil.copytree(CASES / name, dest)
    for path in [dest, *dest.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return dest


def reference_copy(workdir: Path, name: str = "sub", files=("softmax.py", "scalar_backprop.py")) -> Path:
    dest = workdir / name
    dest.mkdir()
    for f in files:
        shutil.copy(REFERENCE / f, dest / f)
    os.chmod(dest, 0o755)
    return dest


def run(path: Path, ids=SOFTMAX, **options):
    return grade(path, assignment_with(checks(*ids)), options=GradeOptions(**options))


def student_facing(report) -> dict[str, str]:
    bodies = {fmt: fn(report) for fmt, fn in reports.FORMATS.items()} | {"json": reports.to_json(report)}
    check_junit(bodies["junit"])  # hostile reports stay valid for their consumers too
    check_json(bodies["json"])
    check_json(reports.to_json(report, internal=True))
    return bodies


def assert_clean(report, *secrets: str) -> None:
    """Nothing of the grader in what a student sees: no traceback of ours, no host path of the
    repository, no hidden-check source; and every report of bounded size."""
    hidden_lines = [line.strip() for line in HIDDEN.read_text().splitlines()
                    if len(line.strip()) > 30 and not line.strip().startswith(("#", '"""'))]
    for fmt, body in student_facing(report).items():
        assert "Traceback (most recent call last)" not in body, fmt
        assert str(ROOT) not in body, (fmt, "a host path of the repository")
        for ours in ("runner.py", "session.py", "statuses.py", "judge.py"):
            assert f"grader/engine/{ours}" not in body, fmt
        assert not [line for line in hidden_lines if line in body], (fmt, "hidden-check source")
        assert len(body) < 2_000_000, (fmt, len(body))
        for s in secrets:
            assert s not in body, (fmt, s)


def notebook(path: Path, *cells: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))
    os.chmod(path, 0o644)


SCALAR_WITH_NUMPY = (REFERENCE / "scalar_backprop.py").read_text().replace(
    "import math\n", "import math\nimport numpy as np\n", 1)


# ------------------------------------------------- 1. one view: the grader judges what the worker ran
def test_a_fifo_named_like_the_module_does_not_hang_and_the_notebook_is_judged(workdir):
    sub = reference_copy(workdir, files=("softmax.py",))
    os.mkfifo(sub / "scalar_backprop.py")
    notebook(sub / "scalar_backprop.ipynb", SCALAR_WITH_NUMPY)  # what the worker really imports
    t0 = time.monotonic()
    report = run(sub, PLAIN)
    assert time.monotonic() - t0 < 60
    r = report.checks[0]
    assert r.status == Status.FAILED and "numpy" in r.message, r.message
    assert any("FIFO" in w for w in report.warnings)
    assert_clean(report)


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom", "hidden"])
def test_a_link_out_of_the_submission_is_never_read(workdir, target):
    sub = reference_copy(workdir, files=("softmax.py",))
    target = str(HIDDEN) if target == "hidden" else target
    (sub / "scalar_backprop.py").symlink_to(target)
    notebook(sub / "scalar_backprop.ipynb", SCALAR_WITH_NUMPY)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = run(sub, PLAIN)
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 300
    r = report.checks[0]
    assert r.status == Status.FAILED and "numpy" in r.message  # judged: the notebook it imported
    assert any("scalar_backprop.py: a link" in w for w in report.warnings)
    assert_clean(report)


def test_a_package_beside_the_module_is_what_gets_judged(workdir):
    """`import scalar_backprop` picks the package scalar_backprop/ over scalar_backprop.py: the
    plain-Python check judges the package the worker imported, not the clean file beside it."""
    sub = reference_copy(workdir)
    (sub / "scalar_backprop").mkdir()
    (sub / "scalar_backprop" / "__init__.py").write_text(SCALAR_WITH_NUMPY)
    report = run(sub, PLAIN)
    r = report.checks[0]
    assert r.status == Status.FAILED and "scalar_backprop/__init__.py" in r.message, r.message
    assert "numpy" in r.message


def test_a_module_rewritten_at_import_is_judged_as_handed_in(workdir):
    """Code that rewrites its own file while it runs cannot swap what the static check reads."""
    sub = reference_copy(workdir, files=("softmax.py",))
    clean = (REFERENCE / "scalar_backprop.py").read_text()
    (sub / "scalar_backprop.py").write_text(
        SCALAR_WITH_NUMPY + f"\nwith open(__file__, 'w') as _f:\n    _f.write({clean!r})\n")
    report = run(sub, PLAIN)
    r = report.checks[0]
    assert r.status == Status.FAILED and "numpy" in r.message, r.message


def test_a_huge_source_file_is_read_bounded(workdir):
    sub = reference_copy(workdir, files=("softmax.py",))
    body = (REFERENCE / "scalar_backprop.py").read_text()
    (sub / "scalar_backprop.py").write_text(body + ("# " + "x" * 1000 + "\n") * 3000)  # 3 MB
    report = run(sub, PLAIN)
    r = report.checks[0]
    assert r.status == Status.FAILED and "larger than" in r.message, r.message


# ---------------------------------------------------------------- 2. the scratch copy has a budget
def _rejected(report, what: str) -> None:
    assert report.status == "rejected", report.status
    assert what in report.message, report.message
    for c in report.checks:
        assert c.status == Status.ERROR and c.score == 0 and what in c.message
    assert_clean(report)


def test_a_sparse_terabyte_is_rejected_without_copying(workdir):
    sub = reference_copy(workdir)
    with open(sub / "weights.bin", "wb") as f:
        f.truncate(2**40)
    t0 = time.monotonic()
    report = run(sub)
    assert time.monotonic() - t0 < 30
    _rejected(report, "MiB")


def test_many_links_to_one_file_count_against_the_budget(workdir):
    sub = reference_copy(workdir)
    blob = sub / "blob.bin"
    blob.write_bytes(os.urandom(2**20))
    for i in range(150):
        (sub / f"soft{i}.bin").symlink_to("blob.bin")
        os.link(blob, sub / f"hard{i}.bin")
    _rejected(run(sub), "MiB")


def test_link_loops_end(workdir):
    sub = reference_copy(workdir)
    (sub / "loop").symlink_to(".")
    (sub / "a").mkdir()
    (sub / "a" / "b").symlink_to("../a")
    (sub / "x").symlink_to("y")
    (sub / "y").symlink_to("x")
    t0 = time.monotonic()
    report = run(sub)
    assert time.monotonic() - t0 < 60
    assert report.status == "graded" and report.score == report.max_score
    assert sum("a link that does not point to a file" in w for w in report.warnings) == 4


def test_too_many_files_are_rejected(workdir):
    sub = reference_copy(workdir)
    (sub / "many").mkdir()
    for i in range(5100):
        (sub / "many" / f"{i}.txt").write_bytes(b"")
    _rejected(run(sub), "files and folders")


def test_a_deeply_nested_submission_is_rejected_not_a_recursion_error(workdir):
    sub = reference_copy(workdir)
    folder = sub
    for _ in range(200):
        folder = folder / "d"
    os.makedirs(folder)
    _rejected(run(sub), "nested more than")


def test_an_over_budget_submission_does_not_stop_the_next(workdir):
    big = reference_copy(workdir, "big")
    with open(big / "data.bin", "wb") as f:
        f.truncate(300 * 2**20)
    assert run(big).status == "rejected"
    good = reference_copy(workdir, "good")
    report = run(good)
    assert report.status == "graded" and report.score == report.max_score


# --------------------------------------------------------------------- 3. cleanup cannot fail
def test_a_deep_unreadable_tree_made_at_run_time_is_cleaned_up(workdir, monkeypatch):
    tmp = workdir / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    sub = case(workdir, "deep_tree")
    report = run(sub)
    assert report.checks[0].status == Status.FAILED  # softmax() made the tree and returned zeros
    assert report.checks[1].status == Status.PASSED
    assert list(tmp.iterdir()) == [], "the grader left temporary folders behind"


def test_remove_tree_never_raises():
    d = Path(tempfile.mkdtemp())
    deep = d
    os.chdir(d)
    try:
        for _ in range(1500):  # deeper than PATH_MAX allows as one path
            os.mkdir("a")
            os.chdir("a")
        open("f", "w").close()
        os.chmod(".", 0)
    finally:
        os.chdir("/")
    assert fs.remove_tree(deep) is True and not deep.exists()
    assert fs.remove_tree(deep) is True  # already gone


# ------------------------------------------------------- 4. nothing of the grader reaches the student
def test_a_number_too_large_for_a_float_is_a_failed_check(workdir):
    report = run(case(workdir, "huge_integer"))
    r = report.checks[0]
    assert r.status == Status.FAILED and "out-of-range" in r.message, r.message
    assert report.checks[1].status == Status.PASSED
    assert_clean(report)


@pytest.mark.parametrize("name", ["forged_bad_array", "forged_deep_nesting"])
def test_malformed_frames_are_clean_errors(workdir, name):
    report = run(case(workdir, name))
    r = report.checks[0]
    assert r.status == Status.ERROR and r.score == 0 and "malformed" in r.message, r.message
    assert report.checks[1].status == Status.PASSED
    assert report.internal == []
    assert_clean(report)


def test_an_internal_error_shows_the_student_only_that_the_check_could_not_be_graded(workdir):
    def buggy(ctx):
        ctx.probe("call", "softmax", "softmax", np.zeros((2, 3)))
        raise RuntimeError(f"a bug in a hidden check, see {HIDDEN}")

    bug = Check(id="softmax.buggy", task="softmax", title="a check with a bug", points=1, run=buggy,
                module="softmax", visibility=Visibility.HIDDEN, limits=FAST)
    sub = reference_copy(workdir)
    report = grade(sub, assignment_with([bug, *checks("softmax.values")]), hidden=True)
    r = report.checks[0]
    assert r.status == Status.ERROR
    assert r.message == ("this check could not be graded (internal grader error in check "
                         "softmax.buggy); your instructor can see the details")
    assert "RuntimeError" in r.internal and "Traceback" in r.internal  # for the instructor
    assert report.checks[1].status == Status.PASSED
    assert_clean(report, "a bug in a hidden check")
    instructor = json.loads(reports.to_json(report, internal=True))
    assert "a bug in a hidden check" in instructor["checks"][0]["internal"]
    assert instructor["internal"] and "softmax.buggy" in instructor["internal"][0]


def test_a_value_of_the_wrong_structure_names_the_students_function(workdir):
    sub = workdir / "sub"
    sub.mkdir()
    (sub / "scalar_backprop.py").write_text(
        "def forward(x, W, b, V, c):\n    return {'k1': {'nested': 1}, 'h': [1], 'k2': 'x', 'y': None}\n")
    report = grade(sub, assignment_with(checks("scalar.forward_example")))
    r = report.checks[0]
    assert r.status == Status.FAILED and "forward(...)['k1']" in r.message, r.message
    assert_clean(report)


# ------------------------------------------------------------ 5. grader memory bounded per reply
def test_a_reply_larger_than_the_check_expects_is_never_read(workdir):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = run(case(workdir, "huge_reply"))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    r = report.checks[0]
    assert r.status == Status.FAILED and "more than the 32 MB this check expects" in r.message
    assert "softmax.py: softmax()" in r.message
    assert grown_mb < 150, f"the grader grew by {grown_mb:.0f} MB"
    assert report.checks[1].status == Status.PASSED


# ------------------------------------------------------------- 6. student-controlled text is capped
def test_a_four_megabyte_traceback_line_is_capped(workdir):
    """The exception's message and the source line its traceback quotes are 4 MB each (a report
    once grew to 92 MiB from such a line)."""
    sub = reference_copy(workdir, files=())
    ce = (CASES / "huge_reply" / "softmax.py").read_text().split("def softmax", 1)[1].split("\n\n\n", 1)[1]
    (sub / "softmax.py").write_text("import numpy as np\n\n\ndef softmax(o):\n    raise ValueError('"
                                    + "x" * 4_000_000 + "')\n\n\n" + ce)
    report = run(sub)
    r = report.checks[0]
    assert r.status == Status.ERROR and text.TRUNCATED in r.message
    assert len(r.message) <= text.MESSAGE_CHARS + len(text.TRUNCATED)
    assert max(len(body) for body in student_facing(report).values()) < 200_000
    assert_clean(report)


def test_thousands_of_warnings_are_capped(workdir):
    sub = reference_copy(workdir, files=("softmax.py",))
    cells = [f"x{i} = 1\nassert False, 'cell {i}' * 1000" for i in range(2000)]
    notebook(sub / "scalar_backprop.ipynb", (REFERENCE / "scalar_backprop.py").read_text(), *cells)
    report = run(sub, ("scalar.forward_example",))
    assert report.checks[0].status == Status.PASSED
    assert len(report.warnings) <= text.WARNING_COUNT + 1
    assert all(len(w) <= 4 * text.LINE_CHARS + len(text.TRUNCATED) for w in report.warnings)


# ------------------------------------------------------- 7. notebook preprocessing in linear time
def test_a_notebook_full_of_magics_is_read_in_linear_time(workdir):
    sub = reference_copy(workdir, files=("softmax.py",))
    magics = "\n".join(["!pip install numpy", "%matplotlib inline", "x = (1,", "  2)"] * 6000)  # 400 KB
    notebook(sub / "scalar_backprop.ipynb", SCALAR_WITH_NUMPY, magics)
    t0 = time.monotonic()
    report = run(sub, PLAIN)
    assert time.monotonic() - t0 < 60  # was tens of minutes
    assert report.checks[0].status == Status.FAILED and "numpy" in report.checks[0].message


# --------------------------------------------------- 8. by-hand checks recorded at run time
@pytest.mark.parametrize("how", [
    "import numpy as np",
    "exec('import num' + 'py')",
    "__import__('importlib').import_module('nu' + 'mpy')",
])
def test_plain_python_in_a_notebook_is_checked_at_run_time(workdir, how):
    sub = reference_copy(workdir, files=("softmax.py",))
    body = (REFERENCE / "scalar_backprop.py").read_text().replace(
        "def forward(x, W, b, V, c):", f"def forward(x, W, b, V, c):\n    {how}", 1)
    notebook(sub / "scalar_backprop.ipynb", body)
    r = run(sub, PLAIN).checks[0]
    assert r.status == Status.FAILED and "scalar_backprop.ipynb[cell 1]" in r.message, r.message
    assert "imports numpy" in r.message


def test_layers_by_hand_catches_torch_in_a_notebook(workdir):
    sub = reference_copy(workdir, files=())
    body = (REFERENCE / "layers.py").read_text().replace(
        "        self.db = dY2.sum(axis=0)      # b is added to every row",
        "        import torch\n        self.db = torch.from_numpy(dY2).sum(0).numpy()", 1)
    notebook(sub / "layers.ipynb", body)
    report = grade(sub, assignment_with(checks("layers.by_hand", "layers.linear")))
    r, linear = report.checks
    assert r.status == Status.FAILED and "layers.ipynb[cell 1]" in r.message and "torch" in r.message
    assert linear.status == Status.PASSED  # the values are right: only by_hand costs points


def test_plain_python_points_need_working_functions(workdir):
    """The empty template imports nothing forbidden, yet earns nothing: the values must be right."""
    sub = workdir / "sub"
    sub.mkdir()
    shutil.copy(ROOT / "student_template" / "backprop" / "scalar_backprop.py", sub)
    r = run(sub, PLAIN).checks[0]
    assert r.status == Status.FAILED and r.score == 0 and "not implemented yet" in r.message


def test_the_reference_and_a_notebook_of_it_pass_the_by_hand_checks(workdir):
    sub = reference_copy(workdir, files=("softmax.py", "scalar_backprop.py", "layers.py"))
    nb = workdir / "nb"
    nb.mkdir()
    for f in ("softmax", "scalar_backprop", "layers"):
        notebook(nb / f"{f}.ipynb", (REFERENCE / f"{f}.py").read_text())
    ids = ("softmax.by_hand", "scalar.plain_python", "layers.by_hand")
    for path in (sub, nb):
        report = grade(path, assignment_with(checks(*ids)))
        assert {c.id: c.message for c in report.checks if c.status != Status.PASSED} == {}
