"""Checks inside a notebook (Jupyter, Colab, VS Code): `from grader.notebook import check`, then
`check("softmax")` in a cell grades that task of the notebook's current code and shows the table
and the hints as the cell's output (HTML where the front end renders it, text elsewhere).

The student's code never runs in the kernel's process for grading: `check` writes the code into a
temporary submission folder and grades it with `grader.engine.runner.grade`, the same sandboxed
worker `grade check` uses. Which code is graded (`source`):

* "kernel" (the default inside IPython): the code cells this kernel has run, in the order they ran,
  from IPython's input history; where a name is defined twice, the later definition wins, as it
  does in the kernel. This is the only source in Colab, whose notebook is not on the local disk,
  and it needs no saving in Jupyter;
* "file": the saved notebook: the kernel's `__session__` or $JPY_SESSION_NAME (Jupyter), else the
  one `.grade.toml` names (`notebook = "..."`), else the only `.ipynb` in the current folder;
* a path to a `.ipynb` file.

The result says which source was graded. Nothing here needs IPython: `import grader.notebook`
works in a plain Python, and `check(..., source="file")` grades a saved notebook from a script.
"""
from __future__ import annotations

import html
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

MARKER = ".grade.toml"
HISTORY_NOTEBOOK = "kernel_history.ipynb"  # the name the kernel's code is graded under
COPY_LIMIT = 64 * 2**20  # bytes of other files (weights such as cnn.pt) copied beside the code
# The setup line and the check calls themselves are no part of the student's code.
_SETUP_RE = re.compile(r"^\s*(from\s+grader\.notebook\s+import\b|import\s+grader\.notebook\b)")


class CheckSetupError(RuntimeError):
    """`check` cannot tell what to grade (which assignment, which notebook): the message says why."""


# ----------------------------------------------------------------------------- the assignment
def _marker(folder: Path) -> dict:
    """The nearest `.grade.toml`'s table; {} when there is none or it cannot be read."""
    from .engine import assignment as assignments

    try:
        found = assignments.find_marker(folder)
    except ValueError:
        return {}
    return found[1] if found else {}


def find_assignment(task: str, name: Optional[str] = None) -> Any:
    """The assignment to grade: `name`, else `.grade.toml`'s, else the one with a task `task`."""
    from .engine import assignment as assignments

    known = assignments.available()
    name = name or _marker(Path.cwd()).get("assignment")
    if isinstance(name, str) and name:
        if name not in known:
            raise CheckSetupError(f"unknown assignment {name!r}; known: {', '.join(known)}")
        return assignments.load(name)
    having = [a for a in known if any(t.name == task for t in assignments.load(a).tasks)]
    if len(having) == 1:
        return assignments.load(having[0])
    if not having:
        tasks = sorted({t.name for a in known for t in assignments.load(a).tasks})
        raise CheckSetupError(f"no assignment has a task {task!r}; the tasks are: {', '.join(tasks)}")
    raise CheckSetupError(f"several assignments have a task {task!r} ({', '.join(having)}): "
                          f'say which, e.g. check("{task}", "{having[0]}")')


# ---------------------------------------------------------------------------------- the source
def _ipython() -> Any:
    """The running IPython shell, or None (IPython is never imported here: it may be absent)."""
    mod = sys.modules.get("IPython")
    get = getattr(mod, "get_ipython", None)
    return get() if get else None


def kernel_cells(shell: Any) -> list[str]:
    """The code cells the kernel has run, in order (raw input: magics as typed, neutralised by the
    grader's loader), without the grader's own setup line and empty cells."""
    hist = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
    if hist is None:
        hist = shell.user_ns.get("In", [])
    cells = []
    for code in list(hist)[1:]:  # In[0] is always ""
        if not isinstance(code, str) or not code.strip():
            continue
        # blank lines instead of the setup line: line numbers in the report still match the cell
        cells.append("\n".join("" if _SETUP_RE.match(line) else line for line in code.split("\n")))
    return cells


def saved_notebook(shell: Any = None) -> Path:
    """The saved notebook of this kernel (Jupyter), or the one the current folder holds."""
    cwd = Path.cwd()
    candidates = []
    if shell is not None:
        candidates.append(shell.user_ns.get("__session__"))
    candidates.append(os.environ.get("JPY_SESSION_NAME"))
    named = _marker(cwd).get("notebook")
    if isinstance(named, str):
        candidates.append(str(cwd / named))
    for c in candidates:
        if isinstance(c, str) and c.endswith(".ipynb") and Path(c).is_file():
            return Path(c)
    found = sorted(p for p in cwd.glob("*.ipynb") if p.is_file())
    if len(found) == 1:
        return found[0]
    what = f"{len(found)} notebooks ({', '.join(p.name for p in found[:5])})" if found else "no notebook"
    raise CheckSetupError(f"cannot tell which saved notebook to grade: the folder {cwd} holds {what}; "
                          f'name it: check(..., source="my_notebook.ipynb") or notebook = "..." in {MARKER}')


def _write_history(cells: list[str], dest: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nbformat.write(nb, str(dest / HISTORY_NOTEBOOK))


def _copy_beside(folder: Path, dest: Path, modules: set[str]) -> None:
    """Other files of the notebook's folder the checks may read (trained weights such as cnn.pt,
    helper modules): top level only, bounded; never notebooks or the assignment's .py modules,
    which would stand in for the notebook's code."""
    total = 0
    for p in sorted(folder.iterdir()):
        if (p.name.startswith(".") or not p.is_file() or p.is_symlink() or p.suffix == ".ipynb"
                or (p.suffix == ".py" and p.stem in modules)):
            continue
        size = p.stat().st_size
        if total + size > COPY_LIMIT:
            continue
        total += size
        shutil.copyfile(p, dest / p.name)


def notebook_submission(notebook: Path, parent: Path, assignment: Any) -> Path:
    """A submission folder in `parent` holding `notebook` alone (and the files beside it that the
    checks may read, never the assignment's .py modules): graded as the one notebook."""
    dest = Path(parent) / "submission"
    dest.mkdir()
    shutil.copyfile(notebook, dest / notebook.name)
    _copy_beside(notebook.resolve().parent, dest, {m for t in assignment.tasks for m in t.modules})
    return dest


# ---------------------------------------------------------------------------------- the result
@dataclass
class NotebookCheck:
    """What `check` returns: the Report, and which code was graded; shown as the cell's output."""

    task: str
    report: Any  # grader.engine.model.Report
    source: str  # e.g. "the 12 code cells this kernel has run"

    @property
    def score(self) -> float:
        return self.report.score

    @property
    def max_score(self) -> float:
        return self.report.max_score

    def __repr__(self) -> str:
        from .reports.table import to_table

        return to_table(self.report, width=100)  # its first line says what was graded

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython's text display
        p.text(repr(self))

    def _repr_html_(self) -> str:
        from .engine.model import Status
        from .reports._text import STATUS_LABELS, pts
        from .reports.table import next_step

        e = html.escape
        r = self.report
        colour = {Status.PASSED: "#1a7f37", Status.FAILED: "#cf222e", Status.MISSING: "#9a6700"}
        rows = []
        for c in r.checks:
            note = ""
            if c.status != Status.PASSED and c.message:
                note = (f"<div style='white-space:pre-wrap;font-family:monospace;font-size:90%'>"
                        f"{e(c.message[:3000])}</div>")
            if c.status != Status.PASSED and c.output:
                note += (f"<details><summary>your code's output</summary><pre>{e(c.output[:3000])}"
                         f"</pre></details>")
            rows.append(f"<tr><td style='text-align:left'>{e(c.title)}{note}</td>"
                        f"<td>{pts(c.score)} / {pts(c.max_score)}</td>"
                        f"<td style='color:{colour.get(c.status, '#8250df')}'>"
                        f"{e(STATUS_LABELS.get(c.status, str(c.status)))}</td></tr>")
        warn = "".join(f"<li>{e(w[:500])}</li>" for w in r.warnings[:10])
        return ("<div class='grader-check'>"
                f"<b>{e(self.task)}: {pts(r.score)} / {pts(r.max_score)} points</b> "
                f"({sum(c.status == Status.PASSED for c in r.checks)} of {len(r.checks)} checks passed, "
                f"{r.execution_time:.1f} s)"
                "<table><tr><th style='text-align:left'>check</th><th>points</th><th>status</th></tr>"
                + "".join(rows) + "</table>"
                + (f"<p>Warnings:</p><ul>{warn}</ul>" if warn else "")
                + f"<p><b>{e(next_step(r))}</b></p>"
                f"<p style='font-size:85%'>Graded: {e(self.source)}. Isolation: {e(r.isolation)}.</p></div>")


# ---------------------------------------------------------------------------------- check()
def check(task: str, assignment: Optional[str] = None, *,
          source: Union[str, Path, None] = None) -> NotebookCheck:
    """Grade the public checks of `task` on this notebook's code, in the sandboxed worker.

    `assignment`: by default `.grade.toml`'s, else the assignment that has a task `task`.
    `source`: "kernel" (default in IPython: the cells this kernel has run), "file" (the saved
    notebook), or the path of a notebook.
    """
    from .engine.runner import grade

    asg = find_assignment(task, assignment)
    if task not in [t.name for t in asg.tasks]:
        raise CheckSetupError(f"{asg.name} has no task {task!r}; its tasks: {', '.join(t.name for t in asg.tasks)}")
    shell = _ipython()
    if source is None:
        source = "kernel" if shell is not None else "file"
    modules = {m for t in asg.tasks for m in t.modules}
    with tempfile.TemporaryDirectory(prefix="grader-notebook-") as tmp:
        dest = Path(tmp) / "submission"
        dest.mkdir()
        if source == "kernel":
            if shell is None:
                raise CheckSetupError('source="kernel" needs a running IPython kernel; use source="file"')
            cells = kernel_cells(shell)
            _write_history(cells, dest)
            folder = Path.cwd()
            said = (f"the {len(cells)} code cells this kernel has run, in the order they ran (the "
                    "latest definition of a name wins, as in the kernel; run your code cells first)")
        else:
            nb = saved_notebook(shell) if source == "file" else Path(source)
            if not nb.is_file():
                raise CheckSetupError(f"no such notebook: {nb}")
            dest.rmdir()
            dest = notebook_submission(nb, Path(tmp), asg)
            folder = None
            said = f"the saved notebook {nb.name} (save it first: unsaved edits are not graded)"
        if folder is not None:
            _copy_beside(folder, dest, modules)
        t0 = time.monotonic()
        report = grade(dest, asg, tasks=[task])
        report.execution_time = time.monotonic() - t0
    report.submission = said  # the temporary folder is gone: say what was graded instead
    return NotebookCheck(task, report, said)
