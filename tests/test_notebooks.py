"""Notebook submissions: `name.ipynb` imported as module `name` (grader/worker/loader.py).

The notebooks are built here with nbformat, the way students' notebooks look: the solution split over
cells, plus training loops, plots, downloads, shell escapes and magics that must not run when grading
in the default "definitions" mode.
"""
from __future__ import annotations

import ast
import dataclasses
import importlib.util
import shutil
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.engine import assignment as assignments_mod
from grader.engine import session
from grader.engine.model import Status
from grader.engine.runner import grade
from grader.engine.session import GradeOptions
from grader.worker import loader
from grader.worker.loader import _has_call, _keep, _strip_magics, notebook_code, notebook_source

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "backprop"


# ------------------------------------------------------------------------------------------ helpers
def split_cells(source: str) -> list[str]:
    """A module's source as notebook cells: one cell per top-level statement group (imports, each def)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    starts = sorted({(n.decorator_list[0].lineno if getattr(n, "decorator_list", None) else n.lineno)
                     for n in tree.body})
    starts[0] = 1  # the module docstring/comments go with the first cell
    bounds = starts + [len(lines) + 1]
    return ["\n".join(lines[a - 1:b - 1]).strip("\n") for a, b in zip(bounds, bounds[1:])]


def write_nb(path: Path, cells: list) -> Path:
    nb = new_notebook(cells=[c if isinstance(c, nbformat.NotebookNode) else new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def softmax_cells() -> list[str]:
    return split_cells((REFERENCE / "softmax.py").read_text())


NOISE = {  # what a real notebook holds besides the solution; none of it may run in definitions mode
    "markdown": new_markdown_cell("# Assignment 1.1: softmax\nRun all cells, then `grade check`."),
    "magics": "!pip install torch\n%matplotlib inline\n%load_ext autoreload\n%autoreload 2",
    "bash": "%%bash\nwget http://127.0.0.1:9/fashion.gz\nexit 1",
    "download": "import urllib.request\n"
                "urllib.request.urlretrieve('http://127.0.0.1:9/fashion-mnist.npz', 'fashion-mnist.npz')",
    "load_data": "def load_data():\n    raise RuntimeError('load_data() must not run while grading')\n\n"
                 "X = load_data()\nX_train, y_train = load_data()\ndata = load_data()",
    "plot": "import matplotlib.pyplot as plt\nimport seaborn as sns  # not installed where the grader runs\n"
            "fig, ax = plt.subplots()\nax.plot([1, 2, 3])\nplt.show()",
    "training": "# training: would take forever\nwhile True:\n    pass",
    "help": "np.dot?",
    "await": "files = !ls\nresult = await fetch_results()  # top-level await: IPython only",
    "autocall": "def never_defined():\n    pass\n\n/print 'autocall: IPython-only syntax'",
    # ALL_CAPS constants built with calls are kept; the solution below depends on them
    "constants": "EPS = float('0')\nCLASSES = list(range(3))\n_reference_softmax = softmax\n\n"
                 "def softmax(o):\n    assert len(CLASSES) == 3\n    return _reference_softmax(o) + EPS",
    "print": "print('THIS IS A TOP-LEVEL PRINT')",
}


def softmax_notebook(folder: Path, extra: list | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cells = softmax_cells()
    # the noise is interleaved with the solution: definitions after it must still load
    n = NOISE
    body = [n["markdown"], n["magics"], n["bash"], n["download"], *cells[:2], n["load_data"], n["plot"],
            n["training"], n["help"], n["await"], n["autocall"], *cells[2:], n["constants"], n["print"],
            *(extra or [])]
    return write_nb(folder / "softmax.ipynb", body)


@pytest.fixture(scope="module")
def backprop():
    return assignments_mod.load("backprop")


def load_in_process(folder: Path, name: str, mode: str = "definitions"):
    """Import folder/name.ipynb here with the worker's loader (our own test notebooks only)."""
    finder = loader.NotebookFinder(folder, mode)
    spec = finder.find_spec(name)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, finder.warnings[name]


# --------------------------------------------------------------------------------- _strip_magics
def test_strip_magics_neutralises_ipython_lines_and_keeps_line_numbers():
    src = "!pip install torch\n%matplotlib inline\nimport numpy as np\n%time x = 1\nfiles = !ls\nnp.dot?\n?np\ny = 2"
    out = _strip_magics(src)
    lines = out.splitlines()
    assert len(lines) == len(src.splitlines())
    assert lines[0].startswith("pass") and lines[1].startswith("pass")
    assert lines[2] == "import numpy as np"
    assert lines[3] == "x = 1"  # %time STMT runs STMT
    assert lines[4].startswith("files = None")
    assert lines[5].startswith("pass") and lines[6].startswith("pass")
    assert lines[7] == "y = 2"
    ast.parse(out)


def test_strip_magics_indented_magic_in_a_block_stays_valid():
    out = _strip_magics("for i in range(3):\n    !echo $i\n    %time f(i)\n")
    ast.parse(out)
    assert out.splitlines()[1] == "    pass  # IPython-only line removed by the grader"
    assert out.splitlines()[2] == "    f(i)"


def test_strip_magics_cell_magics():
    assert _strip_magics("%%bash\nls -l\n") is None
    assert _strip_magics("\n%%timeit\nf()\n") is None  # %%timeit runs its body in a throw-away namespace
    assert _strip_magics("%%writefile foo.py\nx = 1\n") is None
    for magic in ("%%time", "%%capture out", "%%prun"):
        out = _strip_magics(f"{magic}\ndef f():\n    return 1\n")
        assert out is not None and "def f():" in out
        assert len(ast.parse(out).body) == 2  # `pass` for the magic line, then the def


def test_strip_magics_leaves_python_that_only_looks_like_magic():
    src = ('def f(a, b):\n    """Percentages:\n% of the batch\n!important\nwhy?\n    """\n'
           "    return (a\n            % b)\n\nx = (1 +\n     2) \\\n    % 3\n")
    assert _strip_magics(src) == src.rstrip("\n")
    ast.parse(_strip_magics(src))


def test_strip_magics_empty_and_plain():
    assert _strip_magics("") == ""
    assert _strip_magics("x = 1\nprint(x % 2)") == "x = 1\nprint(x % 2)"


# ------------------------------------------------------------------------------------------ _keep
def _kept(src: str) -> list[bool]:
    return [_keep(n) for n in ast.parse(src).body]


@pytest.mark.parametrize("src", [
    "import numpy as np", "from layers import Linear", "def f():\n    pass", "async def f():\n    pass",
    "class A:\n    pass", "@dataclass\nclass A:\n    x: int = 0",
    "LR = 0.1", "SIZES = [784, 300, 10]", "lr = 0.1", "x: int", "x: float = 1e-3",
    "DEVICE = torch.device('cpu')", "N_EPOCHS = int('3')", "__ALL_CAPS__ = f()",
    "CLASSES = list(range(10))", "A_B, C_D = f()",
    "relu = lambda z: np.maximum(z, 0)", "sigmoid = scipy.special.expit",
    "relu6 = functools.partial(np.clip, a_min=0, a_max=6)", "rng = np.random.default_rng(0)",
    "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')",
    "try:\n    import torch\nexcept ImportError:\n    torch = None",
])
def test_keep_definitions_and_constants(src):
    assert _kept(src) == [True]


@pytest.mark.parametrize("src", [
    "X = load_data()", "W = np.random.randn(3, 2)", "X_train, y_train = load_data()",
    "data = load_data()", "model = train(model)", "Lr = f()", "x = [f(i) for i in range(3)]",
    "train()", "plt.plot([1, 2])", "while True:\n    pass", "for i in range(3):\n    f(i)",
    "if __name__ == '__main__':\n    main()", "print('hi')", "urllib.request.urlretrieve(URL, 'x.gz')",
    "x += 1", "f = lambda z, k=expensive(): z",
    "try:\n    train()\nexcept Exception:\n    pass",
])
def test_keep_drops_statements_that_do_work(src):
    assert _kept(src) == [False]


def test_has_call():
    expr = lambda s: ast.parse(s, mode="eval").body
    assert _has_call(expr("f()"))
    assert _has_call(expr("[g(x) for x in y]"))
    assert not _has_call(expr("[1, 2, (3, 4)]"))
    assert not _has_call(expr("lambda x: f(x)"))
    assert not _has_call(expr("partial(np.clip, a_min=0)"))
    assert _has_call(expr("partial(np.clip, a_min=expensive())"))


# ---------------------------------------------------------------------------------- notebook_code
def test_notebook_code_definitions_mode(tmp_path):
    nb = softmax_notebook(tmp_path)
    cells, warnings = notebook_code(nb, "definitions")
    kept = [ast.unparse(n) for c in cells for n in c.tree.body]
    names = " ".join(kept)
    for wanted in ("def softmax(", "def softmax_jacobian(", "def cross_entropy(", "def cross_entropy_grad(",
                   "def load_data(", "EPS = float('0')", "CLASSES = list(range(3))",
                   "import matplotlib.pyplot as plt", "import urllib.request"):
        assert wanted in names
    for unwanted in ("X = load_data()", "while True", "urlretrieve(", "plt.show", "print(", "data = load_data()"):
        assert unwanted not in names
    assert all(c.name.startswith("softmax.ipynb[cell ") for c in cells)
    # the cell with IPython-only syntax that is no Python (autocall) is skipped with a warning
    assert "never_defined" not in names
    assert len(warnings) == 1 and "syntax error at line 4" in warnings[0], warnings
    cell_no = 1 + next(i for i, c in enumerate(nbformat.read(str(nb), 4).cells) if "never_defined" in c.source)
    assert warnings[0].startswith(f"softmax.ipynb[cell {cell_no}]: skipped")
    # one unit per kept statement, each at its line in the cell
    for c in cells:
        assert [lineno for lineno, _ in c.units] == [n.lineno for n in c.tree.body]


def test_notebook_code_all_mode_keeps_everything_that_is_python(tmp_path):
    nb = softmax_notebook(tmp_path)
    cells, warnings = notebook_code(nb, "all")
    code = "\n".join(c.source for c in cells)
    assert "while True" in code and "urlretrieve(" in code and "print('THIS IS A TOP-LEVEL PRINT')" in code
    assert "wget" not in code  # %%bash
    assert all(len(c.units) == 1 for c in cells)
    # a top-level await parses but does not compile: that cell is skipped too, with a warning
    assert len(warnings) == 2 and any("'await' outside function" in w for w in warnings), warnings


def test_notebook_code_cell_numbers_count_markdown(tmp_path):
    nb = write_nb(tmp_path / "m.ipynb", [new_markdown_cell("# title"), "x = 1", new_markdown_cell("t"), "y = 2"])
    cells, _ = notebook_code(nb, "all")
    assert [c.name for c in cells] == ["m.ipynb[cell 2]", "m.ipynb[cell 4]"]


def test_notebook_code_rejects_unknown_mode(tmp_path):
    nb = write_nb(tmp_path / "m.ipynb", ["x = 1"])
    with pytest.raises(ValueError):
        notebook_code(nb, "everything")


def test_notebook_code_future_import_carries_over(tmp_path):
    nb = write_nb(tmp_path / "m.ipynb", ["from __future__ import annotations",
                                         "def f(x: NotDefinedAnywhere) -> int:\n    return 1"])
    for mode in ("definitions", "all"):
        module, warnings = load_in_process(tmp_path, "m", mode)
        assert module.f(0) == 1 and warnings == []


def test_not_a_notebook_is_a_clear_import_error(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{ this is not json")
    with pytest.raises(ImportError, match="broken.ipynb cannot be read as a Jupyter notebook"):
        load_in_process(tmp_path, "broken")


def test_notebook_source_is_parseable_python(tmp_path):
    nb = softmax_notebook(tmp_path)
    src = notebook_source(nb)
    tree = ast.parse(src)
    assert any(isinstance(n, ast.FunctionDef) and n.name == "cross_entropy_grad" for n in tree.body)
    assert "%matplotlib" not in src and "wget" not in src


# --------------------------------------------------------------------------- loading, in process
def test_definitions_mode_skips_failing_statements_with_warnings(tmp_path):
    write_nb(tmp_path / "m.ipynb", [
        "import numpy as np\nimport seaborn as sns\nfrom google.colab import drive",
        "try:\n    import tqdm\nexcept ImportError:\n    tqdm = None",
        "relu = lambda z: np.maximum(z, 0)\nrng = np.random.default_rng(0)\nCONFIG = {'lr': 0.1}",
        "BROKEN_CONSTANT = 1 / 0\n\ndef f(x):\n    return relu(x) * CONFIG['lr']",
        "ARGS = __import__('sys').exit(3)",
    ])
    module, warnings = load_in_process(tmp_path, "m")
    assert module.f(-1.0) == 0.0 and module.f(2.0) == pytest.approx(0.2)
    assert module.rng.normal() == pytest.approx(__import__("numpy").random.default_rng(0).normal())
    text = "\n".join(warnings)
    assert "m.ipynb[cell 1], line 2: skipped `import seaborn as sns`" in text
    assert "No module named 'seaborn'" in text and "google" in text
    assert "line 1: skipped `BROKEN_CONSTANT = 1 / 0`, it raised ZeroDivisionError" in text
    assert "SystemExit" in text
    assert not hasattr(module, "BROKEN_CONSTANT")


def test_all_mode_stops_at_the_first_error(tmp_path):
    write_nb(tmp_path / "m.ipynb", ["A = 1", "raise RuntimeError('cell 2 fails')", "B = 2"])
    with pytest.raises(RuntimeError, match="cell 2 fails"):
        load_in_process(tmp_path, "m", "all")


def test_tracebacks_quote_the_notebook_line(tmp_path):
    import traceback

    write_nb(tmp_path / "m.ipynb", ["%matplotlib inline\ndef f(x):\n    return x / 0"])
    module, _ = load_in_process(tmp_path, "m")
    with pytest.raises(ZeroDivisionError) as info:
        module.f(1)
    frame = traceback.extract_tb(info.value.__traceback__)[-1]
    assert frame.filename == "m.ipynb[cell 1]" and frame.lineno == 3 and frame.line == "return x / 0"


def test_finder_prefers_py_and_packages(tmp_path):
    write_nb(tmp_path / "a.ipynb", ["x = 1"])
    (tmp_path / "a.py").write_text("x = 2\n")
    write_nb(tmp_path / "b.ipynb", ["x = 1"])
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "__init__.py").write_text("")
    write_nb(tmp_path / "c.ipynb", ["x = 1"])
    finder = loader.NotebookFinder(tmp_path, "definitions")
    assert finder.find_spec("a") is None and finder.find_spec("b") is None
    assert finder.find_spec("c") is not None
    assert finder.find_spec("c", path=["somewhere"]) is None and finder.find_spec("pkg.c") is None
    assert finder.find_spec("missing") is None


def test_install_puts_the_finder_before_the_path_finder(tmp_path, monkeypatch):
    import importlib.machinery

    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    finder = loader.install(tmp_path)
    pos = sys.meta_path.index(finder)
    assert sys.meta_path.index(importlib.machinery.PathFinder) == pos + 1
    assert importlib.machinery.BuiltinImporter in sys.meta_path[:pos]


# ------------------------------------------------------------------ grading notebook submissions
def test_definitions_mode_gives_full_marks_quickly(tmp_path, backprop):
    softmax_notebook(tmp_path / "sub")
    t0 = time.monotonic()
    report = grade(tmp_path / "sub", backprop, tasks=["softmax"])
    elapsed = time.monotonic() - t0
    assert report.score == report.max_score > 0, [(c.id, c.status, c.message) for c in report.checks]
    assert all(c.status == Status.PASSED for c in report.checks)
    assert elapsed < 20, f"took {elapsed:.1f} s: did a training cell run?"
    assert "THIS IS A TOP-LEVEL PRINT" not in "".join(c.output for c in report.checks)
    warnings = "\n".join(report.warnings)
    assert "seaborn" in warnings and "syntax error" in warnings


def test_all_mode_runs_every_cell(tmp_path, backprop):
    folder = tmp_path / "sub"
    folder.mkdir()
    cells = softmax_cells()
    write_nb(folder / "softmax.ipynb", [NOISE["markdown"], NOISE["magics"], NOISE["bash"], *cells,
                                        NOISE["help"], NOISE["autocall"], NOISE["constants"], NOISE["print"]])
    report = grade(folder, backprop, tasks=["softmax"], options=GradeOptions(notebook_mode="all"))
    assert report.score == report.max_score, [(c.id, c.status, c.message) for c in report.checks]
    assert "THIS IS A TOP-LEVEL PRINT" in report.checks[0].output


def test_all_mode_endless_training_cell_is_an_import_timeout(tmp_path, backprop, monkeypatch):
    monkeypatch.setattr(session, "IMPORT_TIMEOUT", 3.0)
    folder = tmp_path / "sub"
    folder.mkdir()
    write_nb(folder / "softmax.ipynb", [*softmax_cells(), "while True:\n    pass"])
    t0 = time.monotonic()
    report = grade(folder, backprop, tasks=["softmax"], options=GradeOptions(notebook_mode="all"))
    assert time.monotonic() - t0 < 30
    assert {c.status for c in report.checks} == {Status.TIMEOUT}
    assert report.score == 0
    assert "importing softmax took longer than" in report.checks[0].message
    # the same notebook in definitions mode: full marks
    report = grade(folder, backprop, tasks=["softmax"])
    assert report.score == report.max_score


def test_all_mode_error_in_a_cell_costs_the_module(tmp_path, backprop):
    folder = tmp_path / "sub"
    folder.mkdir()
    write_nb(folder / "softmax.ipynb", [*softmax_cells(), "X = load_data()"])
    report = grade(folder, backprop, tasks=["softmax"], options=GradeOptions(notebook_mode="all"))
    assert {c.status for c in report.checks} == {Status.ERROR}
    assert "NameError" in report.checks[0].message and "softmax.ipynb[cell" in report.checks[0].message


def test_notebook_importing_another_notebook(tmp_path, backprop):
    folder = tmp_path / "sub"
    folder.mkdir()
    write_nb(folder / "layers.ipynb", ["%matplotlib inline", *split_cells((REFERENCE / "layers.py").read_text())])
    mlp_cells = split_cells((REFERENCE / "mlp.py").read_text())
    assert any("from layers import" in c for c in mlp_cells)
    write_nb(folder / "mlp.ipynb", [*mlp_cells, "net = MLP([784, 300, 10])\nnet.train(X, y, 10, 0.1, 32)"])
    # every public layers/mlp check except FashionMNIST training (slow; covered by the reference tests)
    fast = dataclasses.replace(backprop, _checks=[c for c in backprop.checks(hidden=False)
                                                  if c.task in ("layers", "mlp") and not c.needs_data])
    report = grade(folder, fast)
    assert {c.task for c in report.checks} == {"layers", "mlp"}
    assert report.score == report.max_score, [(c.id, c.status, c.message) for c in report.checks]


def test_py_wins_over_ipynb(tmp_path, backprop):
    folder = tmp_path / "sub"
    folder.mkdir()
    shutil.copy(REFERENCE / "softmax.py", folder / "softmax.py")
    write_nb(folder / "softmax.ipynb", ["def softmax(o):\n    return o", "raise SystemExit('never imported')"])
    report = grade(folder, backprop, tasks=["softmax"], options=GradeOptions(notebook_mode="all"))
    assert report.score == report.max_score


def test_broken_notebook_file(tmp_path, backprop):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "softmax.ipynb").write_text('{"cells": [')
    report = grade(folder, backprop, tasks=["softmax"])
    assert report.score == 0
    assert {c.status for c in report.checks} == {Status.ERROR}
    assert "cannot be read as a Jupyter notebook" in report.checks[0].message
