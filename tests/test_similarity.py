"""The similarity screen (grader/instructor/similarity.py, `grade similarity`): a planted copy with renamed
variables and reordered functions is flagged; independent correct solutions, the unsolved template
and a notebook of independent code are not; a notebook copy is compared by its code."""
from __future__ import annotations

import ast
import csv
import shutil
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.instructor.batch.screen import screen_class
from grader.instructor.similarity import DEFAULT_THRESHOLD

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "relu_fit"
RENAMES = {"p": "params", "x": "inp", "y": "target", "xs": "points", "ys": "values", "rng": "gen",
           "w_h": "wh", "b_h": "bh", "w_o": "wo", "b_o": "bo", "X": "A", "w": "v", "z": "pre"}


def disguised(source: str) -> str:
    """The same code with its variables renamed and its functions in reverse order."""
    tree = ast.parse(source)

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node):
            node.id = RENAMES.get(node.id, node.id)
            return node

        def visit_arg(self, node):
            node.arg = RENAMES.get(node.arg, node.arg)
            return node

    tree = Rename().visit(tree)
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    tree.body = [n for n in tree.body if not isinstance(n, ast.FunctionDef)] + funcs[::-1]
    return ast.unparse(tree)


def notebook(path: Path, source: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# my fit"), nbformat.v4.new_code_cell("%matplotlib inline"),
                nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, str(path))


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("class")
    for student in ("alice", "dave", "erin"):
        (root / student).mkdir()
    for f in ("warmup.py", "relu_net.py"):
        shutil.copy(REFERENCE / f, root / "alice" / f)  # the reference
        (root / "dave" / f).write_text(disguised((REFERENCE / f).read_text()))  # a disguised copy of it
    shutil.copytree(ROOT / "assignments" / "relu_fit" / "variants" / "loops", root / "bob")  # independent
    shutil.copytree(ROOT / "student_template" / "relu_fit", root / "carol")  # nothing done
    shutil.copy(ROOT / "assignments" / "relu_fit" / "variants" / "loops" / "warmup.py", root / "erin" / "warmup.py")
    notebook(root / "erin" / "relu_net.ipynb", disguised((REFERENCE / "relu_net.py").read_text()))
    return root


def test_planted_copies_are_flagged_and_independent_work_is_not(klass, tmp_path):
    pairs = screen_class(klass, "relu_fit", tmp_path)
    flagged = {(p.student_a, p.student_b, p.module) for p in pairs}
    assert ("alice", "dave", "relu_net") in flagged and ("alice", "dave", "warmup") in flagged
    # the notebook is compared by its code: a disguised copy of the reference's relu_net
    assert {("alice", "erin", "relu_net"), ("dave", "erin", "relu_net")} <= flagged
    # erin's warmup is bob's (the same independent file): flagged too
    assert ("bob", "erin", "warmup") in flagged
    # never: the reference against an independent solution, anyone against the empty template
    assert not [f for f in flagged if {"alice", "bob"} == set(f[:2]) or "carol" in f[:2]]
    assert all(p.similarity >= DEFAULT_THRESHOLD for p in pairs)
    rows = list(csv.DictReader(open(tmp_path / "similarity.csv")))
    assert len(rows) == len(pairs) and float(rows[0]["similarity_a"]) > 0.5
    html = (tmp_path / "similarity.html").read_text()
    assert "alice" in html and "dave" in html


def test_the_template_is_boilerplate(klass, tmp_path):
    """Two students who only filled in the template's stubs independently share its docstrings and
    signatures: those never count (bob and carol share every template line, and are not flagged)."""
    pairs = screen_class(klass, "relu_fit", tmp_path, threshold=0.05)
    assert not [p for p in pairs if {p.student_a, p.student_b} & {"carol"}]
    assert not [p for p in pairs if {p.student_a, p.student_b} == {"alice", "bob"}]


def test_grade_similarity_cli(klass, tmp_path):
    r = CliRunner().invoke(main, ["similarity", str(klass), "-a", "relu_fit", "--out", str(tmp_path / "s")])
    assert r.exit_code == 0, r.output
    assert "alice ~ dave" in r.output and "flagged pair(s)" in r.output
    assert (tmp_path / "s" / "similarity.csv").is_file()


from browser import CHROMIUM  # noqa: E402  (one helper for every page test)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_similarity_html_in_headless_chromium(klass, tmp_path):
    """The report loads with no console error (offline: its CDN stylesheet is refused by the network,
    which Chromium does not log as a page error), shows both plots and the shared regions highlighted."""
    from browser import chromium

    screen_class(klass, "relu_fit", tmp_path)
    dom, console = chromium(tmp_path / "similarity.html", "--dump-dom")
    assert [c for c in console if "cdn.jsdelivr.net" not in c] == [], console
    assert dom.count('src="data:image/png;base64') >= 2  # similarity matrix, score distribution
    assert "highlight-red" in dom and "highlight-green" in dom  # the copied regions, side by side
    assert "alice" in dom and "dave" in dom
