"""Student templates generated from the reference solutions: one source of truth.

Reference files mark the student's part:

* a block between `# BEGIN SOLUTION` and `# END SOLUTION` (nbgrader's `### BEGIN SOLUTION` too).
  Inside a function it becomes a TODO banner (cs231n style) and `raise NotImplementedError` naming
  the function; its hint is `# BEGIN SOLUTION hint="..."` or the comment lines just above the
  BEGIN line (`# TODO: ...` and its continuation lines), which leave the template's code too.
  At module or class level the block is removed: private helpers of the solution (`_activations`);
  a public function or class in such a block is an error (the template would lose its signature).
* one line ending in `# SOLUTION` (otter's convention): `x = <answer>  # SOLUTION` becomes
  `x = ...  # TODO`; any other statement becomes `...  # TODO`.

Everything outside the markers (docstrings, signatures, imports, helpers) is kept as it is. Unpaired
or nested markers are errors naming the file and line.

`generate(assignment)` writes `student_template/<assignment>/`: the task modules, the same as one
notebook `<assignment>.ipynb` with a check cell after each task (publish/notebook.py), the assignment
marker `.grade.toml`, the student edition's wheel (`wheels/`, built by `wheel.py`: same sources,
same bytes) and the requirements that name it by path, a `.gitignore` and the GitHub workflows
(`grade.yml`: Linux, macOS and Windows, JUnit and job summary from one run; `classroom.yml`: GitHub
Classroom's autograding reporter). The student README is written by hand (it lives in the template
folder and is kept).
"""
from __future__ import annotations

import ast
import re
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ... import TORCH_VERSION
from ...engine import assignment as assignments
from .. import SOURCE_ROOT
from .wheel import student_wheel_bytes, wheel_contents, wheel_name

BEGIN_RE = re.compile(r'^(?P<indent>\s*)#{1,3}\s*BEGIN SOLUTION(?:\s+hint\s*=\s*"(?P<hint>[^"]*)")?\s*$')
END_RE = re.compile(r"^\s*#{1,3}\s*END SOLUTION\s*$")
LINE_RE = re.compile(r"^(?P<code>.*\S)\s+#\s*SOLUTION\s*$")
WIDTH = 79  # banner lines end at this column, whatever the indentation
ROOT = SOURCE_ROOT


class TemplateError(ValueError):
    """A reference file whose markers cannot make a template: `file:line: what`."""


@dataclass
class _Block:
    begin: int  # 0-based line of BEGIN
    end: int  # 0-based line of END
    indent: str
    hint: Optional[str]


def _blocks(lines: list[str], name: str) -> list[_Block]:
    blocks: list[_Block] = []
    open_at: Optional[int] = None
    for i, line in enumerate(lines):
        m = BEGIN_RE.match(line)
        if m:
            if open_at is not None:
                raise TemplateError(f"{name}:{i + 1}: BEGIN SOLUTION inside the block opened at line {open_at + 1}")
            open_at = i
            blocks.append(_Block(i, -1, m.group("indent"), m.group("hint")))
        elif END_RE.match(line):
            if open_at is None:
                raise TemplateError(f"{name}:{i + 1}: END SOLUTION without a BEGIN SOLUTION")
            blocks[-1].end = i
            open_at = None
    if open_at is not None:
        raise TemplateError(f"{name}:{open_at + 1}: BEGIN SOLUTION without an END SOLUTION")
    return blocks


def _functions(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """(qualified name, node) of every function, innermost last, for finding a block's owner."""
    found: list[tuple[str, ast.AST]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((prefix + child.name, child))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
    visit(tree, "")
    return found


def _owner(functions: list[tuple[str, ast.AST]], line: int) -> Optional[str]:
    """The innermost function whose body holds 1-based `line`."""
    owner = None
    for name, node in functions:
        if node.lineno < line <= node.end_lineno:
            owner = name
    return owner


def _hint_above(lines: list[str], begin: int, indent: str) -> tuple[int, str]:
    """The comment lines just above BEGIN (at its indentation): (first line, their text)."""
    start = begin
    while start > 0 and lines[start - 1].startswith(indent + "#") and lines[start - 1].strip() != "#":
        start -= 1
    text = " ".join(line.strip().lstrip("#").strip() for line in lines[start:begin])
    return start, re.sub(r"^TODO:\s*", "", text)


def banner(hint: str, indent: str, function: str) -> list[str]:
    """The cs231n TODO banner around `raise NotImplementedError`."""
    width = WIDTH - len(indent)
    rule = indent + "#" * width
    body = textwrap.wrap("TODO: " + (hint or f"Implement {function}."), width - 4)
    return ([rule] + [f"{indent}# {line.ljust(width - 4)} #" for line in body] + [rule]
            + [f'{indent}raise NotImplementedError("{function}: not implemented yet")', rule,
               f"{indent}# {'END OF YOUR CODE'.center(width - 4)} #", rule])


def _public_definitions(tree: ast.Module, first: int, last: int) -> list[str]:
    """Public functions and classes defined between 1-based lines first..last (module or class level)."""
    out = []
    for node in ast.walk(tree):
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and first <= node.lineno <= last and not node.name.startswith("_")):
            out.append(node.name)
    return out


def solution_lines(source: str, name: str = "<reference>") -> set[int]:
    """The 1-based line numbers of the student's part of a reference module: the lines inside
    BEGIN/END SOLUTION blocks and the one-line `# SOLUTION` lines (what `grade selftest` mutates)."""
    lines = source.splitlines()
    marked = {i + 1 for b in _blocks(lines, name) for i in range(b.begin + 1, b.end)}
    marked |= {i + 1 for i, line in enumerate(lines) if LINE_RE.match(line) and not BEGIN_RE.match(line)}
    return marked


def strip_solutions(source: str, name: str = "<reference>") -> str:
    """The template of one reference module (see the module docstring)."""
    lines = source.splitlines()
    try:
        tree = ast.parse(source, filename=name)
    except SyntaxError as exc:
        raise TemplateError(f"{name}:{exc.lineno}: the reference does not parse: {exc.msg}") from None
    functions = _functions(tree)
    out = list(lines)
    for block in reversed(_blocks(lines, name)):
        owner = _owner(functions, block.begin + 1)
        start = block.begin
        hint = block.hint
        if hint is None:
            start, hint = _hint_above(lines, block.begin, block.indent)
        if owner is None:  # module or class level: a helper of the solution, removed
            public = _public_definitions(tree, block.begin + 1, block.end + 1)
            if public:
                raise TemplateError(f"{name}:{block.begin + 1}: {', '.join(public)} would vanish from the "
                                    "template (a public definition inside a solution block outside a "
                                    "function): mark its body instead")
            out[start:block.end + 1] = []
            continue
        out[start:block.end + 1] = banner(hint, block.indent, owner)
    for i, line in enumerate(out):
        m = LINE_RE.match(line)
        if m and not BEGIN_RE.match(line):
            code = m.group("code")
            indent = code[: len(code) - len(code.lstrip())]
            target = re.match(r"^(\s*[\w.\[\], ]+?)\s*=(?!=)", code)
            out[i] = f"{target.group(1)} = ...  # TODO" if target else f"{indent}...  # TODO"
    text = "\n".join(out).rstrip("\n") + "\n"
    text = re.sub(r"\n{4,}", "\n\n\n", text)  # a removed helper leaves no extra blank lines
    try:
        ast.parse(text, filename=name)
    except SyntaxError as exc:
        raise TemplateError(f"{name}: the generated template does not parse (line {exc.lineno}: "
                            f"{exc.msg}); check the markers") from None
    return text


# ------------------------------------------------------------------------- the template repository
GITIGNORE = """__pycache__/
*.py[cod]
.venv/
venv/
.ipynb_checkpoints/
junit.xml
report.*
# data sets are downloaded to the platform's cache folder, never committed
data/
*.gz
"""

# The install step: torch's CPU build from the PyTorch index, then requirements.txt, which names the
# student wheel committed in wheels/ (nothing has to be published on a package index).
INSTALL = """python -m pip install --upgrade pip
python -m pip install --index-url https://download.pytorch.org/whl/cpu torch==@TORCH@
python -m pip install -r requirements.txt"""

# GitHub's ubuntu-24.04 image (ubuntu-latest) lets AppArmor deny unprivileged user namespaces
# (kernel.apparmor_restrict_unprivileged_userns=1), and bwrap then stops with "setting up uid map:
# Permission denied". The runner is a throwaway VM: the sysctl others use there (docs/templates.md)
# turns the restriction off. If bwrap still cannot start, the grader falls back to resource limits
# and the job summary's "Isolation:" line says so; the warning below points at it.
BUBBLEWRAP = """sudo apt-get update && sudo apt-get install -y bubblewrap
if [ -e /proc/sys/kernel/apparmor_restrict_unprivileged_userns ]; then
  sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0
fi
if bwrap --ro-bind / / --unshare-user --unshare-pid --unshare-net --die-with-parent true; then
  echo "bubblewrap works: grading is sandboxed"
else
  echo "::warning::bubblewrap cannot create namespaces here: grading falls back to resource limits (the job summary's Isolation line)"
fi"""


def _block(text: str, indent: int) -> str:
    """`text` as the lines of a YAML block scalar at `indent` spaces."""
    return "\n".join(" " * indent + line for line in text.splitlines())


WORKFLOW = """# Runs the public checks of this assignment on every push and pull request, on Linux, macOS and
# Windows (the systems students have). The job succeeds when grading ran, whatever the score: the
# points are in the job summary and in the JUnit report (test results), per check.
name: grade
on:
  push:
  pull_request:
jobs:
  grade:
    strategy:
      fail-fast: false
      matrix:
        os: [ubuntu-latest, macos-latest, windows-latest]
    runs-on: ${{ matrix.os }}
    timeout-minutes: 30
    defaults:
      run:
        shell: bash  # the same commands everywhere (Git Bash on Windows, where the default is pwsh)
    env:
      PYTHONUTF8: "1"  # the reports' text (‖x‖², ✓) on Windows, whose pipes default to a code page
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install the grader (student edition, from wheels/) and torch (CPU)
        run: |
@INSTALL@
      - name: Install bubblewrap (the sandbox) and let it create user namespaces
        if: runner.os == 'Linux'
        run: |
@BUBBLEWRAP@
      - name: Grade (the table in the log; JUnit and the job summary from the same run)
        run: grade check --report junit junit.xml --report markdown "$GITHUB_STEP_SUMMARY"
      - name: Keep the JUnit report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: junit-${{ matrix.os }}
          path: junit.xml
""".replace("@INSTALL@", _block(INSTALL, 10)).replace("@BUBBLEWRAP@", _block(BUBBLEWRAP, 10))


# One job on Linux only: Classroom's reporter reads the points of the job run-autograding-tests.
CLASSROOM_WORKFLOW = """# GitHub Classroom autograding: points per check in Classroom (docs/reports.md, --format classroom).
# The job name run-autograding-tests is the one Classroom looks for.
name: Autograding Tests
on: [push, workflow_dispatch, repository_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    if: github.actor != 'github-classroom[bot]'
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install the grader (student edition, from wheels/) and torch (CPU)
        run: |
@INSTALL@
      - name: Install bubblewrap (the sandbox) and let it create user namespaces
        run: |
@BUBBLEWRAP@
      - name: Grade
        id: grade
        run: echo "result=$(grade check --format classroom --base64)" >> "$GITHUB_OUTPUT"
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          GRADE_RESULTS: "${{ steps.grade.outputs.result }}"
        with:
          runners: grade
""".replace("@INSTALL@", _block(INSTALL, 10)).replace("@BUBBLEWRAP@", _block(BUBBLEWRAP, 10))

WHEELS = "wheels"  # the template's folder holding the student wheel


def requirements(version: str) -> str:
    """requirements.txt: the student wheel by relative path (pip reads it from the clone), torch pinned."""
    return (f"# what `grade check` needs: the student edition of the grader, from this repository's\n"
            f"# {WHEELS}/ folder (`grade template` writes it; nothing has to be published). Run pip in\n"
            f"# this folder: pip reads the path from the current folder.\n"
            f"./{WHEELS}/{wheel_name(version)}\n"
            f"# CPU build; install it first from the PyTorch index (see README.md): a bare `pip install\n"
            f"# torch` may pull a multi-GB CUDA build\n"
            f"torch=={TORCH_VERSION}\n")


def template_files(name: str, reference: Path) -> dict[str, str]:
    """Every generated file of `student_template/<name>/`, relative path → text."""
    from ... import __version__
    from .notebook import student_notebook  # imports this module: imported here, not at the top

    asg = assignments.load(name)
    files: dict[str, str] = {}
    for task in asg.tasks:
        for module in task.modules:
            src = reference / f"{module}.py"
            if not src.is_file():
                raise TemplateError(f"{src}: the task {task.name} asks for {module}.py, which the "
                                    "reference lacks")
            files[f"{module}.py"] = strip_solutions(src.read_text(), f"reference/{name}/{module}.py")
    # the same assignment as one notebook, for courses that hand out notebooks (publish/notebook.py)
    files[f"{name}.ipynb"] = student_notebook(name, reference)
    files[".grade.toml"] = f'assignment = "{name}"\n'
    files[".gitignore"] = GITIGNORE
    files["requirements.txt"] = requirements(__version__)
    files[".github/workflows/grade.yml"] = WORKFLOW.replace("@TORCH@", TORCH_VERSION)
    files[".github/workflows/classroom.yml"] = CLASSROOM_WORKFLOW.replace("@TORCH@", TORCH_VERSION)
    return files


def template_wheel(name: str) -> tuple[str, bytes]:
    """(relative path, bytes) of the student wheel in `student_template/<name>/`: the student edition
    of this source tree, with the assignment itself when it lives in a course folder of its own."""
    asg = assignments.load(name)
    own = asg.folder.parent.resolve() == (SOURCE_ROOT / "assignments").resolve()
    return f"{WHEELS}/{wheel_name()}", student_wheel_bytes(() if own else (asg.folder,))


def _same_wheel(path: Path, data: bytes) -> bool:
    """Whether the wheel at `path` holds the same files as `data` (compared by contents: another
    zlib compresses the same files to other bytes, and that is no reason to rewrite it)."""
    if not path.is_file():
        return False
    old = path.read_bytes()
    try:
        return old == data or wheel_contents(old) == wheel_contents(data)
    except zipfile.BadZipFile:
        return False


def generate(name: str, root: Path = ROOT, check: bool = False) -> list[str]:
    """Write `student_template/<name>/` from `reference/<name>/`; return the files that changed
    (with `check`, write nothing: the files that differ from what would be written). A wheel of
    another version left in wheels/ is removed (and listed)."""
    files = template_files(name, root / "reference" / name)
    dest = root / "student_template" / name
    changed = []
    for rel, body in files.items():
        path = dest / rel
        if path.is_file() and path.read_text() == body:
            continue
        changed.append(rel)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
    rel, data = template_wheel(name)
    if not _same_wheel(dest / rel, data):
        changed.append(rel)
        if not check:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).write_bytes(data)
    for old in sorted((dest / WHEELS).glob("*.whl")):
        if old.name != Path(rel).name:
            changed.append(f"{WHEELS}/{old.name}")
            if not check:
                old.unlink()
    return changed
