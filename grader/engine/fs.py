"""The grader's own file-system work on untrusted trees: copy, list, read, remove, all bounded.

A submission is a tree its author built to hurt whoever walks it: links out of the folder or into a
loop, FIFOs that block a reader, links to /dev/zero, sparse files of terabytes, thousands of names
for one file, folders nested thousands deep. Everything here walks iteratively (no recursion limit
to hit), never follows a link it has not resolved itself inside the submission, opens files with
O_NOFOLLOW | O_NONBLOCK and checks they are regular before reading, and counts what it copies
against a budget (apparent sizes: a sparse file costs what it claims). Two rules live here for
everyone who reads a submission: what is junk (never part of one) and the one `Budget`.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Optional

# Junk: names that are never part of a submission, wherever they sit in its tree: version control,
# tools' caches, environments, what zip tools and file managers add. The scratch copy, the batch's
# folder and archive readers and the search for the submission's root all skip them (docs/security.md).
JUNK_NAMES = frozenset({".git", ".hg", ".svn", "__pycache__", ".ipynb_checkpoints", ".venv", "venv",
                        "node_modules", ".mypy_cache", ".pytest_cache", "__MACOSX", ".DS_Store", "Thumbs.db"})
JUNK_PREFIX = "._"  # macOS AppleDouble files (`._softmax.py`) beside every file of a zip made on a Mac


def is_junk(name: str) -> bool:
    """Whether the file or folder called `name` (one path component) is junk, never submitted."""
    return name in JUNK_NAMES or name.startswith(JUNK_PREFIX)


def is_junk_path(rel: str) -> bool:
    """Whether the relative POSIX path `rel` is junk or lies inside a junk folder."""
    return any(is_junk(part) for part in rel.split("/"))


@dataclass(frozen=True)
class Budget:
    """What one submission may hold, read from a folder or an archive; documented in docs/security.md.

    The scratch copy (`snapshot_copy`) honours bytes, files, depth and path; the batch's readers
    (folders, Canvas files, zips) honour bytes, members, bytes per file, depth and path.
    """

    max_bytes: int = 256 * 2**20  # apparent (or decompressed) sizes, summed over every file
    max_files: int = 5000  # files and folders of the scratch copy
    max_depth: int = 24  # folder levels below the submission
    max_path: int = 1024  # characters of a path relative to the submission
    max_members: int = 2000  # entries of an archive, files of a folder the batch reads
    max_file_bytes: int = 64 * 2**20  # one file (an archive member): the worker's file size limit


class OverBudget(Exception):
    """The submission holds more than its budget allows: graded as `rejected`."""


class Rejected(ValueError):
    """Untrusted input that is not accepted (a path leaving its folder, a bad archive); the message
    says why, for the instructor and the student."""


def safe_relpath(name: str) -> str:
    """A relative POSIX path inside the submission, or Rejected for anything that escapes it."""
    raw = name.replace("\\", "/")
    if raw.startswith("/") or (len(raw) >= 2 and raw[1] == ":") or "\x00" in raw:
        raise Rejected(f"entry {name!r} has an absolute path")
    parts = [p for p in PurePosixPath(raw).parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise Rejected(f"entry {name!r} points outside the submission (..)")
    if not parts:
        raise Rejected(f"entry {name!r} has an empty name")
    return "/".join(parts)


def write_files(files: dict[str, bytes], folder: Path) -> None:
    """Write the files {relative path: bytes} below `folder` only (every path checked: Rejected
    for one that would land outside it), each a new file."""
    folder = Path(folder)
    base = folder.resolve()
    for rel, data in files.items():
        target = folder / safe_relpath(rel)
        if base not in target.resolve().parents:
            raise Rejected(f"{rel!r} would be written outside the submission")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as out:
            out.write(data)


@dataclass
class Snapshot:
    """The checked copy of a submission that every worker's scratch copy is made from.

    `files` maps each copied file's relative path (POSIX) to its size; `left_out` says, per entry,
    why it was not copied (a link out of the submission, a FIFO, ...): shown to the student.
    """

    root: Path
    files: dict[str, int] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    bytes: int = 0

    def path(self, rel: str) -> Optional[Path]:
        """The copied file at `rel`, or None when the snapshot has no such regular file."""
        rel = rel.strip("/")
        return self.root / rel if rel in self.files else None


# never follow a link, never block on a FIFO; Windows has neither flag (nor FIFOs: links are
# checked with lstat before opening there), and needs O_BINARY for bytes as they are
_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _copy_file(src: str, dest: str, expected_size: int, left: int) -> int:
    """Copy one regular file (never a link, FIFO or device); return the bytes copied."""
    fd = os.open(src, _READ_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped for a FIFO/device between lstat and open
            raise OSError("not a regular file")
        if st.st_size > left:
            raise OverBudget("")
        copied = 0
        with open(dest, "wb") as out:
            while copied < st.st_size:
                chunk = os.read(fd, min(1 << 20, st.st_size - copied))
                if not chunk:
                    break
                out.write(chunk)
                copied += len(chunk)
        return copied
    finally:
        os.close(fd)


def snapshot_copy(src: Path, dest: Path, budget: Budget = Budget()) -> Snapshot:
    """Copy the submission `src` into the new folder `dest`, within `budget`.

    Regular files and folders are copied; a symlink is resolved once, and copied as the regular
    file it points to only when that file lies inside the submission (links to folders are never
    followed: no loops); FIFOs, sockets, devices, dangling links and links leaving the submission
    are left out and listed in `left_out`. Raises OverBudget with a message for the student.
    """
    root = os.path.realpath(src)
    snap = Snapshot(Path(dest))
    os.makedirs(dest)
    count = 0
    stack: list[tuple[str, int]] = [("", 0)]  # (relative folder, depth): iterative, no recursion
    while stack:
        rel_dir, depth = stack.pop()
        try:
            with os.scandir(os.path.join(root, rel_dir) if rel_dir else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            snap.left_out.append(f"{rel_dir or '.'}/: cannot be read ({exc.strerror})")
            continue
        for entry in entries:
            if is_junk(entry.name):
                continue
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            count += 1
            if count > budget.max_files:
                raise OverBudget(f"the submission holds more than {budget.max_files} files and folders")
            if len(rel) > budget.max_path:
                raise OverBudget(f"a path in the submission is longer than {budget.max_path} characters")
            try:
                st = os.lstat(entry.path)
            except OSError:
                continue
            target = entry.path
            if stat.S_ISLNK(st.st_mode):
                real = os.path.realpath(entry.path)  # resolved once; loops end in ELOOP → not a file
                try:
                    st = os.stat(real) if _inside(real, root) else None
                except OSError:
                    st = None
                if st is None or not stat.S_ISREG(st.st_mode):
                    snap.left_out.append(f"{rel}: a link that does not point to a file inside the "
                                         "submission (left out)")
                    continue
                target = real
            if stat.S_ISDIR(st.st_mode):
                if depth + 1 > budget.max_depth:
                    raise OverBudget(f"the submission's folders are nested more than {budget.max_depth} deep")
                os.mkdir(os.path.join(dest, rel))
                stack.append((rel, depth + 1))
            elif stat.S_ISREG(st.st_mode):
                left = budget.max_bytes - snap.bytes
                if st.st_size > left:
                    raise OverBudget(f"the submission holds more than {budget.max_bytes // 2**20} MiB "
                                     "(apparent sizes, sparse files included): leave data sets, "
                                     "environments and checkpoints you were not asked for out")
                try:
                    n = _copy_file(target, os.path.join(dest, rel), st.st_size, left)
                except OverBudget:
                    raise OverBudget(f"the submission holds more than {budget.max_bytes // 2**20} MiB") from None
                except OSError as exc:
                    snap.left_out.append(f"{rel}: cannot be read ({exc.strerror or exc}; left out)")
                    continue
                snap.bytes += n
                snap.files[rel] = n
            else:
                kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                        else "a device")
                snap.left_out.append(f"{rel}: {kind}, not a file (left out)")
    return snap


def list_files(folder: Path, max_depth: int = Budget.max_depth, max_entries: int = Budget.max_files) -> list[str]:
    """The relative POSIX paths of the files (and links) below `folder`, junk left out.

    Walks iteratively, never into a linked folder, at most `max_depth` folder levels down, and stops
    after `max_entries` entries (a tree built to be slow to walk is listed in part: the copy's
    budget rejects it anyway). Sorted, so what a caller picks from it does not depend on the disk.
    """
    root = os.fspath(folder)
    found: list[str] = []
    seen = 0
    stack: list[tuple[str, int]] = [("", 0)]
    while stack and seen < max_entries:
        rel_dir, depth = stack.pop()
        try:
            with os.scandir(os.path.join(root, rel_dir) if rel_dir else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if is_junk(entry.name):
                continue
            seen += 1
            if seen > max_entries:
                break
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if not is_dir:
                found.append(rel)
            elif depth < max_depth:
                stack.append((rel, depth + 1))
    return sorted(found)


def read_regular(path: Path, limit: int) -> bytes:
    """Read a regular file of at most `limit` bytes; never a link, a FIFO or a device.

    Raises OSError (not a regular file, unreadable) or ValueError (larger than `limit`).
    """
    fd = os.open(path, _READ_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{Path(path).name} is not a regular file")
        if st.st_size > limit:
            raise ValueError(f"{Path(path).name} is larger than {limit // 1024} KiB")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:  # grew since fstat
            raise ValueError(f"{Path(path).name} is larger than {limit // 1024} KiB")
        return data
    finally:
        os.close(fd)


def _subdirs_after_unlinking(fd: Optional[int]):
    """Unlink every non-folder entry of the open folder `fd`; return an iterator over its folders."""
    if fd is None:
        return None
    folders = []
    try:
        with os.scandir(fd) as it:
            for entry in it:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                if is_dir:
                    folders.append(entry.name)
                    continue
                try:
                    os.unlink(entry.name, dir_fd=fd)
                except OSError:
                    pass
    except OSError:
        pass
    return iter(folders)


def remove_tree(path: Path) -> bool:
    """Remove `path` and everything under it; never raises, never follows a link, no recursion.

    Works on trees deeper than PATH_MAX (every step is relative to an open folder descriptor) and
    on folders whose permissions student code removed. Returns whether the tree is gone.
    """
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(path)
            return True
        if os.open not in os.supports_dir_fd:  # Windows: no descriptor-relative calls
            return _remove_tree_by_path(path)
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        try:
            os.chmod(path, 0o700)
        except OSError:
            pass
        stack = [(os.open(path, flags), "", _subdirs_after_unlinking(None))]
        try:
            while stack:
                fd, _name, pending = stack[-1]
                if pending is None:  # first visit: unlink the files, list the folders once
                    pending = _subdirs_after_unlinking(fd)
                    stack[-1] = (fd, _name, pending)
                child = next(pending, None)
                if child is not None:
                    try:
                        os.chmod(child, 0o700, dir_fd=fd, follow_symlinks=False)
                    except (OSError, NotImplementedError):
                        pass
                    try:
                        stack.append((os.open(child, flags, dir_fd=fd), child, None))
                    except OSError:
                        pass
                    continue
                stack.pop()
                os.close(fd)
                if stack:
                    try:
                        os.rmdir(_name, dir_fd=stack[-1][0])
                    except OSError:
                        pass
        finally:
            for fd, _name, _pending in stack:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.rmdir(path)
        return True
    except Exception:
        return not os.path.lexists(path)


def _remove_tree_by_path(path: Path) -> bool:
    """remove_tree where there are no descriptor-relative calls (Windows): shutil.rmtree, making
    read-only files writable on the way (Windows refuses to delete them); never raises."""
    import shutil

    def retry(func, target, _exc) -> None:
        try:
            os.chmod(target, stat.S_IWRITE | stat.S_IREAD | stat.S_IEXEC)
            func(target)
        except OSError:
            pass

    try:
        shutil.rmtree(path, onerror=retry)
    except (OSError, RecursionError):
        pass
    return not os.path.lexists(path)
