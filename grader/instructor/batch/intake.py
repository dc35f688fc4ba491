"""The batch's one intake: each entry of SUBMISSIONS read once, as a value the whole batch shares.

`take_in(entries, ...)` reads an entry's files (bounded, links not followed: layouts.read_entry),
hashes them (the resume rule's content hash) and keeps the code the similarity screen compares
(text only, bounded). The files themselves are held only until `spool` writes them, once, into the
folder their grading process grades, or until the plan drops them (up to date): a class of
hundreds is never in memory at once.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional

from grader.instructor import similarity
from grader.engine.fs import Rejected, write_files

from .layouts import Entry, content_hash, read_entry


@dataclass
class Submission:
    """One entry, read: what planning, grading and the similarity screen need of it."""

    entry: Entry
    status: str = ""  # "": readable; "unrecognised" or "rejected": not graded (message says why)
    message: str = ""
    content_hash: str = ""  # "" when not readable
    notes: list[str] = field(default_factory=list)  # what the reading left out (links, special files)
    code: Optional[dict[str, str]] = None  # {module: code} for the similarity screen (None: not kept)
    code_notes: list[str] = field(default_factory=list)
    files: Optional[dict[str, bytes]] = field(default=None, repr=False)  # until spooled or dropped

    @property
    def student(self) -> str:
        return self.entry.student


def take_in(entries: Iterable[Entry], asg, limits: Budget, keep_code: bool) -> Iterator[Submission]:
    """Each entry read once (lazily, in order); `keep_code`: keep what the similarity screen compares."""
    modules = {m for t in asg.tasks for m in t.modules}
    for e in entries:
        if e.layout == "unrecognised":
            yield Submission(e, "unrecognised", e.message)
            continue
        try:
            files, notes = read_entry(e, asg, limits)
        except (Rejected, OSError) as exc:
            yield Submission(e, "rejected", str(exc) if isinstance(exc, Rejected) else f"cannot be read: {exc}")
            continue
        sub = Submission(e, content_hash=content_hash(files), notes=notes, files=files)
        if keep_code:
            sub.code, sub.code_notes = similarity.module_code(e.student, files, modules)
        yield sub


def spool(sub: Submission, folder: Path) -> Path:
    """Write the submission's files into `folder` (its grading grades them there) and let them go."""
    folder.mkdir(parents=True)
    write_files(sub.files or {}, folder)
    sub.files = None
    return folder


def read_spool(folder: Path) -> dict[str, bytes]:
    """The files `spool` wrote (our own copy: a Dask task carries them to another machine)."""
    files = {}
    for dirpath, _dirnames, filenames in os.walk(folder):
        for fn in filenames:
            p = Path(dirpath) / fn
            files[p.relative_to(folder).as_posix()] = p.read_bytes()
    return files
