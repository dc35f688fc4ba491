"""A4 checks: the reference gets full marks, every check catches a wrong submission and accepts
correct variants (float32, loops, other seeds and initialisations, a notebook, a CNN whose layers are
named and registered differently), wrong weight files cost only their check with a message saying
how to fix them, and the unsolved template scores 0 without crashing.

Nothing here trains the CNN on FashionMNIST: the weight files are the committed reference checkpoint
and edits of it. The linear-classifier FashionMNIST checks take seconds.
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

from assignments.regularised_cnn.cases import VARIANTS, WEIGHT_FILES, WRONG
from conftest import (HAVE_FASHION, REFERENCE, TEMPLATE, by_id, case_submission, needs_data, run_grade,
                      variant_failures)

needs_fashion = pytest.mark.skipif(not HAVE_FASHION, reason="FashionMNIST not installed")
A4 = assignment.load("regularised_cnn")
ALL_IDS = {c.id for c in A4.checks(hidden=True)}
NEEDS_DATA = needs_data("regularised_cnn")
MUTANTS = [m for m in WRONG if m.build is None]  # edits of the code; WEIGHT_FILES: wrong cnn.pt files
REF = REFERENCE / "regularised_cnn"
FAST_IDS = ALL_IDS - NEEDS_DATA


def grade_checks(path: Path, ids) -> dict:
    """Run only the checks `ids` (public or hidden) on the submission at `path`: {id: CheckResult}."""
    return by_id(grade(Path(path), A4, hidden=True, check_ids=ids))


def failures(results: dict) -> dict:
    return {cid: (r.status, r.message) for cid, r in results.items() if r.status != Status.PASSED}


# ------------------------------------------------------------------------------------------ meta
def test_every_check_has_a_mutant_that_it_catches():
    caught = set().union(*(m.catches for m in WRONG))
    assert ALL_IDS - caught == set(), "checks that no wrong submission fails"
    assert caught - ALL_IDS == set(), "mutants name checks that do not exist"


def test_checks_state_tolerances_and_limits():
    checks = A4.checks(hidden=True)
    for c in checks:
        assert c.tolerance, f"{c.id} states no tolerance"
        assert c.limits.timeout > 0 and c.points > 0
    assert {t.name for t in A4.tasks} == {c.task for c in checks}
    torch_limits = {c.limits for c in checks if c.task == "cnn"}
    assert len(torch_limits) == 1, "CNN checks must share one worker (same limits): one import of torch"
    assert {c.id for c in checks if c.visibility.value == "hidden"} >= {"metrics.accuracy_rounding"}


# ------------------------------------------------------------------------------------------ reference
@pytest.mark.skipif(HAVE_FASHION, reason="covered by test_reference_scores_full_marks_everything")
def test_reference_scores_full_marks_fast_checks():
    assert failures(grade_checks(REF, FAST_IDS)) == {}


@needs_fashion
def test_reference_scores_full_marks_everything():
    report = run_grade(REF, "regularised_cnn", hidden=True)
    bad = {c.id: (c.status, c.message) for c in report.checks if c.status != Status.PASSED}
    assert bad == {}
    assert {c.id for c in report.checks} == ALL_IDS
    assert report.score == report.max_score > 0
    assert "test accuracy" in by_id(report)["cnn.weights"].message  # passing checks say the figure


# ------------------------------------------------------------------------------------------ mutants
def _rounds(mutants):
    """Mutants of different files graded together: a check imports only its own module, so the edits
    of one submission cannot mask each other (one worker per round instead of one per mutant)."""
    by_file = {}
    for m in mutants:
        by_file.setdefault(m.file, []).append(m)
    depth = max(len(v) for v in by_file.values())
    return [[v[r] for v in by_file.values() if r < len(v)] for r in range(depth)]


ROUNDS = _rounds(MUTANTS)


def test_rounds_hold_every_mutant_once():
    names = [m.name for r in ROUNDS for m in r]
    assert sorted(names) == sorted(m.name for m in MUTANTS)
    assert all(len({m.file for m in r}) == len(r) for r in ROUNDS)


@pytest.mark.parametrize("mutants", ROUNDS, ids=lambda r: "+".join(m.name for m in r))
def test_mutants_are_caught(mutants, submission):
    if not HAVE_FASHION:
        mutants = [m for m in mutants if not m.catches & NEEDS_DATA]
    path = submission(REF, [(m.file, m.old, m.new) for m in mutants])
    results = grade_checks(path, set().union(*(m.catches for m in mutants)))
    for m in mutants:
        for cid in m.catches:
            r = results[cid]
            assert r.score < r.max_score, f"{cid} gave full marks to {m.name}: {r.message}"
            assert r.status != Status.PASSED
            assert r.message.strip(), f"{cid} failed without saying why"


def _mutant(name):
    return next(m for m in MUTANTS if m.name == name)


@pytest.mark.parametrize("name, check, words", [
    ("accuracy_rounding_elementwise", "metrics.accuracy_rounding", ["counts every matching 0", "argmax"]),
    ("accuracy_fraction", "metrics.accuracy", ["in percent"]),
    ("l1_sign_zero_is_one", "penalties.grads", ["sign(0) = 0"]),
    ("ce_sums_the_data_term", "penalties.regularised_ce", ["summed over the rows"]),
    ("linear_l2_grad_without_2", "linear.loss_and_grads", ["2·reg·W"]),
    ("lr_decay_before_first_step", "linear.train_steps", ["history['lr']", "iteration 0 uses lr itself"]),
    ("dropout_rescales_by_p", "dropout.train_mode", ["1/p instead of 1/(1 − p)"]),
    ("dropout_fresh_mask_in_backward", "dropout.train_mode", ["reuse the mask"]),
    ("adam_no_bias_correction", "optim.adam", ["torch.optim.Adam", "step 1"]),
    ("adam_state_in_place", "optim.adam", ["in place"]),
    ("optimizer_without_weight_decay", "cnn.optimizer", ["weight_decay 0", "shrink"]),
])
def test_messages_say_what_was_wrong(name, check, words, submission):
    m = _mutant(name)
    path = submission(REF, [(m.file, m.old, m.new)])
    msg = grade_checks(path, [check])[check].message
    for w in words:
        assert w in msg, msg


# ------------------------------------------------------------------------------------------ correct variants
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_variant_gets_full_marks(variant, tmp_path):
    """The registered correct variants (assignments/regularised_cnn/cases.py): full marks on every check
    they are graded on (the FashionMNIST checks only where the data is installed)."""
    assert variant_failures(tmp_path, "regularised_cnn", variant) == {}


def _split(source: str) -> list[str]:
    """A module's source as cells: one per top-level definition (imports and constants with the first)."""
    import ast

    tree = ast.parse(source)
    lines = source.splitlines()
    starts = sorted({n.lineno for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))})
    bounds = [1] + starts + [len(lines) + 1]
    return [c for c in ("\n".join(lines[a - 1:b - 1]).strip("\n") for a, b in zip(bounds, bounds[1:])) if c]


def test_notebook_submission_is_graded_for_its_functions(submission):
    """optim.ipynb and dropout.ipynb with markdown, `!pip`, a training demo and a cell that never ends
    around the solution's cells: their checks pass."""
    path = submission(REF)
    noise = [new_markdown_cell("# 4.5 Optimisers\nCompare them below."), new_code_cell("!pip install numpy\n%matplotlib inline")]
    demo = [new_code_cell("p, s = np.ones(3), {}\nfor _ in range(100):\n    p, s = adam_step(p, 2 * p, s, 0.1)\nprint(p)"),
            new_code_cell("while True:\n    pass")]
    for module in ("optim", "dropout"):
        cells = [new_code_cell(c) for c in _split((REF / f"{module}.py").read_text())]
        nb = new_notebook(cells=noise + cells + (demo if module == "optim" else demo[1:]))
        nbformat.write(nb, str(path / f"{module}.ipynb"))
        (path / f"{module}.py").unlink()
    ids = {c for c in ALL_IDS if c.startswith(("optim.", "dropout."))}
    assert failures(grade_checks(path, ids)) == {}


def test_rounding_inputs_tell_the_bug_apart():
    """The hidden accuracy inputs: rounding + element-wise comparison gives a figure > 20 points off."""
    from assignments.regularised_cnn import oracle

    for seed in range(20):
        labels, probs = oracle.accuracy_inputs(np.random.default_rng(seed), n=60, c=10, temperature=0.8, right=0.4)
        true = 100 * np.mean(probs.argmax(1) == labels.argmax(1))
        assert oracle.rounding_accuracy(labels, probs) - true > 20


def test_dropout_share_bound_accepts_correct_masks():
    """The 6-sigma bound on the share dropped: 200 seeded correct masks all pass."""
    from assignments.regularised_cnn import oracle

    for seed in range(200):
        rng = np.random.default_rng(seed)
        X, dY = oracle.dropout_inputs(rng, (200, 300))
        mask = (rng.random(X.shape) >= 0.3) / 0.7
        assert oracle.judge_dropout_pass("d", 0.3, X, dY, {"Y": X * mask, "dX": dY * mask}) == []


# ------------------------------------------------------------------------------------------ weight files
def _state():
    return torch.load(REF / "cnn.pt", map_location="cpu", weights_only=True)


@needs_fashion
@pytest.mark.parametrize("case", WEIGHT_FILES, ids=lambda c: c.name)
def test_wrong_weight_file_costs_only_its_check(case, tmp_path):
    path = case_submission(tmp_path / "submission", "regularised_cnn", case)
    results = grade_checks(path, ["cnn.weights", "cnn.architecture"])
    r = results["cnn.weights"]
    assert r.score < r.max_score and r.status == Status.FAILED, (r.status, r.message)
    assert case.says in r.message, r.message
    assert results["cnn.architecture"].status == Status.PASSED
    if case.name == "weights_missing":
        assert "model.pth" in r.message


@needs_fashion
def test_checkpoint_with_named_layers_accepted(submission):
    """A training checkpoint dict holding a state_dict with attribute names, fc layers first: full marks."""
    path = submission(REF)
    sd = list(_state().values())
    names = ["conv1", "conv2", "conv3", "fc1", "out"]
    renamed = {}
    for i in (4, 3, 0, 1, 2):  # registered in another order
        renamed[f"{names[i]}.weight"], renamed[f"{names[i]}.bias"] = sd[2 * i], sd[2 * i + 1]
    torch.save({"epoch": 12, "model_state_dict": renamed, "optimizer": {"lr": 1e-3}}, path / "cnn.pt")
    r = grade_checks(path, ["cnn.weights"])["cnn.weights"]
    assert r.status == Status.PASSED, r.message


@needs_fashion
def test_partial_credit_for_a_weaker_model(submission):
    path = submission(REF)
    sd = _state()
    g = torch.Generator().manual_seed(1)
    key = list(sd)[-2]
    sd[key] = sd[key] + 0.15 * torch.randn(sd[key].shape, generator=g)
    torch.save(sd, path / "cnn.pt")
    r = grade_checks(path, ["cnn.weights"])["cnn.weights"]
    assert 0 < r.score < r.max_score, (r.score, r.message)
    assert "test accuracy" in r.message


def test_the_reference_checkpoint_is_a_small_plain_state_dict():
    sd = _state()
    assert [tuple(v.shape) for v in sd.values()] == [(32, 1, 3, 3), (32,), (64, 32, 3, 3), (64,), (64, 64, 3, 3), (64,),
                                                     (64, 576), (64,), (10, 64), (10,)]
    assert sum(v.numel() for v in sd.values()) == 93_322
    assert (REF / "cnn.pt").stat().st_size < 450_000


# ------------------------------------------------------------------------------------------ template
def test_template_scores_zero_and_says_not_implemented():
    report = run_grade(TEMPLATE / "regularised_cnn", "regularised_cnn", hidden=False)
    assert report.score == 0
    assert len(report.checks) == len(A4.checks(hidden=False))
    for c in report.checks:
        if c.id in NEEDS_DATA and not HAVE_FASHION:
            assert "cannot run this check here" in c.message, (c.id, c.message)
            continue
        assert c.status in (Status.FAILED, Status.MISSING), (c.id, c.status, c.message)
        if c.id == "cnn.weights":
            assert "cnn.pt is not in the submission" in c.message
            assert "torch.save(model.state_dict()" in c.message
        else:
            assert "not implemented yet" in c.message, (c.id, c.message)


def test_template_marker_and_readme():
    folder = TEMPLATE / "regularised_cnn"
    assert (folder / ".grade.toml").read_text().strip() == 'assignment = "regularised_cnn"'
    readme = (folder / "README.md").read_text()
    assert 'torch.save(model.state_dict(), "cnn.pt")' in readme
    assert not (folder / "cnn.pt").exists()
    for module in ("metrics", "penalties", "linear", "dropout", "optim", "cnn"):
        text = (folder / f"{module}.py").read_text()
        assert "raise NotImplementedError" in text and "END OF YOUR CODE" in text
