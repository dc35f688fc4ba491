"""`grade batch` on a generated class of 51 entries in every layout (tests/batch_class.py), for real:
sandboxed workers, a real SQLite gradebook, real zips, the real `grade check` to compare with, and
report.html loaded in headless Chromium.

The class is graded once (module fixture) with `--only` the four softmax checks that need no torch
in the grader (tests/batch_class.py FAST_CHECKS), so it takes about a minute on 2 cores.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import shutil
import sqlite3
import tempfile
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from batch_class import FAST_CHECKS, build_big_class
from browser import CHROMIUM, chromium
from grader.instructor.batch.feedback import FILES, HIDDEN_NOTE
from grader.instructor.batch.gradebook import CHECK_COLUMNS
from grader.cli import main
from grader.reports import report_from_json

# about a minute: one class of 51 (43 graded) on 2 cores, still run by default; one xdist worker builds it
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("batch_big")]

ONLY = [a for c in FAST_CHECKS for a in ("--only", c)]


def cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def grade_check_scores(folder: Path) -> dict[str, float]:
    """What `grade check FOLDER --hidden --check ... --format json` gives, per check id."""
    r = cli("check", folder, "-a", "backprop", "--hidden", *[a for c in FAST_CHECKS for a in ("-c", c)],
            "--format", "json")
    assert r.exit_code == 0, r.output
    return {c["id"]: c["score"] for c in json.loads(r.stdout)["checks"]}


def db_rows(path: Path, query: str) -> list[dict]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(query)]
    finally:
        con.close()


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    base = tmp_path_factory.mktemp("bigclass")
    expected, bad = build_big_class(base / "class", base / "store")
    out = base / "out"
    r = cli("batch", base / "class", "-a", "backprop", "--out", out, "--jobs", "2", *ONLY,
            "--timeout-per-submission", "180")
    assert r.exit_code == 0, r.output
    subs = {s["student"]: s for s in db_rows(out / "gradebook.sqlite", "SELECT * FROM submissions")}
    checks: dict[str, dict[str, dict]] = {}
    for c in db_rows(out / "gradebook.sqlite", "SELECT * FROM check_results"):
        checks.setdefault(c["student"], {})[c["check_id"]] = c
    return SimpleNamespace(base=base, out=out, expected=expected, bad=bad, subs=subs, checks=checks, output=r.output)


def test_class_is_big_and_in_every_layout(big):
    assert len(big.subs) == len(big.expected) + len(big.bad) >= 50
    layouts = {s["layout"] for s in big.subs.values()}
    assert layouts == {"folder", "classroom", "zip", "canvas", "moodle", "unrecognised"}
    # the final line names DIR's files
    last = f"{big.out}: gradebook.sqlite, grades.csv, reports/, similarity/, report.html"
    assert big.output.strip().splitlines()[-1] == last


def test_every_student_has_the_score_grade_check_gives(big):
    cache: dict[str, dict[str, float]] = {}
    for student, folder in sorted(big.expected.items()):
        key = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())).hexdigest()
        if key not in cache:
            cache[key] = grade_check_scores(folder)
        want = cache[key]
        sub = big.subs[student]
        assert sub["status"] == "graded", (student, sub["message"])
        got = {cid: row["score"] for cid, row in big.checks[student].items()}
        assert got == want, student
        assert sub["score"] == pytest.approx(sum(want.values()))
    # the class is not all alike: correct, wrong and hostile submissions score differently
    totals = {big.subs[s]["score"] for s in big.expected}
    assert max(totals) == 12 and min(totals) == 0 and len(totals) >= 4


def _exit_at_import(big) -> str:
    """The one-folder student whose submission is the exit_at_import attack (numbered by position)."""
    return next(s for s in big.checks if s.startswith("folder") and s.endswith("_hostile_exit_at_import"))


def test_hostile_submissions_cost_only_their_own_checks(big):
    for student in big.expected:
        if "hostile" in student:
            assert big.subs[student]["status"] == "graded"
    rows = big.checks[_exit_at_import(big)]
    assert {r["status"] for r in rows.values()} == {"error"}
    assert all("exited with code 3" in r["message"] for r in rows.values())


def test_bad_archives_are_rejected_with_a_reason(big):
    reasons = {
        "evil_traversal": "outside the submission", "evil_absolute": "absolute path",
        "evil_symlink": "symbolic link", "evil_device": "character device", "evil_bomb": "expands to",
        "evil_nested": "archive inside the archive", "evil_corrupt": "not a readable zip",
        "README.txt": "neither a .zip",
    }
    assert set(reasons) == big.bad
    for student, reason in reasons.items():
        sub = big.subs[student]
        assert sub["status"] == ("unrecognised" if student == "README.txt" else "rejected")
        assert reason in sub["message"], (student, sub["message"])
        assert student not in big.checks
    # nothing was extracted next to the class or above it
    assert not list(big.base.rglob("escaped.py")) and not Path("/tmp/absolute.py").exists()


def test_lms_metadata_is_recorded(big):
    s = big.subs
    assert s["canvasstudent1"]["late"] == 1 and s["canvasstudent0"]["late"] == 0
    assert s["canvasstudent2"]["lms_id"] == "1002" and s["canvasstudent2"]["layout"] == "canvas"
    assert big.checks["canvasstudent2"]["softmax.cross_entropy"]["status"] == "failed"  # softmax-1.py restored
    assert s["Émile_Borel"]["name"] == "Émile Borel" and s["Émile_Borel"]["lms_id"] == "2001"
    assert s["Grace_Hopper"]["score"] == 12  # Moodle folder holding the student's zip
    assert s["ghuser0"]["layout"] == "classroom" and s["ghuser0"]["lms_id"] == "ghuser0"
    assert s["nested0"]["score"] == 12  # alice/A1-final/softmax.py


def test_gradebook_schema_holds_every_field_of_the_json_check(big):
    report = json.loads((big.out / "reports" / "student00" / "report.json").read_text())
    fields = set(report["checks"][0])
    columns = {"check_id" if f == "id" else f for f in fields}
    assert columns <= set(CHECK_COLUMNS)
    sub = big.subs["student00"]
    for col in ("content_hash", "assignment", "grader_version", "started_at", "finished_at", "status", "source"):
        assert sub[col], col
    assert sub["assignment"] == "backprop" and len(sub["content_hash"]) == 64
    assert sub["started_at"] <= sub["finished_at"]


def test_grades_csv(big):
    rows = list(csv.DictReader(io.StringIO((big.out / "grades.csv").read_text())))
    assert rows[0]["student"] == "#max" and rows[0]["softmax.values"] == "3" and rows[0]["total"] == "12"
    assert [k for k in rows[0] if k.startswith("softmax.")] == list(FAST_CHECKS)  # the checks graded
    by = {r["student"]: r for r in rows[1:]}
    assert set(by) == set(big.subs)
    assert by["student00"]["softmax.values"] == "3" and by["student00"]["percent"] == "100.00"
    assert by["student00"]["total"] == "12" and by["student00"]["status"] == "graded"
    assert by["evil_bomb"]["status"] == "rejected" and by["evil_bomb"]["total"] == "0"
    assert by["canvasstudent1"]["late"] == "yes"


def test_feedback_in_every_format_with_the_hidden_check_policy(big):
    wrong = next(s for s in big.expected if s.endswith("softmax_no_max_shift"))
    folder = big.out / "reports" / wrong
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    report = report_from_json((folder / "report.json").read_text())
    by = {c.id: c for c in report.checks}
    assert by["softmax.stable"].status.value == "failed" and by["softmax.stable"].message  # public: details
    hidden = by["softmax.rows_scale"]
    assert hidden.status.value == "failed" and hidden.message == HIDDEN_NOTE and not hidden.output
    assert hidden.title and hidden.max_score == 3  # title and points shown
    assert big.checks[wrong]["softmax.rows_scale"]["message"] != HIDDEN_NOTE  # the instructor keeps it
    junit = (folder / "junit.xml").read_text()
    assert "softmax.stable" in junit and HIDDEN_NOTE in junit
    for student in big.subs:  # no host path reaches a student
        for name in FILES:
            text = (big.out / "reports" / student / name).read_text()
            assert str(big.base) not in text and "/tmp/grade-batch-" not in text, (student, name)
    rejected = report_from_json((big.out / "reports" / "evil_symlink" / "report.json").read_text())
    assert rejected.score == 0 and "symbolic link" in rejected.checks[0].message


def test_feedback_full_shows_hidden_details(big, tmp_path):
    copy = tmp_path / "out"
    shutil.copytree(big.out, copy)
    r = cli("report", copy, "--feedback", "full")
    assert r.exit_code == 0, r.output
    wrong = next(s for s in big.expected if s.endswith("softmax_no_max_shift"))
    report = report_from_json((copy / "reports" / wrong / "report.json").read_text())
    assert next(c for c in report.checks if c.id == "softmax.rows_scale").message != HIDDEN_NOTE


def test_grade_report_rebuilds_everything_without_grading(big, tmp_path):
    copy = tmp_path / "out"
    shutil.copytree(big.out, copy)
    csv_before = (copy / "grades.csv").read_text()
    db_before = (copy / "gradebook.sqlite").read_bytes()
    (copy / "grades.csv").unlink()
    (copy / "report.html").unlink()
    shutil.rmtree(copy / "reports")
    shutil.rmtree(copy / "similarity")
    r = cli("report", copy)
    assert r.exit_code == 0, r.output
    assert r.output.strip() == f"{copy}: gradebook.sqlite, grades.csv, reports/, similarity/, report.html"
    assert (copy / "similarity" / "similarity.csv").read_text() == (big.out / "similarity" / "similarity.csv").read_text()
    assert (copy / "grades.csv").read_text() == csv_before
    assert (copy / "gradebook.sqlite").read_bytes() == db_before  # nothing graded, nothing written
    assert (copy / "report.html").is_file() and (copy / "reports" / "student00" / "report.md").is_file()
    r = cli("report", tmp_path / "nothing-here")
    assert r.exit_code == 2


# ------------------------------------------------------------------------------ report.html in Chromium
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_html_in_headless_chromium(big, tmp_path):
    page = big.out / "report.html"
    text = page.read_text()
    # the detector works: a page with a script error is caught
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><p>x</p><script>notDefined();</script>")
    assert any("notDefined" in line for line in chromium(broken, "--dump-dom")[1])

    dom, console = chromium(page, "--dump-dom")
    assert console == [], console  # no console errors (a CSP violation would be one too)
    assert "Batch report: backprop" in dom and "Submissions without full marks" in dom
    imgs = re.findall(r"<img id=\"(plot-[a-z-]+)\"[^>]*src=\"data:image/png;base64,([^\"]+)\"", dom)
    assert sorted(i for i, _ in imgs) == sorted(["plot-scores", "plot-pass-rate", "plot-check-time", "plot-status"])
    import matplotlib.image

    for _, data in imgs:
        pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert pixels.shape[0] > 150 and pixels.shape[1] > 300 and pixels.std() > 0.05
    assert "http://" not in text and "https://" not in text  # self-contained: nothing to fetch
    for student in ("evil_bomb", _exit_at_import(big)):
        assert f'href="reports/{student}/report.txt"' in dom
        assert (big.out / "reports" / student / "report.txt").is_file()
    # the similarity section (the class holds many copies of the reference) and a side-by-side page
    assert '<h2 id="similarity">Similarity</h2>' in dom
    pages = re.findall(r'<a href="(similarity/[^"]+\.html)">compare</a>', dom)
    assert pages and all((big.out / unquote(p)).is_file() for p in pages)
    side, console = chromium(big.out / unquote(pages[0]), "--dump-dom")
    assert console == [], console
    assert 'class="highlight-red"' in side and 'class="highlight-green"' in side

    # every plot decodes and is laid out in the browser: a copy of the page with a probe script
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
                     .replace("</body>", "<script>window.addEventListener('load', () => { document.title = "
                              "'loaded:' + [...document.images].filter(i => i.complete && i.naturalWidth > 100 "
                              "&& i.getBoundingClientRect().width > 100).length; });</script></body>"))
    dom, console = chromium(probe, "--dump-dom")
    assert console == [] and "<title>loaded:4</title>" in dom, (console, dom[:300])

    shot = big.out / "report.png"
    chromium(page, f"--screenshot={shot}", "--window-size=1200,1600", "--hide-scrollbars")
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (1600, 1200) and pixels.std() > 0.05  # not a blank page
    shutil.copy(shot, Path(tempfile.gettempdir()) / "grade-batch-report.png")  # for a person to look at
