"""Assignment definitions: tasks, checks and where they live.

An assignment is a package `assignments/<name>/` with:
  __init__.py   `ASSIGNMENT = Assignment(...)`: title, tasks, seed
  statement.md  the statement for students
  probes.py     worker-side functions that call the student's code (no expected values in them)
  checks.py     public checks (also run by `grade check`)
  hidden.py     hidden checks (instructor grading only; never shipped to students)

The grader's own assignments are the package `assignments`. An author keeps others in a course folder
of their own (`<course>/assignments/<name>/`, with `<course>/reference/<name>/` and
`<course>/student_template/<name>/` beside, as in this repository) named in $GRADER_ASSIGNMENTS
(folders separated by os.pathsep); see docs/assignments.md. The grader's own come first on that
search path, so a course folder cannot replace one of them.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from .model import Check, Limits, Visibility


@dataclass(frozen=True)
class Task:
    name: str  # e.g. "softmax"; also the prefix of its checks' ids
    title: str
    modules: tuple[str, ...]  # student module stems this task asks for


@dataclass
class Assignment:
    name: str
    title: str
    tasks: list[Task]
    package: str  # dotted package holding probes.py / checks.py / hidden.py
    seed: int = 0  # hidden inputs are derived from it: same submission, same scores
    _checks: Optional[list[Check]] = field(default=None, repr=False)

    @property
    def folder(self) -> Path:
        return Path(importlib.import_module(self.package).__file__).parent

    @property
    def course_root(self) -> Path:
        """The folder holding assignments/<name>/, and beside it reference/ and student_template/."""
        return self.folder.parents[1]

    @property
    def probes(self) -> Path:
        return self.folder / "probes.py"

    @property
    def hidden_installed(self) -> bool:
        """False in the student edition, which leaves hidden.py out."""
        import importlib.util

        return importlib.util.find_spec(f"{self.package}.hidden") is not None

    def checks(self, hidden: bool = True) -> list[Check]:
        if self._checks is None:
            found: list[Check] = []
            for part in ("checks", "hidden"):
                try:
                    mod = importlib.import_module(f"{self.package}.{part}")
                except ModuleNotFoundError as exc:
                    if exc.name == f"{self.package}.{part}":
                        continue  # a student install has no hidden.py
                    raise
                found += list(getattr(mod, "CHECKS"))
            ids = [c.id for c in found]
            dupes = {i for i in ids if ids.count(i) > 1}
            if dupes:
                raise ValueError(f"duplicate check ids in {self.name}: {sorted(dupes)}")
            order = {t.name: i for i, t in enumerate(self.tasks)}
            found.sort(key=lambda c: (order.get(c.task, len(order)), c.visibility == Visibility.HIDDEN))
            self._checks = found
        return [c for c in self._checks if hidden or c.visibility == Visibility.PUBLIC]

    def task(self, name: str) -> Task:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(name)


ENV_PATH = "GRADER_ASSIGNMENTS"
MARKER = ".grade.toml"  # a template's marker: `assignment = "backprop"`, optionally `notebook = "..."`


def find_marker(folder: Path) -> Optional[tuple[Path, dict]]:
    """The nearest `.grade.toml` at or above `folder` and its table, or None; ValueError (naming the
    file) when it cannot be read. The sandboxed worker reads the submission's own copy itself."""
    for f in (folder, *folder.parents):
        path = f / MARKER
        if path.is_file():
            try:
                return path, tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
                raise ValueError(f"{path}: {exc}") from None
    return None


def _search_path() -> list[str]:
    """The folders `assignments.<name>` is imported from: the grader's own, then `<course>/assignments`
    for each course folder now in $GRADER_ASSIGNMENTS (after the grader's own: a name the grader has
    stays the grader's). Set anew on every call, so the variable's current value is what counts."""
    import assignments

    own = os.path.dirname(os.path.abspath(assignments.__file__))
    courses = [c for c in os.environ.get(ENV_PATH, "").split(os.pathsep) if c]
    extra = [os.path.join(os.path.abspath(c), "assignments") for c in courses]
    assignments.__path__[:] = [own] + [f for f in dict.fromkeys(extra) if f != own]
    return list(assignments.__path__)


def available() -> list[str]:
    return sorted({m.name for m in pkgutil.iter_modules(_search_path()) if m.ispkg})


def load(name: str) -> Assignment:
    if name not in available():
        raise KeyError(f"unknown assignment {name!r}; known: {', '.join(available())}")
    return importlib.import_module(f"assignments.{name}").ASSIGNMENT


class CheckList(list):
    """A checks module's list of checks.

    `CHECKS = CheckList(Visibility.PUBLIC)`; `check = CHECKS.task("softmax", module="softmax")`;
    then decorate each judge with `@check("id", "title", points, tolerance=...)`.
    """

    def __init__(self, visibility: Visibility = Visibility.PUBLIC):
        super().__init__()
        self.visibility = visibility

    def task(self, task: str, module: str) -> Callable:
        def check(id: str, title: str, points: float, *, tolerance: str = "",
                  limits: Optional[Limits] = None, module_: Optional[str] = None,
                  uses_module: bool = True,
                  needs_data: bool = False) -> Callable:
            def register(fn: Callable) -> Callable:
                self.append(Check(
                    id=f"{task}.{id}", task=task, title=title, points=points, run=fn,
                    module=(module_ or module) if uses_module else "", visibility=self.visibility,
                    limits=limits or Limits(), tolerance=tolerance, needs_data=needs_data))
                return fn
            return register
        return check
