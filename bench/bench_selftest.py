"""Benchmark: the whole self-test of each assignment, the old way and with coverage selection.

    python bench/bench_selftest.py [ASSIGNMENT ...] [--mode before|after|both] [--jobs 2]
                                   [--mutants N] [--task T] [--no-data] [--mutants-only] [--json out.json]

before  every mutant graded on every check of its tasks, no early stop (`grade selftest --all-checks`)
after   each mutant on the checks that ran its function, cheapest first, stopping at the first
        that fails (the default)

Prints, per assignment and mode: mutants graded (of those generated), check-gradings of the
mutants (every check of their tasks / selected by coverage / run), wall time, the mutants' phase,
and the mutation score per task. With `--mutants N` (a seeded sample) it also extrapolates the
whole run: the non-mutant phase plus the mutants' phase scaled to every mutant. With `--mode both`
it says whether the two modes gave every mutant the same verdict (the selection's soundness, measured).
"""
from __future__ import annotations

import argparse
import json
import time

from grader.engine import assignment as assignments
from grader.instructor.selftest import SelftestOptions, selftest


def run(name: str, a: argparse.Namespace, all_checks: bool) -> dict:
    t0 = time.monotonic()
    kinds = ("mutant",) if a.mutants_only else ("reference", "template", "wrong", "variant", "mutant")
    r = selftest(name, SelftestOptions(jobs=a.jobs, tasks=tuple(a.task), mutants=a.mutants, seed=a.seed,
                                       data=False if a.no_data else None, all_checks=all_checks, kinds=kinds))
    wall = time.monotonic() - t0
    mutants = r.of("mutant")
    sv = r.savings
    whole = wall - r.mutant_seconds + (r.mutant_seconds * r.mutants_found / len(mutants) if mutants else 0)
    row = {"assignment": name, "mode": "before" if all_checks else "after", "data": r.data,
           "mutants": len(mutants), "mutants_found": r.mutants_found, "check_gradings": sv.to_dict(),
           "wall_s": round(wall, 1), "mutant_phase_s": round(r.mutant_seconds, 1),
           "whole_s_extrapolated": round(whole, 1), "problems": len(r.problems),
           "scores": {t: round(100 * row["score"], 1) for t, row in sorted(r.mutation_scores().items())},
           "verdicts": {m.name: m.verdict for m in mutants},
           "mutant_cases": {m.name: {"s": round(m.duration, 2), "checks": len(m.checks)} for m in mutants}}
    print(f"{name:16s} {row['mode']:6s} data={'on' if r.data else 'off'} mutants {len(mutants)}/{r.mutants_found}  "
          f"check-gradings all={sv.all_checks} selected={sv.selected} run={sv.run} "
          f"(not executed: {sv.not_executed})  wall {wall:.0f} s (mutants {r.mutant_seconds:.0f} s)"
          + (f"  whole run ≈ {whole / 60:.1f} min" if len(mutants) < r.mutants_found else "")
          + f"  problems {len(r.problems)}", flush=True)
    print("    " + ", ".join(f"{t} {s:g}%" for t, s in row["scores"].items()), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("assignments", nargs="*", help="default: every assignment")
    ap.add_argument("--mode", choices=("before", "after", "both"), default="both")
    ap.add_argument("--task", action="append", default=[])
    ap.add_argument("--mutants", type=int, default=None, help="a seeded sample (default: every mutant)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-data", action="store_true")
    ap.add_argument("--mutants-only", action="store_true",
                    help="grade the mutants only (and the reference, for its coverage): the mutants' phase, "
                         "to add to the other phase measured once")
    ap.add_argument("--json", help="write every row (with each mutant's verdict) here")
    a = ap.parse_args()
    rows = []
    for name in a.assignments or assignments.available():
        modes = {"before": [True], "after": [False], "both": [False, True]}[a.mode]
        pair = [run(name, a, all_checks) for all_checks in modes]
        rows += pair
        if len(pair) == 2:
            after, before = pair
            same = after["verdicts"] == before["verdicts"]
            differ = sorted(k for k in after["verdicts"] if after["verdicts"][k] != before["verdicts"].get(k))
            print(f"    same verdict for every mutant: {same}" + (f" (differ: {', '.join(differ)})" if differ else "")
                  + f"; wall {before['wall_s']:.0f} s → {after['wall_s']:.0f} s", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
