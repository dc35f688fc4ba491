"""The student notebook of an assignment, generated from the marked reference like the .py template.

One notebook per assignment, for courses that hand out and take in notebooks (Jupyter, Colab):

* the statement's sections as Markdown cells, in the statement's order;
* after a section whose heading names module files (``## 1.1 `softmax.py` ``), the code of those
  modules as code cells, one per top-level definition, stubbed with the same TODO banners as
  `student_template/<a>/*.py` (template.strip_solutions); imports of the assignment's other modules
  (`from layers import Linear`) are left out: in one notebook those names are already defined;
* a cell defining a name that another module defines too (A4's `train` in linear.py and cnn.py)
  starts with `# grader-module: linear`: grading module `cnn` from the notebook skips it
  (worker/loader.py), as separate files would;
* after each task, once all of its modules are in, a check cell: `check("softmax")`
  (grader/notebook.py), which grades that task of the notebook's code in the sandboxed worker.

`solved=True` keeps the reference's code instead (for our tests: every check cell then shows full
marks). The output is deterministic: cell ids derive from each cell's content (and its repeat
count), and nbformat writes sorted keys, so regenerating does not churn git.
"""
from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ...engine import assignment as assignments
from .template import TemplateError, strip_solutions

SETUP = '''# Run this cell first. In Colab (or anywhere the grader is not installed yet), install it first:
#   !pip install dl-grader-student   (or the wheel your course hands out)
from grader.notebook import check'''

INTRO = """
---
**This notebook holds the whole assignment.** Write your code in the code cells below (replace each
`raise NotImplementedError(...)` between the TODO banners); keep every name and signature as it is.
After each task, its check cell grades the code this kernel has run, in the grader's sandbox (never
in this kernel), and shows the points and what to fix. Hand in this notebook (one `.ipynb`): the
grader takes every task from it. Cells that train, plot or download are fine: grading keeps only
imports, definitions and constants (docs/notebooks.md).
"""

_HEADING_RE = re.compile(r"^##\s")
_MODULE_RE = re.compile(r"`([A-Za-z_]\w*)\.py`")


def _sections(statement: str) -> list[str]:
    """The statement split before each `## ` heading (outside code fences); the first is the preamble."""
    parts: list[list[str]] = [[]]
    fenced = False
    for line in statement.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and _HEADING_RE.match(line):
            parts.append([])
        parts[-1].append(line)
    return ["\n".join(p).strip("\n") for p in parts if "\n".join(p).strip()]


def split_cells(source: str, siblings: set[str]) -> list[str]:
    """A module's source as code cells: its docstring and imports, then one cell per top-level
    definition (with the comments just above it); imports of `siblings` (the assignment's other
    modules) removed."""
    tree = ast.parse(source)
    lines = source.splitlines()
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "") in siblings:
            drop.update(range(node.lineno, node.end_lineno + 1))
        elif isinstance(node, ast.Import) and all(a.name in siblings for a in node.names):
            drop.update(range(node.lineno, node.end_lineno + 1))
    starts = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            while first > 1 and lines[first - 2].lstrip().startswith("#"):
                first -= 1  # the comment block above a definition goes with it
            starts.append(first)
    bounds = [1] + [s for s in starts if s > 1] + [len(lines) + 1]
    cells = []
    for a, b in zip(bounds, bounds[1:]):
        text = "\n".join(line for i, line in enumerate(lines[a - 1:b - 1], start=a) if i not in drop)
        text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
        if text.strip():
            cells.append(text)
    return cells


def _defined(cell: str) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(cell).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _mark_clashes(code: dict[str, list[str]]) -> None:
    """Mark the cells that define a public name another module defines too (see the docstring)."""
    owners: dict[str, set[str]] = {}
    for module, cells in code.items():
        for cell in cells:
            for name in _defined(cell):
                owners.setdefault(name, set()).add(module)
    clash = {n for n, ms in owners.items() if len(ms) > 1 and not n.startswith("_")}
    for module, cells in code.items():
        for i, cell in enumerate(cells):
            if _defined(cell) & clash:
                cells[i] = (f"# grader-module: {module}  (graded as {module}.py: another module of this "
                            f"assignment defines {', '.join(sorted(_defined(cell) & clash))} too)\n" + cell)


def _cell_ids(cells: list) -> None:
    """Fixed ids from each cell's type and content (the n-th repeat of a content gets its own id)."""
    seen: dict[str, int] = {}
    for cell in cells:
        key = cell.cell_type + "\0" + cell.source
        n = seen[key] = seen.get(key, 0) + 1
        cell.id = hashlib.sha1(f"{key}\0{n}".encode()).hexdigest()[:16]


def student_notebook(name: str, reference: Path, solved: bool = False) -> str:
    """The notebook of assignment `name` (nbformat 4 JSON text) from `reference/<name>/`."""
    asg = assignments.load(name)
    modules = list(dict.fromkeys(m for t in asg.tasks for m in t.modules))
    siblings = set(modules)
    code: dict[str, list[str]] = {}
    for module in modules:
        src = reference / f"{module}.py"
        if not src.is_file():
            raise TemplateError(f"{src}: the assignment asks for {module}.py, which the reference lacks")
        text = src.read_text(encoding="utf-8")
        if not solved:
            text = strip_solutions(text, f"reference/{name}/{module}.py")
        code[module] = split_cells(text, siblings - {module})

    _mark_clashes(code)
    cells = []
    done: set[str] = set()
    checked: set[str] = set()

    def add_modules(wanted: list[str]) -> None:
        for module in wanted:
            if module in done:
                continue
            cells.extend(new_code_cell(c) for c in code[module])
            done.add(module)
        for task in asg.tasks:  # a task is checked once all its modules are in
            if task.name not in checked and set(task.modules) <= done:
                cells.append(new_markdown_cell(f"**Check {task.title}** (`{task.name}`): run the cell below."))
                cells.append(new_code_cell(f'check("{task.name}")'))
                checked.add(task.name)

    statement = (asg.folder / "statement.md").read_text(encoding="utf-8")
    sections = _sections(statement)
    cells.append(new_markdown_cell(sections[0] + "\n" + INTRO))
    cells.append(new_code_cell(SETUP))
    for section in sections[1:]:
        cells.append(new_markdown_cell(section))
        heading = section.splitlines()[0]
        add_modules([m for m in _MODULE_RE.findall(heading) if m in siblings])
    rest = [m for m in modules if m not in done]
    if rest:  # modules no heading names: at the end, under a heading of their own
        cells.append(new_markdown_cell("## " + ", ".join(f"`{m}.py`" for m in rest)))
        add_modules(rest)

    _cell_ids(cells)
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "grader": {"assignment": name},
    })
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"
