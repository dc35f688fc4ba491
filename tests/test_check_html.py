"""The HTML report of one submission (`grade check --html`, the batch's reports/<student>/report.html):
figures recorded by real gradings of wrong submissions, carried through JSON and the gradebook, drawn
into a page that loads in real headless Chromium without console errors."""
from __future__ import annotations

import base64
import io
import json
import re
import shutil
import sqlite3
import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from assignments.backprop.cases import WRONG as MUTANTS
from browser import CHROMIUM, chromium
from conftest import REFERENCE, by_id, run_grade
from grader.engine import figures
from grader.instructor.batch.feedback import FILES, student_report, write_feedback
from grader.instructor.batch.gradebook import Gradebook
from grader.cli import main
from grader.engine.model import CheckResult, Report, Status, Visibility
from grader.reports import report_from_json, to_html, to_json
from report_schemas import check_json

A1 = REFERENCE / "backprop"
# a transposed gradient that keeps its shape: the example network is 2-2-2, so dW = Xᵀ·dY fits
TRANSPOSED_DW = ("layers.py", "self.dW = dY2.T @ X2 ", "self.dW = X2.T @ dY2 ")
DB_MEAN = next(m for m in MUTANTS if m.name == "linear_db_mean")
SHOTS = Path(tempfile.gettempdir())  # screenshots kept for a person to look at


def _grad_figs(result: CheckResult) -> list[dict]:
    return [f for f in result.figures if f["kind"] == "gradient_error"]


@pytest.fixture(scope="module")
def transposed(tmp_path_factory) -> Report:
    from conftest import make_submission

    path = make_submission(tmp_path_factory.mktemp("t") / "sub", A1, [TRANSPOSED_DW])
    return run_grade(path, "backprop", tasks=["mlp"], hidden=False)


def test_transposed_gradient_shows_an_off_diagonal_pattern(transposed):
    example = by_id(transposed)["mlp.example"]
    figs = _grad_figs(example)
    assert [f["name"] for f in figs] == ["example network: dW1", "example network: dW2"]  # not the loss
    for f in figs:
        grid = np.array(f["values"])
        assert f["shape"] == [2, 2] and f["block"] == [1, 1] and grid.shape == (2, 2)
        assert np.all(np.diag(grid) <= f["tolerance"])                # the diagonal of Wᵀ is right
        assert np.all(grid[~np.eye(2, dtype=bool)] > f["tolerance"])  # the mirrored entries are not
        assert f["wrong_entries"] == 2 and f["max_error"] == pytest.approx(grid.max())
    # a passed check, and a failure that is not a value comparison (a shape), carry no figure
    assert by_id(transposed)["mlp.shapes"].figures == []
    assert _grad_figs(by_id(transposed)["mlp.gradients"]) == []  # shapes (6, 4) vs (4, 6): no map
    check_json(to_json(transposed))


def test_mis_scaled_bias_gradient_is_uniform(submission):
    report = run_grade(submission(A1, [(DB_MEAN.file, DB_MEAN.old, DB_MEAN.new)]), "backprop",
                       tasks=["layers"], hidden=False)
    linear = by_id(report)["layers.linear"]
    assert linear.status == Status.FAILED
    (fig,) = _grad_figs(linear)  # only db: Y, dX and dW are right
    assert fig["name"] == "Linear.db after backward" and fig["shape"] == [3]
    row = np.array(fig["values"][0])  # db.mean instead of db.sum over N = 5: every entry off by 4/5
    assert row.min() > 0.6 and row.max() <= 0.8 + 1e-9 and row.std() < 0.1 * row.mean()
    for c in report.checks:
        if c.status == Status.PASSED:
            assert c.figures == []


def test_a4_l2_gradient_without_its_2_is_half_wrong_everywhere(submission):
    from assignments.regularised_cnn.cases import WRONG as A4_MUTANTS

    m = next(m for m in A4_MUTANTS if m.name == "l2_grad_without_2")
    report = run_grade(submission(REFERENCE / "regularised_cnn", [(m.file, m.old, m.new)]), "regularised_cnn",
                       tasks=["penalties"], hidden=False)
    figs = _grad_figs(by_id(report)["penalties.grads"])
    assert [f["shape"] for f in figs] == [[3, 4], [5], [2, 3, 3, 2]]  # every array of l2_grad, not l1_grad
    for f in figs:
        assert f["name"].startswith("l2_grad(")
        grid = np.array(f["values"])  # lam·w instead of 2·lam·w: off by half, wherever w is not tiny
        wrong = grid[grid > f["tolerance"]]  # all but the exact zeros of w, where l2_grad is right
        assert wrong.max() <= 0.5 + 1e-9 and np.mean(wrong > 0.45) > 0.8, grid  # one even colour
    check_json(to_json(report))


def test_big_error_maps_are_max_pooled():
    exp = np.ones((300, 784))
    got = exp.copy()
    got[123, 456] = 3.0  # one wrong entry must survive the pooling
    fig = figures.gradient_error("dW1", got, exp, rtol=1e-4, atol=1e-6)
    grid = np.array(fig["values"])
    assert grid.shape[0] <= 64 and grid.shape[1] <= 64 and fig["block"] == [5, 13]
    assert grid.max() == fig["max_error"] == pytest.approx(2.0, rel=1e-2)
    assert fig["worst_index"] == [123, 456] and fig["wrong_entries"] == 1
    assert np.argwhere(grid > 0).tolist() == [[123 // 5, 456 // 13]]
    assert len(json.dumps(fig)) < 40_000


def test_figures_survive_json_and_older_reports_load(transposed):
    text = to_json(transposed)
    data = check_json(text)
    again = report_from_json(text)
    assert [c.figures for c in again.checks] == [c.figures for c in transposed.checks]
    # a version 2 report (before figures) still loads, with none
    data["schema_version"] = 2
    for c in data["checks"]:
        c.pop("figures")
    check_json(data)
    assert all(c.figures == [] for c in report_from_json(json.dumps(data)).checks)


def test_grade_check_html_option(tmp_path, submission):
    path = submission(A1, [TRANSPOSED_DW])
    page = tmp_path / "report.html"
    r = CliRunner().invoke(main, ["check", str(path), "-a", "backprop", "--task", "mlp", "--html", str(page)])
    assert r.exit_code == 0, r.output
    assert "HTML report written to" in r.output
    text = page.read_text()
    assert "Content-Security-Policy" in text and "<script" not in text and "http" not in text.split("<body>")[1]
    assert "example network: dW1" in text and "Accepted: |got − expected|" in text
    assert len(re.findall(r"<img alt='[^']*' src='data:image/png;base64,", text)) == 2
    r = CliRunner().invoke(main, ["check", str(path), "-a", "backprop", "--html", str(tmp_path / "no" / "x.html")])
    assert r.exit_code == 2 and "no such folder" in r.output


def test_student_text_is_escaped():
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>\x1b[31m"
    fig = figures.gradient_error("<b>dW</b>", np.zeros((2, 2)), np.ones((2, 2)), rtol=1e-4, atol=1e-6)
    report = Report("backprop", "<i>me</i>", [CheckResult(
        "a.b", "a", "t<", 0, 1, Status.FAILED, Visibility.PUBLIC, message=hostile, output=hostile,
        figures=[fig, {"kind": "unknown"}, {"kind": "curve"}])])
    text = to_html(report)
    assert "<script>" not in text and "<img src=x" not in text and "\x1b" not in text
    assert "&lt;script&gt;" in text and "&lt;b&gt;dW&lt;/b&gt;" in text
    assert text.count("<img ") == 1  # the malformed figures are left out, not fatal


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_html_report_in_headless_chromium(transposed, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(to_html(transposed))
    dom, console = chromium(page, "--dump-dom")
    assert console == [], console  # no console errors (a CSP violation would be one too)
    assert "Details: what went wrong" in dom and "How to read the maps" in dom
    imgs = re.findall(r"<img alt=\"([^\"]+)\" src=\"data:image/png;base64,([^\"]+)\"", dom)
    assert [alt for alt, _ in imgs] == ["example network: dW1", "example network: dW2"]
    import matplotlib.image

    for _, data in imgs:
        pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert pixels.shape[0] > 150 and pixels.shape[1] > 200 and pixels.std() > 0.05
    shot = tmp_path / "shot.png"
    chromium(page, f"--screenshot={shot}", "--window-size=1100,2400", "--hide-scrollbars")
    assert shot.stat().st_size > 20_000
    shutil.copy(shot, SHOTS / "grade-check-transposed.png")


CURVE_CHECKS = [  # (assignment, check, roles in the accuracy plot, thresholds)
    ("backprop", "mlp.train_fashion", ["student", "reference", "measured", "reference"], [0.83, 0.70]),
    ("fashion_mlp", "numpy_mlp.train_fashion", ["student", "reference"], [0.82, 0.70]),
]


@pytest.mark.slow
@pytest.mark.parametrize("name, check_id, roles, thresholds", CURVE_CHECKS)
def test_training_curve_against_the_committed_reference(tmp_path, name, check_id, roles, thresholds):
    """Grading the reference on a training check gives its curve figures; the reference's own
    series must equal the committed reference_curves.json (what `python -m grader.instructor.curves` writes):
    the committed curve is what the check's settings produce."""
    from grader.instructor.curves import reference_series

    report = run_grade(REFERENCE / name, name, check_ids=[check_id], hidden=False)
    (result,) = report.checks
    assert result.status == Status.PASSED
    loss, acc = result.figures
    assert [s["role"] for s in loss["series"]] == ["student", "reference"] and loss["y_label"] == "loss"
    assert [s["role"] for s in acc["series"]] == roles
    assert [t["value"] for t in acc["thresholds"]] == pytest.approx(thresholds)
    committed = figures.reference_curves(name)[check_id]
    again = reference_series(report)[check_id]
    assert set(again) == set(committed)
    for key, values in committed.items():  # the same run, rounded to 3 digits as recorded
        assert np.allclose(again[key], values, atol=2e-3), (key, again[key], values)
    page = tmp_path / "train.html"
    page.write_text(to_html(report))
    assert "Solid blue: your code, per epoch" in page.read_text()
    if CHROMIUM:
        dom, console = chromium(page, "--dump-dom")
        assert console == [] and dom.count("class=\"fig-curve\"") == 2
        chromium(page, f"--screenshot={SHOTS / f'grade-check-training-{name}.png'}", "--window-size=1100,1300",
                 "--hide-scrollbars")


def _rows(report: Report) -> list[dict]:
    return [{"check_id": c.id, "position": i, "task": c.task, "title": c.title, "score": c.score,
             "max_score": c.max_score, "status": c.status.value, "visibility": c.visibility.value,
             "message": c.message, "output": c.output, "duration": c.duration, "tolerance": c.tolerance,
             "module": c.module, "figures": json.dumps(c.figures), "internal": "", "graded_at": "now"}
            for i, c in enumerate(report.checks)]


def test_batch_feedback_page_and_hidden_policy(tmp_path, transposed):
    """Per-student report.html; a hidden check's figures never reach the student under "summary"."""
    rows = _rows(transposed)
    example = next(r for r in rows if r["check_id"] == "mlp.example")
    hidden = dict(example, check_id="mlp.example_hidden", visibility="hidden", position=len(rows))  # as hidden
    assert json.loads(hidden["figures"])
    rows.append(hidden)
    with Gradebook(tmp_path / "gb.sqlite") as gb:  # figures stored in the gradebook and read back
        gb.record({"student": "s1", "assignment": "backprop", "status": "graded", "layout": "folder",
                   "source": "s1", "grader_version": "v", "started_at": "t", "finished_at": "t",
                   "warnings": []}, rows)
        (sub,), stored = gb.submissions(), gb.checks("s1")
    assert [json.loads(r["figures"]) for r in stored] == [json.loads(r["figures"]) for r in rows]
    summary = student_report(sub, stored, [], "summary")
    shown = {c.id: c for c in summary.checks}
    assert shown["mlp.example_hidden"].figures == [] and shown["mlp.example"].figures
    assert "report.html" in FILES
    write_feedback(tmp_path / "s1", summary)
    text = (tmp_path / "s1" / "report.html").read_text()
    assert text.count("<img ") == 2  # the public check's two maps only
    full = student_report(sub, stored, [], "full")
    assert {c.id: c for c in full.checks}["mlp.example_hidden"].figures


def test_older_gradebook_gets_the_figures_column(tmp_path):
    path = tmp_path / "gb.sqlite"
    Gradebook(path).close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE check_results DROP COLUMN figures")  # as written before figures existed
    db.commit(), db.close()
    with Gradebook(path) as gb:
        cols = {r["name"] for r in gb.db.execute("PRAGMA table_info(check_results)")}
    assert "figures" in cols


def test_grade_batch_carries_figures_to_the_gradebook_and_the_student_page(tmp_path):
    """End to end: the worker's values become figures in the grader, the gradebook keeps them
    (hidden checks' too, for the instructor), the student's report.html shows the public ones."""
    from conftest import make_submission

    make_submission(tmp_path / "class" / "alice", A1, [TRANSPOSED_DW])
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["batch", str(tmp_path / "class"), "-a", "backprop", "--out", str(out),
                                  "--task", "mlp", "--quiet"])
    assert r.exit_code == 0, r.output
    db = sqlite3.connect(out / "gradebook.sqlite")
    stored = {cid: (vis, json.loads(figs)) for cid, vis, figs in
              db.execute("SELECT check_id, visibility, figures FROM check_results")}
    assert [f["name"] for f in stored["mlp.example"][1]] == ["example network: dW1", "example network: dW2"]
    hidden_with_figures = [cid for cid, (vis, figs) in stored.items() if vis == "hidden" and figs]
    assert hidden_with_figures  # e.g. mlp.gradients_deep: kept for the instructor ...
    page = (out / "reports" / "alice" / "report.html").read_text()
    assert page.count("<img ") == 2  # ... but the student's page draws the public check's maps only
    student_json = json.loads((out / "reports" / "alice" / "report.json").read_text())
    assert all(not c["figures"] for c in student_json["checks"] if c["visibility"] == "hidden")
