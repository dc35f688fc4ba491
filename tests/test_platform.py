"""`grade check` where students work: Windows and macOS, emulated on Linux; and a Linux machine without
bubblewrap whose Python the sandbox user cannot run.

Windows is EMULATED here (tests/nonposix.py): the grader runs in an interpreter where `pwd`,
`resource`, `fcntl` cannot be imported and `os.fork`, `os.killpg`, `os.setsid`, `os.geteuid` are absent,
with no bubblewrap on PATH. The grader must find that out itself (feature detection) and grade in
the `process` mode: a plain subprocess with the wall-clock time limit, its process tree killed, its
memory watched from outside (psutil), and channel I/O in helper threads (Windows' `select` takes no
pipes). Windows-only code (handles instead of descriptor numbers) is not run here: CI has no Windows.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import nonposix

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "backprop"
TEMPLATE = ROOT / "student_template" / "backprop"
HOSTILE = Path(__file__).parent / "hostile"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="emulates other systems on Linux")


@pytest.fixture
def workdir():
    """A 0755 folder under /tmp (pytest's tmp_path is 0700: unreachable for the sandbox user)."""
    folder = Path(tempfile.mkdtemp(prefix="platform-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def emulated(cmd: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=nonposix.env(), timeout=timeout,
                          cwd=tempfile.gettempdir())


def softmax_folder(workdir: Path, name: str, source: str) -> Path:
    folder = workdir / name
    folder.mkdir()
    (folder / "softmax.py").write_text(source, encoding="utf-8")
    return folder


# ---------------------------------------------------------------- the emulation itself
def test_the_emulated_interpreter_has_no_posix_modules():
    probe = ("import os\nout = []\nfor m in ('pwd', 'resource', 'fcntl'):\n"
             "    try:\n        __import__(m); out.append(m)\n    except ImportError:\n        pass\n"
             "print(out, hasattr(os, 'fork'), hasattr(os, 'killpg'), hasattr(os, 'geteuid'))\n"
             "from grader.engine.sandbox import host, resolve_isolation\n"
             "print(host.HAVE_RLIMITS, host.is_root(), resolve_isolation('auto'))")
    r = emulated(nonposix.python_cmd(probe))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["[] False False False", "False False process"]


# ------------------------------------------------------ the student-side cases, emulated
def test_emulated_non_posix_template_scores_zero(workdir):
    r = emulated(nonposix.cli_cmd("check", str(TEMPLATE), "softmax", "-a", "backprop", "--format", "json"))
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout)
    assert report["score"] == 0 and report["max_score"] == 18 and report["status"] == "graded"
    assert report["isolation"].startswith("process only")


def test_emulated_non_posix_reference_gets_full_public_marks_and_says_how(workdir):
    r = emulated(nonposix.cli_cmd("check", str(REFERENCE), "softmax", "-a", "backprop"))
    assert r.returncode == 0, r.stderr[-3000:]
    text = " ".join(r.stdout.split())
    assert "Total: 18 / 18 (100.0%)" in text and "All 6 checks passed." in text
    # exactly what was and was not limited
    assert ("Isolation: process only (no bubblewrap, no POSIX resource limits on this system): a plain "
            "subprocess, as the current user; wall-clock time limit per check, its whole process tree killed, "
            "memory of its process tree watched (killed above the limit); CPU time, file size, open files "
            "and processes not limited; files and network visible") in text
    assert "Note: bubblewrap is not available here" in text


GRADE_SCRIPT = r'''
import json, sys
from dataclasses import replace
from pathlib import Path
from grader.engine import session
from grader.engine.assignment import Assignment, load
from grader.engine.model import Limits
from grader.engine.runner import grade
session.IMPORT_TIMEOUT = 5.0
asg = load("backprop")
limits = Limits(timeout=3.0, memory_mb=int(sys.argv[2]))
mine = [replace(c, limits=limits) for c in asg.checks() if c.id in ("softmax.values", "softmax.cross_entropy")]
a = Assignment(name=asg.name, title=asg.title, tasks=asg.tasks, package=asg.package, seed=asg.seed, _checks=mine)
print(json.dumps(grade(Path(sys.argv[1]), a).to_dict()))
'''


def grade_emulated(folder: Path, memory_mb: int = 3072) -> dict[str, dict]:
    """softmax.values and softmax.cross_entropy with a 3 s limit, graded in the emulated interpreter."""
    cmd = nonposix.python_cmd(f"sys_argv = {[str(folder), str(memory_mb)]!r}\nimport sys\n"
                              f"sys.argv = ['grade', *sys_argv]\n{GRADE_SCRIPT}")
    r = emulated(cmd, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout)
    assert report["isolation"].startswith("process only")
    return {c["id"]: c for c in report["checks"]}


def no_process_left(marker: str) -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    return False
            except OSError:
                pass
    return True


def test_emulated_non_posix_hang_is_stopped_by_its_time_limit(workdir):
    folder = workdir / "hang"
    shutil.copytree(HOSTILE / "loop_in_function", folder)
    # a child process that would outlive a plain kill of the worker: the tree kill takes it too
    source = (folder / "softmax.py").read_text(encoding="utf-8")
    marker = f"platform-hang-{os.getpid()}"
    (folder / "softmax.py").write_text(
        "import subprocess, sys\n_child = subprocess.Popen([sys.executable, '-c', "
        f"'import time; time.sleep(600)', {marker!r}])\n" + source, encoding="utf-8")
    checks = grade_emulated(folder)
    assert checks["softmax.values"]["status"] == "timeout"
    assert "time limit of 3 s" in checks["softmax.values"]["message"]
    assert checks["softmax.values"]["duration"] < 3 + 8
    assert checks["softmax.cross_entropy"]["status"] == "passed"  # a fresh worker served the next check
    assert no_process_left(marker)


def test_emulated_non_posix_exception_at_import_is_reported(workdir):
    folder = softmax_folder(workdir, "boom", "import numpy as np\nraise ValueError('boom at import')\n")
    checks = grade_emulated(folder)
    for cid in ("softmax.values", "softmax.cross_entropy"):
        assert checks[cid]["status"] == "error" and checks[cid]["score"] == 0
        assert "ValueError" in checks[cid]["message"] and "boom at import" in checks[cid]["message"]


def test_emulated_non_posix_memory_is_watched(workdir):
    """No RLIMIT_AS here: the memory watch kills the worker's tree above the check's limit."""
    folder = workdir / "memory"
    shutil.copytree(HOSTILE / "memory_list", folder)
    checks = grade_emulated(folder, memory_mb=400)
    r = checks["softmax.values"]
    assert r["status"] == "out_of_memory" and "more than 400 MB" in r["message"], r
    assert checks["softmax.cross_entropy"]["status"] == "passed"


# ------------------------------------------ a Linux machine without bubblewrap, Python in a 0700 folder
@pytest.fixture(scope="module")
def locked_python():
    """A venv inside a 0700 folder (as a pyenv or conda Python under /root): root runs it, the sandbox
    user cannot. It sees this venv's packages (a .pth file), so it runs this grader."""
    top = Path(tempfile.mkdtemp(prefix="locked-"))
    os.chmod(top, 0o700)
    venv = top / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_dirs = [p for p in sys.path if p.endswith("site-packages") and os.path.isdir(p)]
    target = next(venv.glob("lib/python3*/site-packages"))
    (target / "zz_this_venv.pth").write_text(
        "".join(f"import site; site.addsitedir({d!r})\n" for d in site_dirs), encoding="utf-8")
    yield venv / "bin" / "python"
    shutil.rmtree(top, ignore_errors=True)


def locked(python: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("GRADER_ALLOW_UNISOLATED",)}
    environ.update(GRADER_ISOLATION="rlimits", **env)  # bubblewrap disabled
    return subprocess.run([str(python), *args], capture_output=True, text=True, env=environ, cwd=cwd, timeout=300)


needs_root = pytest.mark.skipif(not IS_ROOT, reason="only a root grader runs student code as another user")


@needs_root
def test_no_bwrap_locked_python_student_check_runs_as_the_invoking_user(locked_python, workdir):
    r = locked(locked_python, "-m", "grader.cli", "check", str(REFERENCE), "softmax", "-a", "backprop",
               "--format", "json", cwd=workdir)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout)
    assert report["score"] == report["max_score"] == 18  # never every check an error
    assert "as the invoking user (root)" in report["isolation"]
    assert "cannot run" in report["isolation"] and "unisolated" in report["isolation"]
    table = locked(locked_python, "-m", "grader.cli", "check", str(REFERENCE), "softmax", "-a", "backprop",
                   cwd=workdir)
    assert "as the invoking user (root)" in " ".join(table.stdout.split())


@needs_root
def test_no_bwrap_locked_python_instructor_grading_is_refused(locked_python, workdir):
    r = locked(locked_python, "-m", "grader.cli", "check", str(REFERENCE), "softmax", "-a", "backprop",
               "--hidden", "--format", "json", cwd=workdir)
    assert r.returncode == 1 and r.stdout == ""  # no report at all, rather than one of errors
    said = " ".join(r.stderr.split())
    assert "refusing to run untrusted submissions as root without isolation" in said
    for way_out in ("apt-get install bubblewrap", "a Python that user can read", "--allow-unisolated",
                    "GRADER_ALLOW_UNISOLATED=1"):
        assert way_out in said
    allowed = locked(locked_python, "-m", "grader.cli", "check", str(REFERENCE), "softmax", "-a", "backprop",
                     "--hidden", "--allow-unisolated", "--format", "json", cwd=workdir)
    graded = json.loads(allowed.stdout)
    assert allowed.returncode == 0 and graded["score"] == graded["max_score"] > 18  # hidden ones too


@needs_root
def test_no_bwrap_locked_python_batch_records_nothing(locked_python, workdir):
    subs = workdir / "subs" / "alice"
    subs.mkdir(parents=True)
    shutil.copy(REFERENCE / "softmax.py", subs / "softmax.py")
    out = workdir / "out"
    r = locked(locked_python, "-m", "grader.cli", "batch", str(subs.parent), "-a", "backprop", "-o", str(out),
               "--task", "softmax", "-q", cwd=workdir)
    assert r.returncode == 1 and "refusing to run untrusted submissions" in r.stderr
    assert not (out / "grades.csv").exists()  # never a class at 0.00%


@needs_root
def test_no_bwrap_locked_python_gradescope_runner_says_what_to_do(locked_python, workdir):
    root = workdir / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copy(REFERENCE / "softmax.py", root / "submission" / "softmax.py")
    r = locked(locked_python, "-m", "grader.instructor.publish.gradescope", "run", "--assignment", "backprop",
               "--root", str(root), cwd=workdir)
    assert r.returncode == 0
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["tests"] == [] and "not set up to run submissions safely" in results["output"]
    assert "apt-get install bubblewrap" in r.stderr and "GRADER_ALLOW_UNISOLATED" in r.stderr
