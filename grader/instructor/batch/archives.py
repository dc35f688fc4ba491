"""Read an untrusted .zip into memory, or refuse it with a reason.

The batch runs on the instructor's machine, next to the hidden checks, so an archive is read entry by
entry with every check done before a byte is written anywhere: no absolute or `..` paths (also with
Windows separators or drive letters), no symbolic links, hard links, devices, FIFOs or sockets (Unix
mode bits of the entry), no encrypted entries, no nested archives (by name and by magic bytes), a
bounded number of entries and bounded uncompressed sizes (counted while decompressing, not taken
from the headers, which a zip bomb can fake), all within the one submission budget `fs.Budget`.
Junk (`fs.is_junk_path`: `__MACOSX/`, `._*`, `.DS_Store`, ...) is dropped silently. The result is a
mapping of safe relative paths to bytes; `grader.instructor.isolated.grade.write_files` writes it into the submission's own
folder only.
"""
from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from ...engine.fs import Budget, Rejected, is_junk_path, safe_relpath

ARCHIVE_SUFFIXES = (".zip", ".jar", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".7z", ".rar", ".whl", ".egg")
ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!")


class ArchiveRejected(Rejected):
    """The archive (or folder) is not accepted; the message says why, for the instructor and student."""


def entry_path(name: str) -> str:
    """The safe relative path of an entry named `name` (fs.safe_relpath), or ArchiveRejected."""
    try:
        return safe_relpath(name)
    except Rejected as exc:
        raise ArchiveRejected(str(exc)) from None


def check_path(rel: str, budget: Budget) -> None:
    """ArchiveRejected when the safe relative path `rel` is deeper or longer than `budget` allows."""
    if rel.count("/") > budget.max_depth:
        raise ArchiveRejected(f"the submission's folders are nested more than {budget.max_depth} deep")
    if len(rel) > budget.max_path:
        raise ArchiveRejected(f"a path in the submission is longer than {budget.max_path} characters")


def _check_nested(relpath: str, head: bytes) -> None:
    if relpath.lower().endswith(ARCHIVE_SUFFIXES) or head.startswith(ARCHIVE_MAGIC):
        raise ArchiveRejected(f"entry {relpath!r} is an archive inside the archive (nested archives are "
                              "not accepted: submit the files themselves)")


def read_zip(path: Path, limits: Budget = Budget()) -> dict[str, bytes]:
    """The regular files of the zip at `path` as {relative path: bytes}; ArchiveRejected otherwise."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise ArchiveRejected(f"{path.name} is not a readable zip file ({exc})") from None
    files: dict[str, bytes] = {}
    total = 0
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise ArchiveRejected(f"{path.name} has {len(infos)} entries (at most {limits.max_members} accepted)")
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_bytes:
            raise ArchiveRejected(f"{path.name} expands to {declared} bytes (at most "
                                  f"{limits.max_bytes} accepted)")
        for info in infos:
            rel = entry_path(info.filename)
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode)
            if kind == stat.S_IFLNK:
                raise ArchiveRejected(f"entry {info.filename!r} is a symbolic link (not accepted)")
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                what = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
                        stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket"}.get(kind, "a special file (hard link?)")
                raise ArchiveRejected(f"entry {info.filename!r} is {what} (not accepted)")
            if info.is_dir() or kind == stat.S_IFDIR:
                continue
            if is_junk_path(rel):
                continue
            check_path(rel, limits)
            if info.flag_bits & 0x1:
                raise ArchiveRejected(f"entry {info.filename!r} is encrypted")
            if rel in files:
                raise ArchiveRejected(f"entry {rel!r} appears twice")
            if info.file_size > limits.max_file_bytes:
                raise ArchiveRejected(f"entry {rel!r} is {info.file_size} bytes (at most "
                                      f"{limits.max_file_bytes} per file)")
            # count what really comes out: headers of a zip bomb may lie about sizes
            budget = min(limits.max_file_bytes, limits.max_bytes - total)
            try:
                with zf.open(info) as f:
                    data = f.read(budget + 1)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError,
                    ValueError) as exc:
                raise ArchiveRejected(f"entry {rel!r} cannot be read ({type(exc).__name__}: {exc})") from None
            except Exception as exc:  # zlib.error and friends from a corrupt stream
                raise ArchiveRejected(f"entry {rel!r} cannot be read ({type(exc).__name__})") from None
            if len(data) > budget:
                raise ArchiveRejected(f"{path.name} expands beyond the size limits ({limits.max_file_bytes} "
                                      f"bytes per file, {limits.max_bytes} in all): a zip bomb?")
            _check_nested(rel, data[:8])
            total += len(data)
            files[rel] = data
    return files
