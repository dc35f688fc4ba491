"""Import a student's module from `name.py`, or from `name.ipynb` when there is no .py.

Notebooks are read with nbformat. IPython magics (`%...`, `%%...` cells) and shell escapes (`!...`)
never run: they are replaced by `pass` so that line numbers in tracebacks still match the cell.
In the default "definitions" mode only imports, function and class definitions and constant
assignments are kept, so that training cells, plots and downloads in the notebook do not run.
"""
from __future__ import annotations

import ast
import importlib.abc
import importlib.util
import sys
from pathlib import Path

NOTEBOOK_MODES = ("definitions", "all")


def _strip_magics(source: str) -> str | None:
    """Return the cell's code with IPython-only lines neutralised, or None for a cell magic."""
    if source.lstrip().startswith("%%"):
        return None
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("!", "%")):
            indent = line[: len(line) - len(stripped)]
            lines.append(indent + "pass  # IPython-only line removed by the grader")
        else:
            lines.append(line)
    return "\n".join(lines)


def _has_call(node: ast.AST) -> bool:
    return any(isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)) for n in ast.walk(node))


def _is_constant_name(target: ast.expr) -> bool:
    names = [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    return bool(names) and all(n.isupper() or n.startswith("_") and n[1:].isupper() for n in names)


def _keep(node: ast.stmt) -> bool:
    """Definitions mode: which top-level statements of a notebook cell are kept."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if node.value is None:
            return True
        # Constants: a value with no call in it (`LR = 0.1`, `SIZES = [784, 300, 10]`), or an
        # ALL_CAPS name (`DEVICE = torch.device("cpu")`), by the usual convention for constants.
        return not _has_call(node.value) or all(_is_constant_name(t) for t in targets)
    return False


def notebook_code(path: Path, mode: str = "definitions") -> tuple[list[tuple[str, ast.Module]], list[str]]:
    """Return [(pseudo-filename, code)] per kept cell and warnings about skipped cells."""
    import nbformat  # imported lazily: only notebook submissions pay for it

    nb = nbformat.read(str(path), as_version=4)
    cells, warnings = [], []
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        code = _strip_magics(cell.source)
        if code is None or not code.strip():
            continue
        fname = f"{path.name}[cell {i}]"
        try:
            tree = ast.parse(code, filename=fname)
        except SyntaxError as exc:
            warnings.append(f"{fname}: skipped, syntax error at line {exc.lineno}: {exc.msg}")
            continue
        if mode == "definitions":
            tree.body = [n for n in tree.body if _keep(n)]
            if not tree.body:
                continue
        cells.append((fname, tree))  # compiling the (filtered) tree keeps the cell's line numbers
    return cells, warnings


class NotebookFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Lets `import softmax` (and a student's `from layers import Linear`) find softmax.ipynb."""

    def __init__(self, folder: Path, mode: str):
        self.folder, self.mode = folder, mode
        self.warnings: dict[str, list[str]] = {}

    def find_spec(self, fullname, path=None, target=None):
        if path is not None or "." in fullname:
            return None
        if (self.folder / f"{fullname}.py").exists():
            return None  # a .py file wins; the normal path finder loads it
        nb = self.folder / f"{fullname}.ipynb"
        if not nb.exists():
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=str(nb))

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        nb = Path(module.__spec__.origin)
        module.__file__ = str(nb)
        cells, warnings = notebook_code(nb, self.mode)
        self.warnings[module.__name__] = warnings
        for fname, tree in cells:
            exec(compile(tree, fname, "exec"), module.__dict__)


def install(folder: Path, mode: str = "definitions") -> NotebookFinder:
    finder = NotebookFinder(folder, mode)
    sys.meta_path.insert(0, finder)
    return finder
