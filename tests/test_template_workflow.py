"""The template repository's workflows, run as GitHub would run their commands: the `run:` steps of
`student_template/relu_fit/.github/workflows/grade.yml` (and the Grade step of classroom.yml) read
from the YAML and executed with bash, in a fresh copy of the template and a fresh virtual environment.

What differs from GitHub, and why:
* torch's install line (`--index-url https://download.pytorch.org/whl/cpu`) becomes
  `python -m pip install torch==<pin>`: this machine has no internet, only the package registries,
  where the same pinned CPU build is; the rest of the install step runs as written, so the student
  edition comes from the template's own wheels/ (dl-grader-student is on no index: if
  requirements.txt pointed anywhere else, pip would fail here);
* the bubblewrap step (Linux only) is skipped: it runs `sudo apt-get` and `sysctl` on GitHub's
  throwaway VM; the machines running these tests have bubblewrap installed already (.ci/run);
* `uses:` steps (checkout, setup-python, upload-artifact, Classroom's reporter) are GitHub's own:
  the copy of the template stands for the checkout, the new virtual environment's python for
  setup-python's; $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT are temporary files.

The venv and its install (about a minute, torch from local disk) are made once for the module.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from grader import TORCH_VERSION
from grader.engine.sandbox import resolve_isolation

ROOT = Path(__file__).resolve().parents[1]
NAME = "relu_fit"  # the fastest template to grade: plain numpy, no data set (about 2 s)
TEMPLATE = ROOT / "student_template" / NAME
TORCH_INDEX_LINE = "--index-url https://download.pytorch.org/whl/cpu"
MAX_POINTS = 35  # relu_fit's public checks

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("template_workflow"),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="runs the steps with bash on Linux")]


def workflow(name: str) -> dict:
    return yaml.safe_load((TEMPLATE / ".github" / "workflows" / name).read_text())


def run_steps(job: dict) -> list[dict]:
    """The steps of `job` that run a command (the others `uses:` one of GitHub's actions)."""
    return [s for s in job["steps"] if "run" in s]


def needs_root_or_github(step: dict) -> bool:
    """Steps this machine does not run: apt-get and sysctl through sudo (the bubblewrap step)."""
    return "sudo " in step["run"]


def local_command(step: dict) -> str:
    """The step's command, with torch installed from the registries (no PyTorch index here)."""
    lines = step["run"].splitlines()
    out = [f"python -m pip install torch=={TORCH_VERSION}" if TORCH_INDEX_LINE in line else line for line in lines]
    return "\n".join(out)


@dataclass
class Job:
    """A fresh copy of the template with its install step done in a fresh venv."""

    venv: Path
    work: Path
    install_seconds: float

    def env(self, tmp: Path) -> dict[str, str]:
        """What a GitHub runner gives a step: python and grade on PATH, the summary and output files."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        env.update(PATH=f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(self.venv),
                   GITHUB_STEP_SUMMARY=str(tmp / "step_summary.md"), GITHUB_OUTPUT=str(tmp / "output.txt"),
                   GITHUB_ACTIONS="true", CI="true", RUNNER_OS="Linux")
        env.update({k: str(v) for k, v in workflow("grade.yml")["jobs"]["grade"].get("env", {}).items()})
        for f in ("step_summary.md", "output.txt"):
            (tmp / f).write_text("")
        return env

    def run(self, step: dict, cwd: Path, tmp: Path) -> subprocess.CompletedProcess:
        # GitHub's `shell: bash` is `bash --noprofile --norc -eo pipefail {0}`
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", local_command(step)],
                              cwd=cwd, env=self.env(tmp), capture_output=True, text=True, timeout=600)


def fresh_copy(dest: Path) -> Path:
    """The template as a clone has it (no caches)."""
    shutil.copytree(TEMPLATE, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".venv"))
    os.chmod(dest.parent, 0o755)  # the sandbox user reads the submission's folder
    return dest


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> Job:
    base = tmp_path_factory.mktemp("workflow")
    os.chmod(base, 0o755)
    venv = base / "venv"
    work = fresh_copy(base / "clone")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    job = Job(venv, work, 0.0)
    steps = run_steps(workflow("grade.yml")["jobs"]["grade"])
    install = next(s for s in steps if "requirements.txt" in s["run"])
    assert TORCH_INDEX_LINE in install["run"]  # the line replaced here is the one GitHub runs
    r = job.run(install, work, base)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    job.install_seconds = time.perf_counter() - start
    return job


def grade_step(name: str, job_name: str) -> dict:
    steps = [s for s in run_steps(workflow(name)["jobs"][job_name]) if "grade check" in s["run"]]
    assert len(steps) == 1, steps  # the workflow grades once
    return steps[0]


def test_the_workflow_runs_everywhere_and_installs_from_the_template():
    """The matrix, the shell every runner has, the bubblewrap step on Linux only, one grading run."""
    wf = workflow("grade.yml")
    job = wf["jobs"]["grade"]
    assert job["strategy"]["matrix"]["os"] == ["ubuntu-latest", "macos-latest", "windows-latest"]
    assert job["runs-on"] == "${{ matrix.os }}" and job["strategy"]["fail-fast"] is False
    assert job["defaults"]["run"]["shell"] == "bash"  # Windows would otherwise run pwsh
    assert job["env"]["PYTHONUTF8"] == "1"  # Windows pipes would otherwise encode in a code page
    privileged = [s for s in run_steps(job) if needs_root_or_github(s)]
    assert len(privileged) == 1 and privileged[0]["if"] == "runner.os == 'Linux'"
    assert "apparmor_restrict_unprivileged_userns=0" in privileged[0]["run"]
    artifact = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
    assert "${{ matrix.os }}" in artifact["with"]["name"]  # one artifact per runner: names must differ
    classroom = run_steps(workflow("classroom.yml")["jobs"]["run-autograding-tests"])
    install = [s["run"] for s in run_steps(job) if "requirements.txt" in s["run"]]
    assert install == [s["run"] for s in classroom if "requirements.txt" in s["run"]]  # the one run here
    run = grade_step("grade.yml", "grade")["run"]
    assert "--report junit junit.xml" in run and '--report markdown "$GITHUB_STEP_SUMMARY"' in run
    requirement = [line for line in (TEMPLATE / "requirements.txt").read_text().splitlines()
                   if line and not line.startswith("#") and not line.startswith("torch")]
    assert requirement and all((TEMPLATE / line).is_file() and line.startswith("./wheels/") for line in requirement)


def test_the_install_step_takes_the_grader_from_the_templates_wheel(job, tmp_path):
    py = job.venv / "bin" / "python"
    probe = ("import importlib.metadata as m, json, grader, torch\n"
             "d = m.distribution('dl-grader-student')\n"
             "print(json.dumps([d.version, json.loads(d.read_text('direct_url.json'))['url'], grader.__file__,"
             " torch.__version__]))")
    r = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=job.env(tmp_path))
    assert r.returncode == 0, r.stderr
    version, url, where, torch_version = json.loads(r.stdout)
    import grader

    assert version == grader.__version__ and url.endswith(f"/clone/wheels/dl_grader_student-{version}-py3-none-any.whl")
    assert where.startswith(str(job.venv)) and torch_version.split("+")[0] == TORCH_VERSION
    print(f"fresh venv + install step: {job.install_seconds:.1f} s")


def _graded(job: Job, work: Path, tmp: Path) -> tuple[str, str, ET.Element]:
    """Run every command step of grade.yml after the install (skipping the sudo one): the log,
    the job summary and the JUnit report."""
    steps = run_steps(workflow("grade.yml")["jobs"]["grade"])
    log = ""
    for step in steps:
        if "requirements.txt" in step["run"] or needs_root_or_github(step):
            continue  # installed once for the module; the sudo step is GitHub's (module docstring)
        r = job.run(step, work, tmp)
        assert r.returncode == 0, f"{step.get('name')}: {r.stdout[-2000:]}{r.stderr[-2000:]}"
        log += r.stdout
    return log, (tmp / "step_summary.md").read_text(), ET.parse(work / "junit.xml").getroot()


def _classroom(job: Job, work: Path, tmp: Path) -> dict:
    """classroom.yml's Grade step: the base64 line in $GITHUB_OUTPUT, decoded as the reporter does."""
    r = job.run(grade_step("classroom.yml", "run-autograding-tests"), work, tmp)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = (tmp / "output.txt").read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("result="), lines
    return json.loads(base64.b64decode(lines[0].removeprefix("result=")))


def _isolation_line(summary: str) -> str:
    line = next((x for x in summary.splitlines() if x.startswith("Isolation: ")), "")
    assert line, summary  # the job summary says which isolation graded the run
    expected = "bwrap" if resolve_isolation("auto") == "bwrap" else "rlimits only"
    assert line.startswith(f"Isolation: {expected}"), line
    return line


def test_the_unsolved_template_scores_0(job, tmp_path):
    work = fresh_copy(tmp_path / "clone")
    log, summary, junit = _graded(job, work, tmp_path)
    assert f"Total: 0 / {MAX_POINTS} (0.0%)" in log  # the table, in the job's log
    assert summary.startswith(f"## relu\\_fit: 0 / {MAX_POINTS} (0.0%)"), summary[:300]
    _isolation_line(summary)
    cases = junit.findall(".//testcase")
    assert len(cases) == 11 and len(junit.findall(".//testcase/failure")) == 11
    classroom = _classroom(job, work, tmp_path)
    assert classroom["max_score"] == MAX_POINTS and sum(t["score"] for t in classroom["tests"]) == 0


def test_the_reference_copied_in_scores_full_public_marks(job, tmp_path):
    work = fresh_copy(tmp_path / "clone")
    for f in (ROOT / "reference" / NAME).glob("*.py"):
        shutil.copy(f, work)
    log, summary, junit = _graded(job, work, tmp_path)
    assert f"Total: {MAX_POINTS} / {MAX_POINTS} (100.0%)" in log
    assert summary.startswith(f"## relu\\_fit: {MAX_POINTS} / {MAX_POINTS} (100.0%)"), summary[:300]
    _isolation_line(summary)
    assert len(junit.findall(".//testcase")) == 11
    assert not junit.findall(".//failure") and not junit.findall(".//error")
    classroom = _classroom(job, work, tmp_path)
    assert classroom["status"] == "pass" and sum(t["score"] for t in classroom["tests"]) == MAX_POINTS
