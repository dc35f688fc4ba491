"""A3 checks: the reference gets full marks, every check catches a wrong submission and accepts
correct variants (float32, loops, other module styles, checkpoint dicts, notebooks), wrong weight files
cost only their check with a message saying how to fix them, and the unsolved template scores 0.

Nothing here trains the torch model on FashionMNIST: the weight files are the committed reference
checkpoint and edits of it. The numpy FashionMNIST check (3 epochs, ~20–30 s) runs in the slow tests.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.engine import assignment
from grader.engine.model import Status
from grader.engine.runner import grade

from assignments.fashion_mlp.cases import VARIANTS, WEIGHT_FILES, WRONG
from conftest import (HAVE_FASHION, REFERENCE, TEMPLATE, by_id, case_submission, make_submission, needs_data,
                      run_grade, variant_failures)

needs_fashion = pytest.mark.skipif(not HAVE_FASHION, reason="FashionMNIST not installed")
A3 = assignment.load("fashion_mlp")
ALL_IDS = {c.id for c in A3.checks(hidden=True)}
NEEDS_DATA = needs_data("fashion_mlp")
MUTANTS = [m for m in WRONG if m.build is None]  # edits of the code; WEIGHT_FILES: wrong fashion_mlp.pt files
REF = REFERENCE / "fashion_mlp"
FAST_IDS = ALL_IDS - NEEDS_DATA
NP, TORCH = "numpy_mlp.py", "torch_mlp.py"


def grade_checks(path: Path, ids) -> dict:
    """Run only the checks `ids` (public or hidden) on the submission at `path`: {id: CheckResult}."""
    return by_id(grade(Path(path), A3, hidden=True, check_ids=ids))


def failures(results: dict) -> dict:
    return {cid: (r.status, r.message) for cid, r in results.items() if r.status != Status.PASSED}


# ------------------------------------------------------------------------------------------ meta
def test_every_check_has_a_mutant_that_it_catches():
    caught = set().union(*(m.catches for m in WRONG))
    assert ALL_IDS - caught == set(), "checks that no wrong submission fails"
    assert caught - ALL_IDS == set(), "mutants name checks that do not exist"


def test_checks_state_tolerances_and_limits():
    for c in A3.checks(hidden=True):
        assert c.tolerance, f"{c.id} states no tolerance"
        assert c.limits.timeout > 0 and c.points > 0
    torch_limits = {c.limits for c in A3.checks(hidden=True) if c.task == "torch_mlp"}
    assert len(torch_limits) == 1, "torch checks must share one worker (same limits): one import of torch"


# ------------------------------------------------------------------------------------------ reference
def test_reference_scores_full_marks_fast_checks():
    assert failures(grade_checks(REF, FAST_IDS)) == {}


@needs_fashion
def test_reference_scores_full_marks_on_data_checks_but_numpy_training():
    assert failures(grade_checks(REF, NEEDS_DATA - {"numpy_mlp.train_fashion"})) == {}


@pytest.mark.slow
@needs_fashion
def test_reference_scores_full_marks_everything():
    report = run_grade(REF, "fashion_mlp", hidden=True)
    bad = {c.id: (c.status, c.message) for c in report.checks if c.status != Status.PASSED}
    assert bad == {}
    assert {c.id for c in report.checks} == ALL_IDS
    assert report.score == report.max_score > 0
    assert "test accuracy" in by_id(report)["numpy_mlp.train_fashion"].message  # passing checks say the figure


# ------------------------------------------------------------------------------------------ mutants
@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_caught(mutant, submission):
    if mutant.catches & NEEDS_DATA and not HAVE_FASHION:
        pytest.skip("FashionMNIST not installed")
    path = submission(REF, [(mutant.file, mutant.old, mutant.new)])
    results = grade_checks(path, mutant.catches)
    for cid, r in results.items():
        assert r.score < r.max_score, f"{cid} gave full marks to {mutant.name}"
        assert r.status != Status.PASSED
        assert r.message.strip(), f"{cid} failed without saying why"


def test_messages_say_what_was_wrong(tmp_path):
    path = make_submission(tmp_path / "a", REF, [(NP, "np.sqrt(1.0 / max(n_in, n_out))", "np.sqrt(1.0 / n_out)")])
    m = grade_checks(path, ["numpy_mlp.init"])["numpy_mlp.init"].message
    assert "sample variance" in m and "1/max(n_in, n_out)" in m and "about 1/n_out" in m
    path = make_submission(tmp_path / "b", REF, [(TORCH, "return total / count, correct / count",
                                                  "return total / count, 100.0 * correct / count")])
    m = grade_checks(path, ["torch_mlp.evaluate"])["torch_mlp.evaluate"].message
    assert "expected" in m and "got" in m and "not a percentage" in m


# ------------------------------------------------------------------------------------------ correct variants
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_variant_gets_full_marks(variant, tmp_path):
    """The registered correct variants (assignments/fashion_mlp/cases.py): full marks on every check
    they are graded on (the FashionMNIST checks only where the data is installed)."""
    assert variant_failures(tmp_path, "fashion_mlp", variant) == {}


class _FakeContext:
    """Just enough of a CheckContext to run a judge on values computed here (no worker)."""

    def __init__(self, init_params):
        self.init_params = init_params

    def probe(self, name, seed, sizes=None):
        assert name == "init_params"
        rng = np.random.default_rng(seed)
        w, b = self.init_params(rng) if sizes is None else self.init_params(rng, sizes=tuple(sizes))
        return [[np.asarray(x) for x in w], [np.asarray(x) for x in b]]


def _reference_module(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_ref_{name}", REF / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_init_bounds_accept_every_seed_and_reject_wrong_variances():
    """The 6-sigma bounds: 300 seeds of a correct init all pass, for the public and the hidden sizes;
    uniform weights with the right variance pass too; the wrong variances fail for every seed."""
    from assignments.fashion_mlp import oracle
    from grader.engine.model import CheckFailed

    ref = _reference_module("numpy_mlp")
    ctx = _FakeContext(ref.init_params)
    for seed in range(300):
        for sizes in (oracle.NP_SIZES, (20, 50, 50, 5), (300, 100, 40, 10)):
            oracle.judge_init(ctx, sizes, seed)

    def uniform(rng, sizes=oracle.NP_SIZES):
        pairs = list(zip(sizes[:-1], sizes[1:]))
        return ([rng.uniform(-1, 1, size=p) * np.sqrt(3 / max(p)) for p in pairs], [np.zeros(p[1]) for p in pairs])

    for seed in range(50):
        oracle.judge_init(_FakeContext(uniform), oracle.NP_SIZES, seed)

    def scaled(var):
        def init(rng, sizes=oracle.NP_SIZES):
            pairs = list(zip(sizes[:-1], sizes[1:]))
            return ([rng.normal(0, np.sqrt(var(*p)), size=p) for p in pairs], [np.zeros(p[1]) for p in pairs])
        return init

    wrong = {"1": lambda a, b: 1.0, "1/n_out": lambda a, b: 1 / b, "glorot": lambda a, b: 2 / (a + b),
             "1/n_in (hidden sizes only)": lambda a, b: 1 / a}
    for name, var in wrong.items():
        sizes = (20, 50, 50, 5) if "hidden" in name else oracle.NP_SIZES
        for seed in range(50):
            with pytest.raises(CheckFailed):
                oracle.judge_init(_FakeContext(scaled(var)), sizes, seed)


# ------------------------------------------------------------------------------------------ weight files
def _state():
    return torch.load(REF / "fashion_mlp.pt", map_location="cpu", weights_only=True)


@needs_fashion
@pytest.mark.parametrize("case", WEIGHT_FILES, ids=lambda c: c.name)
def test_wrong_weight_file_costs_only_its_check(case, tmp_path):
    path = case_submission(tmp_path / "submission", "fashion_mlp", case)
    results = grade_checks(path, ["torch_mlp.weights", "torch_mlp.architecture"])
    r = results["torch_mlp.weights"]
    assert r.score < r.max_score and r.status == Status.FAILED, (r.status, r.message)
    assert case.says in r.message, r.message
    assert results["torch_mlp.architecture"].status == Status.PASSED
    if case.name == "weights_missing":
        assert "model.pth" in r.message


@needs_fashion
def test_checkpoint_variants_accepted(submission):
    """A training checkpoint dict holding the state_dict, and other key names: full marks."""
    path = submission(REF)
    sd = _state()
    names = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias", "out.weight", "out.bias"]
    renamed = dict(zip(names, sd.values()))
    torch.save({"epoch": 10, "model_state_dict": renamed, "optimizer": {"lr": 1e-3}}, path / "fashion_mlp.pt")
    r = grade_checks(path, ["torch_mlp.weights"])["torch_mlp.weights"]
    assert r.status == Status.PASSED, r.message


@needs_fashion
def test_partial_credit_for_a_weaker_model(submission):
    path = submission(REF)
    sd = _state()
    g = torch.Generator().manual_seed(1)
    sd["7.weight"] = sd["7.weight"] + 0.1 * torch.randn(sd["7.weight"].shape, generator=g)
    torch.save(sd, path / "fashion_mlp.pt")
    r = grade_checks(path, ["torch_mlp.weights"])["torch_mlp.weights"]
    assert 0 < r.score < r.max_score, (r.score, r.message)
    assert "test accuracy" in r.message


def test_the_reference_checkpoint_is_a_plain_state_dict():
    sd = _state()
    assert [tuple(v.shape) for v in sd.values()] == [(256, 784), (256,), (128, 256), (128,), (64, 128), (64,),
                                                     (10, 64), (10,)]
    assert sum(v.numel() for v in sd.values()) == 242_762
    assert (REF / "fashion_mlp.pt").stat().st_size < 1.2e6


# ------------------------------------------------------------------------------------------ template
def test_template_scores_zero_and_says_not_implemented():
    report = run_grade(TEMPLATE / "fashion_mlp", "fashion_mlp", hidden=False)
    assert report.score == 0
    assert len(report.checks) == len(A3.checks(hidden=False))
    for c in report.checks:
        if c.id in NEEDS_DATA and not HAVE_FASHION:
            assert "cannot run this check here" in c.message, (c.id, c.message)
            continue
        assert c.status in (Status.FAILED, Status.MISSING), (c.id, c.status, c.message)
        if c.id == "torch_mlp.weights":
            assert "fashion_mlp.pt is not in the submission" in c.message
            assert "torch.save(model.state_dict()" in c.message
        else:
            assert "not implemented yet" in c.message, (c.id, c.message)


def test_template_marker_and_readme():
    assert (TEMPLATE / "fashion_mlp" / ".grade.toml").read_text().strip() == 'assignment = "fashion_mlp"'
    readme = (TEMPLATE / "fashion_mlp" / "README.md").read_text()
    assert 'torch.save(model.state_dict(), "fashion_mlp.pt")' in readme
    assert not (TEMPLATE / "fashion_mlp" / "fashion_mlp.pt").exists()


# ------------------------------------------------------------------------------------------ notebooks
def _split(source: str) -> list[str]:
    """A module's source as cells: one per top-level definition (imports and constants with the first)."""
    import ast

    tree = ast.parse(source)
    lines = source.splitlines()
    starts = sorted({n.lineno for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))})
    bounds = [1] + starts + [len(lines) + 1]
    return [c for c in ("\n".join(lines[a - 1:b - 1]).strip("\n") for a, b in zip(bounds, bounds[1:])) if c]


NOTEBOOK_NOISE = [
    new_markdown_cell("# Assignment 3.1: an MLP in numpy\nTrain it on FashionMNIST below."),
    new_code_cell("!pip install numpy matplotlib\n%matplotlib inline"),
    new_code_cell("import urllib.request\n"
                  "urllib.request.urlretrieve('http://127.0.0.1:9/train-images-idx3-ubyte.gz', 'train.gz')"),
    new_code_cell("def load_fashion():\n    raise RuntimeError('loading data must not run while grading')\n\n"
                  "X_train, y_train, X_test, y_test = load_fashion()"),
]
NOTEBOOK_TRAINING = [
    new_code_cell("rng = np.random.default_rng(0)\nweights, biases = init_params(rng)\nhistory = []\n"
                  "for epoch in range(3):\n"
                  "    weights, biases = train_epoch(weights, biases, X_train, y_train, 0.01)\n"
                  "    history.append((forward(weights, biases, X_test).argmax(1) == y_test).mean())\n"
                  "    print(epoch, history[-1])"),
    new_code_cell("import matplotlib.pyplot as plt\nplt.plot(history)\nplt.xlabel('epoch')\nplt.show()"),
    new_code_cell("while True:\n    pass  # a cell that would never end"),
]


def _numpy_notebook(folder: Path) -> None:
    cells = [new_code_cell(c) for c in _split((REF / NP).read_text())]
    nb = new_notebook(cells=NOTEBOOK_NOISE[:2] + cells[:1] + NOTEBOOK_NOISE[2:] + cells[1:] + NOTEBOOK_TRAINING)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(folder / "numpy_mlp.ipynb"))
    (folder / NP).unlink()


def test_notebook_submission_is_graded_for_its_functions(submission):
    """numpy_mlp.ipynb with `!pip`, `%matplotlib`, a download, data loading, a 3-epoch training loop, a
    plot and a cell that never ends, around the solution's cells: every numpy check passes."""
    path = submission(REF)
    _numpy_notebook(path)
    ids = {i for i in FAST_IDS if i.startswith("numpy_mlp.")}
    assert failures(grade_checks(path, ids)) == {}


@needs_fashion
def test_weights_check_does_not_depend_on_the_module(submission):
    """torch_mlp.py with a syntax error costs its own checks, not the grading of the weights file."""
    path = submission(REF)
    (path / TORCH).write_text("def build_model(:\n")
    results = grade_checks(path, ["torch_mlp.weights", "torch_mlp.architecture"])
    assert results["torch_mlp.weights"].status == Status.PASSED, results["torch_mlp.weights"].message
    assert results["torch_mlp.architecture"].status == Status.ERROR
    assert "SyntaxError" in results["torch_mlp.architecture"].message
