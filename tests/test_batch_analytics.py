"""report.html's "What the class got wrong" on a class graded for real: `grade batch` (sandboxed
workers, the real SQLite gradebook) of the reference and wrong softmax submissions from
assignments/backprop/cases.py plus a few written here (the same mistake with other numbers, the same
crash from other code, a message holding markup), `--only` the fast checks. The section's figures
are checked against the gradebook, `grade report` rebuilds the same section from the gradebook
alone, and the page is loaded in headless Chromium (no console error, no script, the CSP intact)
and screenshot.

The normalisation and grouping as pure functions: tests/test_class_analytics.py.
"""
from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from batch_class import FAST_CHECKS, REF, _files_of
from browser import CHROMIUM, chromium
from grader.cli import main
from grader.instructor.batch.analytics import LABELS, CATEGORY_OF

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("batch_analytics")]  # a class of 14, 4 quick checks

ONLY = [a for c in FAST_CHECKS for a in ("--only", c)]
SOFTMAX = (REF / "softmax.py").read_text()
SUM = "return e / np.sum(e, axis=-1, keepdims=True)"
MEAN = "return float(np.mean(lse - o[np.arange(n), t]))"
PLANTED = "</pre><script>alert('x')</script><img src=x onerror=alert(1)>"
EDITED = {  # student: one edit of the reference's softmax.py
    # the same mistake as cross_entropy_sum_not_mean (a factor off), other numbers in the message
    "times_two": (MEAN, "return 2.0 * float(np.mean(lse - o[np.arange(n), t]))"),
    # the same crash (keepdims forgotten) from other code, on another line
    "crash_a": (SUM, "return e / np.sum(e, axis=-1)"),
    "crash_b": (SUM, "\n\n    total = e.sum(axis=-1)\n    return e / total"),
    # student text that would be markup if the page did not escape it
    "planted": (SUM, f"raise ValueError({PLANTED!r})"),
}
KINDS = {"ref_1": "reference", "ref_2": "reference", "shift_1": "mutant:softmax_no_max_shift",
         "shift_2": "mutant:softmax_no_max_shift", "axis": "mutant:softmax_wrong_axis",
         "sum_not_mean": "mutant:cross_entropy_sum_not_mean", "unstable": "mutant:cross_entropy_unstable",
         "template": "template", "only_softmax": "softmax_only"}


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def db(path: Path, query: str, *args) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return list(con.execute(query, args))
    finally:
        con.close()


def section(html: str) -> str:
    start = html.index("<h2 id='analytics'>")
    return html[start:html.index("<h2 id='slowest'>", start)]


def row_of(sec: str, check_id: str) -> str:
    return re.search(rf"<tr id='analytics-{re.escape(check_id)}'>.*?</tr>", sec, re.S).group(0)


def groups_of(row: str) -> list[tuple[int, str, str, str]]:
    """(students, share, normalised message, example student) of each group listed in a row."""
    return [(int(n), share, pattern, unquote(student)) for n, share, pattern, student in re.findall(
        r"<li><b>(\d+)</b> \(([^)]+)\) (?:<span class='an-tag'>[^<]*</span> )?<span class='an-pattern'>([^<]*)</span>"
        r" · e\.g\. <a href=\"reports/([^/]+)/report\.html#check-[^\"]+\">", row)]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("analytics")
    klass, store = base / "class", base / "store"
    klass.mkdir()
    for student, kind in KINDS.items():
        shutil.copytree(_files_of(kind, store), klass / student)
    for student, (old, new) in EDITED.items():
        assert SOFTMAX.count(old) == 1
        (klass / student).mkdir()
        (klass / student / "softmax.py").write_text(SOFTMAX.replace(old, new))
    (klass / "README.txt").write_text("not a submission\n")  # unrecognised: not graded, in no share
    out = base / "out"
    r = cli("batch", klass, "-a", "backprop", "--out", out, "--jobs", "2", *ONLY, "--timeout-per-submission", "180")
    assert r.exit_code == 0, r.output
    return SimpleNamespace(base=base, out=out, gb=out / "gradebook.sqlite", html=(out / "report.html").read_text())


def test_the_section_counts_what_the_gradebook_holds(graded):
    sec = section(graded.html)
    graded_students = db(graded.gb, "SELECT COUNT(*) FROM submissions WHERE status = 'graded'")[0][0]
    assert graded_students == len(KINDS) + len(EDITED)
    assert f"the {graded_students} graded submissions (1 not graded" in sec
    rows = db(graded.gb, "SELECT c.check_id, c.status, COUNT(*) FROM check_results c JOIN submissions s "
                         "USING (student) WHERE s.status = 'graded' GROUP BY 1, 2")
    want: dict[str, dict[str, int]] = {}
    for cid, status, n in rows:
        cat = LABELS[CATEGORY_OF.get(status, "other")]
        want.setdefault(cid, {})[cat] = want.get(cid, {}).get(cat, 0) + n
    assert set(want) == set(FAST_CHECKS)
    listed = re.findall(r"<tr id='analytics-([^']+)'>", sec)
    assert set(listed) == {cid for cid, c in want.items() if set(c) != {"passed"}} == set(FAST_CHECKS)
    # worst first: the share not passed never grows down the table
    not_passed = [1 - want[cid].get("passed", 0) / sum(want[cid].values()) for cid in listed]
    assert not_passed == sorted(not_passed, reverse=True)
    for cid in listed:
        row = row_of(sec, cid)
        counts = dict((label, int(n)) for label, n in
                      re.findall(r"([a-z][a-z ]*?) (\d+) \(\d+%\)", re.search(r"<div class='an-counts'>(.*?)</div>", row).group(1)))
        assert counts == want[cid], cid
        total = sum(want[cid].values())
        groups = groups_of(row)
        assert groups and sum(n for n, *_ in groups) <= total - want[cid].get("passed", 0)
        for n, share, _, student in groups:
            assert share == f"{100 * n / total:.0f}%"
            # the example's feedback, at the check's own section
            assert f"<section class='check' id='check-{cid}'>" in (graded.out / "reports" / student / "report.html").read_text()
            assert f'href="reports/{student}/report.html#check-{cid}"' in row
            assert db(graded.gb, "SELECT status FROM check_results WHERE student = ? AND check_id = ?",
                      student, cid)[0][0] != "passed"


def _students(gb: Path, check_id: str, like: str) -> list[str]:
    return sorted(s for (s,) in db(gb, "SELECT student FROM check_results WHERE check_id = ? AND status != 'passed' "
                                       "AND message LIKE ?", check_id, like))


def test_one_mistake_with_different_numbers_is_one_group(graded):
    sec = section(graded.html)
    # cross_entropy a factor off: sum instead of mean, and twice the mean — other numbers, one group
    factor = _students(graded.gb, "softmax.cross_entropy", "%entries wrong; worst: expected%")
    assert factor == ["sum_not_mean", "times_two"]
    messages = {m for (m,) in db(graded.gb, "SELECT message FROM check_results WHERE check_id = 'softmax.cross_entropy' "
                                             "AND student IN ('sum_not_mean', 'times_two')")}
    assert len(messages) == 2  # the students' messages differ (their numbers) ...
    groups = groups_of(row_of(sec, "softmax.cross_entropy"))
    # ... and still make one group, its example the first of them
    assert [(n, student) for n, _, p, student in groups if "entries wrong; worst: expected &lt;n&gt;" in p] == [(2, "sum_not_mean")]
    # the same crash from different code on different lines: one group, the traceback's lines normalised away
    crash = _students(graded.gb, "softmax.values", "%raised ValueError%broadcast%")
    assert crash == ["crash_a", "crash_b"]
    tracebacks = [m for (m,) in db(graded.gb, "SELECT message FROM check_results WHERE check_id = 'softmax.values' "
                                               "AND student IN ('crash_a', 'crash_b')")]
    assert tracebacks[0] != tracebacks[1]
    values = groups_of(row_of(sec, "softmax.values"))
    crash_groups = [(n, p, s) for n, _, p, s in values if "broadcast" in p]
    assert len(crash_groups) == 1 and crash_groups[0][0] == 2 and crash_groups[0][2] == "crash_a"
    assert "line" not in crash_groups[0][1] and "(4,6)" in crash_groups[0][1]  # frames gone, the shapes kept
    # softmax overflowing on rows of very different scale: nan at different indices, one group
    nan = _students(graded.gb, "softmax.rows_scale", "%contains nan%")
    assert len(nan) >= 3
    rows_scale = groups_of(row_of(sec, "softmax.rows_scale"))
    assert rows_scale[0][0] == len(nan) and rows_scale[0][3] == nan[0] and "contains &lt;n&gt; at index […]" in rows_scale[0][2]
    assert "<span class='an-tag'>hidden</span>" in row_of(sec, "softmax.rows_scale")  # shown to the instructor
    assert "#7 · 13 graded" in row_of(sec, "softmax.rows_scale")  # its place in the assignment, not among the 4


def test_student_markup_is_text(graded):
    sec = section(graded.html)
    stored = db(graded.gb, "SELECT message FROM check_results WHERE student = 'planted' AND check_id = 'softmax.values'")[0][0]
    assert "<script>" in stored  # the gradebook holds the student's text as is
    assert "<script" not in graded.html and "<img src=x" not in graded.html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in sec


def test_grade_report_rebuilds_the_section_from_the_gradebook(graded, tmp_path):
    copy = tmp_path / "out"
    shutil.copytree(graded.out, copy)
    (copy / "report.html").unlink()
    shutil.rmtree(copy / "reports")
    r = cli("report", copy)
    assert r.exit_code == 0, r.output
    assert section((copy / "report.html").read_text()) == section(graded.html)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_section_in_headless_chromium(graded, tmp_path):
    import matplotlib.image
    import numpy as np

    page = graded.out / "report.html"
    text = page.read_text()
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert text.count("Content-Security-Policy") == 1
    assert "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\"" in text
    dom, console = chromium(page, "--dump-dom")
    assert console == [], console  # no console error: a CSP violation (a blocked style) would be one
    assert '<h2 id="analytics">What the class got wrong</h2>' in dom and "<script" not in dom
    assert dom.count('<tr id="analytics-') == len(FAST_CHECKS)

    shot = tmp_path / "report.png"
    chromium(page, f"--screenshot={shot}", "--window-size=1200,2400", "--hide-scrollbars")
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (2400, 1200) and pixels.std() > 0.05  # not a blank page

    # the section alone (same head, same policy): its outcome bars are drawn, green and red
    alone = tmp_path / "analytics.html"
    alone.write_text(text[:text.index("<body>") + 6] + section(text) + "</body></html>\n")
    shot = tmp_path / "analytics.png"
    _, console = chromium(alone, f"--screenshot={shot}", "--window-size=1200,1400", "--hide-scrollbars")
    assert console == [], console
    rgb = (matplotlib.image.imread(shot)[..., :3] * 255).round()

    def share_of(colour: str) -> float:
        want = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        return float((np.abs(rgb - want).max(axis=-1) <= 2).mean())

    assert share_of("#55a868") > 1e-4 and share_of("#c44e52") > 1e-4  # passed and failed segments
    assert rgb.std() > 10
    shutil.copy(shot, Path(tempfile.gettempdir()) / "analytics.png")  # for a person to look at


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_a_class_of_200_and_40_checks_stays_within_the_page(tmp_path):
    """200 students × 40 checks, messages with long unbroken tokens: no row wider than the page."""
    from grader.instructor.batch import analytics
    from grader.instructor.batch.html import _head
    from grader.reports.html import STYLE

    subs = [{"student": f"student{i:03d}", "status": "graded"} for i in range(200)]
    rows = []
    for c in range(40):
        for i, s in enumerate(subs):
            kind = (i * 7 + c) % 9
            message = ("" if kind < 3 else
                       f"softmax(o): {i} of 24 entries wrong; worst at index [{i % 4}, {c % 6}]: expected {i / 7:.6g}"
                       if kind < 6 else f"{'x' * (300 + i)} is not a name" if kind == 6 else
                       f"module 'numpy' has no attribute '{'y' * (50 + i)}'\n  File \"/tmp/{'z' * 400}/a.py\", line 3")
            rows.append({"student": s["student"], "check_id": f"task{c // 10}.check_with_a_long_name_{c:02d}",
                         "title": f"check {c}: " + "a long title " * 4, "position": c,
                         "visibility": "hidden" if c % 5 == 0 else "public",
                         "status": "passed" if kind < 3 else "error" if kind == 8 else "failed", "message": message})
    sec = "\n".join(analytics.analytics_section(subs, rows, []))
    assert sec.count("<tr id='analytics-") == 40
    assert all(r.count("<li><b>") <= analytics.MAX_GROUPS for r in re.findall(r"<tr id='analytics-.*?</tr>", sec, re.S))
    probe = tmp_path / "probe.html"
    probe.write_text(_head("probe", STYLE + analytics.STYLE).replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
                     + sec + "<script>window.addEventListener('load', () => { document.title = 'width:' + "
                     "document.documentElement.scrollWidth + ':' + Math.max(...[...document.querySelectorAll('td')]"
                     ".map(td => td.scrollWidth - td.clientWidth)); });</script></body></html>")
    dom, console = chromium(probe, "--dump-dom", "--window-size=1200,2400")
    assert console == [], console
    width, overflow = map(int, re.search(r"<title>width:(\d+):(-?\d+)</title>", dom).groups())
    assert width <= 1200 and overflow <= 0  # nothing sticks out of the page or out of a cell
