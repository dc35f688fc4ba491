"""Hidden material unreadable to student code without bubblewrap (grader/engine/sandbox/exposure.py).

* the readability decision from stat() bits: owner, group, other, root, an ancestor folder that
  cannot be searched;
* instructor grading refused while the sandbox user could read an assignment's material (naming the
  path and `grade protect`), allowed after `grade protect`, or with --allow-unisolated;
* the "reader" submission, an A1 submission walking the file system for the grader's files, graded
  as Gradescope runs it, in the rlimits fallback, in a simulated /autograder after setup.sh's
  protection: nothing hidden reaches results.json. Without the protection the runner refuses; with
  an opt-in and no protection the reader does read the hidden checks (the control that keeps the
  test honest).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.engine import assignment as assignments
from grader.engine.sandbox import IsolationRefused, exposure, isolation, plan_isolation, slots
from grader.instructor.publish.gradescope import build_autograder

ROOT = Path(__file__).resolve().parents[1]
NOBODY = (65534, 65534)
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def fake_stat(mode: int, uid: int = 1000, gid: int = 1000) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, uid, gid, 0, 0, 0, 0))


@pytest.fixture
def public_tmp():
    """A 0755 folder under /tmp, as /autograder or a checkout is (pytest's tmp_path is 0700: every
    path in it would be unreadable to other users for free)."""
    folder = Path(tempfile.mkdtemp(prefix="exposure-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------ the readability decision
def test_owner_bits_decide_for_the_owner_even_when_others_may_read():
    f = stat.S_IFREG
    assert exposure.allows(fake_stat(f | 0o400, uid=7), 7, 9, exposure.R)
    assert not exposure.allows(fake_stat(f | 0o044, uid=7), 7, 9, exposure.R)  # owner class: 0
    assert not exposure.allows(fake_stat(f | 0o600, uid=8), 7, 9, exposure.R)


def test_group_bits_decide_for_the_group_then_other_bits():
    f = stat.S_IFREG
    assert exposure.allows(fake_stat(f | 0o640, uid=1, gid=9), 7, 9, exposure.R)
    assert not exposure.allows(fake_stat(f | 0o604, uid=1, gid=9), 7, 9, exposure.R)  # group class: 0
    assert exposure.allows(fake_stat(f | 0o604, uid=1, gid=2), 7, 9, exposure.R)  # other class
    assert not exposure.allows(fake_stat(f | 0o640, uid=1, gid=2), 7, 9, exposure.R)
    assert exposure.allows(fake_stat(stat.S_IFDIR | 0o711, uid=1, gid=2), 7, 9, exposure.X)
    assert not exposure.allows(fake_stat(stat.S_IFDIR | 0o744, uid=1, gid=2), 7, 9, exposure.X)
    assert exposure.allows(fake_stat(f | 0o000, uid=1, gid=2), 0, 0, exposure.R)  # root reads all


def test_an_ancestor_that_cannot_be_searched_hides_everything_below(public_tmp):
    top = public_tmp / "course"
    (top / "assignments" / "demo").mkdir(parents=True)
    secret = top / "assignments" / "demo" / "hidden.py"
    secret.write_text("SECRET = 1\n")
    os.chmod(secret, 0o644)
    for d in (top, top / "assignments", top / "assignments" / "demo"):
        os.chmod(d, 0o755)
    uid, gid = NOBODY if os.geteuid() != NOBODY[0] else (65533, 65533)
    assert exposure.can_read(secret, uid, gid)
    assert exposure.readable_by([top], uid, gid) == [top]  # a listable folder is named, not its files

    os.chmod(top / "assignments", 0o711)  # searchable, not listable: a guessed name still opens
    assert exposure.can_read(secret, uid, gid)
    assert exposure.readable_by([top / "assignments"], uid, gid) == [top / "assignments" / "demo"]
    os.chmod(top / "assignments" / "demo", 0o711)
    assert exposure.readable_by([top / "assignments"], uid, gid) == [secret]

    os.chmod(top / "assignments", 0o700)  # the ancestor: nothing below it is reachable
    assert not exposure.reachable(secret, uid, gid)
    assert not exposure.can_read(secret, uid, gid)
    assert exposure.readable_by([top / "assignments"], uid, gid) == []
    assert exposure.readable_by([secret], uid, gid) == []
    assert exposure.can_read(top, uid, gid)  # the folder above it stays as it was

    os.chmod(top / "assignments", 0o755)
    os.chmod(secret, 0o640)  # group of the owner, not the sandbox user's gid
    assert not exposure.can_read(secret, uid, gid)


def test_protect_removes_group_and_other_permissions_everywhere_below(public_tmp):
    tree = public_tmp / "demo"
    (tree / "variants" / "loops").mkdir(parents=True)
    (tree / "variants" / "loops" / "softmax.py").write_text("x = 1\n")
    (tree / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(tree / "run.sh", 0o755)
    (tree / "link").symlink_to("/etc/hostname")  # never followed
    before = os.stat("/etc/hostname").st_mode
    assert exposure.protect([tree]) == []
    for path in [tree, *tree.rglob("*")]:
        if not path.is_symlink():
            assert stat.S_IMODE(path.lstat().st_mode) & 0o077 == 0, path
            assert path.lstat().st_uid == os.geteuid()
    assert stat.S_IMODE(os.stat(tree / "run.sh").st_mode) == 0o700  # the owner keeps its rights
    assert os.stat("/etc/hostname").st_mode == before
    assert exposure.readable_by([tree], *NOBODY) == []


# ------------------------------------------------------------------------------ refusal at start
@pytest.fixture
def course(public_tmp, monkeypatch):
    """A course folder ($GRADER_ASSIGNMENTS) with one assignment, its hidden material world-readable."""
    name = "demo_" + secrets.token_hex(4)
    asg = public_tmp / "course" / "assignments" / name
    (asg / "variants" / "loops").mkdir(parents=True)
    (asg / "__init__.py").write_text(
        "from grader.engine.assignment import Assignment\n"
        f"ASSIGNMENT = Assignment(name={name!r}, title='Demo', tasks=[], package='assignments.{name}')\n")
    for f in ("probes.py", "checks.py", "hidden.py", "oracle.py", "cases.py", "variants/loops/softmax.py"):
        (asg / f).write_text(f"# {f}\n" + ("CHECKS = []\n" if f in ("checks.py", "hidden.py") else ""))
    ref = public_tmp / "course" / "reference" / name
    ref.mkdir(parents=True)
    (ref / "softmax.py").write_text("# the solution\n")
    for path in [public_tmp / "course", *(public_tmp / "course").rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    monkeypatch.setenv(assignments.ENV_PATH, str(public_tmp / "course"))
    monkeypatch.delenv(isolation.ALLOW_ENV, raising=False)
    monkeypatch.setenv("GRADER_AUTOGRADER_ROOT", str(public_tmp / "no-autograder"))
    return assignments.load(name)


def test_the_material_of_an_assignment(course):
    material = exposure.grader_only_paths(course)
    assert material == [course.folder.resolve(), (course.course_root / "reference" / course.name).resolve()]


def test_instructor_grading_refused_while_the_sandbox_user_can_read_it_then_allowed(course, monkeypatch):
    monkeypatch.setattr(isolation, "is_root", lambda: True)  # the decision is about a sandbox uid's rights
    monkeypatch.setattr(isolation, "sandbox_user_problem", lambda: "")
    with pytest.raises(IsolationRefused) as refused:
        plan_isolation("rlimits", instructor=True, assignment=course)
    message = str(refused.value)
    assert str(course.folder.resolve()) in message and "grade protect" in message
    lo, hi = slots.configured_range()  # a uid of the range, one per worker: what one may read, all may
    assert "--allow-unisolated" in message and f"sandbox uids {lo}-{hi} (uid {lo})" in message
    monkeypatch.setenv(slots.UIDS_ENV, "off")  # the one shared sandbox user
    with pytest.raises(IsolationRefused, match=r"sandbox user nobody \(uid 65534\)"):
        plan_isolation("rlimits", instructor=True, assignment=course)
    monkeypatch.delenv(slots.UIDS_ENV)
    # a student's own check, an opt-in, bubblewrap: not refused
    assert plan_isolation("rlimits", instructor=False, assignment=course).user == NOBODY
    assert plan_isolation("rlimits", instructor=True, allow_unisolated=True, assignment=course).user == NOBODY
    monkeypatch.setenv(isolation.ALLOW_ENV, "1")
    assert plan_isolation("process", instructor=True, assignment=course).mode == "process"
    monkeypatch.delenv(isolation.ALLOW_ENV)

    r = CliRunner().invoke(main, ["protect", "--check", "-a", course.name])
    assert r.exit_code == 1 and str(course.folder.resolve()) in r.output
    r = CliRunner().invoke(main, ["protect", "-a", course.name])
    assert r.exit_code == 0, r.output
    assert f"protected: {course.folder.resolve()}" in r.output
    assert plan_isolation("rlimits", instructor=True, assignment=course).user == NOBODY
    assert CliRunner().invoke(main, ["protect", "--check", "-a", course.name]).exit_code == 0


def test_not_root_without_bubblewrap_instructor_grading_is_refused(course, monkeypatch):
    """As any user but root, student code runs as the grader's own user: it reads what the grader reads."""
    monkeypatch.setattr(isolation, "is_root", lambda: False)
    exposure.protect(exposure.grader_only_paths(course))  # bits cannot help: it is the same user
    with pytest.raises(IsolationRefused, match="(?s)does not run as root.*grade as root after `grade protect`"):
        plan_isolation("rlimits", instructor=True, assignment=course)
    assert plan_isolation("rlimits", instructor=False, assignment=course).user is None
    assert plan_isolation("rlimits", instructor=True, allow_unisolated=True, assignment=course).user is None


# --------------------------------------------------------- the reader, in a simulated /autograder
def sandbox_user_runs(python: str) -> bool:
    try:
        return subprocess.run([python, "-I", "-c", "import numpy"], user=NOBODY[0], group=NOBODY[1],
                              extra_groups=[], cwd="/", capture_output=True, timeout=60).returncode == 0
    except OSError:
        return False


needs_root_and_python = pytest.mark.skipif(
    not (IS_ROOT and sys.platform.startswith("linux") and sandbox_user_runs(sys.executable)),
    reason="the rlimits fallback as Gradescope runs it: root, and a Python the sandbox user can run")


@pytest.fixture(scope="module")
def backprop_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    build_autograder("backprop", out)
    return out


def simulated_autograder(zip_path: Path, parent: Path) -> Path:
    """/autograder as setup.sh leaves it, without apt and pip: source/ unpacked from the zip, a venv
    (from this venv's base Python) holding the grader as `pip install` puts it, numpy and torch found
    through a .pth into this venv, a `grade` script. Modes as unzip and pip leave them (0755/0644)."""
    from test_gradescope_autograder import unpack_like_gradescope

    root = unpack_like_gradescope(zip_path, parent / "autograder")
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    purelib = Path(subprocess.run([str(root / "venv" / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    for package in ("grader", "assignments"):
        shutil.copytree(root / "source" / "dl-grader" / package, purelib / package)
    (purelib / "dev-venv.pth").write_text(sysconfig.get_path("purelib") + "\n")
    grade = root / "venv" / "bin" / "grade"
    grade.write_text(f"#!{root / 'venv' / 'bin' / 'python'}\nimport sys\nfrom grader.cli import main\n"
                     "sys.exit(main())\n")
    for path in [parent, *parent.rglob("*")]:
        if not path.is_symlink():
            os.chmod(path, 0o755 if path.is_dir() or path == grade else 0o644)
    for script in ("setup.sh", "run_autograder"):
        for where in (root / "source" / script, root / script):
            if where.exists():
                os.chmod(where, 0o755)
    return root


def setup_protection(root: Path) -> subprocess.CompletedProcess:
    """The protection step of the zip's setup.sh, run as it is written there."""
    setup = (root / "source" / "setup.sh").read_text().splitlines()
    lines = [line for line in setup if " protect " in line and not line.startswith("#")]
    assert len(lines) == 1, lines
    script = f'set -euo pipefail\nSOURCE="{root / "source"}"\nROOT="{root}"\n{lines[0]}\n'
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root)}
    env.pop("PYTHONPATH", None)
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120)


def grade_reader(root: Path, **env_extra: str) -> tuple[dict, str]:
    submission = root / "submission"
    submission.mkdir()
    shutil.copy(ROOT / "tests" / "hostile" / "reader" / "softmax.py", submission / "softmax.py")
    (submission / "case.json").write_text(json.dumps({"roots": [str(root)]}))
    for path in [submission, *submission.iterdir()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root),
           "GRADER_AUTOGRADER_PYTHON": str(root / "venv" / "bin" / "python"), "GRADER_ISOLATION": "rlimits",
           **env_extra}
    env.pop("PYTHONPATH", None)
    if "GRADER_ALLOW_UNISOLATED" not in env_extra:
        env.pop("GRADER_ALLOW_UNISOLATED", None)
    proc = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=600, cwd=root.parent)
    assert proc.returncode == 0, proc.stderr
    return json.loads((root / "results" / "results.json").read_text()), proc.stderr


def secret_lines() -> list[str]:
    """Distinctive lines of A1's hidden checks, oracle, cases, variant and reference solution."""
    files = [ROOT / "assignments" / "backprop" / n for n in ("hidden.py", "oracle.py", "cases.py")]
    files += list((ROOT / "assignments" / "backprop" / "variants").rglob("*.py"))
    files += list((ROOT / "reference" / "backprop").glob("*.py"))
    out = []
    for f in files:
        first = f.read_text().splitlines()[0].strip()[:100]
        if len(first) > 12:
            out.append(first)
    return out


def test_secret_lines_are_distinctive():
    public = "\n".join(p.read_text() for p in (ROOT / "tests" / "hostile" / "reader").glob("*.py"))
    lines = secret_lines()
    assert len(lines) >= 4 and not any(line in public for line in lines)


@needs_root_and_python
def test_reader_after_setup_protection_reads_nothing_hidden(backprop_zip, public_tmp):
    root = simulated_autograder(backprop_zip, public_tmp)
    done = setup_protection(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"protected: {root / 'source'}" in done.stdout
    results, log = grade_reader(root)
    assert results["tests"], (results["output"], log)  # graded, not refused
    text = json.dumps(results)
    reader = next(t for t in results["tests"] if "SECRETS READ" in t["output"])
    assert "SECRETS READ: 0" in reader["output"], reader["output"]
    assert "READ " in reader["output"]  # it did read the public files: the walk worked
    for line in secret_lines():
        assert json.dumps(line)[1:-1] not in text, line
    # the venv's Python, numpy, torch and the public grader stay readable to the sandbox user
    purelib = next((root / "venv" / "lib").glob("python3*/site-packages"))
    assert exposure.can_read(purelib / "grader" / "engine" / "runner.py", *NOBODY)
    assert not exposure.can_read(purelib / "assignments" / "backprop" / "hidden.py", *NOBODY)
    assert not exposure.can_read(root / "source" / "dl-grader" / "assignments" / "backprop" / "oracle.py", *NOBODY)


@needs_root_and_python
def test_reader_without_protection_is_refused_and_reads_hidden_checks_when_opted_in(backprop_zip, public_tmp):
    root = simulated_autograder(backprop_zip, public_tmp)
    results, log = grade_reader(root)  # setup.sh's protection did not run
    assert results["tests"] == [] and "not set up to run submissions safely" in results["output"]
    assert "grade protect" in log and str(root / "source") in log
    assert str(root) not in json.dumps(results)  # the student sees no host path

    shutil.rmtree(root / "submission")
    results, log = grade_reader(root, GRADER_ALLOW_UNISOLATED="1")
    reader = next(t for t in results["tests"] if "SECRETS READ" in t["output"])
    assert "SECRETS READ: 0" not in reader["output"]
    text = json.dumps(results)
    assert any(json.dumps(line)[1:-1] in text for line in secret_lines()), reader["output"]


def test_grade_check_hidden_and_grade_batch_refuse_naming_the_path(course, monkeypatch, public_tmp):
    """The same refusal from the commands: exit 1, the path and the fix; the batch records nothing."""
    monkeypatch.setattr(isolation, "is_root", lambda: True)
    monkeypatch.setattr(isolation, "sandbox_user_problem", lambda: "")
    work = public_tmp / "work"
    (work / "class" / "alice").mkdir(parents=True)
    (work / "class" / "alice" / "softmax.py").write_text("x = 1\n")
    r = CliRunner().invoke(main, ["check", str(work / "class" / "alice"), "-a", course.name, "--hidden",
                                  "--isolation", "rlimits"])
    assert r.exit_code == 1 and str(course.folder.resolve()) in r.output and "grade protect" in r.output, r.output
    r = CliRunner().invoke(main, ["batch", str(work / "class"), "-a", course.name, "-o", str(work / "out"),
                                  "--isolation", "rlimits", "--quiet"])
    assert r.exit_code == 1 and str(course.folder.resolve()) in r.output, r.output
    assert not (work / "out").exists() or not any((work / "out").iterdir())
