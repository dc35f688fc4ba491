"""What each audience installs: the student edition of the grader, built from this repository.

`dl-grader-student` (`grade dist student`) holds the engine, the CLI, and for every assignment its
statement, probes, public checks and oracles. It leaves out what only instructors may have: the
hidden checks (`hidden.py`: their inputs are generated from the assignment's seed, so their code is
as secret as their answers), `reference/`, the registered cases (`cases.py`, `variants/`: pieces of
the solution), the template generator, batch grading, `grade selftest` and this builder. The instructor
install (`pip install -e .` of this repository) keeps everything.

The wheel is zipped here, not by a build backend: its bytes depend on the files in it only (fixed
date, order, permissions; no backend version in its metadata), so `grade template` can commit it
into every template repository (`wheels/`) and regenerating it changes nothing when nothing changed.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Sequence

from ... import TORCH_VERSION, __version__
from .. import SOURCE_ROOT

ROOT = SOURCE_ROOT
STUDENT_DIST = "dl-grader-student"
# What students get is decided by the layout, not by a list of what to leave out: the whole of
# grader/ but its instructor package, and of each assignment only these files (an allow-list: a new
# file of an assignment, like hidden.py, cases.py or variants/, stays with the instructor).
INSTRUCTOR_PACKAGE = "instructor"
STUDENT_FILES = ("__init__.py", "probes.py", "checks.py", "oracle.py", "statement.md", "reference_curves.json")
_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc")


def _grader_ignore(folder: str, names: list[str]) -> set[str]:
    junk = _JUNK(folder, names)
    if Path(folder).resolve() == (ROOT / "grader").resolve():
        junk.add(INSTRUCTOR_PACKAGE)
    return junk


def _assignments_ignore(folder: str, names: list[str]) -> set[str]:
    if Path(folder).resolve() == (ROOT / "assignments").resolve():  # the package and its assignment folders
        return {n for n in names if n != "__init__.py" and not (Path(folder) / n).is_dir()}
    return {n for n in names if n not in STUDENT_FILES}


DEPENDENCIES = (
    "numpy>=1.26,<3",
    "scipy>=1.11",
    f"torch=={TORCH_VERSION}",
    "nbformat>=5.9",
    "click>=8.1",
    "rich>=13",
    "pooch>=1.8",
    "platformdirs>=4",
    # the plots of the HTML report (grade check --html): gradient error maps, training curves
    "matplotlib>=3.7",
    # Windows and macOS: the worker's memory watched, its process tree killed (grader/engine/sandbox/)
    "psutil>=5.9",
)
SUMMARY = "Autograder for deep-learning courses: student edition (public checks only)"
# Every entry of the zip gets this time (2000-01-01 00:00:00 UTC) unless SOURCE_DATE_EPOCH says
# otherwise (reproducible-builds.org): a wheel's bytes depend on its contents only, so committing a
# regenerated wheel into a template does not churn git.
DEFAULT_EPOCH = 946684800
FILE_MODE = 0o100644  # a regular file, rw-r--r--, whatever the umask or file system of the build


def wheel_name(version: str = __version__) -> str:
    """The file name of the student wheel (PEP 427: name_version-py3-none-any.whl)."""
    return f"{STUDENT_DIST.replace('-', '_')}-{version}-py3-none-any.whl"


def metadata_text(version: str = __version__) -> str:
    """The wheel's METADATA (core metadata 2.1): name, version, Python and the dependencies."""
    lines = ["Metadata-Version: 2.1", f"Name: {STUDENT_DIST}", f"Version: {version}", f"Summary: {SUMMARY}",
             "Requires-Python: >=3.11", *(f"Requires-Dist: {d}" for d in DEPENDENCIES),
             "Description-Content-Type: text/markdown", "",
             f"# {STUDENT_DIST}", "", "The `grade` command for students: `grade check` runs the public checks "
             "of an assignment.", ""]
    return "\n".join(lines)


def stage_student(dest: Path, extra_assignments: Sequence[Path] = ()) -> Path:
    """Lay out the student edition's packages in `dest` (a new folder): `grader/` (less the
    instructor's package, plus `edition.py`) and `assignments/` (the student files of each, and of
    `extra_assignments`: assignment folders of a course outside this repository)."""
    dest.mkdir(parents=True)
    shutil.copytree(ROOT / "grader", dest / "grader", ignore=_grader_ignore)
    shutil.copytree(ROOT / "assignments", dest / "assignments", ignore=_assignments_ignore)
    for folder in extra_assignments:
        shutil.copytree(folder, dest / "assignments" / folder.name, dirs_exist_ok=True,
                        ignore=lambda _, names: {n for n in names if n not in STUDENT_FILES})
    (dest / "grader" / "edition.py").write_text(
        '"""Which edition of the grader this is (the instructor install has no such file)."""\n'
        'EDITION = "student"\n')
    return dest


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _date_time() -> tuple[int, int, int, int, int, int]:
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))
    return time.gmtime(max(epoch, 315532800))[:6]  # a zip cannot say anything before 1980


def wheel_entries(stage: Path, version: str = __version__) -> dict[str, bytes]:
    """Archive name → bytes of every file of the wheel, in the order they are written: the
    packages sorted, then the .dist-info files, RECORD last (the wheel spec's advice)."""
    files = {p.relative_to(stage).as_posix(): p.read_bytes()
             for top in ("grader", "assignments") for p in (stage / top).rglob("*") if p.is_file()}
    entries = dict(sorted(files.items()))
    info = f"{STUDENT_DIST.replace('-', '_')}-{version}.dist-info"
    entries[f"{info}/METADATA"] = metadata_text(version).encode()
    # the generator is this module, not a build backend: its version would otherwise be in the bytes
    entries[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: dl-grader (grader/instructor/publish/wheel.py)\n"
                                b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    entries[f"{info}/entry_points.txt"] = b"[console_scripts]\ngrade = grader.cli:main\n"
    entries[f"{info}/top_level.txt"] = b"assignments\ngrader\n"
    record = [_record_line(n, d) for n, d in entries.items()] + [f"{info}/RECORD,,"]
    entries[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    return entries


def write_wheel(entries: dict[str, bytes], path: Path) -> Path:
    """Zip `entries` into `path` with nothing that depends on the machine or the moment: a fixed
    date, fixed permissions and system, the given order, one compression level."""
    when = _date_time()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=when)
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # Unix, also when built on Windows (ZipInfo's default there is 0)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data, compresslevel=9)
    return path


def student_wheel_bytes(extra_assignments: Sequence[Path] = ()) -> bytes:
    """The student wheel of this source tree, as bytes (what `grade template` puts in wheels/)."""
    with tempfile.TemporaryDirectory(prefix="grader-dist-") as tmp:
        stage = stage_student(Path(tmp) / "src", extra_assignments)
        return write_wheel(wheel_entries(stage), Path(tmp) / wheel_name()).read_bytes()


def wheel_contents(data: bytes) -> dict[str, bytes]:
    """Archive name → bytes of a wheel: what two wheels are compared by (a zlib other than ours
    compresses the same files to other bytes; what is inside is what matters)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def build_student_wheel(out_dir: Path, extra_assignments: Sequence[Path] = ()) -> Path:
    """Build the student edition's wheel into `out_dir`; return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / wheel_name()
    path.write_bytes(student_wheel_bytes(extra_assignments))
    return path
