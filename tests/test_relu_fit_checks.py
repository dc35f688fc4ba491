"""A2 checks: the reference gets full marks, every check catches a wrong submission and accepts correct
variants (float32, loops, other valid fits, rounded parameters), and the unsolved template scores 0
without crashing."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from grader.engine import assignment
from grader.engine.model import Status

from assignments.relu_fit.cases import VARIANTS, WRONG as MUTANTS
from conftest import REFERENCE, TEMPLATE, by_id, make_submission, run_grade, variant_failures

from assignments.relu_fit import hidden, oracle

ALL_IDS = {c.id for c in assignment.load("relu_fit").checks(hidden=True)}


def not_passed(report) -> dict:
    return {c.id: (str(c.status), c.message) for c in report.checks if c.status != Status.PASSED}


def test_every_check_has_a_mutant_that_it_catches():
    caught = set().union(*(m.catches for m in MUTANTS))
    assert ALL_IDS - caught == set(), "checks that no wrong submission fails"
    assert caught - ALL_IDS == set(), "mutants name checks that do not exist"


def test_reference_scores_full_marks_public_and_hidden():
    report = run_grade(REFERENCE / "relu_fit", "relu_fit")
    assert not_passed(report) == {}
    assert {c.id for c in report.checks} == ALL_IDS
    assert report.score == report.max_score > 0


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_caught(mutant, submission):
    path = submission(REFERENCE / "relu_fit", [(mutant.file, mutant.old, mutant.new)])
    results = by_id(run_grade(path, "relu_fit", tasks=mutant.tasks))
    for cid in mutant.catches:
        r = results[cid]
        assert r.score < r.max_score, f"{cid} gave full marks to {mutant.name}"
        assert r.status != Status.PASSED
        assert r.message.strip(), f"{cid} failed without saying why"


# --- correct variants ------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_variant_gets_full_marks(variant, tmp_path):
    """The registered correct variants (assignments/relu_fit/cases.py): full marks on every check
    they are graded on."""
    assert variant_failures(tmp_path, "relu_fit", variant) == {}


# (9 digits, 8 digits and float32 on every data set and several seeds: in process, further down)


# --- the template ---------------------------------------------------------------------------------
def test_template_scores_zero_and_says_not_implemented():
    report = run_grade(TEMPLATE / "relu_fit", "relu_fit", hidden=True)  # hidden checks too: never a crash
    assert report.score == 0 and not report.warnings
    public = {c.id for c in assignment.load("relu_fit").checks(hidden=False)}
    assert public <= {c.id for c in report.checks} == ALL_IDS
    for c in report.checks:
        assert c.status in (Status.FAILED, Status.MISSING), (c.id, c.status, c.message)
        assert "not implemented yet" in c.message, (c.id, c.message)


# --- messages -------------------------------------------------------------------------------------
def _grade_edit(tmp_path, old, new, tasks):
    path = make_submission(tmp_path / f"edit{len(list(tmp_path.iterdir()))}", REFERENCE / "relu_fit",
                           [("relu_net.py", old, new)])
    return by_id(run_grade(path, "relu_fit", tasks=tasks, hidden=False))


def test_fit_in_another_order_says_which_order(tmp_path):
    results = _grade_edit(tmp_path, "            return p\n",
                          "            return np.concatenate([p[0:4], p[8:12], p[4:8], p[12:]])\n", ["fit"])
    msg = results["fit.d1"].message
    assert "residual" in msg and "allowed" in msg
    assert "when read in the order [w_h1..w_h4, w_o1..w_o4, b_h1..b_h4, b_o]" in msg


def test_approximate_fit_message_names_the_worst_point(tmp_path):
    m = next(m for m in MUTANTS if m.name == "fit_least_squares_not_exact")
    results = _grade_edit(tmp_path, m.old, m.new, ["fit"])
    msg = results["fit.d1"].message
    assert "points not fitted; worst at x = " in msg and "allowed 1e-4·(1 + |y|)" in msg


def test_nan_and_wrong_length_messages(tmp_path):
    nan = _grade_edit(tmp_path, "            return p\n", "            return np.full_like(p, np.nan)\n", ["fit"])
    assert "contains nan" in nan["fit.d2"].message
    short = _grade_edit(tmp_path, "            return p\n", "            return p[:12]\n", ["fit"])
    assert "expected shape (13,), got (12,)" in short["fit.d2"].message


def test_relu_prime_message(tmp_path):
    m = next(m for m in MUTANTS if m.name == "relu_prime_zero_is_one")
    msg = _grade_edit(tmp_path, m.old, m.new, ["relu_net"])["relu_net.relu_prime_zero"].message
    assert "ReLU'(0) = 0" in msg and "exactly 0" in msg


# --- the fit tolerance and the hidden data sets, in process (no worker) -----------------------------
def _reference_relu_net():
    spec = importlib.util.spec_from_file_location("_ref_relu_net", REFERENCE / "relu_fit" / "relu_net.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _hidden_sets():
    import zlib

    asg = assignment.load("relu_fit")
    seed = (asg.seed * 1_000_003 + zlib.crc32(b"fit.hidden_sets")) % 2**32  # as CheckContext seeds it
    return hidden.hidden_sets(np.random.default_rng(seed))


def test_hidden_sets_are_fittable_d1_like_and_fixed():
    sets = _hidden_sets()
    again = _hidden_sets()
    assert len(sets) == 4
    for (xs, ys), (xs2, ys2) in zip(sets, again):
        assert np.array_equal(xs, xs2) and np.array_equal(ys, ys2)  # deterministic from the seed
        assert 9 <= len(xs) <= 13 and np.all(np.diff(xs) > 0) and np.max(np.abs(ys)) <= 12
        assert not np.array_equal(ys, oracle.D1[1]) and not np.array_equal(ys[:11], oracle.D2[1])
    assert any(xs[0] != 0 for xs, _ in sets) and any(np.diff(xs)[0] != 1 for xs, _ in sets)
    for _ in range(20):  # the generator always builds an exact set (it asserts so itself)
        hidden.hidden_sets(np.random.default_rng(_))


def test_fit_tolerance_accepts_rounded_fits_and_rejects_approximations():
    """The derivation of oracle.FIT_RTOL, re-measured on a few reference fits of every data set."""
    ref = _reference_relu_net()
    worst = {9: 0.0, 8: 0.0, 32: 0.0}
    for xs, ys in [oracle.D1, oracle.D2] + _hidden_sets():
        allowed = oracle.FIT_RTOL * (1 + np.abs(ys))
        for seed in range(4):
            p = ref.fit(xs, ys, seed=seed)
            assert oracle.fit_report(p, xs, ys) == (True, "")
            for key, variant in ((9, [float(f"{v:.8e}") for v in p]), (8, [float(f"{v:.7e}") for v in p]),
                                 (32, p.astype(np.float32))):
                ratio = np.max(np.abs(oracle.predict(variant, xs) - ys) / allowed)
                worst[key] = max(worst[key], ratio)
                assert oracle.fit_report(np.asarray(variant, dtype=np.float64), xs, ys)[0]
            assert not oracle.fit_report(p + 1e-3, xs, ys)[0]  # approximately right is not enough
    assert worst[9] < 0.1 and worst[8] < 0.5 and worst[32] < 0.5, worst  # margins, as documented
    # the best least-squares fit of D1 with one kink 0.001 off does not interpolate
    xs, ys = oracle.D1
    kinks = np.array([4.001, 6.0, 8.0, -1.0])
    w_h = np.ones(4)
    H = np.hstack([np.maximum(np.multiply.outer(xs, w_h) - kinks, 0), np.ones((len(xs), 1))])
    out = np.linalg.lstsq(H, ys, rcond=None)[0]
    assert not oracle.fit_report(np.concatenate([w_h, -kinks, out]), xs, ys)[0]
    assert not oracle.fit_report(ref._initial_guess(np.random.default_rng(0), xs, ys), xs, ys)[0]
