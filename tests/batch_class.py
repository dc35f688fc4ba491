"""Build a class of submissions for the batch tests, in every layout `grade batch` recognises.

Each builder returns {student id: folder holding exactly the files `grade check` should grade}, so a
test can grade those folders itself and compare with the gradebook. Wrong submissions come from the
wrong submissions of assignments/backprop/cases.py, attacks from tests/hostile/, plus a notebook, the unsolved
template and malicious or malformed zips (expected: status `rejected`).
"""
from __future__ import annotations

import io
import os
import shutil
import stat
import zipfile
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_notebook

from assignments.backprop.cases import WRONG as MUTANTS

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
REF = ROOT / "reference" / "backprop"
# checks that need no torch in the grader: the class stays fast (docs/batch.md, tests/test_batch.py)
FAST_CHECKS = ("softmax.values", "softmax.stable", "softmax.cross_entropy", "softmax.rows_scale")
HOSTILE = ("exit_at_import", "sys_exit", "forged_output", "liar_object", "number_subclasses")
SOFTMAX_MUTANTS = [m for m in MUTANTS if m.file == "softmax.py"]


def _files_of(kind: str, store: Path) -> Path:
    """A plain folder with the files of one kind of submission (kept as the expected files)."""
    dest = store / kind
    if dest.exists():
        return dest
    dest.mkdir(parents=True)
    if kind == "reference":
        for p in REF.glob("*.py"):
            shutil.copy(p, dest / p.name)
    elif kind == "softmax_only":
        shutil.copy(REF / "softmax.py", dest / "softmax.py")
    elif kind == "loops":
        shutil.copytree(ROOT / "assignments" / "backprop" / "variants" / "loops", dest, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    elif kind == "template":
        for p in (ROOT / "student_template" / "backprop").glob("*.py"):
            shutil.copy(p, dest / p.name)
    elif kind == "notebook":
        src = (REF / "softmax.py").read_text()
        nb = new_notebook(cells=[new_code_cell(src), new_code_cell("softmax(np.zeros((2, 3)))")])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, str(dest / "softmax.ipynb"))
    elif kind.startswith("mutant:"):
        m = next(m for m in SOFTMAX_MUTANTS if m.name == kind.split(":", 1)[1])
        text = (REF / "softmax.py").read_text()
        assert text.count(m.old) == 1
        (dest / "softmax.py").write_text(text.replace(m.old, m.new))
    elif kind.startswith("hostile:"):
        shutil.copytree(TESTS / "hostile" / kind.split(":", 1)[1], dest, dirs_exist_ok=True)
    else:
        raise KeyError(kind)
    return dest


def _zip(path: Path, folder: Path, top: str = "") -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, (f"{top}/" if top else "") + p.relative_to(folder).as_posix())


def _copy(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, dirs_exist_ok=True)


def _raw_zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)


def _link_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _device_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFCHR | 0o644) << 16
    return info


MALICIOUS = {
    # student id: (entries of the zip) -> all must be `rejected`
    "evil_traversal": lambda sm: [("../../escaped.py", b"x = 1\n"), ("softmax.py", sm)],
    "evil_absolute": lambda sm: [("/tmp/absolute.py", b"x = 1\n"), ("softmax.py", sm)],
    "evil_symlink": lambda sm: [(_link_info("softmax.py"), b"/work/reference/backprop/softmax.py")],
    "evil_device": lambda sm: [(_device_info("dev0"), b""), ("softmax.py", sm)],
    "evil_bomb": lambda sm: [("softmax.py", sm), ("padding.bin", b"\0" * (300 * 2**20))],
    "evil_nested": lambda sm: [("inner.zip", _nested(sm))],
}


def _nested(sm: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("softmax.py", sm)
    return buf.getvalue()


def build_big_class(root: Path, store: Path) -> tuple[dict[str, Path], set[str]]:
    """≥ 50 entries in every layout but Gradescope (a whole-folder layout: build_gradescope_class).

    Returns ({student: expected files}, {students expected `rejected` or `unrecognised`}).
    """
    root.mkdir(parents=True)
    expected: dict[str, Path] = {}
    bad: set[str] = set()
    kinds = ["reference", "softmax_only", "loops", "template", "notebook",
             *(f"mutant:{m.name}" for m in SOFTMAX_MUTANTS), *(f"hostile:{h}" for h in HOSTILE)]
    # one folder per student
    for i, kind in enumerate(kinds):
        sid = f"folder{i:02d}_{kind.replace(':', '_')}"
        _copy(_files_of(kind, store), root / sid)
        expected[sid] = _files_of(kind, store)
    for i in range(6):  # more of the class: correct, in plain folders
        _copy(_files_of("softmax_only", store), root / f"student{i:02d}")
        expected[f"student{i:02d}"] = _files_of("softmax_only", store)
    # nested single top folder (with a stray file beside it)
    for i, kind in enumerate(["reference", f"mutant:{SOFTMAX_MUTANTS[0].name}", "notebook"]):
        sid = f"nested{i}"
        _copy(_files_of(kind, store), root / sid / "A1-final")
        (root / sid / "notes.txt").write_text("my notes\n")
        expected[sid] = _files_of(kind, store)
    # GitHub Classroom clones
    for i, kind in enumerate(["reference", "loops", f"mutant:{SOFTMAX_MUTANTS[1].name}"]):
        user = f"ghuser{i}"
        _copy(_files_of(kind, store), root / f"backprop-{user}")
        (root / f"backprop-{user}" / ".git").mkdir()
        (root / f"backprop-{user}" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        expected[user] = _files_of(kind, store)
    # one zip per student, with and without a top folder
    for i, kind in enumerate(["reference", "softmax_only", *(f"mutant:{m.name}" for m in SOFTMAX_MUTANTS[2:]),
                              "hostile:sys_exit"]):
        sid = f"zip{i:02d}"
        _zip(root / f"{sid}.zip", _files_of(kind, store), top="submission" if i % 2 else "")
        expected[sid] = _files_of(kind, store)
    # Canvas: flat files, a LATE one, a re-upload renamed softmax-1.py, one zip upload
    for i, kind in enumerate(["reference", "softmax_only", f"mutant:{SOFTMAX_MUTANTS[3].name}", "loops"]):
        name, uid, subid = f"canvasstudent{i}", 1000 + i, 50000 + i
        late = "_LATE" if i == 1 else ""
        for p in sorted(_files_of(kind, store).iterdir()):
            fname = "softmax-1.py" if (i == 2 and p.name == "softmax.py") else p.name
            shutil.copy(p, root / f"{name}{late}_{uid}_{subid}_{fname}")
        expected[name] = _files_of(kind, store)
    _zip(root / "canvaszipper_1099_59999_hw1.zip", _files_of("softmax_only", store), top="hw1")
    expected["canvaszipper"] = _files_of("softmax_only", store)
    # Moodle folders, one holding the student's zip
    for i, kind in enumerate(["reference", f"mutant:{SOFTMAX_MUTANTS[4].name}"]):
        full = ["Ada Lovelace", "Émile Borel"][i]
        _copy(_files_of(kind, store), root / f"{full}_{2000 + i}_assignsubmission_file_")
        expected[["Ada_Lovelace", "Émile_Borel"][i]] = _files_of(kind, store)
    moodle_zip = root / "Grace Hopper_2002_assignsubmission_file_"
    moodle_zip.mkdir()
    _zip(moodle_zip / "my work.zip", _files_of("reference", store), top="work")
    expected["Grace_Hopper"] = _files_of("reference", store)
    # malicious and malformed archives
    sm = (REF / "softmax.py").read_bytes()
    for sid, entries in MALICIOUS.items():
        _raw_zip(root / f"{sid}.zip", entries(sm))
        bad.add(sid)
    (root / "evil_corrupt.zip").write_bytes(b"PK\x03\x04 this is not really a zip file" * 10)
    bad.add("evil_corrupt")
    (root / "README.txt").write_text("not a submission\n")
    bad.add("README.txt")
    return expected, bad


def build_gradescope_class(root: Path, store: Path, kinds: list[str]) -> dict[str, Path]:
    """A Gradescope "Export Submissions" folder: submission_metadata.yml and submission_<id>/."""
    root.mkdir(parents=True)
    meta = {}
    expected = {}
    for i, kind in enumerate(kinds):
        sub_id = 7000 + i
        folder = root / f"submission_{sub_id}"
        _copy(_files_of(kind, store), folder)
        sid = f"s{100 + i}"
        meta[f"submission_{sub_id}"] = {
            ":submitters": [{":name": f"Student {i}", ":sid": sid, ":email": f"student{i}@uni.example"}],
            ":created_at": "2026-11-30 10:00:00 +0000", ":score": 0.0}
        expected[sid] = _files_of(kind, store)
    (root / "submission_metadata.yml").write_text(yaml.safe_dump(meta))
    return expected
