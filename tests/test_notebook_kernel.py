"""In-notebook checks in a real kernel (nbclient + ipykernel): the generated notebook of relu_fit
(the fastest assignment: every check in a few seconds) executed cell by cell, as a student would.

The kernels run in a temporary folder that holds no notebook file, as in Colab (nbclient executes
the notebook from memory): `check` must grade the cells the kernel has run (IPython's input history).
One kernel per scenario; the notebooks are executed once per module (module-scoped fixtures).
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
from nbclient import NotebookClient  # noqa: E402
from nbformat.v4 import new_code_cell  # noqa: E402

from grader.instructor.publish.notebook import student_notebook  # noqa: E402
from grader.instructor.publish.template import ROOT  # noqa: E402

ASSIGNMENT = "relu_fit"
TASKS = ["warmup", "relu_net", "fit"]
PLANTED = ("    return 2 * np.asarray(x)", "    return np.asarray(x)  # planted bug: the factor 2 is missing")


def run(nb: nbformat.NotebookNode, cwd: Path) -> tuple[nbformat.NotebookNode, float]:
    """Execute `nb` in a fresh kernel started in `cwd`; (the executed notebook, seconds)."""
    t0 = time.monotonic()
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb, time.monotonic() - t0


def solved() -> nbformat.NotebookNode:
    return nbformat.reads(student_notebook(ASSIGNMENT, ROOT / "reference" / ASSIGNMENT, solved=True), 4)


def check_cells(nb) -> dict[str, nbformat.NotebookNode]:
    """The check cells by task (`check("warmup")` → "warmup"); the last one wins."""
    out = {}
    for c in nb.cells:
        m = re.fullmatch(r'check\("(\w+)"(.*)\)', c.source.strip()) if c.cell_type == "code" else None
        if m:
            out[m.group(1) + m.group(2)] = c
    return out


def shown(cell) -> tuple[str, str]:
    """(text/plain, text/html) of a check cell's result; the errors it raised fail the test."""
    assert not [o for o in cell.outputs if o.output_type == "error"], cell.outputs
    result = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert len(result) == 1, cell.outputs
    return result[0].data["text/plain"], result[0].data.get("text/html", "")


def total(text: str) -> tuple[float, float]:
    m = re.search(r"Total: ([\d.]+) / ([\d.]+)", text)
    assert m, text
    return float(m.group(1)), float(m.group(2))


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """The reference filled in, run top to bottom in a folder with no .ipynb (the Colab path)."""
    cwd = tmp_path_factory.mktemp("colab")
    return run(solved(), cwd)


@pytest.fixture(scope="module")
def unsolved(tmp_path_factory):
    """The committed template notebook, unsolved; the solved notebook saved beside it on disk and
    graded with source="file" from the same kernel."""
    cwd = tmp_path_factory.mktemp("unsolved")
    nbformat.write(solved(), str(cwd / "mine.ipynb"))
    nb = nbformat.read(str(ROOT / "student_template" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), 4)
    nb.cells.append(new_code_cell('check("warmup", source="file")'))
    return run(nb, cwd)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """One bug planted in warmup.sq_norm_grad; then the fix run in a later cell (the latest wins)."""
    cwd = tmp_path_factory.mktemp("planted")
    nb = solved()
    bugged = [c for c in nb.cells if PLANTED[0] in c.source]
    assert len(bugged) == 1
    fixed = bugged[0].source
    bugged[0].source = fixed.replace(*PLANTED)
    upto = next(i for i, c in enumerate(nb.cells) if c.source.strip() == 'check("warmup")')
    nb.cells = nb.cells[:upto + 1] + [new_code_cell(fixed), new_code_cell('check("warmup") ')]
    return run(nb, cwd)


def test_every_check_cell_shows_full_marks_with_the_reference(colab):
    nb, seconds = colab
    cells = check_cells(nb)
    assert set(cells) == set(TASKS)
    for task, cell in cells.items():
        text, page = shown(cell)
        got, top = total(text)
        assert got == top > 0, (task, text)
        assert "checks passed" in page and "passed" in page and "<table>" in page, page
    print(f"\n{ASSIGNMENT}: the whole solved notebook ran in a real kernel in {seconds:.1f} s")


def test_the_colab_path_grades_the_kernels_history_and_says_so(colab):
    nb, _ = colab
    text, page = shown(check_cells(nb)["warmup"])
    assert "code cells this kernel has run" in text and "code cells this kernel has run" in page


def test_the_unsolved_notebook_scores_zero_without_crashing(unsolved):
    nb, _ = unsolved
    for task in TASKS:
        text, page = shown(check_cells(nb)[task])
        got, top = total(text)
        assert got == 0 < top, (task, text)
        assert "not implemented yet" in text, text


def test_source_file_grades_the_saved_notebook(unsolved):
    nb, _ = unsolved
    text, _ = shown(check_cells(nb)['warmup, source="file"'])
    got, top = total(text)
    assert got == top > 0 and "the saved notebook mine.ipynb" in text, text


def test_a_planted_bug_shows_its_hint_in_that_cell_and_the_fix_run_later_wins(planted):
    nb, _ = planted
    checks = [c for c in nb.cells if c.source.startswith('check("warmup")')]
    assert len(checks) == 2
    text, page = shown(checks[0])
    got, top = total(text)
    assert 0 < got < top, text
    assert "sq_norm_grad" in page and "failed" in page
    assert re.search(r"sq_norm_grad\(x\).*(expected|max abs)", text, re.S), text
    text, _ = shown(checks[1])  # the fixed definition ran after the buggy one: it is graded
    got, top = total(text)
    assert got == top, text


def test_import_grader_notebook_needs_no_ipython(tmp_path):
    """The student edition carries grader.notebook; importing it must not need IPython."""
    import subprocess

    code = ("import sys; sys.modules['IPython'] = None\n"  # an import of IPython now fails
            "import grader.notebook as n\n"
            "assert n._ipython() is None\n"
            "try:\n    n.check('warmup', source='kernel')\n"
            "except n.CheckSetupError as exc:\n    print('refused:', exc)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert r.returncode == 0 and "needs a running IPython kernel" in r.stdout, r.stdout + r.stderr
