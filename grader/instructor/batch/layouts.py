"""Recognise the submissions in a folder, and read each one's files (bounded, links not followed).

SUBMISSIONS is a folder; each entry in it is one student's submission (docs/batch.md has an example
of each layout):

  folder      `alice/softmax.py`, also `alice/A1-final/softmax.py` (the root: `submission_root.find_root`)
  classroom   GitHub Classroom clones `<assignment>-<username>/` (the student id is the username)
  zip         `alice.zip`, with or without a top folder inside
  canvas      Canvas's flat download `<name>[_LATE]_<userid>_<submissionid>_<file>`, one submission
              per user id, original file names restored (also Canvas's `softmax-1.py` re-upload names)
  moodle      Moodle's `<Full Name>_<id>_assignsubmission_file_/` folders
  gradescope  Gradescope "Export Submissions": `submission_metadata.yml` + `submission_<id>/` folders
  notebook    `alice.ipynb`: one notebook per student, the whole submission (graded as the one
              notebook that holds every task, docs/notebooks.md)

An entry that fits none (a stray file, a link) becomes an `unrecognised` entry: listed in the
gradebook with a message, never skipped silently.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from datetime import datetime

from ...engine.fs import Budget, is_junk, is_junk_path
from ...engine.submission_root import find_root, module_files
from .archives import ArchiveRejected, check_path, entry_path, read_zip
from .late import SubmissionTime
from .times import parse_gradescope_time

CANVAS_RE = re.compile(r"^(?P<name>[^_]+)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$")
MOODLE_RE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$")
GRADESCOPE_METADATA = "submission_metadata.yml"


@dataclass
class Entry:
    """One student's submission as found in SUBMISSIONS (nothing read yet)."""

    student: str  # unique in the batch; the folder name under reports/
    layout: str  # folder | classroom | zip | canvas | moodle | gradescope | notebook | unrecognised
    source: Path  # the folder, zip or (Canvas) first file
    name: str = ""
    email: str = ""
    lms_id: str = ""  # Canvas/Moodle user id, Gradescope submission id
    late: bool = False
    members: list[tuple[Path, str]] = field(default_factory=list)  # Canvas: (file, original name)
    message: str = ""  # why an entry is unrecognised
    submitted_at: Optional[datetime] = None  # the platform's own time (Gradescope's :created_at, a clone's commit)
    time: SubmissionTime = field(default_factory=SubmissionTime)  # the time the late policy uses (times.py)


def slug(text: str) -> str:
    """A student id usable as a folder name: letters (any script), digits, `._@-`; never empty or hidden."""
    s = re.sub(r"[^\w.@-]+", "_", text.strip()).strip("._-")
    return s[:80] or "student"


def _restore_canvas_name(name: str, modules: frozenset[str]) -> str:
    """Canvas renames a re-uploaded `softmax.py` to `softmax-1.py`: undo it for the module files."""
    m = re.match(r"^(?P<stem>.+)-\d+(?P<ext>\.[A-Za-z0-9]+)$", name)
    if m and f"{m['stem']}{m['ext']}" in modules:
        return f"{m['stem']}{m['ext']}"
    return name


def _read_yaml(path: Path) -> dict:
    import yaml  # PyYAML, the [batch] extra; safe_load builds plain data only

    with open(path, "rb") as f:
        data = yaml.safe_load(f.read(8 * 2**20))
    return data if isinstance(data, dict) else {}


def _meta(d: dict, key: str):
    """Gradescope writes Ruby-symbol keys (`:submitters:`); accept both spellings."""
    return d.get(f":{key}", d.get(key)) if isinstance(d, dict) else None


def _gradescope(root: Path) -> list[Entry]:
    try:
        meta = _read_yaml(root / GRADESCOPE_METADATA)
    except Exception as exc:
        meta = {}
        bad = f"{GRADESCOPE_METADATA} could not be read ({type(exc).__name__}); names and emails missing"
    else:
        bad = ""
    entries = []
    for p in sorted(root.iterdir()):
        if p.name.startswith(".") or p.name == GRADESCOPE_METADATA:
            continue
        if not p.is_dir() or p.is_symlink():
            entries.append(Entry(slug(p.name), "unrecognised", p,
                                 message="not a submission_<id>/ folder of a Gradescope export"))
            continue
        info = meta.get(p.name) or {}
        people = _meta(info, "submitters") or [{}]
        first = people[0] if isinstance(people, list) and people and isinstance(people[0], dict) else {}
        name, email, sid = (str(_meta(first, k) or "") for k in ("name", "email", "sid"))
        sub_id = p.name.removeprefix("submission_")
        student = slug(sid or (email.split("@")[0] if email else "") or name or p.name)
        entries.append(Entry(student, "gradescope", p, name=name, email=email, lms_id=sub_id,
                             message=bad if bad else ("" if info else "not listed in " + GRADESCOPE_METADATA),
                             submitted_at=parse_gradescope_time(_meta(info, "created_at"))))
    return entries


def discover(root: Path, assignment) -> list[Entry]:
    """Every entry of the SUBMISSIONS folder `root`, each with a unique student id, in a stable order."""
    root = Path(root)
    modules = module_files(assignment)
    if (root / GRADESCOPE_METADATA).is_file():
        return _dedupe(_gradescope(root))
    entries: list[Entry] = []
    canvas: dict[str, Entry] = {}
    dirs = [p for p in sorted(root.iterdir()) if not p.name.startswith(".")]
    prefix = f"{assignment.name}-"
    # GitHub Classroom names clones `<classroom assignment>-<user>`: that prefix may not be ours, so
    # the common prefix of the clones (folders with .git) counts too
    clones = [p.name for p in dirs if p.is_dir() and not p.is_symlink() and (p / ".git").exists()]
    common = os.path.commonprefix(clones) if len(clones) >= 2 else ""
    common = common[: common.rfind("-") + 1] if "-" in common else ""
    for p in dirs:
        if p.is_symlink():
            entries.append(Entry(slug(p.name), "unrecognised", p,
                                 message="a symbolic link: not followed (copy the submission in instead)"))
        elif p.is_dir():
            m = MOODLE_RE.match(p.name)
            if m:
                entries.append(Entry(slug(m["name"]), "moodle", p, name=m["name"], lms_id=m["id"]))
            elif p.name.startswith(prefix) and len(p.name) > len(prefix):
                entries.append(Entry(slug(p.name[len(prefix):]), "classroom", p, lms_id=p.name[len(prefix):]))
            elif common and p.name.startswith(common) and len(p.name) > len(common) and (p / ".git").exists():
                entries.append(Entry(slug(p.name[len(common):]), "classroom", p, lms_id=p.name[len(common):]))
            else:
                entries.append(Entry(slug(p.name), "folder", p))
        elif p.is_file():
            m = CANVAS_RE.match(p.name)
            if m:
                e = canvas.get(m["uid"])
                if e is None:
                    e = canvas[m["uid"]] = Entry(slug(m["name"]), "canvas", p, name=m["name"], lms_id=m["uid"])
                    entries.append(e)
                e.late = e.late or bool(m["late"])
                e.members.append((p, _restore_canvas_name(m["file"], modules)))
            elif p.suffix.lower() == ".zip":
                entries.append(Entry(slug(p.stem), "zip", p))
            elif p.suffix.lower() == ".ipynb":
                entries.append(Entry(slug(p.stem), "notebook", p))
            else:
                entries.append(Entry(slug(p.name), "unrecognised", p,
                                     message="a file that is neither a .zip, a notebook nor a Canvas download "
                                             "(<name>_<userid>_<submissionid>_<file>): not graded"))
        else:
            entries.append(Entry(slug(p.name), "unrecognised", p, message="not a regular file or folder"))
    return _dedupe(entries)


def _dedupe(entries: list[Entry]) -> list[Entry]:
    seen: set[str] = set()
    for e in entries:
        base, n = e.student, 2
        while e.student in seen:
            e.student = f"{base}-{n}"
            n += 1
        seen.add(e.student)
    return entries


# ------------------------------------------------------------------------------ reading an entry
def _read_folder(folder: Path, limits: Budget) -> tuple[dict[str, bytes], list[str]]:
    """Regular files below `folder`: links, devices and junk (.git/, __pycache__/, ...) skipped."""
    files: dict[str, bytes] = {}
    notes: list[str] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not is_junk(d)
                             and not os.path.islink(os.path.join(dirpath, d)))
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            rel = p.relative_to(folder).as_posix()
            if is_junk_path(rel):
                continue
            check_path(rel, limits)
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode):
                notes.append(f"{rel}: {'a symbolic link' if stat.S_ISLNK(st.st_mode) else 'a special file'}, skipped")
                continue
            if len(files) >= limits.max_members:
                raise ArchiveRejected(f"more than {limits.max_members} files in the submission")
            if st.st_size > limits.max_file_bytes:
                raise ArchiveRejected(f"{rel} is {st.st_size} bytes (at most {limits.max_file_bytes} per file)")
            total += st.st_size
            if total > limits.max_bytes:
                raise ArchiveRejected(f"the submission holds more than {limits.max_bytes} bytes")
            with open(p, "rb") as f:  # O_NOFOLLOW would be stricter; the lstat above is the gate
                files[rel] = f.read(limits.max_file_bytes + 1)
    return files, notes


def read_entry(entry: Entry, assignment, limits: Budget = Budget()) -> tuple[dict[str, bytes], list[str]]:
    """The submission's files {relative path: bytes} below its root, and notes; ArchiveRejected when
    not acceptable. Files outside the root (`submission_root.find_root`) are dropped."""
    modules = module_files(assignment)
    notes: list[str] = []
    if entry.layout == "unrecognised":
        raise ArchiveRejected(entry.message)
    if entry.layout == "zip":
        files = read_zip(entry.source, limits)
    elif entry.layout == "notebook":  # the file alone, under its own name
        size = entry.source.stat().st_size
        if size > limits.max_file_bytes:
            raise ArchiveRejected(f"{entry.source.name} is {size} bytes (at most {limits.max_file_bytes} per file)")
        files = {entry_path(entry.source.name): entry.source.read_bytes()}
    elif entry.layout == "canvas":
        files = {}
        members = sorted(entry.members, key=lambda m: m[0].name)
        if len(members) == 1 and members[0][1].lower().endswith(".zip"):
            files = read_zip(members[0][0], limits)
        else:
            total = 0
            for path, original in members:
                rel = entry_path(original)
                check_path(rel, limits)
                size = path.stat().st_size
                total += size
                if size > limits.max_file_bytes or total > limits.max_bytes:
                    raise ArchiveRejected(f"{original} is too large ({size} bytes)")
                if rel.lower().endswith(".zip"):
                    raise ArchiveRejected(f"{original}: a zip beside other files (submit one or the other)")
                files[rel] = path.read_bytes()
    else:
        files, notes = _read_folder(entry.source, limits)
        zips = [r for r in files if r.lower().endswith(".zip")]
        if len(zips) == 1 and not any(r.rpartition("/")[2] in modules for r in files):
            # an LMS folder that holds the student's uploaded zip (Moodle, Gradescope)
            files = read_zip(entry.source / zips[0], limits)
    root = find_root(files, modules)
    if root:
        files = {rel[len(root) + 1:]: data for rel, data in files.items() if rel.startswith(root + "/")}
    return files, notes


def content_hash(files: dict[str, bytes]) -> str:
    """sha256 over the sorted (path, bytes) pairs: the same files give the same hash in any layout."""
    h = hashlib.sha256()
    for rel in sorted(files):
        data = files[rel]
        h.update(rel.encode("utf-8", "surrogateescape") + b"\0" + str(len(data)).encode() + b"\0" + data)
    return h.hexdigest()
