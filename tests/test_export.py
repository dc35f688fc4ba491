"""`grade export` (grader/instructor/export/): each file re-read with the platform importer's own rules
(tests/importer_rules.py, which cites them), from gradebooks of a real `grade batch` run through the CLI.

The class: Canvas download files, Moodle folders (one name with non-ASCII letters), GitHub Classroom
clones, a plain folder and a rejected zip, graded with `--only` the fast softmax checks; then a few rows
recorded directly (error, timeout, and hostile names and emails) as the batch would record them.
"""
from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import zipfile
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import importer_rules as rules
from batch_class import FAST_CHECKS, REF, SOFTMAX_MUTANTS
from grader.cli import main
from grader.instructor.batch.gradebook import FILENAME, Gradebook, now
from grader.instructor.export.worksheet import read_worksheet

pytestmark = [pytest.mark.xdist_group("export_class")]
ONLY = [a for c in FAST_CHECKS for a in ("--only", c)]
REFERENCE = (REF / "softmax.py").read_text()
MUTANT = SOFTMAX_MUTANTS[0]
WRONG = REFERENCE.replace(MUTANT.old, MUTANT.new)


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _record(gb: Gradebook, student: str, status: str, layout: str, lms_id: str = "", name: str = "",
            email: str = "", message: str = "") -> None:
    t = now()
    gb.record({"student": student, "name": name, "email": email, "lms_id": lms_id, "layout": layout,
               "source": f"/class/{student}", "late": 0, "content_hash": "", "assignment": "backprop",
               "grader_version": "test", "status": status, "message": message, "traceback": "Traceback ...",
               "score": 0.0, "max_score": 0.0, "percent": 0.0, "started_at": t, "finished_at": t, "duration": 0.0,
               "warnings": []}, [])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    cls = base / "class"
    cls.mkdir()
    (cls / "smithjohn_4242_998877_softmax.py").write_text(REFERENCE)
    (cls / "doejane_LATE_4343_998878_softmax.py").write_text(WRONG)
    for folder, text in (("Ada Lovelace_2000_assignsubmission_file_", REFERENCE),
                         ("Zoë Ångström_2001_assignsubmission_file_", WRONG)):
        (cls / folder).mkdir()
        (cls / folder / "softmax.py").write_text(text)
    for user, text in (("octocat", REFERENCE), ("hubot", WRONG)):
        (cls / f"backprop-{user}" / ".git").mkdir(parents=True)
        (cls / f"backprop-{user}" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        (cls / f"backprop-{user}" / "softmax.py").write_text(text)
    (cls / "alice").mkdir()
    (cls / "alice" / "softmax.py").write_text(REFERENCE)
    with zipfile.ZipFile(cls / "mallory.zip", "w") as zf:
        zf.writestr("../../escape.py", "x = 1\n")
    out = base / "out"
    r = cli("batch", cls, "-a", "backprop", "--out", out, "--jobs", "2", *ONLY, "--no-similarity", "--quiet")
    assert r.exit_code == 0, r.output
    with Gradebook(out / FILENAME) as gb:
        _record(gb, "crashy", "error", "canvas", "4545", "crashy")
        _record(gb, "Slow_Sam", "timeout", "moodle", "2002", "Slow Sam")
        _record(gb, "formula", "error", "gradescope", "7001", "=HYPERLINK(\"http://x\")", "=cmd@evil.example")
        subs = {s["student"]: s for s in gb.submissions()}
    return SimpleNamespace(base=base, out=out, subs=subs)


def export(graded, to, *args, name=None):
    path = graded.base / (name or f"{to}.csv")
    r = CliRunner().invoke(main, ["export", str(graded.out), "--to", to, "-o", str(path), *map(str, args)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return path, r


def test_the_class_graded_as_expected(graded):
    s = graded.subs
    assert s["smithjohn"]["lms_id"] == "4242" and s["smithjohn"]["status"] == "graded"
    assert s["smithjohn"]["score"] == s["smithjohn"]["max_score"] > 0
    assert s["doejane"]["late"] == 1 and s["doejane"]["score"] < s["doejane"]["max_score"]
    assert s["Zoë_Ångström"]["lms_id"] == "2001" and s["Zoë_Ångström"]["name"] == "Zoë Ångström"
    assert s["octocat"]["layout"] == "classroom" and s["mallory"]["status"] == "rejected"


# --- Canvas -----------------------------------------------------------------------------------------------

def test_canvas_file_is_what_canvas_imports(graded):
    path, r = export(graded, "canvas", "--title", "HW1 softmax", "--assignment-id", "5150", "--points", "20")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel-readable; Canvas's header test tolerates the BOM
    got = rules.canvas_parse(data)
    head = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert head == [*rules.CANVAS.required_headers, "HW1 softmax (5150)"]
    assert got["assignment"] == ("HW1 softmax", "5150")
    assert got["points"] == "20"
    s = graded.subs
    assert got["grades"]["4242"] == "20"  # full marks scaled to the Canvas assignment's 20 points
    want = round(s["doejane"]["score"] / s["doejane"]["max_score"] * 20, 2)
    assert float(got["grades"]["4343"]) == pytest.approx(want, abs=0.005)
    # only students with a Canvas user id and a grade; the crashed one is left out, not 0
    assert set(got["grades"]) == {"4242", "4343"}
    assert "crashy: not exported: status error" in r.stderr
    assert "octocat: left out: no Canvas user id (layout classroom)" in r.stderr


def test_canvas_ungraded_zero_and_default_points(graded):
    path, r = export(graded, "canvas", "--assignment-id", "5150", "--ungraded", "zero")
    got = rules.canvas_parse(path.read_bytes())
    assert got["grades"]["4545"] == "0"
    assert float(got["points"]) == graded.subs["smithjohn"]["max_score"]
    assert got["grades"]["4242"] == got["points"]


def test_canvas_roster_fills_students_and_keeps_canvas_values(graded, tmp_path):
    roster = tmp_path / "roster.csv"
    # the instructor's own Canvas export: semicolons, a BOM, the muted row, a student matched by SIS Login ID
    roster.write_text("\ufeffStudent;ID;SIS User ID;SIS Login ID;Section;HW1 softmax (5150);Current Score\n"
                      ";;;;;Manual Posting;\n"
                      "    Points Possible;;;;;20;(read only)\n"
                      "Smith, John;4242;S1;jsmith@uni.example;Sec A;;50\n"
                      "Ångström, Zoë;4848;S6;zoe@uni.example;Sec Ä;;0\n"
                      "Doe, Jane;4343;S2;jdoe@uni.example;Sec A;;40\n"
                      "crashy;4545;S3;crashy@uni.example;Sec B;12,5;30\n"
                      "Nobody, Ned;4646;S4;ned@uni.example;Sec B;;0\n"
                      "=SUM(A1);4747;S5;-2+3;Sec B;;0\n", encoding="utf-8")
    path, r = export(graded, "canvas", "--assignment-id", "5150", "--points", "20", "--roster", roster)
    got = rules.canvas_parse(path.read_bytes())
    assert set(got["grades"]) == {"4242", "4343", "4545", "4646", "4747", "4848"}  # every enrolled student
    assert got["grades"]["4545"] == "12,5"  # not graded here: Canvas's own value, so nothing changes
    assert got["grades"]["4646"] == ""  # no submission and no grade in Canvas: blank, no change
    row = {r[1]: r for r in got["students"]}
    assert row["4242"][:5] == ["Smith, John", "4242", "S1", "jsmith@uni.example", "Sec A"]
    assert row["4747"][0] == "'=SUM(A1)" and row["4747"][3] == "'-2+3"  # guarded: ID is the key
    assert row["4747"][1] == "4747"
    assert row["4848"][0] == "Ångström, Zoë" and row["4848"][4] == "Sec Ä"  # UTF-8 through the BOM


def test_canvas_title_that_the_importer_would_drop_is_refused(graded):
    r = CliRunner().invoke(main, ["export", str(graded.out), "--to", "canvas", "--title", "Final Score quiz",
                                  "--assignment-id", "1", "-o", str(graded.base / "x.csv")])
    assert r.exit_code == 2 and "Final Score" in r.output
    assert any(h in "Final Score quiz" for h in rules.CANVAS_NON_ASSIGNMENT)


# --- Moodle -----------------------------------------------------------------------------------------------

def test_moodle_worksheet_filled_keeps_every_row_and_column(graded, tmp_path):
    sheet = tmp_path / "worksheet.csv"
    sheet.write_text('\ufeffIdentifier,"Full name","Email address",Status,Grade,"Maximum Grade",'
                     '"Grade can be changed","Last modified (submission)","Last modified (grade)","Feedback comments",Extra\n'
                     'Participant 2000,"Ada Lovelace",ada@uni.example,"Submitted for grading",,10.00,Yes,'
                     '"Monday, 30 November 2026, 10:00 AM","Monday, 30 November 2026, 11:00 AM",,x1\n'
                     'Participant 2001,"Zoë Ångström",zoe@uni.example,"Submitted for grading",,10.00,Yes,'
                     '"Monday, 30 November 2026, 10:05 AM",-,,x2\n'
                     'Participant 2002,"Slow Sam",sam@uni.example,"Submitted for grading",3.00,10.00,Yes,-,-,old,x3\n'
                     'Participant 2003,"Absent Al",al@uni.example,"No submission",,10.00,Yes,-,-,,x4\n', encoding="utf-8")
    path, r = export(graded, "moodle", "--worksheet", sheet)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    got = rules.moodle_worksheet_parse(data)
    assert list(got) == ["2000", "2001", "2002", "2003"]
    assert got["2000"]["grade"] == "10" and rules.moodle_offline_applies(got["2000"]["grade"], 10.0)
    s = graded.subs["Zoë_Ångström"]
    assert float(got["2001"]["grade"]) == pytest.approx(round(s["score"] / s["max_score"] * 10, 2), abs=0.005)
    assert got["2001"]["row"]["Full name"] == "Zoë Ångström"
    assert got["2002"]["grade"] == "3.00" and got["2002"]["feedback"] == "old"  # timeout: left as Moodle has it
    assert got["2003"]["grade"] == "" and not rules.moodle_offline_applies("", 10.0)
    assert [r["Extra"] for r in (g["row"] for g in got.values())] == ["x1", "x2", "x3", "x4"]
    assert got["2000"]["modified"] == "Monday, 30 November 2026, 11:00 AM"  # Moodle's own staleness check stays
    # the feedback: titles and points lost, never a check's message
    fb = got["2001"]["feedback"]
    assert "Points lost:" in fb and "-" in fb
    checks = sqlite3.connect(graded.out / FILENAME).execute(
        "SELECT title, message FROM check_results WHERE student = 'Zoë_Ångström' AND score < max_score").fetchall()
    assert checks and all(t in fb for t, _ in checks)
    assert not any(m and m in fb for _, m in checks)
    assert "Slow_Sam: not exported: status timeout" in r.stderr


def test_moodle_worksheet_hidden_check_details_never_leak(graded, tmp_path):
    """A hidden check that lost points: its title and points only (feedback.py's policy)."""
    with Gradebook(graded.out / FILENAME) as gb:
        sub = gb.submission("Zoë_Ångström")
        rows = gb.checks("Zoë_Ångström")
    from grader.instructor.export.moodle import feedback_comment
    rows = [{**c, "visibility": "hidden", "message": "expected 0.731 got 0.5 at x=[[1,2]]"} for c in rows]
    text = feedback_comment(sub, rows)
    assert "(hidden)" in text and "0.731" not in text and "x=[[1,2]]" not in text


def test_moodle_worksheet_without_download_and_clamping(graded):
    path, r = export(graded, "moodle", "--points", "10")
    got = rules.moodle_worksheet_parse(path.read_bytes())
    assert set(got) == {"2000", "2001", "2002"}
    assert list(got["2000"]["row"]) == ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                                        "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                                        "Feedback comments"]
    assert got["2000"]["grade"] == "10" and got["2002"]["grade"] == ""
    assert got["2000"]["modified"]  # a time strtotime() reads: a blank would make every row "stale"
    assert "smithjohn: left out: no Moodle participant number (layout canvas)" in r.stderr


def test_moodle_worksheet_never_above_the_maximum(graded, tmp_path):
    sheet = tmp_path / "small.csv"
    sheet.write_text("Identifier,Grade,Maximum Grade,Last modified (grade),Feedback comments\n"
                     "Participant 2000,,5.00,-,\n", encoding="utf-8")
    path, r = export(graded, "moodle", "--worksheet", sheet, "--points", "8")  # 8 > the worksheet's 5
    got = rules.moodle_worksheet_parse(path.read_bytes())
    assert got["2000"]["grade"] == "5" and rules.moodle_offline_applies("5", 5.0)
    assert "clamped to the maximum grade 5" in r.stderr


def test_moodle_gradebook_keyed_by_email_never_above_maximum(graded, tmp_path):
    sheet = tmp_path / "ws.csv"
    sheet.write_text("Identifier,Email address,Grade,Last modified (grade)\n"
                     "Participant 2000,ada@uni.example,,-\nParticipant 2001,-zoe@uni.example,,-\n", encoding="utf-8")
    path, r = export(graded, "moodle-gradebook", "--worksheet", sheet, "--points", "100", "--title", "HW1")
    rows = rules.moodle_read(path.read_bytes())
    assert rows[0] == ["Full name", "Email address", "HW1"]
    keys = {row[1]: row[2] for row in rows[1:]}
    assert keys == {"ada@uni.example": "100"}  # the only one with an email a spreadsheet would not run
    assert all(row[1] for row in rows[1:])  # a row without a user aborts Moodle's whole import
    assert all(float(v) <= rules.MOODLE_GRADEPOINTMAX for v in keys.values())
    assert "would run as a spreadsheet formula" in r.stderr and "-zoe@uni.example" in r.stderr


def test_export_publishes_the_final_score_of_the_late_policy(graded, tmp_path):
    """The late options of `grade export` (as `grade report`'s) set the policy; the file holds final scores:
    raw − penalty, on the platform's points. smithjohn: 2 days 1 hour late by the times CSV (Canvas API
    submitted_at) → 3 started days × 10 % of the points; doejane: Canvas's LATE_ marker, no time → one day."""
    out = tmp_path / "late"
    shutil.copytree(graded.out, out)
    times = tmp_path / "times.csv"
    times.write_text("user_id,submitted_at\n4242,2026-11-04T01:00:00Z\n", encoding="utf-8")
    path = tmp_path / "c.csv"
    r = CliRunner().invoke(main, ["export", str(out), "--to", "canvas", "--assignment-id", "5150", "--points", "20",
                                  "--due", "2026-11-01 23:59", "--timezone", "UTC", "--late-penalty", "10%/day",
                                  "--submission-times", str(times), "-o", str(path)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    got = rules.canvas_parse(path.read_bytes())["grades"]
    assert float(got["4242"]) == pytest.approx(20 * 0.7)
    s = graded.subs["doejane"]
    assert float(got["4343"]) == pytest.approx((s["score"] - 0.1 * s["max_score"]) / s["max_score"] * 20, abs=0.005)
    with Gradebook(out / FILENAME) as gb:  # stored: a later export or report keeps the same policy
        assert gb.late_policy() is not None
    again = tmp_path / "again.csv"
    r = CliRunner().invoke(main, ["export", str(out), "--to", "canvas", "--assignment-id", "5150", "--points", "20",
                                  "-o", str(again)], catch_exceptions=False)
    assert rules.canvas_parse(again.read_bytes())["grades"] == got


# --- GitHub Classroom -------------------------------------------------------------------------------------

def test_classroom_columns_and_roster_join(graded, tmp_path):
    roster = tmp_path / "classroom_roster.csv"
    roster.write_text('"identifier","github_username","github_id","name"\n'
                      '"zoe@uni.example","octocat","1","Zoë"\n"=1+1","hubot","2",""\n"absent@uni.example","","",""\n'
                      '"carol@uni.example","carol","3","Carol"\n', encoding="utf-8")
    path, r = export(graded, "classroom", "--roster", roster, "--org", "course-org", "--points", "10")
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert list(rows[0]) == list(rules.CLASSROOM.required_headers)
    by = {row["github_username"]: row for row in rows}
    assert by["octocat"]["roster_identifier"] == "zoe@uni.example" and by["octocat"]["points_awarded"] == "10"
    assert by["octocat"]["student_repository_url"] == "https://github.com/course-org/backprop-octocat"
    assert by["hubot"]["roster_identifier"] == "'=1+1"
    assert by["carol"]["points_awarded"] == "" and by["carol"]["points_available"] == "10"
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")


# --- plain CSV --------------------------------------------------------------------------------------------

def test_plain_csv_is_grades_csv(graded):
    path, _ = export(graded, "csv")
    cli("report", graded.out)
    assert path.read_bytes() == (graded.out / "grades.csv").read_bytes()
    assert b"'=HYPERLINK" in path.read_bytes()


def test_worksheet_reader_is_shared(tmp_path):
    sheet = tmp_path / "w.csv"
    sheet.write_text("Identifier;Grade;Last modified (grade);Last modified (submission)\n"
                     "Participant 7;;-;Friday, 4 December 2026, 11:59 PM\n", encoding="utf-8")
    ws = read_worksheet(sheet)
    assert ws.records()[0]["Last modified (submission)"] == "Friday, 4 December 2026, 11:59 PM"
    (tmp_path / "bad.csv").write_text("Name,Grade\nx,1\n")
    with pytest.raises(ValueError, match="Identifier"):
        read_worksheet(tmp_path / "bad.csv")


def test_usage_errors(graded, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = CliRunner().invoke(main, ["export", str(empty), "--to", "canvas"])
    assert r.exit_code == 2 and "no gradebook" in r.output
    bad = tmp_path / "notasheet.csv"
    bad.write_text("Name,Grade\nx,1\n")
    r = CliRunner().invoke(main, ["export", str(graded.out), "--to", "moodle", "--worksheet", str(bad)])
    assert r.exit_code == 2 and "Identifier" in r.output
    r = CliRunner().invoke(main, ["export", str(graded.out), "--to", "canvas", "--assignment-id", "12a"])
    assert r.exit_code == 2 and "number" in r.output
    r = CliRunner().invoke(main, ["export", str(graded.out), "--to", "classroom", "--worksheet", str(bad)])
    assert r.exit_code == 2


def test_points_default_is_said(graded):
    _, r = export(graded, "moodle-gradebook")
    assert "scores are out of 12" in r.stderr and "--points" in r.stderr
