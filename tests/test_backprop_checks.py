"""A1 checks: the reference gets full marks, every check catches a wrong submission and accepts
correct variants (float32, loops), and the unsolved template scores 0 without crashing."""
from __future__ import annotations

import pytest

from grader.engine import assignment
from grader.engine.model import Status

from assignments.backprop.cases import VARIANTS, WRONG
from conftest import HAVE_FASHION, REFERENCE, ROOT, TEMPLATE, by_id, run_grade, variant_failures

MUTANTS = [m for m in WRONG if m.name != "mlp_step_no_update"]
FASHION_MUTANT = next(m for m in WRONG if m.name == "mlp_step_no_update")  # trains: slow
ALL_IDS = {c.id for c in assignment.load("backprop").checks(hidden=True)}


def test_every_check_has_a_mutant_that_it_catches():
    caught = set().union(*(m.catches for m in WRONG))
    assert ALL_IDS - caught == set(), "checks that no wrong submission fails"
    assert caught - ALL_IDS == set(), "mutants name checks that do not exist"


def test_reference_scores_full_marks_fast_tasks():
    report = run_grade(REFERENCE / "backprop", "backprop", tasks=["softmax", "scalar", "layers"])
    bad = {c.id: (c.status, c.message) for c in report.checks if c.status != Status.PASSED}
    assert bad == {}
    assert report.score == report.max_score > 0


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_FASHION, reason="FashionMNIST not installed")
def test_reference_scores_full_marks_everything():
    report = run_grade(REFERENCE / "backprop", "backprop")
    bad = {c.id: (c.status, c.message) for c in report.checks if c.status != Status.PASSED}
    assert bad == {}
    assert {c.id for c in report.checks} == ALL_IDS


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_caught(mutant, submission):
    path = submission(REFERENCE / "backprop", [(mutant.file, mutant.old, mutant.new)])
    report = run_grade(path, "backprop", tasks=mutant.tasks)
    results = by_id(report)
    for cid in mutant.catches:
        r = results[cid]
        assert r.score < r.max_score, f"{cid} gave full marks to {mutant.name}"
        assert r.status != Status.PASSED
        assert r.message.strip(), f"{cid} failed without saying why"


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_FASHION, reason="FashionMNIST not installed")
def test_fashion_mutant_is_caught(submission):
    m = FASHION_MUTANT
    path = submission(REFERENCE / "backprop", [(m.file, m.old, m.new)])
    results = by_id(run_grade(path, "backprop", tasks=["mlp"]))
    for cid in m.catches:
        assert results[cid].score < results[cid].max_score, cid
    assert "test accuracy" in results["mlp.train_fashion"].message


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_variant_gets_full_marks(variant, tmp_path):
    """The registered correct variants (assignments/backprop/cases.py): full marks on every check
    they are graded on."""
    assert variant_failures(tmp_path, "backprop", variant) == {}


def test_template_scores_zero_and_says_not_implemented():
    report = run_grade(TEMPLATE / "backprop", "backprop", hidden=False)
    assert report.score == 0
    assert len(report.checks) == len(assignment.load("backprop").checks(hidden=False))
    for c in report.checks:
        assert c.status in (Status.FAILED, Status.MISSING), (c.id, c.status, c.message)
        assert "not implemented yet" in c.message, (c.id, c.message)


def test_messages_say_expected_and_got(submission):
    wrong_axis = next(m for m in MUTANTS if m.name == "softmax_wrong_axis")
    path = submission(REFERENCE / "backprop", [(wrong_axis.file, wrong_axis.old, wrong_axis.new)])
    r = by_id(run_grade(path, "backprop", tasks=["softmax"], hidden=False))["softmax.values"]
    assert "expected" in r.message and "got" in r.message and "index" in r.message
    assert "softmax(o)" in r.message


def test_not_implemented_keeps_the_students_own_words(submission):
    """A NotImplementedError's own text says what is missing: the feedback keeps it (the template's
    "name: not implemented yet" adds nothing and is not repeated)."""
    m = next(m for m in MUTANTS if m.name == "cross_entropy_loss_not_implemented")
    report = run_grade(submission(REFERENCE / "backprop", [(m.file, m.old, m.new)]), "backprop",
                       check_ids=["layers.cross_entropy"])
    message = by_id(report)["layers.cross_entropy"].message
    assert "not implemented yet" in message and "one-hot targets are not handled yet" in message, message


def test_statement_names_the_synthetic_size_the_check_uses():
    from assignments.backprop import oracle

    statement = (ROOT / "assignments" / "backprop" / "statement.md").read_text(encoding="utf-8")
    assert f"{oracle.SYNTHETIC_N:,} points" in statement
    assert "20,000" not in statement


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_FASHION, reason="FashionMNIST not installed")
def test_fashion_training_out_of_time_is_scored_on_what_it_learned(monkeypatch, submission):
    """A train() still running when its seconds run out is scored on the weights reached so far
    (not a timeout): the reference given 5 s instead of 270 s."""
    from assignments.backprop import oracle

    monkeypatch.setattr(oracle, "FASHION_TRAIN_SECONDS", 5)
    report = run_grade(submission(REFERENCE / "backprop", []), "backprop", check_ids=["mlp.train_fashion"])
    r = by_id(report)["mlp.train_fashion"]
    assert r.status in (Status.PASSED, Status.FAILED), (r.status, r.message)
    assert "had not finished after 5 s" in r.message and "test accuracy" in r.message, r.message
