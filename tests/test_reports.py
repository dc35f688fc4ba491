"""Report formats: JSON (own schema), Gradescope results.json, JUnit XML, Markdown, GitHub Classroom,
terminal table. Every JSON and JUnit report made here is validated against its schema."""
from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest
from rich.console import Console

from grader.engine.model import REPORT_SCHEMA_VERSION, CheckResult, Report, Status, Visibility
from grader.reports import (
    FORMATS,
    classroom_results,
    to_base64,
    to_classroom,
    clean_text,
    render_table,
    report_from_json,
    to_gradescope,
    to_json,
    to_junit,
    to_markdown,
    to_table,
)
from report_schemas import check_json, check_junit

HOSTILE_OUTPUT = "before\x00\x1b[31mred<script>&alert(1)</script>\x07\x1b]0;title\x07 after\n"


def make_report() -> Report:
    checks = [
        CheckResult(
            id="1.1-softmax-rows",
            task="1.1",
            title="softmax rows sum to one",
            score=2.0,
            max_score=2.0,
            status=Status.PASSED,
            visibility=Visibility.PUBLIC,
            duration=0.12,
            tolerance="atol 1e-6",
            module="softmax",
        ),
        CheckResult(
            id="1.1-ce-grad",
            task="1.1",
            title="cross_entropy_grad | matches autograd",
            score=1.5,
            max_score=3.0,
            status=Status.FAILED,
            visibility=Visibility.PUBLIC,
            message="dL/do: max abs error 3.2e-02 at [4, 7]\nexpected 0.1, got 0.132\n```python\nx = 1\n```",
            duration=0.25,
            tolerance="rtol 1e-6, atol 1e-8",
            module="softmax",
        ),
        CheckResult(
            id="1.2-forward",
            task="1.2",
            title="forward pass of the example network",
            score=0.0,
            max_score=2.0,
            status=Status.ERROR,
            visibility=Visibility.PUBLIC,
            message="ZeroDivisionError: division by zero [bold]not markup[/bold]",
            output=HOSTILE_OUTPUT,
            duration=0.2,
            module="scalar_backprop",
        ),
        CheckResult(
            id="1.3-train",
            task="1.3",
            title="MLP reaches the accuracy threshold",
            score=0.0,
            max_score=4.0,
            status=Status.TIMEOUT,
            visibility=Visibility.PUBLIC,
            message="the check exceeded its 20 s limit",
            duration=20.0,
            module="mlp",
        ),
        CheckResult(
            id="1.3-hidden-inputs",
            task="1.3",
            title="MLP forward on hidden inputs",
            score=1.0,
            max_score=1.0,
            status=Status.PASSED,
            visibility=Visibility.HIDDEN,
            duration=0.3,
        ),
    ]
    return Report(
        assignment="backprop",
        submission="alice",
        checks=checks,
        isolation="bubblewrap, unprivileged user, no network",
        execution_time=21.7,
        hidden_included=True,
        warnings=["FashionMNIST not found: 1 check skipped"],
    )


@pytest.fixture
def report() -> Report:
    return make_report()


# ----------------------------------------------------------------------------------------- JSON


def test_json_schema_fields_and_round_trip(report):
    text = to_json(report)
    data = check_json(text)
    assert data == json.loads(json.dumps(report.to_dict()))
    assert list(data) == [
        "schema_version", "assignment", "submission", "status", "message", "score", "max_score",
        "isolation", "execution_time", "hidden_included", "warnings", "checks",
    ]
    assert data["schema_version"] == REPORT_SCHEMA_VERSION
    assert data["score"] == pytest.approx(4.5)
    assert data["max_score"] == pytest.approx(12.0)
    assert len(data["checks"]) == 5
    for c in data["checks"]:
        assert set(c) == {
            "id", "task", "title", "score", "max_score", "status", "visibility",
            "message", "output", "duration", "tolerance", "module", "figures",
        }
        assert c["status"] in {s.value for s in Status}
        assert c["visibility"] in {"public", "hidden"}
    # The JSON record keeps the student's output verbatim (escaped by JSON, ASCII-only text).
    assert data["checks"][2]["output"] == HOSTILE_OUTPUT
    assert text.isascii()
    # And it rebuilds into an equal Report.
    again = report_from_json(text)
    assert again.to_dict() == report.to_dict()


def test_json_rejects_unknown_schema_version(report):
    data = json.loads(to_json(report))
    data["schema_version"] = REPORT_SCHEMA_VERSION + 1
    with pytest.raises(ValueError, match="schema_version"):
        report_from_json(json.dumps(data))


def test_json_is_strict_even_with_non_finite_numbers(report):
    report.checks[0].duration = float("nan")
    data = json.loads(to_json(report), parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))
    assert data["checks"][0]["duration"] is None
    check_json(data)


# ----------------------------------------------------------------------------------- Gradescope


def test_gradescope_fields_and_types(report):
    data = json.loads(to_gradescope(report))
    for key in ("score", "execution_time", "output", "visibility", "stdout_visibility", "tests"):
        assert key in data
    assert data["score"] == pytest.approx(4.5)
    assert isinstance(data["execution_time"], int) and data["execution_time"] == 22
    assert data["visibility"] == "after_published"
    assert data["stdout_visibility"] == "hidden"
    assert "4.5 / 12" in data["output"] and "bubblewrap" in data["output"]
    tests = data["tests"]
    assert len(tests) == 5
    for i, (t, c) in enumerate(zip(tests, report.checks), start=1):
        assert t["name"] == c.title
        assert t["number"] == str(i)
        assert isinstance(t["score"], (int, float)) and not isinstance(t["score"], bool)
        assert isinstance(t["max_score"], (int, float)) and not isinstance(t["max_score"], bool)
        assert t["score"] == pytest.approx(c.score) and t["max_score"] == pytest.approx(c.max_score)
        assert t["status"] in {"passed", "failed"}
        assert t["status"] == ("passed" if c.status == Status.PASSED else "failed")
        assert t["visibility"] in {"visible", "after_published"}
        assert t["tags"] == [c.task, c.status.value]
        assert isinstance(t["output"], str)
    assert [t["visibility"] for t in tests] == ["visible"] * 4 + ["after_published"]
    assert sum(t["score"] for t in tests) == pytest.approx(data["score"])


def test_gradescope_output_has_message_status_and_clean_student_output(report):
    tests = json.loads(to_gradescope(report))["tests"]
    assert tests[1]["output"].startswith("dL/do: max abs error")
    assert "rtol 1e-6" in tests[1]["output"]
    assert tests[3]["output"].startswith("[timed out]")
    err = tests[2]["output"]
    assert err.startswith("[error] ZeroDivisionError")
    assert "output" in err.lower() and "<script>&alert(1)</script>" in err
    assert "\x00" not in err and "\x1b" not in err and "\x07" not in err


# ---------------------------------------------------------------------------------------- JUnit


def test_junit_parses_and_counts(report):
    text = check_junit(to_junit(report))
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert "skipped" not in root.attrib  # junit-10.xsd allows it on <testsuite> only
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "backprop"
    assert suite.get("tests") == "5"
    assert suite.get("failures") == "1"
    assert suite.get("errors") == "2"
    assert suite.get("skipped") == "0"
    assert float(suite.get("time")) == pytest.approx(21.7)
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["score"] == "4.5" and props["max_score"] == "12"
    assert props["isolation"] == "bubblewrap, unprivileged user, no network"

    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [f"{c.id}: {c.title}" for c in report.checks]
    # the student's file, so that annotations land on it; the task for a check of no module
    assert [c.get("classname") for c in cases] == ["softmax.py", "softmax.py", "scalar_backprop.py",
                                                   "mlp.py", "1.3"]
    assert len(suite.findall("testcase/failure")) == 1
    assert len(suite.findall("testcase/error")) == 2
    failure = cases[1].find("failure")
    assert failure.get("type") == "failed"
    assert "max abs error" in failure.get("message")
    assert [e.get("type") for e in suite.findall("testcase/error")] == ["error", "timeout"]
    assert cases[0].find("failure") is None and cases[0].find("error") is None


def test_junit_strips_illegal_characters_and_escapes(report):
    report.checks[2].message += "\x00\x0b\ufffe"
    text = check_junit(to_junit(report))
    for ch in ("\x00", "\x1b", "\x07", "\x0b", "\ufffe"):
        assert ch not in text
    root = ET.fromstring(text.encode("utf-8"))
    out = root.find("testsuite/testcase[3]/system-out").text
    assert "<script>&alert(1)</script>" in out  # escaped in the XML, intact once parsed
    assert out.startswith("beforered<script>")
    assert "<script>" not in text  # never raw markup in the document


def test_junit_all_error_statuses(report):
    for status in (Status.OUT_OF_MEMORY, Status.OUT_OF_DISK, Status.MISSING):
        report.checks[0].status = status
        report.checks[0].score = 0.0
        suite = ET.fromstring(check_junit(to_junit(report))).find("testsuite")
        assert suite.get("errors") == "3"
        assert suite.find("testcase[1]/error").get("type") == status.value


# ------------------------------------------------------------------------------------- Markdown


def test_markdown_table_and_escaping(report):
    md = to_markdown(report)
    assert md.startswith("## backprop: 4.5 / 12 (37.5%)")
    assert "| Check | Task | Points | Status |" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 5
    # The pipe in a title is escaped so each row still has exactly four cells.
    for row in rows:
        assert len([p for p in row.replace("\\|", "").split("|")]) == 6
    assert "cross\\_entropy\\_grad \\| matches autograd" in md
    assert "| 1.5 / 3 | failed |" in md
    assert "| 0 / 4 | timed out |" in md
    for word in ("passed", "failed", "error", "timed out"):
        assert word in md


def test_markdown_details_only_for_non_passing_and_safe_fences(report):
    md = to_markdown(report)
    details = md.split("### Details", 1)[1]
    assert "softmax rows sum to one" not in details
    assert "MLP forward on hidden inputs" not in details
    for title in ("forward pass of the example network", "MLP reaches the accuracy threshold"):
        assert title in details
    # The message contains ``` so its fence must be longer, and the block closes after it.
    assert "````text\ndL/do: max abs error" in details
    assert "x = 1\n```\n````" in details
    # Hostile output: control characters gone.
    assert "\x00" not in md and "\x1b" not in md


# ---------------------------------------------------------------------------------------- table


def test_table_contains_titles_total_and_messages(report):
    text = FORMATS["table"](report)
    assert "\x1b" not in text  # not a TTY: no colour codes
    for c in report.checks:
        assert c.title in text
    assert "4.5 / 12" in text and "37.5%" in text
    assert "bubblewrap" in text
    assert "dL/do: max abs error" in text
    assert "[bold]not" in text  # messages are not rich markup
    assert "the check exceeded its 20 s limit" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_render_table_on_given_console(report):
    buf = io.StringIO()
    render_table(report, Console(file=buf, width=80))
    text = buf.getvalue()
    assert "Total" in text and "MLP forward on hidden inputs" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_render_table_with_colour_on_a_terminal(report):
    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system="standard")
    render_table(report, console)
    assert "\x1b[" in console.file.getvalue()


# ------------------------------------------------------------------------------------- all formats


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_handles_an_empty_report(fmt):
    empty = Report(assignment="relu_fit", submission="", checks=[])
    text = FORMATS[fmt](empty)
    assert isinstance(text, str) and text
    if fmt == "json":
        check_json(text)
    if fmt == "junit":
        check_junit(text)


def test_formats_keys():
    assert set(FORMATS) == {"table", "json", "junit", "markdown", "gradescope", "classroom"}
    assert FORMATS["classroom"] is to_classroom
    assert FORMATS["junit"] is to_junit
    assert FORMATS["markdown"] is to_markdown and FORMATS["gradescope"] is to_gradescope
    assert FORMATS["table"] is to_table


def test_clean_text():
    assert clean_text(HOSTILE_OUTPUT) == "beforered<script>&alert(1)</script> after\n"
    assert clean_text("a\r\nb\rc\td") == "a\nb\nc\td"
    assert clean_text(None) == ""
    assert clean_text("x\udcffy") == "x?y"


def test_table_shows_what_a_passed_check_measured():
    from grader.engine.model import CheckResult, Report, Status, Visibility
    from grader.reports import to_table

    c = CheckResult(id="t.acc", task="t", title="weights reach the threshold", score=1, max_score=1,
                    status=Status.PASSED, visibility=Visibility.PUBLIC, message="test accuracy 0.8913")
    quiet = CheckResult(id="t.x", task="t", title="silent pass", score=1, max_score=1,
                        status=Status.PASSED, visibility=Visibility.PUBLIC)
    text = to_table(Report(assignment="a", submission="s", checks=[c, quiet]))
    assert "test accuracy 0.8913" in text
    assert "silent pass:" not in text


# ------------------------------------------------------------------------------------- schemas


def test_json_schema_rejects_what_the_docs_forbid(report):
    """The shipped schema can fail: a wrong status, a missing field, an unknown key."""
    import jsonschema

    good = json.loads(to_json(report))
    for mutate in (
        lambda d: d["checks"][0].update(status="ok"),
        lambda d: d["checks"][0].pop("title"),
        lambda d: d.update(surprise=1),
        lambda d: d.pop("status"),  # required from schema_version 2 on
        lambda d: d["checks"][1].update(score=-1),
    ):
        bad = json.loads(json.dumps(good))
        mutate(bad)
        with pytest.raises(jsonschema.ValidationError):
            check_json(bad)
    v1 = json.loads(json.dumps(good))
    v1["schema_version"] = 1
    for key in ("status", "message"):
        v1.pop(key)
    check_json(v1)  # version 1 reports still validate (and load)
    assert report_from_json(json.dumps(v1)).status == "graded"


def test_junit_schema_rejects_the_old_testsuites_skipped_attribute(report):
    import xmlschema

    text = to_junit(report).replace("<testsuites ", '<testsuites skipped="0" ', 1)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        check_junit(text)


def test_reports_of_a_rejected_submission_validate():
    rejected = Report(assignment="backprop", submission="big", checks=[], status="rejected",
                      message="the submission is over its budget of 5000 files")
    data = check_json(to_json(rejected))
    assert data["status"] == "rejected"
    root = ET.fromstring(check_junit(to_junit(rejected)))
    props = {p.get("name"): p.get("value") for p in root.find("testsuite/properties")}
    assert props["status"] == "rejected" and "5000 files" in props["message"]
    assert classroom_results(rejected)["status"] == "error"
    assert "Not graded: the submission is over its budget" in to_table(rejected)


def test_module_round_trips_through_json(report):
    again = report_from_json(to_json(report))
    assert [c.module for c in again.checks] == ["softmax", "softmax", "scalar_backprop", "mlp", ""]


# -------------------------------------------------------------------------- GitHub Classroom


def decode_as_the_reporter_does(env_value: str) -> dict:
    """classroom-resources/autograding-grading-reporter: `<RUNNER>_RESULTS` is base64 of JSON."""
    import base64

    return json.loads(base64.b64decode(env_value).decode("utf-8"))


def test_classroom_format_is_what_the_reporter_reads(report):
    encoded = to_base64(to_classroom(report))
    assert encoded.endswith("\n") and "\n" not in encoded.rstrip("\n")
    results = decode_as_the_reporter_does(encoded.strip())
    assert results == classroom_results(report)
    assert results["version"] == 1
    assert results["status"] == "fail"  # the reporter fails the job on "fail" or "error"
    assert results["max_score"] == pytest.approx(12)
    tests = results["tests"]
    assert len(tests) == len(report.checks)
    for t in tests:
        assert set(t) == {"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}
        assert t["status"] in {"pass", "fail", "error"}
        assert t["line_no"] == 0  # the reporter then prints no " - line N"
    assert [t["status"] for t in tests] == ["pass", "fail", "error", "error", "pass"]
    assert [t["filename"] for t in tests] == ["softmax.py", "softmax.py", "scalar_backprop.py", "mlp.py", "1.3"]
    # the points Classroom records: the sum of the tests' scores (partial credit kept)
    assert sum(t["score"] for t in tests) == pytest.approx(report.score)
    assert tests[1]["message"].startswith("cross_entropy_grad | matches autograd (failed): dL/do")
    assert "Accepted: rtol 1e-6" in tests[1]["message"]
    assert tests[3]["message"].startswith("MLP reaches the accuracy threshold (timed out)")
    assert tests[1]["test_code"] == "grade check --check 1.1-ce-grad"
    assert tests[4]["test_code"].endswith("--hidden") and tests[4]["name"].endswith("(hidden)")
    assert "\x1b" not in json.dumps(results) and "\\u001b" not in json.dumps(results)


def test_classroom_status_pass_only_when_everything_passed(report):
    report.checks = [c for c in report.checks if c.status == Status.PASSED]
    assert classroom_results(report)["status"] == "pass"
    assert classroom_results(Report(assignment="a", submission="", checks=[]))["max_score"] == 0


# ------------------------------------------------------------------------- the student's table


def test_table_has_time_per_check_and_the_next_step(report):
    text = to_table(report)
    header = next(line for line in text.splitlines() if "Check" in line and "Status" in line)
    assert "Time" in header
    assert "20.0 s" in text and "0.1 s" in text
    last = " ".join(text.rstrip().splitlines()[-2:])
    assert last.startswith("Next: cross_entropy_grad | matches autograd in softmax.py [failed]: "
                           "dL/do: max abs error 3.2e-02 at [4, 7]")
    assert "(2 more below it)" in last and "grade check --check 1.1-ce-grad" in last


def test_table_last_line_when_all_passed(report):
    report.checks = [c for c in report.checks if c.status == Status.PASSED]
    assert to_table(report).rstrip().splitlines()[-1] == "All 2 checks passed."


def test_table_notes_weaker_isolation(report):
    assert "bubblewrap is not available" not in to_table(report)
    report.isolation = "rlimits only (bubblewrap unavailable): own process group, rlimits, as the current user"
    text = to_table(report)
    assert "Note: bubblewrap is not available here" in text and "ran with limits only" in text


def test_use_colour_only_on_a_terminal_and_never_with_no_color():
    from grader.reports import use_colour

    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert use_colour(Tty(), environ={})
    assert not use_colour(io.StringIO(), environ={})
    assert not use_colour(Tty(), environ={"NO_COLOR": "1"})
    assert use_colour(Tty(), environ={"NO_COLOR": ""})  # no-color.org: set and non-empty
    assert not use_colour(Tty(), environ={"TERM": "dumb"})


def test_report_round_trips_through_to_dict_and_from_dict_with_internal_and_figures():
    """The one pair every crossing uses (grading process → batch, gradebook → feedback): nothing is
    lost with internal=True, and internal stays out without it."""
    figure = {"kind": "curve", "title": "loss", "series": [{"label": "yours", "y": [1.0, 0.5, 0.25]}]}
    checks = [CheckResult("a.one", "a", "one", 0.5, 2.0, Status.FAILED, Visibility.HIDDEN, message="half",
                          output="printed", duration=1.25, tolerance="1e-6", module="a", figures=[figure],
                          internal="Traceback (most recent call last): a bug of ours"),
              CheckResult("a.two", "a", "two", 1.0, 1.0, Status.PASSED, Visibility.PUBLIC)]
    report = Report("backprop", "alice", checks, isolation="bwrap", execution_time=3.5, hidden_included=True,
                    warnings=["w"], status="graded", message="", internal=["a.one: Traceback ..."])
    full = report.to_dict(internal=True)
    again = Report.from_dict(json.loads(json.dumps(full)))
    assert again == report
    assert again.to_dict(internal=True) == full
    assert again.checks[0].figures == [figure] and again.checks[0].internal.startswith("Traceback")
    student = Report.from_dict(report.to_dict())
    assert student.internal == [] and all(c.internal == "" for c in student.checks)
    assert student.checks[0].figures == [figure]
