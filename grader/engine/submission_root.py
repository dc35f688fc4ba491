"""Where a submission starts: the one rule that finds the folder holding the student's modules.

Students hand in the assignment's modules (`softmax.py` or `softmax.ipynb`) at the top, or one or
more folders down: a zipped folder (`A1-final/softmax.py`), a wrapper folder a zip tool or an LMS
adds, a repository with the work in a subfolder. `grade batch` (every layout) and the Gradescope
runner both call `find_root`; docs/batch.md states the rule:

1. junk (`fs.is_junk`: `__MACOSX/`, `.git/`, `__pycache__/`, `._*`, ...) and hidden folders never
   count, so a zip's `__MACOSX/hw/softmax.py` shadow or a `.backup/` copy is never the root;
2. when the top level holds a module file, the top level is the root (the submission as handed in);
3. otherwise the shallowest folder, at most MAX_DEPTH levels down, holding a module file; among
   equally shallow candidates the one holding the most module files, then the first by name;
4. when no module file is anywhere, the same rule for notebooks under any name (a course that hands
   in one notebook, `hw1/assignment1.ipynb`: it holds the modules, see worker/loader.py);
5. when there is none either, the top level (the checks then say what is missing).
"""
from __future__ import annotations

from typing import Callable, Collection, Iterable, Optional

from .fs import is_junk

MAX_DEPTH = 6  # folder levels below the submission searched for the modules


def module_files(assignment) -> frozenset[str]:
    """The file names the assignment's tasks ask for: `softmax.py` and `softmax.ipynb` per module."""
    stems = {m for t in assignment.tasks for m in t.modules}
    return frozenset(f"{m}{suffix}" for m in stems for suffix in (".py", ".ipynb"))


def find_root(paths: Iterable[str], modules: Collection[str]) -> str:
    """The submission's root among the relative POSIX file `paths`: "" for the top level, else a folder.

    `modules` are file names (`module_files`). The caller re-roots at the result: the batch keeps
    the files below it, the Gradescope runner grades that folder.
    """
    paths = list(paths)
    found = _shallowest(paths, lambda base: base in modules)
    if found is None:  # no module file by name: one notebook under any name may hold them all
        found = _shallowest(paths, lambda base: base.lower().endswith(".ipynb") and not base.startswith("."))
    return found or ""


def _shallowest(paths: list[str], wanted: Callable[[str], bool]) -> Optional[str]:
    """The folder (rules 1-3) of the files whose base name is `wanted`; None when there is none."""
    counts: dict[str, int] = {}
    for rel in paths:
        folder, _, base = rel.rpartition("/")
        if not wanted(base):
            continue
        if folder == "":
            return ""
        parts = folder.split("/")
        if len(parts) > MAX_DEPTH or any(is_junk(p) or p.startswith(".") for p in parts):
            continue
        counts[folder] = counts.get(folder, 0) + 1
    if not counts:
        return None
    return min(counts, key=lambda f: (f.count("/"), -counts[f], f))
