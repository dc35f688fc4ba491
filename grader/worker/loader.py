"""Import a student's module from `name.py`, or from `name.ipynb` when there is no .py, or else from
the submission's one notebook under any name (`assignment1.ipynb`, or the one `.grade.toml` names).

A notebook that holds several tasks stands in for every module the assignment asks for that has no
file of its own: `import softmax` and `import layers` then each load that notebook (in the same mode)
as a module of that name. `single_notebook` says which notebook that is, or why there is none.

Notebooks are read with nbformat. IPython-only syntax never runs: shell escapes (`!pip ...`), line
magics (`%matplotlib inline`), help (`np.dot?`) and `x = !ls` become `pass` (or `x = None`), so that
line numbers in tracebacks still match the cell; `%time STMT` keeps STMT. Cell magics (`%%bash`,
`%%timeit`, ...) skip their cell, except `%%time`, `%%capture` and `%%prun`, whose body is Python run
in the notebook's namespace. Only lines that start a statement are touched: a `%` that continues an
expression or a `!`/`?` inside a multi-line string stay as they are. A cell that still is not valid
Python (e.g. a top-level `await`) is skipped with a warning.

Two modes:

* "definitions" (default): only imports, function and class definitions, constant assignments and
  `try:` blocks made of those are kept, so that training cells, plots and downloads do not run.
  An assignment is a constant when its value calls nothing (`LR = 0.1`, `relu = lambda z: ...`), when
  it only calls cheap constructors (`partial`, `namedtuple`, `np.random.default_rng`,
  `torch.device`, ...; see `_CHEAP_CALLS`), or when every name it assigns is ALL_CAPS with at least
  two letters (`DEVICE = torch.device("cpu")`, `CLASSES = list(range(10))`) by the usual convention
  for constants; single capitals such as `X = load_data()` are data, not constants. Every kept
  statement runs on its own: one that raises (`import matplotlib` where it is not installed) is
  skipped with a warning and the rest of the notebook still loads.
* "all": every code cell runs top to bottom, as "Restart & Run All" would; an exception fails the
  import (and the checks that need the module).

Warnings are collected per module in `NotebookFinder.warnings` (the worker reports them).
"""
from __future__ import annotations

import __future__
import ast
import importlib.abc
import importlib.machinery
import importlib.util
import linecache
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType

NOTEBOOK_MODES = ("definitions", "all")

_REMOVED = "pass  # IPython-only line removed by the grader"
# Cell magics whose body is Python executed in the notebook's namespace: the body is kept.
# (%%timeit is not among them: IPython runs its body in a throw-away namespace.)
_PYTHON_CELL_MAGICS = {"time", "capture", "prun"}
_HELP_RE = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.\[\]()]+\?{1,2})\s*(#.*)?$")  # ?obj  obj?  obj??
_MAGIC_ASSIGN_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*[!%]")  # files = !ls ; t = %timeit -o f()
_TIME_RE = re.compile(r"^%time\s+(\S.*)$")  # %time model = train(): IPython runs the statement
_WARN_CHARS = 300

# Calls that only build a value cheaply, allowed in kept assignments of any name (definitions mode):
# matched on the called name's last part (`functools.partial`, `np.random.default_rng`, ...).
_CHEAP_CALLS = frozenset({
    "partial", "namedtuple", "NamedTuple", "TypeVar", "NewType", "defaultdict", "OrderedDict",
    "vectorize", "dtype", "default_rng", "RandomState", "device", "is_available", "getLogger",
})


# ---------------------------------------------------------------------------------- IPython syntax
class _Continuation:
    """Tracks, line by line, whether the next line continues a statement: open brackets, an open
    triple-quoted string, a trailing backslash. One pass over each line: linear in the cell's size
    (re-tokenising everything before each magic line, as before, was quadratic)."""

    def __init__(self) -> None:
        self.depth = 0  # open ( [ {
        self.quote = ""  # the open triple quote, if any
        self.backslash = False  # the last line ended with a line-continuation backslash

    def continues(self) -> bool:
        return self.depth > 0 or bool(self.quote) or self.backslash

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        comment = False
        while i < n:
            ch = line[i]
            if self.quote:
                if ch == "\\":
                    i += 2
                elif line.startswith(self.quote, i):
                    i += 3
                    self.quote = ""
                else:
                    i += 1
                continue
            if ch == "#":
                comment = True
                break
            if ch in "\"'":
                if line[i:i + 3] in ('"""', "'''"):
                    self.quote = line[i:i + 3]
                    i += 3
                    continue
                j = i + 1  # a one-line string: skip to its end (an unclosed one ends the line)
                while j < n and line[j] != ch:
                    j += 2 if line[j] == "\\" else 1
                i = j + 1
                continue
            if ch in "([{":
                self.depth += 1
            elif ch in ")]}":
                self.depth = max(0, self.depth - 1)
            i += 1
        self.backslash = not self.quote and not comment and line.endswith("\\")


# The in-notebook check's setup line (grader/notebook.py): while grading, `check(...)` cells do
# nothing (the grader may not even be importable in the sandbox, and must never grade recursively).
_CHECK_IMPORT_RE = re.compile(r"^from\s+grader\.notebook\s+import\s+check\s*(#.*)?$")
_CHECK_STUB = "check = lambda *args, **kwargs: None  # grader.notebook's check: nothing to do while grading"


def _ipython_line(line: str) -> str | None:
    """The Python replacement of an IPython-only line (or of the in-notebook check's import), or
    None when the line is plain Python."""
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    if _CHECK_IMPORT_RE.match(stripped):
        return indent + _CHECK_STUB
    if stripped.startswith(("!", "%")):
        m = _TIME_RE.match(stripped)
        return indent + m.group(1) if m else indent + _REMOVED
    if _HELP_RE.match(line):
        return indent + _REMOVED
    m = _MAGIC_ASSIGN_RE.match(line)
    if m:
        return f"{indent}{m.group(1)} = None  # IPython-only value removed by the grader"
    return None


def _strip_magics(source: str) -> str | None:
    """Return the cell's code with IPython-only lines neutralised, or None for a (non-Python) cell magic.

    Line numbers are preserved: every line of the cell is still there, replaced or not.
    """
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return ""
    head = lines[first].lstrip()
    if head.startswith("%%"):
        magic = head[2:].split(maxsplit=1)[0] if head[2:].strip() else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return None
        lines[first] = _REMOVED
    out: list[str] = []
    state = _Continuation()
    for line in lines:
        replacement = _ipython_line(line) if not state.continues() else None
        if replacement is not None:  # an IPython line that starts a statement
            out.append(replacement)
            continue
        out.append(line)
        state.feed(line)
    return "\n".join(out)


# ------------------------------------------------------------------------------- definitions mode
def _called_name(call: ast.Call) -> str:
    f = call.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return ""


def _has_call(node: ast.AST) -> bool:
    """Whether evaluating `node` calls anything but a cheap constructor (a lambda's body is not run)."""
    if isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom)):
        return True
    if isinstance(node, ast.Call) and _called_name(node) not in _CHEAP_CALLS:
        return True
    if isinstance(node, ast.Lambda):  # only its default values are evaluated now
        return any(_has_call(d) for d in [*node.args.defaults, *node.args.kw_defaults] if d is not None)
    return any(_has_call(child) for child in ast.iter_child_nodes(node))


def _constant_like(name: str) -> bool:
    core = name.strip("_")
    return core.isupper() and sum(ch.isalpha() for ch in core) >= 2


def _is_constant_name(target: ast.expr) -> bool:
    """ALL_CAPS names with two letters or more (`DEVICE`, `N_EPOCHS`); `X`, `W` are data, not constants."""
    names = [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    return bool(names) and all(_constant_like(n) for n in names)


_TRY_TYPES = tuple(t for t in (getattr(ast, "Try", None), getattr(ast, "TryStar", None)) if t)


def _keep(node: ast.stmt) -> bool:
    """Definitions mode: which top-level statements of a notebook cell are kept."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if node.value is None:
            return True
        # Constants: a value with no (expensive) call in it (`LR = 0.1`, `SIZES = [784, 300, 10]`), or
        # ALL_CAPS names (`DEVICE = torch.device("cpu")`), by the usual convention for constants.
        return not _has_call(node.value) or all(_is_constant_name(t) for t in targets)
    if isinstance(node, _TRY_TYPES):  # try: import torch / except ImportError: torch = None
        body = [*node.body, *node.orelse, *node.finalbody, *(s for h in node.handlers for s in h.body)]
        return all(isinstance(s, ast.Pass) or _keep(s) for s in body)
    return False


# ------------------------------------------------------------------------------------- notebooks
@dataclass
class NotebookCell:
    """One code cell as the grader runs it.

    name: pseudo file name `nb.ipynb[cell N]` (N counts every cell, Markdown included, from 1);
    source: the cell's code with IPython syntax neutralised (what tracebacks quote);
    tree: the parsed (in definitions mode, filtered) cell;
    units: what runs, in order, as (first line, code): the whole cell in "all" mode, one unit per kept
    statement in "definitions" mode.
    """

    name: str
    source: str
    tree: ast.Module
    units: list[tuple[int, CodeType]] = field(default_factory=list)


def _read_notebook(path: Path):
    """The notebook, validated: a file that is not JSON, or JSON that is not nbformat (a cell whose
    source is a number, no `cells` list), is an ImportError naming the file, never a crash later."""
    import nbformat  # imported lazily: only notebook submissions pay for it

    try:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)  # nbformat.read only logs what is invalid
    except Exception as exc:
        what = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ImportError(f"{path.name} cannot be read as a Jupyter notebook: "
                          f"{type(exc).__name__}: {what[:_WARN_CHARS]}") from None
    return nb


def _future_flags(node: ast.stmt) -> int:
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return sum(getattr(__future__, a.name).compiler_flag for a in node.names
                   if hasattr(__future__, a.name))
    return 0


def _first_line(source: str, lineno: int) -> str:
    lines = source.splitlines()
    text = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""
    return text if len(text) <= 60 else text[:57] + "..."


# A cell whose first line is `# grader-module: linear` belongs to module `linear` only: in one
# notebook holding several tasks, two modules may define the same name (A4's linear.py and cnn.py
# both have `train`); loading `cnn` from the notebook then skips the cells of `linear`.
_OWNER_RE = re.compile(r"^\s*#\s*grader-module:\s*([A-Za-z_]\w*)")


def cell_owner(source: str) -> str | None:
    """The module a cell is marked for (`# grader-module: NAME` on its first line), or None."""
    m = _OWNER_RE.match(source.split("\n", 1)[0])
    return m.group(1) if m else None


def _for_module(source: str, module: str | None) -> bool:
    owner = cell_owner(source) if module else None
    return owner is None or owner == module


def notebook_code(path: Path, mode: str = "definitions",
                  module: str | None = None) -> tuple[list[NotebookCell], list[str]]:
    """Return the code cells to run (for `module`: without the cells marked for another module),
    and warnings about skipped cells and statements."""
    if mode not in NOTEBOOK_MODES:
        raise ValueError(f"notebook mode must be one of {NOTEBOOK_MODES}, not {mode!r}")
    nb = _read_notebook(path)
    cells: list[NotebookCell] = []
    warnings: list[str] = []
    flags = 0  # __future__ imports carry over to later cells, as in IPython
    for i, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code" or not _for_module(cell.source, module):
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
        out = NotebookCell(fname, code, tree)
        if mode == "all":
            for node in tree.body:
                flags |= _future_flags(node)
            try:
                out.units.append((1, compile(tree, fname, "exec", flags=flags, dont_inherit=True)))
            except (SyntaxError, ValueError) as exc:  # e.g. 'await' outside function: found by compile
                warnings.append(f"{fname}: skipped, syntax error at line {getattr(exc, 'lineno', '?')}: "
                                f"{getattr(exc, 'msg', exc)}")
                continue
        else:
            kept = []
            for node in tree.body:
                if not _keep(node):
                    continue
                flags |= _future_flags(node)
                try:
                    unit = compile(ast.Module(body=[node], type_ignores=[]), fname, "exec",
                                   flags=flags, dont_inherit=True)
                except (SyntaxError, ValueError) as exc:
                    warnings.append(f"{fname}, line {node.lineno}: skipped `{_first_line(code, node.lineno)}`: "
                                    f"syntax error: {getattr(exc, 'msg', exc)}")
                    continue
                kept.append(node)
                out.units.append((node.lineno, unit))
            tree.body = kept
            if not kept:
                continue
        cells.append(out)
    return cells, warnings


def notebook_source(path: Path, module: str | None = None) -> str:
    """The notebook's code as one Python source text, for checks that read the code (never run here).

    Code cells with IPython syntax neutralised, in order; cells that are not valid Python and (for
    `module`) cells marked for another module are left out.
    """
    parts = []
    for cell in _read_notebook(path).cells:
        if cell.get("cell_type") != "code" or not _for_module(cell.source, module):
            continue
        code = _strip_magics(cell.source)
        if not code or not code.strip():
            continue
        try:
            ast.parse(code)
        except SyntaxError:
            continue
        parts.append(code)
    return "\n\n".join(parts) + "\n"


MARKER = ".grade.toml"  # `notebook = "assignment1.ipynb"` names the notebook to grade
MAX_MARKER_BYTES = 64 * 1024


def single_notebook(folder: Path) -> tuple[Path | None, str]:
    """The notebook that stands in for modules without a file of their own, or (None, why not).

    The one `.grade.toml` names (`notebook = "..."`, a file at the top of the submission), else the
    only `.ipynb` at the top. Several and none named: no notebook, and the reason names them all.
    """
    folder = Path(folder)
    marker = folder / MARKER
    if marker.is_file():
        try:
            named = tomllib.loads(marker.read_bytes()[:MAX_MARKER_BYTES].decode("utf-8")).get("notebook")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            return None, f"{MARKER} cannot be read ({type(exc).__name__})"
        if named is not None:
            if not isinstance(named, str) or "/" in named or "\\" in named or not named.endswith(".ipynb"):
                return None, f'{MARKER}: notebook must be the name of a .ipynb file at the top, not {str(named)[:100]!r}'
            if not (folder / named).is_file():
                return None, f"{MARKER} names the notebook {named}, which is not in the submission"
            return folder / named, ""
    found = sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.name.startswith("."))
    if len(found) == 1:
        return found[0], ""
    if not found:
        return None, ""
    names = ", ".join(p.name for p in found[:10]) + (" ..." if len(found) > 10 else "")
    return None, (f"the submission holds {len(found)} notebooks ({names}) and none is named: put "
                  f'notebook = "{found[0].name}" (the one to grade) in {MARKER}')


class NotebookFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Lets `import softmax` (and a student's `from layers import Linear`) find softmax.ipynb, or the
    submission's one notebook for the assignment's modules (`stand_ins`) that have no file."""

    def __init__(self, folder: Path, mode: str):
        if mode not in NOTEBOOK_MODES:
            raise ValueError(f"notebook mode must be one of {NOTEBOOK_MODES}, not {mode!r}")
        self.folder, self.mode = Path(folder), mode
        self.warnings: dict[str, list[str]] = {}
        self.stand_ins: set[str] = set()  # module names the one notebook may stand in for
        self._single: tuple[Path | None, str] | None = None

    def single(self) -> tuple[Path | None, str]:
        """`single_notebook` of the folder, looked up once (the scratch copy does not change)."""
        if self._single is None:
            self._single = single_notebook(self.folder)
        return self._single

    def notebook_for(self, fullname: str) -> Path | None:
        """The notebook module `fullname` is loaded from, or None (a .py file, a package, nothing)."""
        if (self.folder / f"{fullname}.py").exists() or (self.folder / fullname / "__init__.py").exists():
            return None  # a .py file (or package) wins; the normal path finder loads it
        nb = self.folder / f"{fullname}.ipynb"
        if nb.is_file():
            return nb
        if fullname in self.stand_ins:
            return self.single()[0]
        return None

    def find_spec(self, fullname, path=None, target=None):
        if path is not None or "." in fullname:
            return None
        nb = self.notebook_for(fullname)
        if nb is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=str(nb))

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        nb = Path(module.__spec__.origin)
        module.__file__ = str(nb)
        cells, warnings = notebook_code(nb, self.mode, module.__name__)
        self.warnings[module.__name__] = warnings
        for cell in cells:
            # tracebacks (ours and the student's) can then quote the line of the cell
            linecache.cache[cell.name] = (len(cell.source), None, cell.source.splitlines(True), cell.name)
            for lineno, unit in cell.units:
                if self.mode == "all":
                    exec(unit, module.__dict__)
                    continue
                try:
                    exec(unit, module.__dict__)
                except (Exception, SystemExit) as exc:
                    try:
                        what = f"{type(exc).__name__}: {exc}"
                    except Exception:  # an exception whose __str__ raises
                        what = type(exc).__name__
                    warnings.append(f"{cell.name}, line {lineno}: skipped `{_first_line(cell.source, lineno)}`, "
                                    f"it raised {what[:_WARN_CHARS]}")


def install(folder: Path, mode: str = "definitions") -> NotebookFinder:
    """Put a NotebookFinder for `folder` on sys.meta_path, after the built-in and frozen importers
    (a notebook never shadows `sys` or `os`) and before the path finder (it wins over site-packages)."""
    finder = NotebookFinder(folder, mode)
    at = next((i for i, f in enumerate(sys.meta_path) if f is importlib.machinery.PathFinder), 0)
    sys.meta_path.insert(at, finder)
    return finder
