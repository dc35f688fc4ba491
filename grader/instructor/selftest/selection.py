"""Which checks an automatic mutant needs: those whose probes ran the mutated function on the reference.

The self-test grades the reference once with coverage on (GradeOptions.coverage: the worker
records, per check, each `file:function` of the submission its probes ran; worker/coverage.py).
A mutant differs from the reference inside one function only (`Mutant.scope`, the frame that runs
the edit). A check that never entered that function on the reference runs the mutant exactly as it
ran the reference (same files elsewhere, same seeds, same inputs: the first difference would be
the first call of the function, and there is none), so it gives the same score: grading the mutant
on it cannot kill it. Hence:

* a mutant is graded only on the checks that ran its function, cheapest first (the reference's
  durations), and stops at the first that loses points (GradeOptions.stop_early);
* a mutant no check ran is a survivor without grading ("not executed by any check").

Conservative where the argument does not hold: a function that ran while a module was imported
(module level, class bodies, a def's defaults) counts for every check; a judge that read a file's
source (`ctx.source`) counts as running all of that file; a check the reference did not pass with
full marks (its record may be cut short) counts as running everything.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from grader.engine.model import Report

from .mutate import Mutant

NOT_EXECUTED = "not executed by any check"


@dataclass
class Coverage:
    """What each check ran of the reference, and how long it took (from its self-test grading)."""

    ran: dict[str, set[str]]  # check id -> `file:function` names (or `file:*`)
    at_import: set[str]
    durations: dict[str, float]
    unsure: set[str] = field(default_factory=set)  # checks counted as running everything

    @classmethod
    def from_report(cls, report: Report) -> Optional["Coverage"]:
        """None when the report has no coverage (the grading failed as a whole)."""
        if report.status != "graded" or not isinstance(report.coverage, dict):
            return None
        checks = report.coverage.get("checks") or {}
        ran = {cid: set(names) for cid, names in checks.items()}
        unsure = {c.id for c in report.checks if c.score < c.max_score or c.status.value != "passed"}
        return cls(ran, set(report.coverage.get("import") or []), {c.id: c.duration for c in report.checks}, unsure)

    def runs(self, check_id: str, mutant: Mutant) -> bool:
        """Whether `check_id` ran the function `mutant` changes (or cannot be said not to)."""
        name = f"{mutant.file}:{mutant.scope or mutant.function}"
        if check_id in self.unsure or check_id not in self.ran or mutant.scope in ("", "<module>") \
                or name in self.at_import:
            return True
        names = self.ran[check_id]
        return name in names or f"{mutant.file}:*" in names

    def cost(self, check_ids: list[str]) -> float:
        """Seconds the reference took on these checks: a mutant's grading costs at most about that."""
        return sum(self.durations.get(cid, 0.0) for cid in check_ids)

    def checks_for(self, mutant: Mutant, check_ids: list[str]) -> list[str]:
        """The checks of `check_ids` that ran the mutant's function, cheapest first."""
        chosen = [cid for cid in check_ids if self.runs(cid, mutant)]
        return sorted(chosen, key=lambda cid: (self.durations.get(cid, float("inf")), check_ids.index(cid)))


@dataclass
class Savings:
    """Check-gradings of the automatic mutants: every check of their tasks (the old way), those
    coverage selected, and those actually run (the first failing one ends a mutant's grading)."""

    all_checks: int = 0
    selected: int = 0
    run: int = 0
    not_executed: int = 0  # mutants no check ran: survivors without grading

    @property
    def saved_by_coverage(self) -> int:
        return self.all_checks - self.selected

    @property
    def saved_by_early_stop(self) -> int:
        return self.selected - self.run

    def to_dict(self) -> dict:
        return {"all_checks": self.all_checks, "selected": self.selected, "run": self.run,
                "saved_by_coverage": self.saved_by_coverage, "saved_by_early_stop": self.saved_by_early_stop,
                "not_executed": self.not_executed}
