"""What of the grader student code must not read, whether a given user could read it, and making it so.

Under bubblewrap the sandbox never sees the grader's files (bwrap.py). Without it (the `rlimits` and
`process` modes) student code sees the whole file system, and only Unix permissions keep the hidden
checks, oracles, cases and reference solutions from it. This module is the one home of that rule:

* `grader_only_paths(assignment)`: the material of an assignment that the grader reads and the
  student must not (its folder: hidden.py, oracle.py, cases.py, variants/; every other installed copy
  of that folder; its reference solution; the course checkout's .git; the Gradescope source);
* `readable_by(paths, uid, gid)`: which of it a user could read, decided from stat() bits alone, as
  the kernel does for a process with that uid and gid and no supplementary groups (the sandbox's
  workers are started with `extra_groups=[]`), including search permission on every ancestor folder;
* `protect(paths)`: owner the grader's user, no permission for group and others (`grade protect`,
  run by scripts/install as root and by Gradescope's setup.sh).

`isolation.plan_isolation` refuses instructor grading without bubblewrap when the check finds
something readable (`exposure_problem`). ACLs and capabilities are not considered: an ACL granting the
sandbox user access is a deliberate act this check does not second-guess.
"""
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional

if TYPE_CHECKING:
    from ..assignment import Assignment

# Gradescope unpacks the autograder zip into <root>/source; <root> is /autograder or, in tests,
# $GRADER_AUTOGRADER_ROOT (grader.instructor.publish.gradescope uses the same two names)
AUTOGRADER_ROOT_ENV = "GRADER_AUTOGRADER_ROOT"
AUTOGRADER_DEFAULT_ROOT = Path("/autograder")
PROTECT_COMMAND = "grade protect"
SHOWN = 3  # paths named in a refusal: enough to see the pattern, never a wall of text

R, W, X = 4, 2, 1


def autograder_source() -> Path:
    """Where Gradescope keeps the unpacked autograder zip (the grader's source, hidden checks included)."""
    return Path(os.environ.get(AUTOGRADER_ROOT_ENV) or AUTOGRADER_DEFAULT_ROOT) / "source"


# -------------------------------------------------------------------------------- the material
def grader_only_paths(assignment: "Assignment") -> list[Path]:
    """Everything of `assignment` the grader may need and student code must not read: existing paths,
    resolved, outermost only (a folder stands for all it holds)."""
    name = assignment.name
    found: list[Path] = [assignment.folder]  # hidden.py, oracle.py, cases.py, variants/, checks
    # other copies of that folder: a site-packages install beside a checkout (Gradescope's venv beside
    # /autograder/source); a folder on the way counts only when it is one (probes.py in it)
    try:
        import assignments  # the grader's own package, wherever it was imported from

        package_dirs = [Path(p) for p in assignments.__path__]
    except ImportError:  # pragma: no cover - the grader always has it
        package_dirs = []
    for folder in [Path(e or ".") / "assignments" for e in sys.path] + package_dirs:
        if (folder / name / "probes.py").is_file():
            found.append(folder / name)
    course = assignment.course_root
    found.append(course / "reference" / name)
    if (course / ".git").is_dir():  # a checkout's history holds every version of all of the above
        found.append(course / ".git")
    found.append(autograder_source())
    return _outermost(Path(os.path.realpath(p)) for p in found if p.exists())


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """`paths` in order, once each, without those inside another one of them."""
    paths = list(dict.fromkeys(paths))
    return [p for p in paths if not any(q != p and q in p.parents for q in paths)]


def all_grader_only_paths(assignments: Iterable["Assignment"]) -> list[Path]:
    """The material of several assignments (`grade protect` with no assignment named: all of them)."""
    return _outermost(p for asg in assignments for p in grader_only_paths(asg))


# ------------------------------------------------------------------------ who could read what
def allows(st: os.stat_result, uid: int, gid: int, want: int) -> bool:
    """Whether the mode bits of `st` grant `want` (R, W, X or a sum) to a process with `uid` and `gid`
    and no supplementary groups. The kernel picks ONE class: the owner's bits when the uid owns the
    file, else the group's when the gid matches, else the others' (an owner with 0o077 has nothing)."""
    if uid == 0:
        return True  # root reads and searches everything (X on files aside: never asked here)
    if st.st_uid == uid:
        bits = (st.st_mode >> 6) & 7
    elif st.st_gid == gid:
        bits = (st.st_mode >> 3) & 7
    else:
        bits = st.st_mode & 7
    return bits & want == want


def reachable(path: Path, uid: int, gid: int) -> bool:
    """Whether every folder above `path` (resolved) grants search (x) permission to uid/gid."""
    real = Path(os.path.realpath(path))
    for parent in reversed(real.parents):
        try:
            if not allows(os.stat(parent), uid, gid, X):
                return False
        except OSError:
            return False
    return True


def can_read(path: Path, uid: int, gid: int) -> bool:
    """Whether uid/gid could read `path` itself: a file's contents (r), a folder's names (r) or what
    is in it by a guessed name (x); every folder above it searchable. A missing path: False."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    if not reachable(path, uid, gid):
        return False
    if stat.S_ISDIR(st.st_mode):
        return allows(st, uid, gid, R) or allows(st, uid, gid, X)
    return allows(st, uid, gid, R)


def readable_by(paths: Iterable[Path], uid: int, gid: int, limit: Optional[int] = SHOWN) -> list[Path]:
    """The first `limit` (None: all) entries in or under `paths` that uid/gid could read: files it may
    open, folders it may list (named instead of what they hold). A folder it may search but not list
    is looked into (a guessed name opens a readable file); what lies below a folder it cannot search
    is never looked at, so a protected tree costs one stat."""
    found: list[Path] = []
    for top in paths:
        top = Path(os.path.realpath(top))
        if not top.exists() or not reachable(top, uid, gid):
            continue
        stack = [top]
        while stack:
            path = stack.pop()
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                continue  # a link leads elsewhere: a target that is material is listed itself
            if stat.S_ISDIR(st.st_mode):
                if allows(st, uid, gid, R):
                    found.append(path)
                elif allows(st, uid, gid, X):
                    try:
                        stack += sorted(Path(path).iterdir(), reverse=True)
                    except OSError:
                        pass
            elif allows(st, uid, gid, R):
                found.append(path)
            if limit is not None and len(found) >= limit:
                return found
    return found


# ------------------------------------------------------------------------------- making it so
def protect(paths: Iterable[Path], owner: Optional[tuple[int, int]] = None) -> list[str]:
    """Make every entry in or under `paths` the grader's alone: owned by `owner` (default: this
    process's user and group; only root may change owners, so as another user the owner stays) and
    no permission for group and others (chmod go-rwx). Links are not followed. Returns the problems
    (entries that could not be changed), empty when all went well."""
    uid, gid = owner if owner is not None else (os.geteuid(), os.getegid())
    problems: list[str] = []
    for top in paths:
        top = Path(os.path.realpath(top))
        if not top.exists():
            continue
        stack = [top]
        while stack:
            path = stack.pop()
            try:
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    continue
                if os.geteuid() == 0 and (st.st_uid, st.st_gid) != (uid, gid):
                    os.chown(path, uid, gid, follow_symlinks=False)
                mode = stat.S_IMODE(st.st_mode)
                if mode & 0o077:
                    os.chmod(path, mode & ~0o077)
                if stat.S_ISDIR(st.st_mode):
                    stack += list(Path(path).iterdir())
            except OSError as exc:
                problems.append(f"{path}: {exc.strerror or exc}")
    return problems


# ---------------------------------------------------------------------------------- the check
def exposure_problem(assignment: "Optional[Assignment]", user: Optional[tuple[int, int]], user_name: str) -> str:
    """Why student code run as `user` ((uid, gid); None: as this process's own user) could read the
    grader-only material of `assignment`, naming the first paths; "" when it could not.

    As the grader's own user it always could (the grader reads that material itself): that is said
    whatever the bits, naming what it could read first.
    """
    material = grader_only_paths(assignment) if assignment is not None else []
    if user is None:
        uid = os.geteuid() if hasattr(os, "geteuid") else None
        shown = readable_by(material, uid, os.getegid(), SHOWN) if uid is not None else []
        first = f" ({', '.join(map(str, shown or material[:1]))})" if material else ""
        who = f" (uid {uid})" if uid is not None else ""
        return (f"the grader does not run as root, so student code would run as the grader's own user{who} "
                f"and could read everything the grader reads: the hidden checks, oracles and solutions{first}.")
    uid, gid = user
    shown = readable_by(material, uid, gid, SHOWN)
    if not shown:
        return ""
    listed = "".join(f"\n    {p}" for p in shown)
    first = " (the first ones found)" if len(shown) == SHOWN else ""
    return f"the {user_name} (uid {uid}) that runs student code can read{first}:{listed}"
