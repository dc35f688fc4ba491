"""`grade selftest`: real gradings (the batch's pool, sandboxed workers) of an assignment's known and
mutated submissions, and the defects it must report: a check no wrong submission fails, a wrong
submission its checks let through, a "correct" variant that loses points, a stale equivalence mark.

Fast: relu_fit's warmup task (6 checks, plain numpy) and backprop's softmax task.
"""
from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner

from grader.engine import assignment
from grader.cli import main
from grader.instructor.selftest import SelftestOptions, Variant, Wrong, load_cases, selftest
from grader.instructor.selftest import run as selftest_run
from grader.instructor.selftest.output import JSON_SCHEMA, to_json

# |Xw − y| = |y − Xw|: a mutant no check can catch, marked equivalent in assignments/relu_fit/cases.py
EQUIVALENT_ID = "warmup.py:l1_loss:swap-operands:0"


def _warmup(**kw) -> SelftestOptions:
    return SelftestOptions(jobs=2, tasks=("warmup",), data=False, **kw)


@pytest.fixture(scope="module")
def warmup_result():
    return selftest("relu_fit", _warmup())


def test_warmup_self_test_has_no_problems(warmup_result):
    r = warmup_result
    assert r.problems == [] and r.ok
    assert [c.kind for c in r.of("reference")] == ["reference"]
    assert all(c.full for c in r.of("reference")[0].checks.values())
    assert all(c.score == 0 for c in r.of("template")[0].checks.values())
    wrong = {c.name: c for c in r.of("wrong") if c.status == "graded"}
    assert set(wrong) == {w.name for w in load_cases(assignment.load("relu_fit")).wrong if "warmup" in w.tasks}
    assert "warmup.l1_loss" in wrong["l1_loss_squared"].lost
    assert {v.name for v in r.of("variant") if v.status == "graded"} == {"float32", "loops_plain_fsolve"}
    assert r.uncaught == []


def test_every_automatic_warmup_mutant_is_killed_or_marked(warmup_result):
    mutants = warmup_result.of("mutant")
    assert len(mutants) == warmup_result.mutants_found >= 15
    verdicts = {m.name: m.verdict for m in mutants}
    assert verdicts[EQUIVALENT_ID] == "equivalent"
    assert [n for n, v in verdicts.items() if v == "survived"] == []
    score = warmup_result.mutation_scores()["warmup"]
    assert score["score"] == 1.0 and score["equivalent"] >= 1


def test_matrix_and_json(warmup_result):
    doc = json.loads(json.dumps(to_json(warmup_result)))
    assert doc["schema"] == JSON_SCHEMA and doc["ok"] is True
    assert "l1_loss_squared" in doc["matrix"]["warmup.l1_loss"]
    assert doc["uncaught_checks"] == []
    m = next(c for c in doc["cases"] if c["name"] == EQUIVALENT_ID)
    assert m["verdict"] == "equivalent" and m["equivalent_reason"]
    assert m["diff"].startswith("--- a/warmup.py") and "+    return float(np.sum(np.abs(np.asarray(y) -" in m["diff"]


def _with_cases(monkeypatch, change):
    """The relu_fit cases changed by `change(cases)`: the self-test of an assignment with that defect."""
    real = selftest_run.load_cases

    def fake(asg):
        return change(real(asg))
    monkeypatch.setattr(selftest_run, "load_cases", fake)


def test_a_check_no_wrong_submission_fails_is_a_defect(monkeypatch):
    def drop(cases):
        cases.wrong = [w for w in cases.wrong if not w.catches & {"warmup.mean_minimizer"}]
        return cases
    _with_cases(monkeypatch, drop)
    r = selftest("relu_fit", _warmup(kinds=("wrong",)))
    assert r.uncaught == ["warmup.mean_minimizer"]
    assert any("warmup.mean_minimizer: no registered wrong submission fails it" in p for p in r.problems)


def test_a_wrong_submission_let_through_and_a_wrong_variant_are_reported(monkeypatch):
    harmless = Wrong("only_a_comment", "warmup.py", "return 2 * np.asarray(x)", "return 2 * np.asarray(x)  # hm",
                     {"warmup.sq_norm_grad"})
    not_correct = Variant("not_really_correct", edits=[("warmup.py", "return 2 * np.asarray(x)",
                                                        "return 3 * np.asarray(x)")], tasks=["warmup"])

    def add(cases):
        return dataclasses.replace(cases, wrong=[harmless], variants=[not_correct])
    _with_cases(monkeypatch, add)
    r = selftest("relu_fit", _warmup(kinds=("wrong", "variant"), only=("only_a_comment", "not_really_correct")))
    text = "\n".join(r.problems)
    assert "wrong submission only_a_comment: warmup.sq_norm_grad gave it full marks" in text
    assert "variant not_really_correct: warmup.sq_norm_grad gave 0/" in text
    assert not r.ok


def test_a_marked_mutant_that_is_caught_must_lose_its_mark(monkeypatch):
    def mark(cases):
        return dataclasses.replace(cases, equivalent={**cases.equivalent, "warmup.py:sq_norm_grad:constant:0": "no"})
    _with_cases(monkeypatch, mark)
    r = selftest("relu_fit", _warmup(kinds=("mutant",), operators=("constant",)))
    assert any("warmup.py:sq_norm_grad:constant:0 is marked equivalent but" in p and "remove the mark" in p
               for p in r.problems), r.problems


def test_softmax_task_mutants_all_killed():
    r = selftest("backprop", SelftestOptions(jobs=2, tasks=("softmax",), data=False, kinds=("mutant",), mutants=12))
    assert len(r.of("mutant")) == 12
    assert [m.name for m in r.of("mutant") if m.verdict != "killed"] == []


def test_cli_selftest(tmp_path):
    out = tmp_path / "selftest.json"
    res = CliRunner().invoke(main, ["selftest", "relu_fit", "--task", "warmup", "--no-data", "-j", "2",
                                    "--mutants", "6", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "Task warmup: who catches what" in res.output and "no problems" in res.output
    doc = json.loads(out.read_text())
    assert doc["mutation"]["graded"] == 6 and doc["ok"]
    bad = CliRunner().invoke(main, ["selftest", "relu_fit", "--task", "nope"])
    assert bad.exit_code == 2 and "tasks of relu_fit" in bad.output
    bad = CliRunner().invoke(main, ["selftest", "relu_fit", "--operator", "flip"])
    assert bad.exit_code == 2 and "known:" in bad.output


def test_cli_fail_under_exits_1_when_a_mutant_survives(monkeypatch):
    def unmark(cases):
        return dataclasses.replace(cases, equivalent={})
    _with_cases(monkeypatch, unmark)
    res = CliRunner().invoke(main, ["selftest", "relu_fit", "--task", "warmup", "--no-data", "-j", "2",
                                    "--kind", "mutant", "--operator", "swap-operands", "--fail-under", "100"])
    assert res.exit_code == 1, res.output
    assert EQUIVALENT_ID in res.output and "mutation score under 100%" in res.output
    assert "+    return float(np.sum(np.abs(np.asarray(y) -" in res.output  # the survivor's diff


@pytest.mark.slow
@pytest.mark.parametrize("name, tasks", [("fashion_mlp", ("numpy_mlp",)), ("regularised_cnn", ("metrics", "penalties"))])
def test_selftest_of_fast_tasks_in_ci(name, tasks):
    """CI's share of the other assignments' self-test: reference, template and a seeded sample of
    automatic mutants of their fast tasks (the registered cases run in tests/test_<a>_checks.py)."""
    r = selftest(name, SelftestOptions(jobs=2, tasks=tasks, data=False, kinds=("reference", "template", "mutant"),
                                       mutants=8, seed=0))
    assert r.problems == []
    assert len(r.of("mutant")) == 8 and sum(m.verdict == "killed" for m in r.of("mutant")) >= 6
