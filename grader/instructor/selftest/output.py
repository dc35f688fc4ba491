"""What `grade selftest` shows: terminal tables (rich) and a JSON document.

Terminal: the reference / template / variants lines, one matrix per task (its checks × the wrong
submissions graded on it: ● loses points, · keeps full marks, blank: not graded on it), the checks
no wrong submission fails, the mutation score per task and every surviving mutant with its diff.
"""
from __future__ import annotations

from typing import Any, Optional

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .run import CaseResult, SelftestResult

JSON_SCHEMA = "dl-grader-selftest/1"
CAUGHT, KEPT = "●", "·"


def _status_line(case: CaseResult) -> str:
    if case.status == "skipped":
        return f"skipped: {case.message}"
    if case.problems:
        return f"{len(case.problems)} problem(s)"
    full = sum(1 for c in case.checks.values() if c.full)
    return f"ok ({full}/{len(case.checks)} checks full marks)" if case.kind != "template" else \
        f"ok (0 points on all {len(case.checks)} checks)"


def render(result: SelftestResult, console: Optional[Console] = None, diffs: int = 20) -> None:
    """Print the self-test of one assignment; `diffs`: how many survivors to show with their diff."""
    console = console or Console()
    console.print(f"[bold]grade selftest {result.assignment}[/bold]: {len(result.checks)} checks, "
                  f"{len(result.of('wrong'))} wrong submissions, {len(result.of('variant'))} variants, "
                  f"{len(result.of('mutant'))} automatic mutants (of {result.mutants_found}); "
                  f"FashionMNIST checks {'on' if result.data else 'off (data not installed)'}; "
                  f"{result.duration:.0f} s")
    basics = Table(title="Reference, template and correct variants", title_justify="left")
    basics.add_column("case"), basics.add_column("result")
    for case in result.of("reference") + result.of("template") + result.of("variant"):
        label = case.name if case.kind != "variant" else f"variant {case.name}"
        style = "red" if case.problems else ("yellow" if case.status == "skipped" else "green")
        basics.add_row(label, Text(_status_line(case), style=style))
    console.print(basics)
    _matrices(result, console)
    if result.uncaught:
        console.print("[bold red]Checks that no wrong submission fails[/bold red] (a check that cannot fail is a "
                      "defect: register a wrong submission in cases.py that it catches):")
        for cid in result.uncaught:
            console.print(f"  {cid}")
    _mutation(result, console, diffs)
    for w in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    problems = result.problems
    if problems:
        console.print(f"[bold red]{len(problems)} problem(s):[/bold red]")
        for p in problems:
            console.print(f"  - {p}", markup=False, highlight=False)
    else:
        console.print("[bold green]no problems[/bold green]: the reference gets full marks, the template 0, every "
                      "wrong submission is caught by its checks and every variant keeps full marks")


def _matrices(result: SelftestResult, console: Console) -> None:
    wrong = [c for c in result.of("wrong") if c.status != "skipped"]
    for task in dict.fromkeys(c.task for c in result.checks):
        ids = [c.id for c in result.checks if c.task == task]
        cols = [w for w in wrong if any(cid in w.checks for cid in ids) or
                (w.status != "graded" and any(cid in w.expect for cid in ids))]
        if not cols:
            continue
        table = Table(title=f"Task {task}: who catches what ({CAUGHT} loses points, {KEPT} full marks, "
                            "✗ declared in catches but gave full marks)", title_justify="left")
        table.add_column("check")
        for i, _ in enumerate(cols, 1):
            table.add_column(f"W{i}", justify="center", no_wrap=True)
        table.add_column("caught", justify="right")
        for cid in ids:
            cells, n = [], 0
            for w in cols:
                c = w.checks.get(cid)
                if w.status != "graded" and cid in w.expect:
                    cells.append(Text(CAUGHT, style="magenta"))  # the whole grading failed: 0 for a student
                    n += 1
                elif c is None:
                    cells.append("")
                elif c.lost:
                    cells.append(Text(CAUGHT, style="green"))
                    n += 1
                else:
                    cells.append(Text("✗", style="bold red") if cid in w.expect else KEPT)
            table.add_row(cid, *cells, Text(str(n), style="red" if n == 0 else ""))
        console.print(table)
        legend = "  ".join(f"W{i}={w.name}" + (f" ({w.status})" if w.status != "graded" else "")
                           for i, w in enumerate(cols, 1))
        console.print(Text(legend, style="dim"))


def _mutation(result: SelftestResult, console: Console, diffs: int) -> None:
    mutants = result.of("mutant")
    if not mutants:
        return
    table = Table(title="Automatic mutants per task", title_justify="left")
    for col in ("task", "mutants", "killed", "survived", "equivalent", "mutation score"):
        table.add_column(col, justify="right" if col != "task" else "left")
    for task, row in sorted(result.mutation_scores().items()):
        table.add_row(task, str(row["total"]), str(row["killed"]), str(row["survived"]), str(row["equivalent"]),
                      f"{100 * row['score']:.0f}%")
    console.print(table)
    sv = result.savings
    if sv.all_checks:
        console.print(f"Check-gradings of the mutants: {sv.run} run of {sv.all_checks} (every check of their tasks); "
                      f"coverage saved {sv.saved_by_coverage}, stopping at the first failing check "
                      f"{sv.saved_by_early_stop}; {sv.not_executed} mutant(s) not executed by any check",
                      highlight=False)
    survivors = [m for m in mutants if m.verdict == "survived"]
    if survivors:
        console.print(f"[bold yellow]{len(survivors)} surviving mutant(s)[/bold yellow]: no check loses points. "
                      "Add a check (or a wrong submission) that catches it, or mark it in cases.py's EQUIVALENT "
                      "with the reason it behaves like the reference:")
        for m in survivors[:diffs]:
            console.print(Text(m.name, style="bold"), Text(m.mutant.description), highlight=False)
            if m.status == "not_executed":
                console.print(Text(f"  {m.message}: no check calls {m.mutant.scope or m.mutant.function}",
                                   style="yellow"))
            console.print(Text(m.mutant.diff(result.sources.get(m.mutant.file, "")).rstrip(), style="dim"))
        if len(survivors) > diffs:
            console.print(f"  (+{len(survivors) - diffs} more: --json has them all, with diffs)")
    marked = [m for m in mutants if m.verdict == "equivalent"]
    if marked:
        console.print(f"{len(marked)} mutant(s) marked equivalent (not counted): " +
                      ", ".join(m.name for m in marked), highlight=False, markup=False)


def _case_json(case: CaseResult, original: dict[str, str]) -> dict[str, Any]:
    """One case as plain data (a mutant with its diff, not its checks' messages)."""
    d: dict[str, Any] = {"kind": case.kind, "name": case.name, "status": case.status, "message": case.message,
                         "duration": round(case.duration, 3), "problems": list(case.problems),
                         "lost_points": case.lost,
                         "checks": {cid: {"score": c.score, "max_score": c.max_score, "status": c.status,
                                          "message": c.message[:2000]} for cid, c in case.checks.items()}}
    if case.kind == "wrong":
        d["catches"] = list(case.expect)
    if case.mutant is not None:
        m = case.mutant
        d["not_run"] = list(case.not_run)
        d.update(verdict=case.verdict, file=m.file, line=m.line, function=m.function, operator=m.operator,
                 description=m.description, diff=m.diff(original.get(m.file, "")),
                 equivalent_reason=case.equivalent_reason)
        d.pop("checks")  # the killing checks are in lost_points; the messages would make it huge
    return d


def to_json(result: SelftestResult) -> dict[str, Any]:
    """The whole self-test as plain data (docs/selftest.md describes it)."""
    return {
        "schema": JSON_SCHEMA,
        "assignment": result.assignment,
        "ok": result.ok,
        "problems": result.problems,
        "warnings": list(result.warnings),
        "data": result.data,
        "duration": round(result.duration, 3),
        "checks": [{"id": c.id, "task": c.task, "visibility": c.visibility.value, "needs_data": c.needs_data}
                   for c in result.checks],
        "matrix": result.catchers(),
        "uncaught_checks": list(result.uncaught),
        "mutation": {"found": result.mutants_found, "graded": len(result.of("mutant")),
                     "per_task": result.mutation_scores(),
                     "check_gradings": result.savings.to_dict(),
                     "not_executed": [m.name for m in result.of("mutant") if m.status == "not_executed"],
                     "survivors": [m.name for m in result.of("mutant") if m.verdict == "survived"]},
        "cases": [_case_json(c, result.sources) for c in result.cases],
    }
