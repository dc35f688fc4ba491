"""`grade selftest`'s cost cuts (grader/instructor/selftest/selection.py), on real gradings:

* the coverage the worker records names the functions a check's probes really call, and no others;
* a mutant in a function no check runs is a survivor "not executed by any check", without grading;
* a grading that stops at its first failing check leaves the rest not run (not passed);
* the selection is sound: on a sample of mutants, the same killed/survived verdicts with and
  without it (`all_checks`: every check of the mutant's tasks, no early stop);
* the Dask path (a real distributed.LocalCluster) gives the same verdicts.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.instructor.isolated.grade import GradeRequest, grade_isolated
from grader.instructor.selftest import SelftestOptions, selftest
from grader.instructor.selftest.cases import read_folder, write
from grader.instructor.selftest.mutate import mutants
from grader.instructor.selftest.output import to_json
from grader.instructor.selftest.selection import NOT_EXECUTED
from grader.worker.coverage import function_name

ROOT = Path(__file__).resolve().parents[1]
SOFTMAX = ["softmax.values", "softmax.cross_entropy", "softmax.jacobian"]


@pytest.fixture(scope="module")
def softmax_coverage():
    """backprop's reference graded on three softmax checks with coverage on."""
    report = grade_isolated(GradeRequest("backprop", files=read_folder(ROOT / "reference" / "backprop"),
                                         name="reference", check_ids=SOFTMAX, coverage=True, allow_unisolated=True))
    assert report.status == "graded" and all(c.score == c.max_score for c in report.checks), report.message
    return report.coverage


def test_coverage_names_the_functions_each_check_calls(softmax_coverage):
    ran = softmax_coverage["checks"]
    assert set(ran) == set(SOFTMAX)
    # softmax() calls _as_float; cross_entropy does not call softmax (logsumexp by hand)
    assert set(ran["softmax.values"]) == {"softmax.py:softmax", "softmax.py:_as_float"}
    assert set(ran["softmax.cross_entropy"]) == {"softmax.py:cross_entropy", "softmax.py:_as_float"}
    assert set(ran["softmax.jacobian"]) == {"softmax.py:softmax_jacobian", "softmax.py:softmax",
                                            "softmax.py:_as_float"}
    assert "softmax.py:<module>" in softmax_coverage["import"]


def test_coverage_is_absent_unless_asked():
    report = grade_isolated(GradeRequest("backprop", files=read_folder(ROOT / "reference" / "backprop"),
                                         name="reference", check_ids=["softmax.values"], allow_unisolated=True))
    assert report.coverage is None and "coverage" not in report.to_dict(internal=True)


def test_function_names_match_the_mutants_ids():
    assert function_name("fit.<locals>.jac") == "fit.jac"
    assert function_name("l1_loss.<locals>.<lambda>") == "l1_loss"
    assert function_name("C.m.<locals>.<listcomp>") == "C.m"
    src = ("def f(x, a=1 + 2):  # SOLUTION\n"
           "    return [y - 1 for y in x]  # SOLUTION\n")
    by_scope = {m.after: m.scope for m in mutants(src, "f.py", ["arith"])}
    assert by_scope["1 - 2"] == "<module>"  # a default: evaluated when the def runs, at import
    assert by_scope["y + 1"] == "f"


UNUSED = '''

def never_called(x):
    """No check calls this."""
    # BEGIN SOLUTION
    return x * 3 + 1
    # END SOLUTION
'''


def test_a_mutant_no_check_runs_is_a_survivor_without_grading(tmp_path):
    ref = read_folder(ROOT / "reference" / "relu_fit")
    ref["warmup.py"] += UNUSED.encode()
    folder = write(ref, tmp_path / "reference")
    r = selftest("relu_fit", SelftestOptions(jobs=2, tasks=("warmup",), data=False, kinds=("mutant",),
                                             operators=("arith",), reference=folder))
    unused = [m for m in r.of("mutant") if m.mutant.function == "never_called"]
    assert unused and all(m.status == "not_executed" and m.verdict == "survived" and m.message == NOT_EXECUTED
                          and m.checks == {} for m in unused)
    others = [m for m in r.of("mutant") if m.mutant.function != "never_called"]
    assert others and all(m.verdict == "killed" for m in others)
    assert r.savings.not_executed == len(unused)
    assert r.savings.selected < r.savings.all_checks and r.savings.run <= r.savings.selected
    doc = to_json(r)
    assert sorted(doc["mutation"]["not_executed"]) == sorted(m.name for m in unused)
    assert doc["mutation"]["check_gradings"]["saved_by_coverage"] == r.savings.all_checks - r.savings.selected
    res = CliRunner().invoke(main, ["selftest", "relu_fit", "--task", "warmup", "--no-data", "-j", "2",
                                    "--kind", "mutant", "--operator", "arith", "--reference", str(folder)])
    assert res.exit_code == 0, res.output  # survivors alone are not problems without --fail-under
    assert "not executed by any check: no check calls never_called" in res.output
    assert "coverage saved" in res.output


def test_early_stop_leaves_later_checks_not_run():
    files = read_folder(ROOT / "reference" / "relu_fit")
    files["warmup.py"] = files["warmup.py"].replace(b"return 2 * np.asarray(x)", b"return np.asarray(x)")
    order = ["warmup.l1_loss", "warmup.sq_norm_grad", "warmup.mean_minimizer", "warmup.shapes"]
    common = dict(name="wrong", check_ids=order, allow_unisolated=True)
    stopped = grade_isolated(GradeRequest("relu_fit", files=files, stop_early=True, **common))
    whole = grade_isolated(GradeRequest("relu_fit", files=files, **common))
    assert [c.id for c in stopped.checks] == order[:2]  # in the order asked; the failing one ends it
    assert stopped.checks[1].score < stopped.checks[1].max_score
    assert stopped.not_run == order[2:] and "not_run" in stopped.to_dict()
    assert whole.not_run == [] and {c.id for c in whole.checks} == set(order)
    lost = {c.id for c in whole.checks if c.score < c.max_score}
    assert "warmup.sq_norm_grad" in lost  # the same verdict: caught
    assert {c.id: c.score for c in stopped.checks} == {c.id: c.score for c in whole.checks if c.id in order[:2]}


@pytest.mark.slow
@pytest.mark.parametrize("name, tasks, sample", [("relu_fit", ("warmup", "relu_net"), 30),
                                                 ("backprop", ("softmax", "layers"), 24)])
def test_selection_gives_the_same_verdicts_as_every_check(name, tasks, sample):
    """The proof the selection is sound, measured: every mutant of the sample gets the same verdict
    graded on its covering checks with early stop as on every check of its tasks."""
    common = dict(jobs=2, tasks=tasks, data=False, kinds=("mutant",), mutants=sample, seed=3)
    fast = selftest(name, SelftestOptions(**common))
    slow = selftest(name, SelftestOptions(all_checks=True, **common))
    assert {m.name: m.verdict for m in fast.of("mutant")} == {m.name: m.verdict for m in slow.of("mutant")}
    assert len(fast.of("mutant")) >= 20
    assert fast.savings.all_checks == slow.savings.run  # the old way grades every check of the tasks
    assert fast.savings.run < fast.savings.selected <= fast.savings.all_checks
    for m in fast.of("mutant"):  # killed by the last check it ran; nothing after it ran
        if m.verdict == "killed" and m.status == "graded":
            assert list(m.checks)[-1] in m.lost and not set(m.not_run) & set(m.checks)


def test_dask_local_cluster_gives_the_same_verdicts(tmp_path):
    distributed = pytest.importorskip("distributed")
    common = dict(tasks=("warmup",), data=False, kinds=("reference", "mutant"), mutants=5, seed=1)
    local = selftest("relu_fit", SelftestOptions(jobs=2, **common))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        dask = selftest("relu_fit", SelftestOptions(scheduler=cluster.scheduler_address, **common))
    assert dask.problems == [] and len(dask.of("mutant")) == 5
    assert {m.name: m.verdict for m in dask.of("mutant")} == {m.name: m.verdict for m in local.of("mutant")}
    # the same checks selected (coverage is deterministic); how many run before the first failing
    # one may differ: the cheapest-first order follows the reference's measured durations
    assert (dask.savings.all_checks, dask.savings.selected) == (local.savings.all_checks, local.savings.selected)
    assert json.dumps(to_json(dask))  # plain data


def test_floors_fail_the_self_test_under_them(monkeypatch):
    import dataclasses

    from grader.instructor.selftest import run as selftest_run

    real = selftest_run.load_cases
    monkeypatch.setattr(selftest_run, "load_cases",  # the equivalent mark gone: 4 of 5 killed, floor 100 %
                        lambda asg: dataclasses.replace(real(asg), equivalent={}, floors={"warmup": 100}))
    args = ["selftest", "relu_fit", "--task", "warmup", "--no-data", "-j", "2", "--kind", "mutant",
            "--operator", "swap-operands"]
    res = CliRunner().invoke(main, args + ["--floors"])
    assert res.exit_code == 1, res.output
    assert "mutation score under its floor (cases.py FLOORS) for: warmup 80% < 100%" in res.output
    assert CliRunner().invoke(main, args).exit_code == 0  # without --floors: survivors are listed, not fatal


def test_every_assignment_has_a_floor_per_task_in_its_cases():
    from grader.engine import assignment as assignments
    from grader.instructor.selftest import load_cases

    for name in assignments.available():
        asg = assignments.load(name)
        floors = load_cases(asg).floors
        assert set(floors) == {t.name for t in asg.tasks}, name
        assert all(0 <= f <= 100 for f in floors.values()), name


def test_ci_rotates_over_the_assignments_by_day(monkeypatch):
    import datetime

    from grader.instructor.selftest.rotation import ENV, todays_assignment

    monkeypatch.delenv(ENV, raising=False)
    names = ["relu_fit", "backprop", "fashion_mlp", "regularised_cnn"]
    days = [datetime.date(2026, 1, 1) + datetime.timedelta(d) for d in range(4)]
    assert sorted(todays_assignment(names, d) for d in days) == sorted(names)  # each in turn
    monkeypatch.setenv(ENV, "backprop")
    assert todays_assignment(names, days[0]) == "backprop"


def test_coverage_and_the_audit_record_together():
    """The coverage hook chains to the audit's (a by-hand check): both still see the calls."""
    from grader.engine import assignment as assignments
    from grader.instructor.selftest import load_cases
    from grader.instructor.selftest.cases import wrong_files

    wrong = next(w for w in load_cases(assignments.load("backprop")).wrong if w.name == "cross_entropy_grad_by_autograd")
    files = wrong_files(read_folder(ROOT / "reference" / "backprop"), wrong)
    report = grade_isolated(GradeRequest("backprop", files=files, name="wrong", check_ids=["softmax.by_hand"],
                                         coverage=True, allow_unisolated=True))
    by_hand = report.checks[0]
    assert by_hand.score < by_hand.max_score and "torch" in by_hand.message
    assert "softmax.py:cross_entropy_grad" in report.coverage["checks"]["softmax.by_hand"]
