"""The folders a worker sees: the runtime (the worker package and the probes, read-only) and its
scratch copy of the submission (the only place student code may write, under bwrap)."""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .. import fs

WORKER_PACKAGE = Path(__file__).resolve().parents[2] / "worker"


@dataclass
class Runtime:
    """A folder holding the worker package and the assignment's probes: all the sandbox may read."""

    folder: Path

    @classmethod
    def create(cls, probes: Path) -> "Runtime":
        folder = Path(tempfile.mkdtemp(prefix="grader-rt-"))
        shutil.copytree(WORKER_PACKAGE, folder / "gradeworker",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(probes, folder / "probes.py")
        # readable by the sandbox user whatever the originals' modes: `grade protect` leaves the
        # assignment's folder (probes.py in it) to the grader alone, mode 0600, and copies keep modes
        for dirpath, _, filenames in os.walk(folder):
            os.chmod(dirpath, 0o755)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o644)
        return cls(folder)

    def cleanup(self) -> None:
        fs.remove_tree(self.folder)


def copy_submission(src: Path, dest: Path, owner: Optional[tuple[int, int]]) -> None:
    """A scratch copy: student code may write here, and only here (under bwrap).

    `src` is the session's snapshot (grader.engine.fs.snapshot_copy), which the grader made and checked:
    folders and regular files only, within the submission's budget, nested at most a few levels.
    Links leaving the submission, FIFOs and devices were left out there.
    """
    shutil.copytree(src, dest, symlinks=True)
    if owner:
        for dirpath, dirnames, filenames in os.walk(dest):
            os.chown(dirpath, *owner)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), *owner)
