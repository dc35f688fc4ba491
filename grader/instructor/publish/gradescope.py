"""Build a Gradescope autograder zip for one assignment, and run it inside Gradescope.

    grade gradescope backprop -o autograder.zip        (the CLI calls `build_autograder`)

The zip holds, at its root, `setup.sh` (run once, as root, when Gradescope builds the image: Python,
torch, the grader in a venv, then `grade protect` on the installed hidden material and the source) and
`run_autograder` (run for every submission), and under `dl-grader/` what grading needs, named below
(an allow-list: a file not named is not shipped, whatever is added to the repository): the grader's
engine, worker and reports, of `grader/instructor/` only this runner and `grade_isolated`, the one
assignment's checks (public and hidden), oracles and probes, `pyproject.toml` and the README. So
never `reference/`, the templates, the tests, an assignment's registered cases (`cases.py`,
`variants/`: pieces of the solution), `grade selftest` and its cases, the other publishers.
Entries are sorted, relative, with fixed timestamps and modes: the same tree gives the same bytes.

`run_autograder` calls `python -m grader.instructor.publish.gradescope run`, which grades
`<root>/submission` with the hidden checks, out of process within a wall-clock budget
(`grader.instructor.isolated.grade_isolated`, as `grade batch` does), and writes `<root>/results/results.json` in our Gradescope
format (`grader.reports.gradescope`). `<root>` is `/autograder`, or `$GRADER_AUTOGRADER_ROOT` (tests).
Whatever goes wrong, a results.json is written. docs/gradescope.md has the details and the
visibility rules.
"""
from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import traceback
import zipfile
from pathlib import Path
from typing import Iterable, Optional

from ... import TORCH_VERSION
from ...engine import assignment as assignments_mod
from ...engine.fs import list_files
from ...engine.sandbox.exposure import AUTOGRADER_DEFAULT_ROOT, AUTOGRADER_ROOT_ENV
from ...engine.submission_root import MAX_DEPTH, find_root, module_files
from .. import SOURCE_ROOT

# $GRADER_AUTOGRADER_ROOT (tests) or /autograder: named once, with the rule that <root>/source is the
# grader's alone (grader.engine.sandbox.exposure)
ROOT_ENV, DEFAULT_ROOT = AUTOGRADER_ROOT_ENV, AUTOGRADER_DEFAULT_ROOT
SOURCE_DIR = "dl-grader"  # where the grader's source sits inside the zip (and in /autograder/source)
# Fixed timestamp of every zip entry (zip's epoch is 1980): the zip depends only on the files.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# What of the source tree the zip carries (docs/gradescope.md lists it), relative to the tree:
# files by glob, and folders whole. Everything a submission is graded with: the engine (and its
# sandbox), the worker, the reports, the CLI's modules (setup.sh runs `grade list`), and of the
# instructor's package the runner (this module) and `grade_isolated`, which it calls.
SOURCE_FILES = ("pyproject.toml", "README.md", "grader/*.py", "grader/instructor/__init__.py",
                "grader/instructor/publish/__init__.py", "grader/instructor/publish/gradescope.py")
SOURCE_FOLDERS = ("grader/engine", "grader/worker", "grader/reports", "grader/instructor/isolated")
# Of the assignment folder: what grading reads (its package, probes, public and hidden checks, oracles,
# the reference's training curves for the figures). Not statement.md: grading never reads it.
ASSIGNMENT_FILES = ("__init__.py", "probes.py", "checks.py", "hidden.py", "oracle.py", "reference_curves.json")
# Inside a shipped folder, never: caches, bytecode, dot files or folders.
SOURCE_SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ipynb_checkpoints"}
SOURCE_SKIPPED_SUFFIXES = (".pyc", ".pyo")

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04 by default).
# dl-grader needs Python >= 3.11: Ubuntu 22.04 ships 3.10 as python3, and python3.11 in its own
# universe repository; the deadsnakes PPA is the fallback. See docs/gradescope.md.
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$SOURCE")"

apt-get update -q
if ! apt-get install -y -q python3.11 python3.11-venv; then
    apt-get install -y -q software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update -q
    apt-get install -y -q python3.11 python3.11-venv
fi
# bubblewrap: the full sandbox where the container allows user namespaces (else resource limits only)
apt-get install -y -q bubblewrap || true
@DATA_APT@
python3.11 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install -q --upgrade pip
# the CPU build of torch (a plain `pip install torch` pulls the multi-GB CUDA build)
"$ROOT/venv/bin/pip" install -q --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}" "torch==@TORCH@"
"$ROOT/venv/bin/pip" install -q "$SOURCE/@SOURCE_DIR@"
@DATA_FETCH@
"$ROOT/venv/bin/grade" list --assignment @ASSIGNMENT@ --hidden
@PROTECT@
"""

# Where bubblewrap cannot run (many Docker containers), student code runs as the sandbox user with
# resource limits only and sees the whole file system: the hidden checks, oracles and this source
# must be root's alone, while the venv's Python, numpy, torch and the public grader stay readable.
# run_autograder refuses to grade when that user could read them (grader.engine.sandbox.exposure).
PROTECT = ("# the hidden checks, oracles and this source: root's alone, unreadable to the sandbox user that runs\n"
           "# student code where bubblewrap cannot (the venv's Python, numpy, torch stay readable); see "
           "docs/gradescope.md\n"
           '"$ROOT/venv/bin/python" -m grader.instructor.publish.gradescope protect --assignment @ASSIGNMENT@ "$SOURCE"')

DATA_APT = """# FashionMNIST: Debian's/Ubuntu's package where it exists; otherwise downloaded just below
apt-get install -y -q dataset-fashion-mnist || true"""
DATA_FETCH = """# fetch (and verify) FashionMNIST now, once, rather than for every submission
"$ROOT/venv/bin/python" -c "from grader.data import find_fashion_mnist; print(find_fashion_mnist())\""""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission: the student's files are in $ROOT/submission, the
# results go to $ROOT/results/results.json. $GRADER_AUTOGRADER_ROOT overrides /autograder (tests);
# $GRADER_AUTOGRADER_PYTHON overrides the Python that setup.sh installed.
set -uo pipefail
ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GRADER_AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results"
# the grader in this zip (also installed into the venv by setup.sh): the one that built it
export PYTHONPATH="$ROOT/source/@SOURCE_DIR@${PYTHONPATH:+:$PYTHONPATH}"
cd "$ROOT/source/@SOURCE_DIR@" || true  # `python -m` puts the current folder first on sys.path
"$PYTHON" -m grader.instructor.publish.gradescope run --assignment @ASSIGNMENT@ --root "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    # the grader could not even start: still give Gradescope a result it can show
    printf '%s\n' '{"score": 0, "output": "The autograder failed to start (exit status '"$status"'); please tell your instructor.", "visibility": "visible", "stdout_visibility": "visible", "tests": []}' > "$ROOT/results/results.json"
fi
exit 0
"""


# ------------------------------------------------------------------------------------------ build


def project_root() -> Path:
    """The folder holding `grader/`, `assignments/` and pyproject.toml (this source tree)."""
    return SOURCE_ROOT


def _source_files(root: Path) -> list[Path]:
    """The files of SOURCE_FILES and SOURCE_FOLDERS in the source tree `root`."""
    found = {p for pattern in SOURCE_FILES for p in root.glob(pattern) if p.is_file() and not p.is_symlink()}
    for folder in SOURCE_FOLDERS:
        found.update(_files_under(root / folder))
    return sorted(found)


def _files_under(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part in SOURCE_SKIPPED_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink() and not path.name.endswith(SOURCE_SKIPPED_SUFFIXES):
            yield path


def autograder_files(assignment: str, root: Optional[Path] = None) -> dict[str, bytes]:
    """Every entry of the zip, by its relative name: scripts at the root, the source under dl-grader/."""
    root = root or project_root()
    asg = assignments_mod.load(assignment)  # KeyError for an unknown assignment
    needs_data = any(c.needs_data for c in asg.checks(hidden=True))
    fill = {  # in order: PROTECT holds @ASSIGNMENT@
        "@PROTECT@": PROTECT,
        "@ASSIGNMENT@": asg.name,
        "@SOURCE_DIR@": SOURCE_DIR,
        "@TORCH@": TORCH_VERSION,
        "@DATA_APT@": DATA_APT if needs_data else "",
        "@DATA_FETCH@": DATA_FETCH if needs_data else "",
    }
    setup, run = SETUP_SH, RUN_AUTOGRADER
    for key, value in fill.items():
        setup, run = setup.replace(key, value), run.replace(key, value)
    files: dict[str, bytes] = {"setup.sh": setup.encode(), "run_autograder": run.encode()}
    for path in _source_files(root):
        files[f"{SOURCE_DIR}/{path.relative_to(root).as_posix()}"] = path.read_bytes()
    files[f"{SOURCE_DIR}/assignments/__init__.py"] = (root / "assignments" / "__init__.py").read_bytes()
    for name in ASSIGNMENT_FILES:  # the folder is here or in a course folder ($GRADER_ASSIGNMENTS)
        path = asg.folder / name
        if path.is_file() and not path.is_symlink():
            files[f"{SOURCE_DIR}/assignments/{asg.name}/{name}"] = path.read_bytes()
    for name in files:  # a name that could escape the folder it is unpacked into is a bug here
        parts = name.split("/")
        if name.startswith("/") or ".." in parts or "reference" in parts or "\\" in name:
            raise ValueError(f"refusing to put {name!r} into the autograder zip")
    return files


EXECUTABLES = {"setup.sh", "run_autograder"}


def build_autograder(assignment: str, out: Path, root: Optional[Path] = None) -> list[str]:
    """Write the autograder zip for `assignment` to `out`; returns the entry names, in zip order."""
    files = autograder_files(assignment, root)
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            mode = 0o755 if name in EXECUTABLES else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.create_system = 3  # Unix: the modes above are honoured by unzip
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])
    os.replace(tmp, out)
    return sorted(files)


# -------------------------------------------------------------------------------------------- run


def autograder_root() -> Path:
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def _failure_results(message: str) -> dict:
    return {"score": 0, "output": message, "output_format": "text", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": []}


def run(assignment: str, root: Optional[Path] = None) -> dict:
    """Grade `<root>/submission` (public and hidden checks); write `<root>/results/results.json`."""
    from ...reports import gradescope_results
    from ..isolated.grade import GradeRequest, grade_isolated

    root = Path(root) if root is not None else autograder_root()
    results_file = root / "results" / "results.json"
    results_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        asg = assignments_mod.load(assignment)
        submission = root / "submission"
        if not submission.is_dir():
            results = _failure_results(f"No submission found (expected the folder {submission}).")
        else:
            # a zipped folder lands one level down, a repository may keep the work in a subfolder
            folder = submission / find_root(list_files(submission, max_depth=MAX_DEPTH), module_files(asg))
            # no host paths in what students see: the report names the folder below <root>
            refused = _refusal(asg)
            if refused:  # the instructor's log says what to do; the student is told nothing was graded
                print(refused, file=sys.stderr)
                results = _failure_results(
                    "The autograder is not set up to run submissions safely (no sandbox available), so "
                    "this submission was not graded; your instructor can see the details.")
                return _write_results(results_file, results)
            report = grade_isolated(GradeRequest(assignment=asg.name, folder=folder, hidden=True,
                                                 name=folder.relative_to(root).as_posix()))
            # the instructor's log (Gradescope keeps stdout, hidden from students): internal errors
            for detail in report.internal:
                print(detail, file=sys.stderr)
            if report.status in ("error", "timeout"):  # the grading itself crashed or ran out of time
                print(report.message, file=sys.stderr)
                results = _failure_results("The autograder could not grade this submission (an internal "
                                           "error); your instructor can see the details." if report.status == "error"
                                           else "The grading of this submission ran out of time and was stopped.")
            else:
                results = gradescope_results(report)
    except Exception:  # a bug of ours: the student still gets a result, the instructor the traceback
        traceback.print_exc()
        results = _failure_results("The autograder could not grade this submission (an internal "
                                   "error); your instructor can see the details.")
    return _write_results(results_file, results)


def _write_results(results_file: Path, results: dict) -> dict:
    tmp = results_file.with_name("results.json.part")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=True, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, results_file)
    return results


def _refusal(asg: assignments_mod.Assignment) -> str:
    """Why this container must not grade (no bubblewrap, and a Python the sandbox user cannot run, or
    hidden material that user can read: setup.sh's `grade protect` did not run), as the instructor's
    instructions; "" when it may. $GRADER_ALLOW_UNISOLATED=1 in run_autograder opts in (a Gradescope
    container is disposable, but it holds the hidden checks)."""
    from ...engine.sandbox import IsolationRefused, plan_isolation

    try:
        plan_isolation("auto", instructor=True, assignment=asg)
    except IsolationRefused as exc:
        return f"dl-grader: {exc}"
    return ""


def protect(name: str, paths: list[Path]) -> int:
    """setup.sh's step: `grade protect` for one assignment, without the instructor CLI (not in the zip)."""
    from ...engine.sandbox import exposure
    from ...engine.sandbox.isolation import sandbox_reader

    material = exposure.all_grader_only_paths([assignments_mod.load(name)])
    material += [p.resolve() for p in paths if p.resolve() not in material]
    for problem in exposure.protect(material):
        print(f"could not protect {problem}", file=sys.stderr)
    readable = exposure.readable_by(material, *sandbox_reader()[0], limit=None)
    for path in readable:
        print(f"still readable by the sandbox user: {path}", file=sys.stderr)
    for path in material:
        print(f"protected: {path}")
    return 1 if readable else 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.instructor.publish.gradescope")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="grade <root>/submission, write <root>/results/results.json")
    p_run.add_argument("--assignment", required=True)
    p_run.add_argument("--root", type=Path, default=None, help=f"default: ${ROOT_ENV} or /autograder")
    p_protect = sub.add_parser("protect", help="make the assignment's hidden material and PATHs root's alone "
                                               "(what `grade protect` does; setup.sh runs it)")
    p_protect.add_argument("--assignment", required=True)
    p_protect.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.command == "protect":
        return protect(args.assignment, args.paths)
    results = run(args.assignment, args.root)
    print(results.get("output", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
