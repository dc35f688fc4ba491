"""One home per rule: the submission's root, junk, the size budget and the torch pin.

Each rule lives in one place (grader/engine/submission_root.py, fs.JUNK_NAMES, fs.Budget,
grader.TORCH_VERSION); these tests hold every user to it, on real files in tmp_path.
"""
from __future__ import annotations

import ast
import re
import shutil
import zipfile
from pathlib import Path

import pytest

import grader
from grader.engine import assignment
from grader.engine.fs import Budget, JUNK_NAMES, OverBudget, is_junk, list_files, snapshot_copy
from grader.engine.submission_root import MAX_DEPTH, find_root, module_files
from grader.instructor.batch.archives import ArchiveRejected, read_zip
from grader.instructor.batch.layouts import discover, read_entry
from grader.instructor.batch.run import BatchOptions
from grader.instructor.publish import gradescope
from grader.instructor.publish.template import template_files
from grader.instructor.publish.wheel import metadata_text

ROOT = Path(__file__).resolve().parents[1]
ASG = assignment.load("backprop")
MODULES = module_files(ASG)
SOFTMAX = (ROOT / "reference" / "backprop" / "softmax.py").read_bytes()


def write_tree(folder: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


def zip_tree(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for rel, data in files.items():
            zf.writestr(rel, data)
    return path


def batch_files(tmp_path: Path, files: dict[str, bytes], as_zip: bool) -> dict[str, bytes]:
    """What `grade batch` grades for one student who handed in `files` (a folder or a zip)."""
    klass = tmp_path / "class"
    klass.mkdir(parents=True)
    if as_zip:
        zip_tree(klass / "alice.zip", files)
    else:
        write_tree(klass / "alice", files)
    [entry] = discover(klass, ASG)
    return read_entry(entry, ASG)[0]


def gradescope_folder(submission: Path) -> Path:
    """The folder the Gradescope runner grades (the same call as gradescope.run)."""
    return submission / find_root(list_files(submission, max_depth=MAX_DEPTH), module_files(ASG))


# ---------------------------------------------------------------------------------- the root
LAYOUTS = {
    # name: (files handed in, the root the rule picks)
    "top level": ({"softmax.py": SOFTMAX, "notes/softmax.py": b"old"}, ""),
    "top level beats a fuller subfolder": ({"softmax.py": SOFTMAX, "v2/softmax.py": b"a", "v2/layers.py": b"b"}, ""),
    "wrapper folder of a zip": ({"A1-final/softmax.py": SOFTMAX, "A1-final/util/h.py": b"h", "readme.txt": b"r"},
                                "A1-final"),
    "__MACOSX shadow never counts": ({"__MACOSX/hw/softmax.py": b"junk", "hw/deeper/softmax.py": SOFTMAX},
                                     "hw/deeper"),
    "hidden folder never counts": ({".backup/softmax.py": b"old", "work/softmax.py": SOFTMAX}, "work"),
    "shallowest candidate wins": ({"a/b/softmax.py": b"x", "a/b/layers.py": b"y", "z/softmax.py": SOFTMAX}, "z"),
    "then the most modules": ({"a/softmax.py": SOFTMAX, "b/softmax.py": b"x", "b/layers.py": b"y"}, "b"),
    "then the first by name": ({"b/softmax.py": b"x", "a/softmax.py": SOFTMAX}, "a"),
    "notebooks count": ({"nb/softmax.ipynb": b"{}"}, "nb"),
    "too deep: the top level": ({"/".join("d" * (MAX_DEPTH + 1)) + "/softmax.py": SOFTMAX}, ""),
    "no module anywhere": ({"src/readme.md": b"r"}, ""),
}


@pytest.mark.parametrize("name", LAYOUTS)
def test_find_root_rule(name):
    files, root = LAYOUTS[name]
    assert find_root(files, MODULES) == root


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
@pytest.mark.parametrize("name", LAYOUTS)
def test_batch_and_gradescope_agree_on_the_root(tmp_path, name, as_zip):
    files, root = LAYOUTS[name]
    graded = batch_files(tmp_path, files, as_zip)
    expected = {rel[len(root) + 1:] if root else rel: data for rel, data in files.items()
                if (not root or rel.startswith(root + "/")) and not rel.startswith("__MACOSX/")}
    assert graded == expected
    submission = write_tree(tmp_path / "autograder" / "submission", files)
    assert gradescope_folder(submission) == submission / root


def test_the_gradescope_runner_grades_below_a_wrapper_folder(tmp_path):
    """A student who zips their folder: Gradescope unpacks it one level down, beside __MACOSX/."""
    sub = tmp_path / "ag" / "submission"
    shutil.copytree(ROOT / "reference" / "relu_fit", sub / "hw2", ignore=shutil.ignore_patterns("__pycache__"))
    write_tree(sub, {"__MACOSX/hw2/._relu_net.py": b"\0\5\26\7", "__MACOSX/relu_net.py": b"raise SystemExit"})
    results = gradescope.run("relu_fit", tmp_path / "ag")
    checks = assignment.load("relu_fit").checks(hidden=True)
    assert results["score"] == sum(c.points for c in checks)  # every module found and graded


# ---------------------------------------------------------------------------------- junk
JUNK_TREE = {
    ".git/config": b"[core]", "__pycache__/softmax.cpython-311.pyc": b"\0", "__MACOSX/._softmax.py": b"\0",
    "._softmax.py": b"\0", ".DS_Store": b"\0", "sub/Thumbs.db": b"\0", "venv/bin/python": b"#!",
    ".ipynb_checkpoints/softmax-checkpoint.ipynb": b"{}", "node_modules/x/index.js": b"",
}
KEPT = {"softmax.py": SOFTMAX, ".grade.toml": b'assignment = "backprop"\n', "sub/helper.py": b"h"}


def test_every_junk_name_is_junk_and_nothing_else():
    for rel in JUNK_TREE:
        assert any(is_junk(p) for p in rel.split("/")), rel
    for rel in KEPT:
        assert not any(is_junk(p) for p in rel.split("/")), rel
    assert {".git", "__pycache__", "__MACOSX", ".ipynb_checkpoints"} <= JUNK_NAMES


def test_the_copy_the_batch_and_the_root_search_skip_the_same_junk(tmp_path):
    src = write_tree(tmp_path / "src", {**JUNK_TREE, **KEPT})
    snap = snapshot_copy(src, tmp_path / "copy")
    assert sorted(snap.files) == sorted(KEPT)  # the scratch copy of `grade check`
    assert list_files(src) == sorted(KEPT)  # what the root search sees
    assert batch_files(tmp_path / "f", {**JUNK_TREE, **KEPT}, as_zip=False) == KEPT
    assert batch_files(tmp_path / "z", {**JUNK_TREE, **KEPT}, as_zip=True) == KEPT


def test_list_files_never_enters_a_linked_folder_and_is_bounded(tmp_path):
    src = write_tree(tmp_path / "src", {"a/softmax.py": b"s", "b/c/d/x.py": b"x"})
    (src / "loop").symlink_to(".")
    assert list_files(src) == ["a/softmax.py", "b/c/d/x.py", "loop"]
    assert list_files(src, max_depth=2) == ["a/softmax.py", "loop"]
    flat = write_tree(tmp_path / "flat", {f"{i}.py": b"" for i in range(10)})
    assert len(list_files(flat, max_entries=4)) == 4


def test_the_engine_never_imports_the_instructor_package():
    """Nor do the reports and the worker: imports go one way, and the student edition needs none of it."""
    shipped = [p for part in ("engine", "reports", "worker") for p in (ROOT / "grader" / part).rglob("*.py")]
    assert len(shipped) > 30
    for path in shipped:
        package = path.relative_to(ROOT).parent.parts  # ("grader", "engine", ...)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package[:len(package) - node.level + 1] if node.level else ()
                names = [".".join([*base, node.module or "", a.name]) for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            assert not any("grader.instructor" in n.replace("..", ".") for n in names), (path, names)


# ---------------------------------------------------------------------------------- the budget
def test_batch_options_carry_the_one_budget():
    assert BatchOptions(submissions=Path("s"), out=Path("o"), assignment="backprop").limits == Budget()


@pytest.mark.parametrize("budget, tree, message", [
    (Budget(max_bytes=2**20), {"softmax.py": SOFTMAX, "big.bin": b"\1" * (2**20 + 1)}, "MiB|bytes"),
    (Budget(max_depth=3), {"softmax.py": SOFTMAX, "a/b/c/d/e.py": b"e"}, "nested more than 3"),
    (Budget(max_path=40), {"softmax.py": SOFTMAX, "a" * 30 + "/" + "b" * 30 + ".py": b"e"}, "longer than 40"),
])
def test_the_copy_and_the_readers_honour_the_same_budget(tmp_path, budget, tree, message):
    src = write_tree(tmp_path / "src", tree)
    with pytest.raises(OverBudget, match=message):
        snapshot_copy(src, tmp_path / "copy", budget)
    klass = tmp_path / "class"
    write_tree(klass / "alice", tree)
    zip_tree(klass / "bob.zip", tree)
    for entry in discover(klass, ASG):
        with pytest.raises(ArchiveRejected, match=message):
            read_entry(entry, ASG, budget)


def test_the_archive_reader_honours_members_and_bytes_per_file(tmp_path):
    many = zip_tree(tmp_path / "many.zip", {f"f{i}.py": b"" for i in range(6)})
    with pytest.raises(ArchiveRejected, match="6 entries"):
        read_zip(many, Budget(max_members=5))
    one = zip_tree(tmp_path / "one.zip", {"w.bin": b"\1" * 2000})
    with pytest.raises(ArchiveRejected, match="per file"):
        read_zip(one, Budget(max_file_bytes=1000))
    assert read_zip(one, Budget(max_file_bytes=2000)) == {"w.bin": b"\1" * 2000}


# ---------------------------------------------------------------------------------- the torch pin
PIN_RE = re.compile(r"torch(?:==|\s)(\d+\.\d+\.\d+)")


def pinned_texts() -> dict[str, str]:
    """Every text that spells the torch pin: our files and what the grader generates."""
    texts = {p.relative_to(ROOT).as_posix(): p.read_text()
             for p in [ROOT / "pyproject.toml", ROOT / "scripts" / "install", ROOT / "README.md",
                       *(ROOT / "docs").glob("*.md"), *(ROOT / "grader").rglob("*.py"),
                       *(f for f in (ROOT / "student_template").rglob("*") if f.is_file() and f.suffix != ".whl")]}
    for name in ("backprop", "fashion_mlp"):
        texts.update({f"template {name}/{k}": v for k, v in
                      template_files(name, ROOT / "reference" / name).items()})
        texts.update({f"gradescope {name}/{k}": v.decode() for k, v in
                      gradescope.autograder_files(name).items() if k in ("setup.sh", "run_autograder")})
    texts["student wheel METADATA"] = metadata_text()
    return texts


def test_every_spelling_of_the_torch_pin_is_the_constant():
    texts = pinned_texts()
    spelled = {(name, v) for name, text in texts.items() for v in PIN_RE.findall(text)}
    assert spelled and all(v == grader.TORCH_VERSION for _, v in spelled), spelled
    must = ["pyproject.toml", "scripts/install", "README.md", "template backprop/requirements.txt",
            "template backprop/.github/workflows/grade.yml", "gradescope backprop/setup.sh",
            "student wheel METADATA"]
    assert all(any(n == name for n, _ in spelled) for name in must), sorted({n for n, _ in spelled})
    # the grader's source spells the version once: the constant
    in_source = [n for n, v in spelled if n.startswith("grader/")]
    assert in_source == [], in_source
    assert (ROOT / "grader" / "__init__.py").read_text().count(grader.TORCH_VERSION) == 1
