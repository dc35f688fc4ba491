"""The similarity section of a batch (grader/instructor/batch/screen.py): a real `grade batch` of a small A2 class
with a planted disguised copy (tests/test_similarity.py's `disguised`) shows the pair in report.html
with a side-by-side page under similarity/; `grade report` rebuilds it from the gradebook alone;
`--no-similarity` and a batch of one submission have no section. Student code in the pages is escaped.

report.html and the pair pages in headless Chromium: tests/test_batch.py (the big class).
"""
from __future__ import annotations

import csv
import re
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from grader.cli import main
from test_similarity import REFERENCE, ROOT, disguised

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("batch_similarity")]  # batches of 4 and 1

GRADE = ["-a", "relu_fit", "--only", "warmup.sq_norm_grad", "--jobs", "2"]  # one quick check: the screen is the point
PLANTED = "# </pre><script>alert('copied')</script><img src=x onerror=alert(1)>\n"


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def section(html: str) -> str:
    """report.html's Similarity section ('' when there is none)."""
    start = html.find("<h2 id='similarity'>")
    return "" if start < 0 else html[start:html.index("</body>")]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("simclass")
    klass = base / "class"
    for student in ("alice", "dave"):
        (klass / student).mkdir(parents=True)
    for f in ("warmup.py", "relu_net.py"):
        shutil.copy(REFERENCE / f, klass / "alice" / f)  # the reference
        # a disguised copy of it, with text that would be markup if a page did not escape it
        (klass / "dave" / f).write_text(disguised((REFERENCE / f).read_text()) + "\n" + PLANTED)
    shutil.copytree(ROOT / "assignments" / "relu_fit" / "variants" / "loops", klass / "bob")  # independent
    shutil.copytree(ROOT / "student_template" / "relu_fit", klass / "carol")  # nothing done
    out = base / "out"
    r = cli("batch", klass, *GRADE, "--out", out)
    assert r.exit_code == 0, r.output
    return SimpleNamespace(base=base, klass=klass, out=out, output=r.output)


def test_planted_copy_is_in_the_report_with_its_side_by_side_page(graded):
    html = (graded.out / "report.html").read_text()
    sec = section(html)
    assert "4 submissions compared: 6 pairs of students" in sec and "threshold 0.5" in sec
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>.*?<a href='([^']+)'>compare</a>", sec)
    assert {(a, b, m) for a, b, m, _ in rows} == {("alice", "dave", "relu_net"), ("alice", "dave", "warmup")}
    for a, b, m, href in rows:
        page = graded.out / unquote(href)
        assert page.is_file() and page.parent == graded.out / "similarity"
        text = page.read_text()
        assert "highlight-red" in text and "highlight-green" in text
        # dave's planted markup is shown as text, never as markup
        assert "<script" not in text and "<img" not in text and "&lt;script&gt;" in text
        assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert "<script" not in html
    rows = list(csv.DictReader(open(graded.out / "similarity" / "similarity.csv")))
    assert [(r["student_a"], r["student_b"], r["module"]) for r in rows] == [
        ("alice", "dave", "relu_net"), ("alice", "dave", "warmup")]
    assert "similarity: 2 flagged pair(s) among 4 submissions" in graded.output
    assert graded.output.strip().splitlines()[-1].endswith("reports/, similarity/, report.html")


def test_the_screen_is_kept_in_the_gradebook(graded):
    con = sqlite3.connect(graded.out / "gradebook.sqlite")
    try:
        pairs = con.execute("SELECT student_a, student_b, module FROM similarity_pairs ORDER BY module").fetchall()
        code = {r[0] for r in con.execute("SELECT student FROM similarity_code")}
        (summary,) = con.execute("SELECT value FROM meta WHERE key = 'similarity'").fetchone()
    finally:
        con.close()
    assert pairs == [("alice", "dave", "relu_net"), ("alice", "dave", "warmup")]
    assert code == {"alice", "dave"}  # only the code of listed pairs is kept
    assert '"status": "done"' in summary and '"threshold": 0.5' in summary


def test_grade_report_rebuilds_the_section_from_the_gradebook_alone(graded, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(graded.out, out)
    pages = {p.name: p.read_text() for p in (out / "similarity").iterdir()}
    before = section((out / "report.html").read_text())
    db = (out / "gradebook.sqlite").read_bytes()
    shutil.rmtree(out / "similarity")
    (out / "report.html").unlink()
    r = cli("report", out)  # SUBMISSIONS is not needed (and not read)
    assert r.exit_code == 0, r.output
    assert section((out / "report.html").read_text()) == before
    assert {p.name: p.read_text() for p in (out / "similarity").iterdir()} == pages
    assert (out / "gradebook.sqlite").read_bytes() == db


def test_an_unchanged_class_keeps_its_screen_and_a_changed_one_is_screened_again(graded, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(graded.out, out)
    before = section((out / "report.html").read_text())
    r = cli("batch", graded.klass, *GRADE, "--out", out)
    assert r.exit_code == 0, r.output
    assert "the class is unchanged: kept" in r.output
    assert section((out / "report.html").read_text()) == before  # the same run's figures and time
    klass = tmp_path / "class"
    shutil.copytree(graded.klass, klass)
    shutil.copy(klass / "alice" / "warmup.py", klass / "bob" / "warmup.py")  # bob copies now
    r = cli("batch", klass, *GRADE, "--out", out)
    assert r.exit_code == 0, r.output
    assert "similarity: 4 flagged pair(s)" in r.output
    rows = list(csv.DictReader(open(out / "similarity" / "similarity.csv")))
    assert ("alice", "bob", "warmup") in {(r["student_a"], r["student_b"], r["module"]) for r in rows}


def test_no_similarity_leaves_the_section_out(graded, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(graded.out, out)
    r = cli("batch", graded.klass, *GRADE, "--out", out, "--no-similarity")
    assert r.exit_code == 0, r.output
    assert "flagged pair" not in r.output
    html = (out / "report.html").read_text()
    assert section(html) == "" and "Similarity" not in html
    assert not (out / "similarity").exists()  # the earlier run's pages are gone with it
    r = cli("report", out)
    assert r.exit_code == 0 and section((out / "report.html").read_text()) == ""


def test_a_batch_of_one_submission_has_no_section(graded, tmp_path):
    one = tmp_path / "one"
    shutil.copytree(graded.klass / "alice", one / "alice")
    r = cli("batch", one, *GRADE, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert section((tmp_path / "out" / "report.html").read_text()) == ""
    assert not (tmp_path / "out" / "similarity").exists()
