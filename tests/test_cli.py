"""The `grade` command line (grader/cli.py), through click's CliRunner.

Grading runs use `--task softmax` (a second or two each); one run grades the whole unsolved template.
"""
from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from report_schemas import check_json, check_junit

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "backprop"
TEMPLATE = ROOT / "student_template" / "backprop"

CHECK_FIELDS = {"id", "task", "title", "score", "max_score", "status", "visibility", "message", "output"}
GRADESCOPE_TEST_FIELDS = {"name", "number", "score", "max_score", "status", "output", "visibility", "tags"}


def grade(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def check_softmax(path, *args: str):
    return grade("check", str(path), "--task", "softmax", *args)


def copy_of(src: Path, dest: Path, marker: str | None = None) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", ".grade.toml"))
    if marker is not None:
        (dest / ".grade.toml").write_text(marker)
    return dest


@pytest.fixture
def solved(tmp_path):
    """A solved softmax task in a folder whose name is not an assignment, without a marker."""
    folder = tmp_path / "my-homework"
    folder.mkdir()
    shutil.copy(REFERENCE / "softmax.py", folder / "softmax.py")
    return folder


# ------------------------------------------------------------------------------------ formats
def test_table_full_marks():
    r = check_softmax(REFERENCE, "--assignment", "backprop")
    assert r.exit_code == 0, r.output
    assert "18 / 18 (100.0%)" in r.stdout and "6 of 6 checks passed" in r.stdout
    assert "softmax(o) equals exp(o)/Σexp(o) along the last axis" in r.stdout
    assert "\x1b[" not in r.stdout  # not a terminal: plain text, no colour codes


def test_json_format():
    r = check_softmax(REFERENCE, "--assignment", "backprop", "--format", "json")
    assert r.exit_code == 0, r.output
    data = check_json(r.stdout)
    assert data["schema_version"] == 3 and data["assignment"] == "backprop"
    assert data["score"] == data["max_score"] == 18
    assert len(data["checks"]) == 6
    for c in data["checks"]:
        assert CHECK_FIELDS <= set(c), set(c)
        assert c["task"] == "softmax" and c["status"] == "passed" and c["visibility"] == "public"
        assert c["id"].startswith("softmax.") and c["score"] == c["max_score"] > 0
        assert c["module"] == "softmax"


def test_junit_format():
    r = check_softmax(REFERENCE, "-a", "backprop", "--format", "junit")
    assert r.exit_code == 0, r.output
    root = ET.fromstring(check_junit(r.stdout).encode())
    cases = root.findall(".//testcase")
    assert len(cases) == 6
    assert {c.get("classname") for c in cases} == {"softmax.py"}
    assert not root.findall(".//failure") and not root.findall(".//error")


def test_gradescope_format():
    r = check_softmax(REFERENCE, "-a", "backprop", "--format", "gradescope")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["score"] == 18 and {"execution_time", "output", "visibility", "stdout_visibility"} <= set(data)
    assert len(data["tests"]) == 6
    for t in data["tests"]:
        assert GRADESCOPE_TEST_FIELDS <= set(t), set(t)
        assert t["status"] == "passed" and t["visibility"] == "visible" and t["score"] == t["max_score"]


def test_markdown_format():
    r = check_softmax(REFERENCE, "-a", "backprop", "--format", "markdown")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("## backprop: 18 / 18 (100.0%)")
    assert "| Check | Task | Points | Status |" in r.stdout


def test_output_file_gets_the_report_and_the_table_still_prints(tmp_path):
    out = tmp_path / "report.xml"
    r = check_softmax(REFERENCE, "-a", "backprop", "--format", "junit", "--output", str(out))
    assert r.exit_code == 0, r.output
    assert len(ET.parse(out).getroot().findall(".//testcase")) == 6
    check_junit(out.read_text())
    assert "18 / 18 (100.0%)" in r.stdout and "<testsuite" not in r.stdout
    assert f"written to {out}" in r.stderr


def test_output_into_a_missing_folder_fails_before_grading(tmp_path):
    r = check_softmax(REFERENCE, "-a", "backprop", "--format", "json", "-o", str(tmp_path / "no" / "such" / "r.json"))
    assert r.exit_code == 2 and "no such folder" in r.output and "r.json" in r.output


def test_one_run_writes_several_reports(tmp_path, monkeypatch):
    """--report FORMAT PATH, repeated: every report from one grading run (the template workflow's
    JUnit file and job summary), the table still at the terminal."""
    import grader.cli

    runs = []
    real = grader.cli.grade
    monkeypatch.setattr(grader.cli, "grade", lambda *a, **k: runs.append(1) or real(*a, **k))
    junit, summary, data = tmp_path / "junit.xml", tmp_path / "summary.md", tmp_path / "r.json"
    r = check_softmax(REFERENCE, "-a", "backprop", "--report", "junit", str(junit),
                      "--report", "markdown", str(summary), "--format", "json", "-o", str(data))
    assert r.exit_code == 0, r.output
    assert len(runs) == 1
    assert len(ET.parse(junit).getroot().findall(".//testcase")) == 6
    check_junit(junit.read_text())
    assert summary.read_text().startswith("## backprop: 18 / 18 (100.0%)")
    assert "Isolation: " in summary.read_text()  # the job summary says which isolation graded it
    assert check_json(data.read_text())["score"] == 18
    assert "18 / 18 (100.0%)" in r.stdout and "<testsuite" not in r.stdout and "| Check |" not in r.stdout
    assert all(f"written to {p}" in r.stderr for p in (junit, summary, data))


def test_a_report_to_stdout_replaces_the_table(tmp_path):
    junit = tmp_path / "junit.xml"
    r = check_softmax(TEMPLATE, "--report", "junit", str(junit), "--report", "markdown", "-")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("## backprop: 0 / 18 (0.0%)") and "Total: 0 / 18 (0.0%)**" in r.stdout
    assert "checks passed" not in r.stdout  # no table: stdout is the report (for `>> $GITHUB_STEP_SUMMARY`)
    assert len(ET.parse(junit).getroot().findall(".//failure")) == 6


@pytest.mark.parametrize("args, message", [
    (["--report", "markdown", "-", "--format", "json"], "only one report can go to standard output"),
    (["--report", "junit", "{tmp}/a.xml", "--report", "markdown", "{tmp}/a.xml"], "same file"),
    (["--report", "junit", "{tmp}/no/such/a.xml"], "no such folder"),
    (["--report", "yaml", "{tmp}/a.yml"], "'yaml' is not one of"),
    (["--report", "junit"], "requires 2 arguments"),
])
def test_report_usage_errors_come_before_grading(tmp_path, monkeypatch, args, message):
    import grader.cli

    monkeypatch.setattr(grader.cli, "grade", lambda *a, **k: pytest.fail("graded despite a usage error"))
    r = check_softmax(REFERENCE, "-a", "backprop", *[a.format(tmp=tmp_path) for a in args])
    assert r.exit_code == 2 and message in r.output, r.output


# ---------------------------------------------------------------------------------- exit codes
def test_fail_under():
    r = check_softmax(REFERENCE, "-a", "backprop", "--fail-under", "100")
    assert r.exit_code == 0, r.output
    r = check_softmax(TEMPLATE, "--fail-under", "100")
    assert r.exit_code == 1, r.output
    assert "below --fail-under 100%" in r.stderr
    assert "0 / 18 (0.0%)" in r.stdout


def test_unknown_assignment():
    r = check_softmax(REFERENCE, "--assignment", "nonexistent")
    assert r.exit_code == 2
    assert "unknown assignment 'nonexistent'" in r.output and "backprop" in r.output


@pytest.mark.parametrize("args", [("--task", "softmx"), ("-t", "softmax,nope"), ("softmx",)])
def test_unknown_task(args):
    r = grade("check", str(REFERENCE), "-a", "backprop", *args)
    assert r.exit_code == 2
    assert "softmax, scalar, layers, mlp" in r.output  # says which tasks there are


@pytest.mark.parametrize("path", ["/nonexistent/submission", "./nope", "nope.ipynb"])
def test_nonexistent_path(path):
    r = grade("check", path, "-a", "backprop")
    assert r.exit_code == 2
    assert f"no such file or folder: {path}" in r.output


def test_two_folders_is_a_usage_error(tmp_path):
    r = grade("check", str(REFERENCE), str(tmp_path), "-a", "backprop")
    assert r.exit_code == 2 and "one folder at a time" in r.output


# ------------------------------------------------------------------------ finding the assignment
def test_marker_in_the_folder(tmp_path):
    folder = copy_of(REFERENCE, tmp_path / "homework", marker='assignment = "backprop"\n')
    r = check_softmax(folder)
    assert r.exit_code == 0, r.output
    assert "18 / 18 (100.0%)" in r.stdout


def test_marker_in_a_parent_folder(tmp_path, solved):
    (tmp_path / ".grade.toml").write_text('assignment = "backprop"\n')
    r = check_softmax(solved)
    assert r.exit_code == 0, r.output
    assert "18 / 18 (100.0%)" in r.stdout


def test_current_directory_with_marker_and_no_path(tmp_path, monkeypatch, solved):
    (solved / ".grade.toml").write_text('assignment = "backprop"\n')
    monkeypatch.chdir(solved)
    r = grade("check", "--task", "softmax", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["score"] == 18 and Path(data["submission"]) == solved.resolve()
    # `grade check TASK` and `grade check FILE` in the folder: what the README tells students
    for args in (["softmax"], ["softmax.py"]):
        r = grade("check", *args, "--format", "json")
        assert r.exit_code == 0, r.output
        assert {c["task"] for c in json.loads(r.stdout)["checks"]} == {"softmax"}


def test_no_marker_and_folder_not_an_assignment(solved, monkeypatch):
    r = check_softmax(solved)
    assert r.exit_code == 2
    assert "--assignment" in r.output and ".grade.toml" in r.output and "backprop" in r.output
    monkeypatch.chdir(solved)
    r = grade("check", "softmax")  # a task, but no way to know the assignment
    assert r.exit_code == 2 and "--assignment" in r.output


def test_marker_naming_an_unknown_assignment(tmp_path, solved):
    (solved / ".grade.toml").write_text('assignment = "nope"\n')
    r = check_softmax(solved)
    assert r.exit_code == 2 and "unknown assignment 'nope'" in r.output
    (solved / ".grade.toml").write_text("assignment = \n")
    r = check_softmax(solved)
    assert r.exit_code == 2 and ".grade.toml" in r.output


def test_the_templates_marker():
    assert (TEMPLATE / ".grade.toml").read_text().strip() == 'assignment = "backprop"'


# -------------------------------------------------------------------------------- verbose output
def test_verbose_shows_what_the_code_printed(solved):
    text = (solved / "softmax.py").read_text()
    (solved / "softmax.py").write_text(text + "\nprint('hello from the top level of softmax.py')\n")
    r = check_softmax(solved, "-a", "backprop")
    assert r.exit_code == 0, r.output
    assert "hello from the top level" not in r.stdout
    assert "run with --verbose (-v) to see it" in r.stdout
    r = check_softmax(solved, "-a", "backprop", "-v")
    assert "    | hello from the top level of softmax.py" in r.stdout
    assert "softmax.values" in r.stdout and "(printed nothing)" in r.stdout


# ---------------------------------------------------------------------------------------- list
def test_list():
    r = grade("list")
    assert r.exit_code == 0 and "backprop: A1" in r.stdout
    public = grade("list", "--assignment", "backprop")
    hidden = grade("list", "--assignment", "backprop", "--hidden")
    assert public.exit_code == hidden.exit_code == 0
    assert "softmax.values" in public.stdout and "tolerance:" in public.stdout
    assert " pts  hidden " not in public.stdout and " pts  hidden " in hidden.stdout  # the visibility column
    assert len(hidden.stdout.splitlines()) > len(public.stdout.splitlines())
    r = grade("list", "-a", "nope")
    assert r.exit_code == 2 and "unknown assignment" in r.output


# ------------------------------------------------------------------------- the unsolved template
def test_template_scores_zero_without_crashing():
    r = grade("check", str(TEMPLATE), "--format", "json")
    assert r.exit_code == 0, r.output
    data = check_json(r.stdout)
    assert data["assignment"] == "backprop"  # from the template's .grade.toml
    assert data["score"] == 0 and data["max_score"] > 0
    tasks = {c["task"] for c in data["checks"]}
    assert tasks == {"softmax", "scalar", "layers", "mlp"}
    for c in data["checks"]:
        assert c["status"] in ("failed", "missing"), c
        assert "not implemented yet" in c["message"] or c["status"] == "missing", c


def test_table_in_a_terminal_has_colour(monkeypatch):
    """At a terminal the table is rendered by rich with colour; piped, it is plain text (above)."""
    import io
    import sys

    from grader.cli import _print_table
    from grader.engine.model import CheckResult, Report, Status, Visibility

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys, "stdout", Terminal())
    report = Report("backprop", "here", [CheckResult("softmax.values", "softmax", "softmax values", 0, 3,
                                                     Status.FAILED, Visibility.PUBLIC, "wrong", "printed\n")])
    _print_table(report, verbose=True)
    out = sys.stdout.getvalue()
    assert "\x1b[" in out and "softmax values" in out and "    | printed" in out


def test_check_option_runs_only_the_named_checks():
    result = grade("check", str(REFERENCE), "-a", "backprop", "--check", "softmax.stable",
                   "--check", "layers.relu", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [c["id"] for c in json.loads(result.output)["checks"]] == ["softmax.stable", "layers.relu"]


def test_check_option_rejects_unknown_and_hidden_ids_without_hidden():
    result = grade("check", str(REFERENCE), "-a", "backprop", "--check", "softmax.nope")
    assert result.exit_code == 2 and "unknown check 'softmax.nope'" in result.output
    result = grade("check", str(REFERENCE), "-a", "backprop", "--check", "softmax.rows_scale")
    assert result.exit_code == 2 and "add --hidden" in result.output


def test_no_color_turns_colour_off_at_a_terminal(monkeypatch):
    import io
    import sys

    from grader.cli import _print_table
    from grader.engine.model import CheckResult, Report, Status, Visibility

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(sys, "stdout", Terminal())
    report = Report("backprop", "here", [CheckResult("softmax.values", "softmax", "softmax values", 0, 3,
                                                     Status.FAILED, Visibility.PUBLIC, "wrong")])
    _print_table(report, verbose=False)
    out = sys.stdout.getvalue()
    assert "softmax values" in out and "\x1b[" not in out


# ------------------------------------------------------------------- what a student reads last
def test_last_line_names_the_first_failing_check_and_what_to_do():
    r = check_softmax(TEMPLATE)
    assert r.exit_code == 0, r.output
    last = " ".join(r.stdout[r.stdout.rindex("\nNext: ") + 1:].split())  # the last line (wrapped at 100)
    assert r.stdout.rstrip().endswith(last.split()[-1])
    assert last.startswith("Next: ") and "in softmax.py" in last
    assert "not implemented yet" in last and "Re-run it with: grade check --check softmax." in last
    first_failing = check_json(check_softmax(TEMPLATE, "--format", "json").stdout)["checks"][0]
    assert first_failing["title"] in last and first_failing["id"] in last


def test_table_times_each_check():
    r = check_softmax(REFERENCE, "-a", "backprop")
    header = next(line for line in r.stdout.splitlines() if "Check" in line and "Status" in line)
    assert "Time" in header
    assert r.stdout.rstrip().splitlines()[-1] == "All 6 checks passed."


def test_note_when_bubblewrap_is_missing(monkeypatch):
    """Without bubblewrap (macOS), `--isolation auto` grades with resource limits only and says so."""
    from grader.engine.sandbox import isolation

    monkeypatch.setattr(isolation, "bwrap_works", lambda: False)
    monkeypatch.delenv("GRADER_ISOLATION", raising=False)
    r = check_softmax(REFERENCE, "-a", "backprop")
    assert r.exit_code == 0, r.output
    # (as root with Python under a 0700 home, the rlimits-only worker cannot run at all: the checks
    # then say so; the score is not what this test is about)
    text = " ".join(r.stdout.split())
    assert "Total:" in text
    assert "Isolation: rlimits only" in text
    assert "Note: bubblewrap is not available here" in text and "could read your files" in text


# --------------------------------------------------------------------------- GitHub Classroom
def test_classroom_base64_as_a_workflow_step_writes_it():
    """The workflow step `echo "result=$(grade check --format classroom --base64)" >> $GITHUB_OUTPUT`."""
    import base64

    r = check_softmax(TEMPLATE, "--format", "classroom", "--base64")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert len(lines) == 1  # nothing else on stdout: the whole output is the step's value
    results = json.loads(base64.b64decode(lines[0]))  # what the reporter does with GRADE_RESULTS
    assert results["status"] == "fail" and results["max_score"] == 18
    assert [t["score"] for t in results["tests"]] == [0] * 6
    assert all(t["filename"] == "softmax.py" and t["status"] == "fail" for t in results["tests"])
    solved = json.loads(base64.b64decode(check_softmax(REFERENCE, "-a", "backprop", "--format",
                                                       "classroom", "--base64").stdout))
    assert solved["status"] == "pass" and sum(t["score"] for t in solved["tests"]) == 18


def test_base64_needs_a_machine_readable_format():
    r = check_softmax(REFERENCE, "-a", "backprop", "--base64")
    assert r.exit_code == 2 and "--base64" in r.output
