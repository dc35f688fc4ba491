"""The late policy (docs/batch.md, "Late policy"): the table of cases (tests/late_cases.py, also the
docs' table), the parsers, where times come from (Gradescope, Moodle's worksheet, a times CSV, a
clone's commit read without running git), and the whole thing through the real `grade batch` and
`grade report` on a small class: the gradebook's columns, grades.csv, report.html, the feedback.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from batch_class import FAST_CHECKS, REF, build_gradescope_class
from late_cases import CASES, doc_table, markdown_table
from grader.cli import main
from grader.engine import assignment
from grader.instructor.batch.commit_time import commit_times
from grader.instructor.batch.gradebook import FILENAME, Gradebook, apply_late_policy
from grader.instructor.batch.late import (Amount, LatePolicy, Rate, parse_amount, parse_duration, parse_rate,
                                          parse_when, zone_of)
from grader.instructor.batch.layouts import discover
from grader.instructor.batch.times import match_times, read_moodle_worksheet, read_submission_times

# one xdist worker: the class of the CLI tests is graded once, and its tests change it in order
pytestmark = pytest.mark.xdist_group("late_class")
ASG = assignment.load("backprop")
NY = zone_of("America/New_York")


# ------------------------------------------------------------------------------ the table of cases
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case):
    r = case.run()
    assert (r.state, r.periods, r.penalty, r.final) == (case.state, case.periods, case.penalty, case.final)
    assert r.final == pytest.approx(case.raw - r.penalty)  # final is raw minus the penalty, always
    assert case.says in r.explanation, r.explanation
    assert r.explanation.count(".") >= 1 and "\n" not in r.explanation  # one sentence for the student


def test_the_docs_table_is_the_tests_table():
    assert doc_table() == markdown_table(), "run: python tests/late_cases.py --write"


# ------------------------------------------------------------------------------ parsing
def test_parsers():
    assert parse_duration("15m").total_seconds() == 900 and parse_duration("1h30m").total_seconds() == 5400
    assert parse_duration("1d").total_seconds() == 86400 and parse_duration("0").total_seconds() == 0
    assert parse_rate("10%/day") == Rate(Amount(10, "%"), "day") and parse_rate("2pt/hour") == Rate(Amount(2, "pt"), "hour")
    assert parse_rate("5 %/h") == Rate(Amount(5, "%"), "hour") and parse_amount("20 points") == Amount(20, "pt")
    for bad, parse in [("15 parsecs", parse_duration), ("10%/week", parse_rate), ("10%", parse_rate),
                       ("150%", parse_amount), ("lots", parse_amount)]:
        with pytest.raises(ValueError):
            parse(bad)
    assert parse_when("2026-10-01 23:59", NY).isoformat() == "2026-10-01T23:59:00-04:00"
    assert parse_when("2026-10-01T23:59:00+02:00", None).utcoffset().total_seconds() == 7200
    with pytest.raises(ValueError, match="the clocks skip it"):  # Amsterdam jumps from 02:00 to 03:00
        parse_when("2026-03-29 02:30", zone_of("Europe/Amsterdam"))
    with pytest.raises(ValueError, match="no time of day"):
        parse_when("2026-10-01", NY)
    with pytest.raises(ValueError, match="no offset"):
        parse_when("2026-10-01 23:59", None)
    with pytest.raises(ValueError, match="not a time zone"):
        zone_of("Mars/Olympus")


def test_the_policy_survives_the_gradebook():
    p = LatePolicy(due=parse_when("2026-10-01 23:59", NY), zone="America/New_York", grace=parse_duration("15m"),
                   penalty=parse_rate("2pt/hour"), max_penalty=parse_amount("50%"),
                   last_accepted=parse_when("2026-10-05 23:59", NY),
                   extensions={"alice": parse_when("2026-10-03 23:59", NY)})
    assert LatePolicy.from_json(json.loads(json.dumps(p.to_json()))) == p


@pytest.mark.parametrize("args, words", [
    (["--late-penalty", "10%/week"], "not a penalty per hour or per day"),
    (["--grace", "soon"], "not a duration"),
    (["--due", "tomorrow"], "not a date and time"),
    (["--timezone", "Mars/Olympus"], "not a time zone"),
    (["--max-penalty", "120%"], "more than 100%"),
])
def test_malformed_options_are_usage_errors(tmp_path, args, words):
    r = CliRunner().invoke(main, ["report", str(tmp_path), *args])
    assert r.exit_code == 2 and words in r.output, r.output


def test_report_needs_a_due_date_to_start_a_policy(tmp_path):
    Gradebook(tmp_path / FILENAME).close()
    r = CliRunner().invoke(main, ["report", str(tmp_path), "--late-penalty", "10%/day"])
    assert r.exit_code == 2 and "--due is needed" in r.output


# ------------------------------------------------------------------------------ where times come from
def test_gradescope_created_at_is_the_time(tmp_path):
    build_gradescope_class(tmp_path / "export", tmp_path / "store", ["softmax_only", "softmax_only"])
    entries = discover(tmp_path / "export", ASG)
    assert [e.submitted_at for e in entries] == [datetime(2026, 11, 30, 10, tzinfo=timezone.utc)] * 2


MOODLE_WORKSHEET = (
    "\ufeffIdentifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
    "Last modified (submission),Online text,Last modified (grade),Feedback comments\n"
    "Participant 4001,Ada Lovelace,ada@uni.example,Submitted for grading,,100.00,Yes,"
    "\"Thursday, 1 October 2026, 11:50 PM\",,-,\n"
    "Participant 4002,Alan Turing,alan@uni.example,Submitted for grading,,100.00,Yes,"
    "\"Friday, 2 October 2026, 12:10 AM\",,-,\n"
    "Participant 4003,Nobody Yet,nobody@uni.example,No submission,,100.00,Yes,-,,-,\n")


def test_moodle_worksheet(tmp_path):
    (tmp_path / "ws.csv").write_text(MOODLE_WORKSHEET, encoding="utf-8")
    rows = read_moodle_worksheet(tmp_path / "ws.csv", NY)
    assert [(r.participant, r.full_name, r.email) for r in rows] == [
        ("4001", "Ada Lovelace", "ada@uni.example"), ("4002", "Alan Turing", "alan@uni.example"),
        ("4003", "Nobody Yet", "nobody@uni.example")]
    assert rows[0].submitted_at == datetime(2026, 10, 1, 23, 50, tzinfo=NY)  # Moodle's local time, in the zone
    assert rows[1].submitted_at.isoformat() == "2026-10-02T00:10:00-04:00" and rows[2].submitted_at is None
    assert rows[0].last_modified == "Thursday, 1 October 2026, 11:50 PM" and rows[0].row["Maximum Grade"] == "100.00"
    found, _ = match_times([{"student": "Ada_Lovelace", "lms_id": "4001", "layout": "moodle"},
                            {"student": "x", "lms_id": "4001", "layout": "canvas"}], {}, rows)
    assert set(found) == {"Ada_Lovelace"} and found["Ada_Lovelace"].source == "moodle"
    (tmp_path / "bad.csv").write_text("student,submitted_at\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a Moodle grading worksheet"):
        read_moodle_worksheet(tmp_path / "bad.csv")


def test_submission_times_csv_matches_ids_and_emails(tmp_path):
    (tmp_path / "t.csv").write_text("user_id,submitted_at\n3001,2026-10-04T05:00:00Z\n3002,\n9999,2026-10-01T00:00:00Z\n")
    listed = read_submission_times(tmp_path / "t.csv", NY)
    assert listed == {"3001": datetime(2026, 10, 4, 5, tzinfo=timezone.utc), "9999": datetime(2026, 10, 1, tzinfo=timezone.utc)}
    rows = [{"student": "smith", "lms_id": "3001", "email": ""}, {"student": "doe", "lms_id": "3002", "email": ""}]
    found, notes = match_times(rows, listed, [])
    assert set(found) == {"smith"} and found["smith"].source == "times-csv"
    assert notes == ["submission times: '9999' matches no submission"]
    (tmp_path / "e.csv").write_text("email,submitted_at\nDoe@Uni.example,2026-10-02 01:00\n")
    found, _ = match_times([{"student": "doe", "email": "doe@uni.example"}], read_submission_times(tmp_path / "e.csv", NY), [])
    assert found["doe"].at.isoformat() == "2026-10-02T01:00:00-04:00"  # no offset: the course's zone


def _git(repo: Path, *args: str, date: str = "2026-10-03T10:00:00-04:00") -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "s",
           "GIT_AUTHOR_EMAIL": "s@x", "GIT_COMMITTER_NAME": "s", "GIT_COMMITTER_EMAIL": "s@x",
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def make_clone(folder: Path, date: str) -> Path:
    """A real git repository holding the reference softmax, committed at `date`."""
    folder.mkdir(parents=True)
    shutil.copy(REF / "softmax.py", folder / "softmax.py")
    _git(folder, "init", "-q", "-b", "main")
    _git(folder, "add", "softmax.py")
    _git(folder, "commit", "-q", "-m", "done", date=date)
    return folder


def make_hostile(folder: Path, witness: Path) -> Path:
    """A clone whose config would run a program under `git log --show-signature` (and hooks, an
    fsmonitor), whose HEAD commit object is corrupt."""
    make_clone(folder, "2026-10-02T10:00:00-04:00")
    script = witness.parent / f"{folder.name}-evil.sh"  # outside the class
    script.write_text(f"#!/bin/sh\ntouch {witness}\n")
    script.chmod(0o755)
    with open(folder / ".git" / "config", "a") as f:
        f.write(f"[gpg]\n\tprogram = {script}\n[core]\n\tfsmonitor = {script}\n[log]\n\tshowSignature = true\n")
    (folder / ".git" / "hooks" / "post-checkout").write_text(f"#!/bin/sh\ntouch {witness}\n")
    head = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True,
                          env={**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null"}).stdout.strip()
    obj = folder / ".git" / "objects" / head[:2] / head[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"x\x9c this is not a zlib stream" * 50)
    return folder


def _bomb_head(repo: Path) -> None:
    """Make HEAD a commit with a 384 MiB message: a valid object (unbounded, a reader returns its
    time), under dulwich's own size bound, over the child's memory; 2 MB on disk."""
    import hashlib
    import zlib

    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null"}
    body = subprocess.run(["git", "-C", str(repo), "cat-file", "commit", "HEAD"], capture_output=True, env=env).stdout
    chunk, n = b"a" * 2**22, 96
    z, sha = zlib.compressobj(1), hashlib.sha1()
    head = b"commit %d\0" % (len(body) + len(chunk) * n) + body
    parts = [z.compress(head)]
    sha.update(head)
    for _ in range(n):
        parts.append(z.compress(chunk))
        sha.update(chunk)
    name = sha.hexdigest()
    (repo / ".git" / "objects" / name[:2]).mkdir(exist_ok=True)
    (repo / ".git" / "objects" / name[:2] / name[2:]).write_bytes(b"".join(parts) + z.flush())
    (repo / ".git" / "refs" / "heads" / "main").write_text(name + "\n")


def test_commit_time_of_a_real_clone_and_a_hostile_one(tmp_path):
    good = make_clone(tmp_path / "good", "2026-10-03T10:00:00-04:00")
    witness = tmp_path / "ran"
    bad = make_hostile(tmp_path / "bad", witness)
    gitfile = tmp_path / "gitfile"
    gitfile.mkdir()
    (gitfile / ".git").write_text(f"gitdir: {good / '.git'}\n")  # a pointer elsewhere is not followed
    empty = tmp_path / "empty"
    (empty / ".git").mkdir(parents=True)
    (empty / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    bomb = make_clone(tmp_path / "bomb", "2026-10-03T10:00:00-04:00")
    _bomb_head(bomb)
    found = commit_times([good, bad, gitfile, empty, bomb])
    assert found[good] == datetime(2026, 10, 3, 14, tzinfo=timezone.utc)
    assert found[bad] is None and found[gitfile] is None and found[empty] is None
    assert found[bomb] is None  # 384 MiB once inflated: the child's memory limit stops it
    assert not witness.exists()  # nothing of the student's config ran


def test_clones_found_through_a_relative_path(tmp_path, monkeypatch):
    from grader.instructor.batch.times import read_commit_times

    make_clone(tmp_path / "class" / "backprop-octo", "2026-10-03T10:00:00-04:00")
    monkeypatch.chdir(tmp_path)  # `grade batch class ...`: the reader's child runs elsewhere
    [entry] = discover(Path("class"), ASG)
    read_commit_times([entry])
    assert entry.layout == "classroom" and entry.submitted_at == datetime(2026, 10, 3, 14, tzinfo=timezone.utc)


def test_an_older_gradebook_gains_the_columns(tmp_path):
    db = sqlite3.connect(tmp_path / FILENAME)
    db.executescript("""CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE submissions (student TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '',
          lms_id TEXT NOT NULL DEFAULT '', layout TEXT NOT NULL, source TEXT NOT NULL, late INTEGER NOT NULL DEFAULT 0,
          content_hash TEXT NOT NULL DEFAULT '', assignment TEXT NOT NULL, grader_version TEXT NOT NULL,
          status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', traceback TEXT NOT NULL DEFAULT '',
          score REAL NOT NULL DEFAULT 0, max_score REAL NOT NULL DEFAULT 0, percent REAL NOT NULL DEFAULT 0,
          isolation TEXT NOT NULL DEFAULT '', warnings TEXT NOT NULL DEFAULT '[]', hidden_included INTEGER NOT NULL DEFAULT 1,
          started_at TEXT NOT NULL, finished_at TEXT NOT NULL, duration REAL NOT NULL DEFAULT 0,
          attempts INTEGER NOT NULL DEFAULT 1);
        INSERT INTO submissions (student, layout, source, assignment, grader_version, status, score, max_score,
          started_at, finished_at, late) VALUES ('old', 'canvas', 'x', 'backprop', 'v', 'graded', 9, 12, 't', 't', 1);""")
    db.commit()
    db.close()
    with Gradebook(tmp_path / FILENAME) as gb:
        [row] = gb.submissions()
        assert row["final_score"] == 9 and row["late_penalty"] == 0 and row["late_state"] == ""
        apply_late_policy(gb, LatePolicy(due=parse_when("2026-10-01 23:59", NY), zone="America/New_York",
                                         penalty=parse_rate("10%/day")))
        [row] = gb.submissions()  # Canvas's LATE_ marker, no time: one day
        assert (row["late_state"], row["late_penalty"], row["final_score"]) == ("marker", pytest.approx(1.2), pytest.approx(7.8))
        apply_late_policy(gb, None)
        [row] = gb.submissions()
        assert row["final_score"] == 9 and gb.get_meta("late_policy") is None


# ------------------------------------------------------------------------------ through the CLI
ONLY = [a for c in FAST_CHECKS for a in ("--only", c)]
POLICY = ["--due", "2026-10-01 23:59", "--timezone", "America/New_York", "--grace", "15m",
          "--late-penalty", "10%/day", "--max-penalty", "50%"]


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def rows_of(out: Path) -> dict[str, dict]:
    con = sqlite3.connect(out / FILENAME)
    con.row_factory = sqlite3.Row
    try:
        return {r["student"]: dict(r) for r in con.execute("SELECT * FROM submissions")}
    finally:
        con.close()


def grades(out: Path) -> dict[str, dict]:
    return {r["student"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("lateclass")
    cls = base / "class"
    cls.mkdir()
    sm = REF / "softmax.py"
    shutil.copy(sm, cls / "smith_3001_50001_softmax.py")  # Canvas, time from the times CSV
    shutil.copy(sm, cls / "doe_LATE_3002_50002_softmax.py")  # Canvas LATE_, no time
    for name, n in (("Ada Lovelace", 4001), ("Alan Turing", 4002)):  # Moodle, times from the worksheet
        (cls / f"{name}_{n}_assignsubmission_file_").mkdir()
        shutil.copy(sm, cls / f"{name}_{n}_assignsubmission_file_" / "softmax.py")
    make_clone(cls / "backprop-octo", "2026-10-03T10:00:00-04:00")  # extended to 10-05: on time
    make_clone(cls / "backprop-slow", "2026-10-09T12:00:00-04:00")  # 8 days: capped at 50%
    witness = base / "ran"
    make_hostile(cls / "backprop-mallory", witness)
    (cls / "plain").mkdir()
    shutil.copy(sm, cls / "plain" / "softmax.py")  # no time anywhere
    (base / "times.csv").write_text("user_id,submitted_at\n3001,2026-10-04T05:00:00Z\n")
    (base / "ws.csv").write_text(MOODLE_WORKSHEET, encoding="utf-8")
    (base / "ext.csv").write_text("student,due\nocto,2026-10-05 23:59\n")
    out = base / "out"
    r = cli("batch", cls, "-a", "backprop", "--out", out, "--jobs", "2", *ONLY, "--no-similarity",
            "--timeout-per-submission", "180", *POLICY, "--extensions", base / "ext.csv",
            "--submission-times", base / "times.csv", "--moodle-worksheet", base / "ws.csv")
    assert r.exit_code == 0, r.output
    return SimpleNamespace(base=base, cls=cls, out=out, output=r.output, witness=witness, rows=rows_of(out))


# student: (time source, advisory, state, penalty, final) with a raw score of 12 / 12 each
EXPECTED = {
    "smith": ("times-csv", 0, "late", 3.6, 8.4),  # 2 d 1 h 1 min: 3 started days × 10% of 12
    "doe": ("", 0, "marker", 1.2, 10.8),  # Canvas LATE_, no time: one day
    "Ada_Lovelace": ("moodle", 0, "on_time", 0, 12),
    "Alan_Turing": ("moodle", 0, "grace", 0, 12),  # 11 min late, 15 min grace
    "octo": ("commit", 1, "on_time", 0, 12),  # extension by GitHub username
    "slow": ("commit", 1, "late", 6, 6),  # 7 d 12 h 1 min: 8 days × 10%, capped at 50%
    "mallory": ("", 0, "unknown", 0, 12),  # corrupt .git: no time, nothing ran
    "plain": ("", 0, "unknown", 0, 12),
}


def test_the_gradebook_keeps_raw_time_penalty_and_final(graded):
    assert set(graded.rows) == set(EXPECTED)
    for student, (source, advisory, state, penalty, final) in EXPECTED.items():
        r = graded.rows[student]
        assert r["status"] == "graded" and r["score"] == 12, (student, r["message"])
        assert (r["time_source"], r["time_advisory"], r["late_state"]) == (source, advisory, state), student
        assert r["late_penalty"] == pytest.approx(penalty) and r["final_score"] == pytest.approx(final), student
        assert r["final_score"] == pytest.approx(r["score"] - r["late_penalty"])
        assert r["late_explanation"], student
    assert graded.rows["smith"]["submitted_at"] == "2026-10-04T05:00:00+00:00"
    assert graded.rows["smith"]["due_at"] == "2026-10-02T03:59:00+00:00"
    assert graded.rows["smith"]["late_seconds"] == pytest.approx(2 * 86400 + 3660)
    assert graded.rows["slow"]["submitted_at"] == "2026-10-09T16:00:00+00:00"  # the commit's time, in UTC
    assert graded.rows["octo"]["due_at"] == "2026-10-06T03:59:00+00:00"  # the extension
    assert graded.rows["Ada_Lovelace"]["submitted_at"] == "2026-10-02T03:50:00+00:00"  # 11:50 PM New York
    assert not graded.witness.exists()
    assert "late policy: due 2026-10-01 23:59 America/New_York, 10%/day late" in graded.output


def test_grades_csv_has_raw_penalty_and_final(graded):
    g = grades(graded.out)
    assert g["#max"]["raw"] == "12" and g["#max"]["final"] == "12"
    assert (g["smith"]["total"], g["smith"]["raw"], g["smith"]["late_penalty"], g["smith"]["final"]) == ("12", "12", "3.6", "8.4")
    assert g["smith"]["late"] == "yes" and g["smith"]["lateness"] == "late" and g["doe"]["late"] == "yes"
    assert g["Alan_Turing"]["late"] == "" and g["Alan_Turing"]["lateness"] == "grace"
    assert g["slow"]["time_source"] == "commit" and g["plain"]["submitted_at"] == ""


def test_report_html_shows_raw_penalty_final(graded):
    html = (graded.out / "report.html").read_text()
    assert "id='late-table'" in html and "<th>raw</th><th>penalty</th><th>final</th>" in html
    assert "<td class='num'>12</td><td class='num'>3.6</td><td class='num'>8.4 / 12</td>" in html


def test_feedback_says_how_lateness_was_counted(graded):
    folder = graded.out / "reports" / "smith"
    sentence = ("Late policy: submitted 2026-10-04 01:00 America/New_York (from the submission-times list), "
                "2 d 1 h 1 min after the due date 2026-10-01 23:59 America/New_York; not inside the 15 min grace "
                "period; 3 started days late × 10% of 12 points = 3.6 points")
    report = json.loads((folder / "report.json").read_text())
    assert report["warnings"][0].startswith(sentence)
    assert "final score 8.4 / 12 (raw 12 − 3.6 late penalty)" in report["warnings"][0]
    for name in ("report.txt", "report.md", "report.html", "junit.xml"):
        text = (folder / name).read_text()
        assert "3 started days late" in text and "final score 8.4 / 12" in text, name
    assert json.loads((folder / "results.json").read_text())["score"] == pytest.approx(8.4)  # Gradescope's grade
    doe = json.loads((graded.out / "reports" / "doe" / "report.json").read_text())["warnings"][0]
    assert "Canvas marked it late: counted as 1 started day late" in doe
    slow = (graded.out / "reports" / "slow" / "report.md").read_text()
    assert "advisory" in slow and "capped at 50% of 12 points = 6 points" in slow
    assert "time unknown" in (graded.out / "reports" / "plain" / "report.txt").read_text()


def test_a_regrade_recomputes_final_from_raw(graded):
    # a stale final score and one check's lost points: `--only` regrades it and derives final again
    con = sqlite3.connect(graded.out / FILENAME)
    con.execute("UPDATE submissions SET final_score = 999 WHERE student = 'smith'")
    con.execute("UPDATE check_results SET score = 0 WHERE student = 'smith' AND check_id = 'softmax.values'")
    con.commit()
    con.close()
    r = cli("batch", graded.cls, "-a", "backprop", "--out", graded.out, "--jobs", "2", "--only", "softmax.values",
            "--no-similarity", "--timeout-per-submission", "180")  # no late options: the stored policy holds
    assert r.exit_code == 0, r.output
    rows = rows_of(graded.out)
    assert rows["smith"]["score"] == 12 and rows["smith"]["final_score"] == pytest.approx(8.4)
    assert rows["doe"]["final_score"] == pytest.approx(10.8) and rows["smith"]["time_source"] == "times-csv"


def test_gradescope_times_through_the_batch(tmp_path):
    build_gradescope_class(tmp_path / "export", tmp_path / "store", ["softmax_only"])  # created 2026-11-30 10:00 UTC
    r = cli("batch", tmp_path / "export", "-a", "backprop", "--out", tmp_path / "out", "--jobs", "1", *ONLY,
            "--due", "2026-11-30 09:00", "--timezone", "UTC", "--late-penalty", "1pt/hour")
    assert r.exit_code == 0, r.output
    [row] = rows_of(tmp_path / "out").values()
    assert (row["submitted_at"], row["time_source"], row["late_state"]) == ("2026-11-30T10:00:00+00:00", "gradescope", "late")
    assert (row["score"], row["late_penalty"], row["final_score"]) == (12, 1, 11)
    assert "from Gradescope's submission time" in row["late_explanation"]


def test_report_recomputes_after_the_policy_changes(graded):
    r = cli("report", graded.out, "--late-penalty", "5%/day")
    assert r.exit_code == 0, r.output
    rows = rows_of(graded.out)
    assert rows["smith"]["final_score"] == pytest.approx(10.2) and rows["slow"]["final_score"] == pytest.approx(7.2)
    assert rows["doe"]["final_score"] == pytest.approx(11.4)
    assert grades(graded.out)["smith"]["final"] == "10.2"
    assert "× 5% of 12 points = 1.8 points" in (graded.out / "reports" / "smith" / "report.txt").read_text()
    # a later time from the instructor's list moves Ada past the grace period
    (graded.base / "times2.csv").write_text("student,submitted_at\nAda_Lovelace,2026-10-02 09:00\n")
    r = cli("report", graded.out, "--submission-times", graded.base / "times2.csv")
    assert r.exit_code == 0, r.output
    assert rows_of(graded.out)["Ada_Lovelace"]["final_score"] == pytest.approx(11.4)
    r = cli("report", graded.out, "--no-late-policy")
    assert r.exit_code == 0, r.output
    rows = rows_of(graded.out)
    assert all(r["final_score"] == r["score"] and r["late_state"] == "" for r in rows.values())
    assert "Late policy" not in (graded.out / "reports" / "smith" / "report.txt").read_text()
    assert "id='late-table'" not in (graded.out / "report.html").read_text()
    assert json.loads((graded.out / "reports" / "smith" / "results.json").read_text())["score"] == 12


def test_times_without_a_policy_and_bad_input(graded):
    # without a policy (removed here, whichever test ran before on this worker) a worksheet read in a
    # zone records times; nothing is deducted
    assert cli("report", graded.out, "--no-late-policy").exit_code == 0
    (graded.base / "ws2.csv").write_text(MOODLE_WORKSHEET.replace("12:10 AM", "9:15 AM"), encoding="utf-8")
    r = cli("report", graded.out, "--moodle-worksheet", graded.base / "ws2.csv")
    assert r.exit_code == 2 and "--moodle-worksheet needs --timezone" in r.output
    r = cli("report", graded.out, "--timezone", "America/New_York", "--moodle-worksheet", graded.base / "ws2.csv")
    assert r.exit_code == 0, r.output
    alan = rows_of(graded.out)["Alan_Turing"]
    assert alan["submitted_at"] == "2026-10-02T13:15:00+00:00" and alan["late_state"] == "" and alan["final_score"] == 12
    # a malformed extensions file or a contradiction: usage errors, the gradebook unchanged
    (graded.base / "bad_ext.csv").write_text("student,due\nocto,2026-10-05\n")
    r = cli("report", graded.out, "--due", "2026-10-01 23:59", "--timezone", "UTC", "--extensions",
            graded.base / "bad_ext.csv")
    assert r.exit_code == 2 and "bad_ext.csv, line 2" in r.output and "no time of day" in r.output
    r = cli("report", graded.out, "--no-late-policy", "--late-penalty", "10%/day")
    assert r.exit_code == 2 and "give no other policy option" in r.output
    r = cli("report", graded.out, "--due", "2026-03-29 02:30", "--timezone", "Europe/Amsterdam")
    assert r.exit_code == 2 and "the clocks skip it" in r.output
    with Gradebook(graded.out / FILENAME) as gb:
        assert gb.late_policy() is None
