"""Submission layouts and untrusted archives (grader/instructor/batch/layouts.py, archives.py): no grading here."""
from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest
import yaml

from grader.engine import assignment
from grader.engine.fs import Budget
from grader.engine.submission_root import find_root
from grader.instructor.batch.archives import ArchiveRejected, read_zip
from grader.instructor.batch.layouts import content_hash, discover, read_entry
from grader.engine.fs import Rejected, safe_relpath, write_files

ASG = assignment.load("backprop")
SOFTMAX = (Path(__file__).resolve().parents[1] / "reference" / "backprop" / "softmax.py").read_bytes()


def make_zip(path: Path, entries) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return path


def special(name: str, kind: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (kind | 0o644) << 16
    return info


@pytest.mark.parametrize("entries, reason", [
    ([("../evil.py", b"x"), ("softmax.py", SOFTMAX)], "outside the submission"),
    ([("a/../../evil.py", b"x")], "outside the submission"),
    ([("..\\..\\evil.py", b"x")], "outside the submission"),
    ([("/etc/evil.py", b"x")], "absolute path"),
    ([("C:/evil.py", b"x")], "absolute path"),
    ([(special("softmax.py", stat.S_IFLNK), b"/etc/passwd")], "symbolic link"),
    ([(special("dev", stat.S_IFCHR), b"")], "character device"),
    ([(special("blk", stat.S_IFBLK), b"")], "block device"),
    ([(special("fifo", stat.S_IFIFO), b"")], "FIFO"),
    ([("inner.zip", b"PK\x03\x04rest")], "archive inside the archive"),
    ([("data.bin", b"PK\x03\x04 a zip under another name")], "archive inside the archive"),
    ([("x.tar.gz", b"\x1f\x8b...")], "archive inside the archive"),
])
def test_zip_attacks_are_rejected(tmp_path, entries, reason):
    z = make_zip(tmp_path / "s.zip", entries)
    with pytest.raises(ArchiveRejected, match=reason):
        read_zip(z)


def test_zip_bomb_and_entry_count_are_bounded(tmp_path):
    limits = Budget(max_members=10, max_file_bytes=2**20, max_bytes=3 * 2**20)
    bomb = make_zip(tmp_path / "bomb.zip", [("zeros.bin", b"\0" * (8 * 2**20))])
    assert bomb.stat().st_size < 100_000  # 8 MiB of zeros compress to almost nothing
    with pytest.raises(ArchiveRejected, match="bytes"):
        read_zip(bomb, limits)
    many = make_zip(tmp_path / "many.zip", [(f"f{i}.py", b"") for i in range(11)])
    with pytest.raises(ArchiveRejected, match="11 entries"):
        read_zip(many, limits)
    total = make_zip(tmp_path / "total.zip", [(f"f{i}.bin", b"\1" * (900 * 2**10)) for i in range(4)])
    with pytest.raises(ArchiveRejected, match="expands"):
        read_zip(total, limits)


def test_zip_whose_headers_lie_about_sizes_is_still_bounded(tmp_path):
    """A forged header claims 10 bytes for 4 MiB: the limit counts what decompression yields."""
    z = make_zip(tmp_path / "liar.zip", [("big.bin", b"\0" * (4 * 2**20))])
    data = bytearray(z.read_bytes())
    # patch the uncompressed size in the central directory (offset 24 after its signature)
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (10).to_bytes(4, "little")
    z.write_bytes(bytes(data))
    with pytest.raises(ArchiveRejected):
        read_zip(z, Budget(max_file_bytes=2**20, max_bytes=2**20))


def test_corrupt_zip_is_rejected(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04" + b"garbage" * 100)
    with pytest.raises(ArchiveRejected, match="not a readable zip"):
        read_zip(bad)


def test_good_zip_reads_files_and_drops_tool_junk(tmp_path):
    z = make_zip(tmp_path / "ok.zip", [("hw/softmax.py", SOFTMAX), ("__MACOSX/hw/._softmax.py", b"junk"),
                                       ("hw/.DS_Store", b"junk"), ("hw/sub/", b"")])
    assert read_zip(z) == {"hw/softmax.py": SOFTMAX}


def test_safe_relpath_and_write_files_stay_inside(tmp_path):
    assert safe_relpath("./a//b/./c.py") == "a/b/c.py"
    for bad in ("../x", "/x", "a/../../x", "", "C:\\x"):
        with pytest.raises(Rejected):
            safe_relpath(bad)
    dest = tmp_path / "sub"
    dest.mkdir()
    write_files({"a/b.py": b"1"}, dest)
    assert (dest / "a" / "b.py").read_bytes() == b"1"
    with pytest.raises(Rejected):
        write_files({"../outside.py": b"1"}, dest)
    assert not (tmp_path / "outside.py").exists()


def test_find_root_descends_to_the_modules():
    files = {"notes.txt": b"n", "A1-final/softmax.py": b"s", "A1-final/layers.py": b"l", "old/x/softmax.py": b"o"}
    assert find_root(files, {"softmax.py", "layers.py"}) == "A1-final"
    assert find_root({"softmax.py": b"s", "x/layers.py": b"l"}, {"softmax.py", "layers.py"}) == ""
    assert find_root({"readme": b"r"}, {"softmax.py"}) == ""


def test_read_entry_keeps_only_the_files_below_the_root(tmp_path):
    """The batch re-roots a submission at find_root's folder: files outside it are dropped."""
    alice = tmp_path / "class" / "alice"
    for rel, data in {"notes.txt": b"n", "A1-final/softmax.py": SOFTMAX, "A1-final/util/x.py": b"x",
                      "old/x/softmax.py": b"o"}.items():
        (alice / rel).parent.mkdir(parents=True, exist_ok=True)
        (alice / rel).write_bytes(data)
    [entry] = discover(tmp_path / "class", ASG)
    files, _ = read_entry(entry, ASG)
    assert files == {"softmax.py": SOFTMAX, "util/x.py": b"x"}


def test_every_layout_is_recognised(tmp_path):
    root = tmp_path / "class"
    (root / "alice").mkdir(parents=True)
    (root / "alice" / "softmax.py").write_bytes(SOFTMAX)
    (root / "bob" / "A1-final").mkdir(parents=True)
    (root / "bob" / "A1-final" / "softmax.py").write_bytes(SOFTMAX)
    (root / "backprop-octocat" / ".git").mkdir(parents=True)
    (root / "backprop-octocat" / "softmax.py").write_bytes(SOFTMAX)
    make_zip(root / "carol.zip", [("carol/softmax.py", SOFTMAX)])
    (root / "smithjohn_4242_999_softmax-1.py").write_bytes(SOFTMAX)
    (root / "smithjohn_4242_999_notes.txt").write_text("n")
    (root / "doejane_LATE_4343_998_softmax.py").write_bytes(SOFTMAX)
    (root / "Jean Dupont_77_assignsubmission_file_").mkdir()
    (root / "Jean Dupont_77_assignsubmission_file_" / "softmax.py").write_bytes(SOFTMAX)
    (root / "stray.pdf").write_bytes(b"%PDF")
    (root / "link").symlink_to(root / "alice")
    (root / ".hidden").write_text("ignored")
    entries = {e.student: e for e in discover(root, ASG)}
    assert {s: e.layout for s, e in entries.items()} == {
        "alice": "folder", "bob": "folder", "octocat": "classroom", "carol": "zip", "smithjohn": "canvas",
        "doejane": "canvas", "Jean_Dupont": "moodle", "stray.pdf": "unrecognised", "link": "unrecognised"}
    assert entries["doejane"].late and not entries["smithjohn"].late
    assert entries["smithjohn"].lms_id == "4242" and entries["Jean_Dupont"].lms_id == "77"
    assert entries["Jean_Dupont"].name == "Jean Dupont"
    assert "symbolic link" in entries["link"].message and "neither a .zip" in entries["stray.pdf"].message
    hashes = set()
    for sid in ("alice", "bob", "octocat", "carol", "doejane"):
        files, _ = read_entry(entries[sid], ASG)
        assert files == {"softmax.py": SOFTMAX}, sid
        hashes.add(content_hash(files))
    assert len(hashes) == 1  # the same files in any layout: the same hash
    files, _ = read_entry(entries["smithjohn"], ASG)
    assert files == {"softmax.py": SOFTMAX, "notes.txt": b"n"}  # Canvas's "-1" re-upload name undone
    with pytest.raises(ArchiveRejected):
        read_entry(entries["stray.pdf"], ASG)


def test_gradescope_export(tmp_path):
    root = tmp_path / "export"
    for sub in ("submission_11", "submission_12", "submission_13"):
        (root / sub).mkdir(parents=True)
        (root / sub / "softmax.py").write_bytes(SOFTMAX)
    meta = {"submission_11": {":submitters": [{":name": "Ann Lee", ":sid": "A11", ":email": "ann@u.edu"}]},
            "submission_12": {"submitters": [{"name": "Bo Chen", "email": "bo@u.edu"}]}}
    (root / "submission_metadata.yml").write_text(yaml.safe_dump(meta))
    entries = {e.student: e for e in discover(root, ASG)}
    assert set(entries) == {"A11", "bo", "submission_13"}
    assert entries["A11"].name == "Ann Lee" and entries["A11"].email == "ann@u.edu"
    assert entries["A11"].lms_id == "11" and entries["bo"].layout == "gradescope"
    assert "not listed" in entries["submission_13"].message


def test_gradescope_metadata_is_loaded_safely(tmp_path):
    root = tmp_path / "export"
    (root / "submission_1").mkdir(parents=True)
    (root / "submission_metadata.yml").write_text("!!python/object/apply:os.system ['touch /tmp/pwned']\n")
    entries = discover(root, ASG)
    assert [e.student for e in entries] == ["submission_1"]
    assert "could not be read" in entries[0].message


def test_duplicate_ids_are_made_unique(tmp_path):
    (tmp_path / "alice").mkdir()
    make_zip(tmp_path / "alice.zip", [("softmax.py", SOFTMAX)])
    assert sorted(e.student for e in discover(tmp_path, ASG)) == ["alice", "alice-2"]
