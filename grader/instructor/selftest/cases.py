"""Known submissions of an assignment: wrong ones that must lose points, correct ones that must not.

They are part of the assignment's definition, in `assignments/<name>/cases.py` (never shipped to
students: they hold pieces of the solution), and both `grade selftest` and the test suite use them:

    WRONG = [Wrong("softmax_wrong_axis", "softmax.py", "axis=-1", "axis=0", {"softmax.values"}), ...]
    VARIANTS = [Variant("loops", overlay="loops"), Variant("float32", edits=[(file, old, new), ...])]
    EQUIVALENT = {"softmax.py:softmax:axis:0": "why this automatic mutant behaves like the reference"}
    FLOORS = {"softmax": 100, "mlp": 70}  # per task: the lowest mutation score CI accepts (percent)

A case is the reference solution changed by exact text edits (each must match exactly once),
overlaid files from `assignments/<name>/variants/<overlay>/`, and an optional `build(files)` that
changes the submission's files in memory (a wrong weights file, say).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

Edit = tuple[str, str, str]  # (file, old, new)
Files = dict[str, bytes]  # a submission: relative path -> contents


class CaseError(ValueError):
    """A case that cannot be built: an edit that does not match exactly once, a missing overlay."""


@dataclass(frozen=True)
class Wrong:
    """A wrong submission (one edit of the reference, or a `build`) and the checks that must catch it."""

    name: str
    file: str = ""
    old: str = ""
    new: str = ""
    catches: frozenset[str] = frozenset()  # check ids that must not award full marks
    tasks: tuple[str, ...] = ()  # tasks graded for it (default: those of `catches`)
    build: Optional[Callable[[Files], None]] = None
    says: str = ""  # words each catching check's message must contain (feedback that names the fix)
    note: str = ""

    def __init__(self, name: str, file: str = "", old: str = "", new: str = "", catches: Iterable[str] = (),
                 tasks: Optional[Iterable[str]] = None, build: Optional[Callable[[Files], None]] = None,
                 says: str = "", note: str = ""):
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "file", file)
        set_(self, "old", old)
        set_(self, "new", new)
        set_(self, "catches", frozenset(catches))
        set_(self, "tasks", tuple(tasks or sorted({c.split(".")[0] for c in self.catches})))
        set_(self, "build", build)
        set_(self, "says", says)
        set_(self, "note", note)

    @property
    def edits(self) -> list[Edit]:
        return [(self.file, self.old, self.new)] if self.file else []


@dataclass(frozen=True)
class Variant:
    """A correct solution written another way: every check it is graded on must give full marks."""

    name: str
    edits: tuple[Edit, ...] = ()
    overlay: str = ""  # a folder under assignments/<name>/variants/ copied over the reference
    tasks: tuple[str, ...] = ()  # tasks graded (default: all)
    skip: frozenset[str] = frozenset()  # checks not about this variant (e.g. the reference's weights file)
    note: str = ""

    def __init__(self, name: str, edits: Iterable[Edit] = (), overlay: str = "", tasks: Iterable[str] = (),
                 skip: Iterable[str] = (), note: str = ""):
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "edits", tuple(edits))
        set_(self, "overlay", overlay)
        set_(self, "tasks", tuple(tasks))
        set_(self, "skip", frozenset(skip))
        set_(self, "note", note)


@dataclass
class Cases:
    """The known cases of one assignment, as `assignments/<name>/cases.py` declares them."""

    wrong: list[Wrong] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    equivalent: dict[str, str] = field(default_factory=dict)  # automatic mutant id -> why it is equivalent
    floors: dict[str, float] = field(default_factory=dict)  # task -> lowest mutation score accepted (percent)
    folder: Optional[Path] = None  # the assignment's folder (variants/ lives there)

    def overlay_dir(self, variant: Variant) -> Path:
        if self.folder is None:
            raise CaseError(f"variant {variant.name!r}: no assignment folder to find variants/{variant.overlay} in")
        return self.folder / "variants" / variant.overlay


def load_cases(asg) -> Cases:
    """The cases of `asg` (an `Assignment`); empty when it declares none or they are not installed."""
    try:
        mod = importlib.import_module(f"{asg.package}.cases")
    except ModuleNotFoundError as exc:
        if exc.name == f"{asg.package}.cases":
            return Cases(folder=asg.folder)
        raise
    cases = Cases(wrong=list(getattr(mod, "WRONG", [])), variants=list(getattr(mod, "VARIANTS", [])),
                  equivalent=dict(getattr(mod, "EQUIVALENT", {})), floors=dict(getattr(mod, "FLOORS", {})),
                  folder=asg.folder)
    names = [c.name for c in cases.wrong] + [v.name for v in cases.variants]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CaseError(f"{asg.name}: cases with the same name: {', '.join(dupes)}")
    return cases


def read_folder(folder: Path) -> Files:
    """Every regular file below `folder` (no caches), as a submission's files."""
    files: Files = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def apply_edits(files: Files, edits: Iterable[Edit], what: str) -> Files:
    """`files` with each (file, old, new) applied; an edit must match exactly once (else CaseError)."""
    out = dict(files)
    for file, old, new in edits:
        if file not in out:
            raise CaseError(f"{what}: no file {file!r} to edit")
        text = out[file].decode("utf-8")
        n = text.count(old)
        if n != 1:
            raise CaseError(f"{what}: the edit of {file} matches {n} times, not once: {old[:60]!r}")
        out[file] = text.replace(old, new).encode("utf-8")
    return out


def wrong_files(reference: Files, case: Wrong) -> Files:
    files = apply_edits(reference, case.edits, f"wrong submission {case.name!r}")
    if case.build is not None:
        case.build(files)
    return files


def variant_files(reference: Files, case: Variant, cases: Cases) -> Files:
    files = apply_edits(reference, case.edits, f"variant {case.name!r}")
    if case.overlay:
        folder = cases.overlay_dir(case)
        if not folder.is_dir():
            raise CaseError(f"variant {case.name!r}: no folder {folder}")
        files.update(read_folder(folder))
    return files


def write(files: Files, dest: Path) -> Path:
    """Write a case's files into `dest` (a new folder), for a test or to look at it."""
    for rel, data in files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dest
