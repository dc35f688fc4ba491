"""Data sets used by the assignments: FashionMNIST (real, IDX files) and a synthetic 2-D set.

FashionMNIST is looked for, in order, in:

1. the ``data_dir`` argument;
2. ``$GRADER_DATA`` (the folder itself, then its ``fashion-mnist`` subfolder);
3. the user cache (platformdirs: ``$XDG_CACHE_HOME/grader/fashion-mnist`` on Linux, default
   ``~/.cache/grader/fashion-mnist``; the platform's cache folder on macOS and Windows);
4. ``/usr/share/datasets/fashion-mnist`` (Debian/Ubuntu package ``dataset-fashion-mnist``).

If none holds the four IDX files, they are downloaded from the official source into the user cache
(with pooch: a progress bar on the terminal, MD5-verified, moved into place atomically) unless downloads are disabled (``download=False`` or
``GRADER_NO_DOWNLOAD=1``). Decoded arrays are cached in-process and in
``<user cache>/decoded-v1.npz`` so that later runs skip the gzip/IDX decoding.

Only the standard library and numpy are used, so the grader does not depend on torchvision.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import json
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
import numpy as np
import numpy.typing as npt

__all__ = [
    "CLASS_NAMES",
    "CHECKSUMS",
    "DatasetMissing",
    "FILES",
    "FashionMNIST",
    "MIRRORS",
    "SYSTEM_DIRS",
    "Synthetic",
    "candidate_dirs",
    "clear_cache",
    "find_fashion_mnist",
    "load_fashion_mnist",
    "make_synthetic",
    "read_idx",
    "user_cache_dir",
]

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# Logical name -> file name as published by Zalando.
FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

# MD5 of the official .gz files (from the fashion-mnist README). Only downloads are verified against
# these: Debian's package ships recompressed .gz files whose bytes (not contents) differ.
CHECKSUMS: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}

# Base URLs tried in order; the official S3 mirror first, the GitHub repository as fallback.
MIRRORS: tuple[str, ...] = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)

# System-wide locations (last in the search order). A tuple so tests can monkeypatch it.
SYSTEM_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets/fashion-mnist"),)

ENV_DATA = "GRADER_DATA"
ENV_NO_DOWNLOAD = "GRADER_NO_DOWNLOAD"
ENV_URL = "GRADER_FASHION_MNIST_URL"  # an extra mirror (e.g. an internal one), tried first

CACHE_NAME = "decoded-v1.npz"  # bump the version when the stored layout changes
DOWNLOAD_TIMEOUT_S = 60.0

# IDX type codes (third byte of the magic number) -> big-endian numpy dtype.
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class DatasetMissing(Exception):
    """FashionMNIST was not found locally and could not be downloaded."""


# --------------------------------------------------------------------------------------------------
# IDX reading


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzip-compressed or plain) into a native-endian, writable numpy array.

    Raises ValueError, naming the file, when the header or the size is wrong.
    """
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(2)
    # Detect gzip by its magic bytes rather than the file name: people gunzip and rename files.
    try:
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as g:
                raw = g.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise ValueError(f"{path}: not a readable gzip file ({e})") from e

    if len(raw) < 4:
        raise ValueError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"{path}: bad IDX magic number {raw[:4].hex()} (the first two bytes must be zero)"
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX data type code 0x{code:02x}")
    if ndim == 0:
        raise ValueError(f"{path}: IDX file declares zero dimensions")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise ValueError(f"{path}: truncated IDX header ({ndim} dimensions need {header_len} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header_len
    if actual != expected:
        raise ValueError(
            f"{path}: IDX size mismatch: dimensions {dims} of {dtype.name} need {expected} data bytes, "
            f"file has {actual}"
        )
    arr = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(dims)
    # astype always copies: the result owns its memory, is writable and native-endian.
    return arr.astype(dtype.newbyteorder("="))


# --------------------------------------------------------------------------------------------------
# Locating and downloading FashionMNIST


def user_cache_dir() -> Path:
    """The platform's user cache folder (platformdirs) + ``fashion-mnist``: on Linux
    ``$XDG_CACHE_HOME/grader/fashion-mnist`` (``~/.cache/...``), on macOS
    ``~/Library/Caches/grader/fashion-mnist``, on Windows ``%LOCALAPPDATA%\\grader\\Cache\\...``."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("grader", appauthor=False)) / "fashion-mnist"


def candidate_dirs(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The folders searched for FashionMNIST, in search order."""
    dirs: list[Path] = []
    if data_dir is not None:
        dirs.append(Path(data_dir).expanduser())
    env = os.environ.get(ENV_DATA)
    if env:
        root = Path(env).expanduser()
        dirs += [root, root / "fashion-mnist"]
    dirs.append(user_cache_dir())
    dirs += list(SYSTEM_DIRS)
    return dirs


def _source_files(folder: Path) -> dict[str, Path] | None:
    """The four IDX files in ``folder`` (``.gz`` preferred, plain accepted), or None if any is missing."""
    found: dict[str, Path] = {}
    for key, gz_name in FILES.items():
        for name in (gz_name, gz_name[: -len(".gz")]):
            p = folder / name
            if p.is_file():
                found[key] = p
                break
        else:
            return None
    return found


def _downloads_disabled() -> bool:
    return os.environ.get(ENV_NO_DOWNLOAD, "").strip().lower() not in ("", "0", "false", "no")


def _mirrors() -> list[str]:
    extra = os.environ.get(ENV_URL)
    bases = ([extra] if extra else []) + list(MIRRORS)
    return [b if b.endswith("/") else b + "/" for b in bases]


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _RichBar:
    """The progress bar pooch's HTTPDownloader drives (total, update, reset, close), drawn by rich
    on the terminal (stderr) only."""

    def __init__(self, name: str):
        from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

        self._progress = Progress("[progress.description]{task.description}", BarColumn(),
                                  DownloadColumn(), TransferSpeedColumn(), transient=True)
        self._task = self._progress.add_task(f"FashionMNIST {name}", total=None)
        self._progress.start()
        self.total = None

    def update(self, n: int) -> None:
        self._progress.update(self._task, advance=n, total=self.total)

    def reset(self) -> None:
        self._progress.reset(self._task, total=self.total)

    def close(self) -> None:
        self._progress.stop()


def _file_downloader(url: str, output_file, pooch_obj) -> None:
    """pooch downloads http(s) and ftp; a ``file://`` mirror (a local copy) is read here."""
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp, open(output_file, "wb") as out:
        while block := resp.read(1 << 20):
            out.write(block)


def _fetch(url: str, dest: Path, md5: str) -> None:
    """Download ``url`` to ``dest`` with pooch: into a temporary file beside it, moved into place
    only when its MD5 matches (a concurrent reader never sees a partial or unverified file)."""
    import sys

    import pooch

    if url.startswith("file:"):
        downloader = _file_downloader
    else:
        bar = _RichBar(dest.name) if sys.stderr.isatty() else False
        downloader = pooch.HTTPDownloader(progressbar=bar, timeout=DOWNLOAD_TIMEOUT_S)
    try:
        pooch.retrieve(url, known_hash=f"md5:{md5}", fname=dest.name, path=dest.parent,
                       downloader=downloader)
    except ValueError as exc:
        if "hash" in str(exc):
            raise OSError(f"checksum mismatch: {exc}") from None
        raise
    os.chmod(dest, 0o644)  # a data cache is not secret


def _download(target: Path) -> list[str]:
    """Fetch the missing/invalid files into ``target``; return a list of errors (empty on success)."""
    target.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for name in FILES.values():
        dest = target / name
        md5 = CHECKSUMS[name]
        if dest.is_file() and _md5(dest) == md5:
            continue  # already fetched by an earlier, interrupted run
        file_errors: list[str] = []
        for base in _mirrors():
            url = base + name
            try:
                _fetch(url, dest, md5)
                break
            except (OSError, http.client.HTTPException, ValueError) as e:
                # OSError covers URLError/HTTPError and timeouts; HTTPException a truncated response
                # (IncompleteRead); ValueError a malformed URL.
                file_errors.append(f"{url}: {e}")
        else:
            errors += file_errors
            break  # the other files would fail the same way; don't wait for more timeouts
    return errors


def _missing_message(looked: list[Path], download_note: str) -> str:
    lines = ["FashionMNIST not found. Looked for the four IDX files in:"]
    lines += [f"  - {d}" for d in looked]
    lines += [
        download_note,
        "To get it:",
        "  - on Debian/Ubuntu (offline, as CI does): apt-get install dataset-fashion-mnist",
        f"  - or put {', '.join(FILES.values())} (gzipped or not) in a folder and set {ENV_DATA}=that folder",
        f"  - or allow the download (unset {ENV_NO_DOWNLOAD}) on a machine with internet access",
    ]
    return "\n".join(lines)


def find_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None, *, download: bool | None = None
) -> Path:
    """Return the folder holding the FashionMNIST IDX files, downloading them if needed.

    ``download=None`` means "allowed unless GRADER_NO_DOWNLOAD is set". Raises DatasetMissing with
    the folders searched and instructions when no folder qualifies and the download is off or fails.
    """
    looked = candidate_dirs(data_dir)
    for d in looked:
        if _source_files(d) is not None:
            return d

    if download is None:
        download = not _downloads_disabled()
    if not download:
        note = f"Download disabled (download=False or {ENV_NO_DOWNLOAD} set)."
        raise DatasetMissing(_missing_message(looked, note))

    target = user_cache_dir()
    try:
        errors = _download(target)
    except OSError as e:  # e.g. the cache folder cannot be created
        errors = [f"{target}: {e}"]
    if errors:
        note = "Download from the official source failed:\n" + "\n".join(f"    {e}" for e in errors)
        raise DatasetMissing(_missing_message(looked, note))
    return target


# --------------------------------------------------------------------------------------------------
# Loading with caches


@dataclass(frozen=True)
class FashionMNIST:
    """FashionMNIST arrays. The arrays are read-only because they are shared through the cache."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _fingerprint(files: dict[str, Path]) -> str:
    """A key that changes when any source file is replaced or rewritten (path, size, mtime)."""
    parts = {}
    for key, p in sorted(files.items()):
        st = p.stat()
        parts[key] = [str(p.resolve()), st.st_size, st.st_mtime_ns]
    return json.dumps(parts, sort_keys=True)


def _check_raw(raw: dict[str, np.ndarray], where: str) -> None:
    """Sanity-check decoded arrays so a wrong file is reported here, not as a confusing shape error later."""
    for split in ("train", "test"):
        x, y = raw[f"{split}_images"], raw[f"{split}_labels"]
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
            raise ValueError(f"{where}: {split} images must be uint8 (N, 28, 28), got {x.dtype} {x.shape}")
        if y.dtype != np.uint8 or y.shape != (x.shape[0],):
            raise ValueError(
                f"{where}: {split} labels must be uint8 ({x.shape[0]},), got {y.dtype} {y.shape}"
            )
        if y.size and int(y.max()) > 9:
            raise ValueError(f"{where}: {split} labels outside 0..9")


def _read_npz(path: Path, key: str) -> dict[str, np.ndarray] | None:
    """Return the cached arrays if the npz exists, is readable and was made from the same sources."""
    try:
        # Open the file ourselves: np.load leaks its handle when the zip is corrupt.
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
            if str(z["source_key"]) != key:
                return None  # stale: the source files changed (or another source folder is in use)
            return {k: z[k] for k in FILES}
    except Exception:  # any unreadable/corrupt cache is just a cache miss
        return None


def _write_npz(path: Path, key: str, raw: dict[str, np.ndarray]) -> None:
    """Write the decoded cache atomically; failures (read-only home, full disk) are ignored."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".part")
        with os.fdopen(fd, "wb") as f:
            # Uncompressed on purpose: loading 55 MB of uint8 is far faster than inflating it.
            np.savez(f, source_key=np.array(key), **raw)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError:
        pass
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


@functools.lru_cache(maxsize=4)
def _load_raw(folder: str, key: str) -> dict[str, np.ndarray]:
    """Decoded uint8 arrays for ``folder``; ``key`` (the source fingerprint) is part of the cache key."""
    cache = user_cache_dir() / CACHE_NAME
    raw = _read_npz(cache, key)
    if raw is not None:
        try:
            _check_raw(raw, str(cache))
        except ValueError:
            raw = None  # a damaged cache is a miss, not an error
    if raw is None:
        files = _source_files(Path(folder))
        if files is None:  # vanished between find and load
            raise DatasetMissing(f"FashionMNIST files disappeared from {folder}")
        raw = {k: read_idx(p) for k, p in files.items()}
        _check_raw(raw, folder)
        _write_npz(cache, key, raw)
    for a in raw.values():
        a.setflags(write=False)
    return raw


@functools.lru_cache(maxsize=2)
def _load_converted(folder: str, key: str, normalize: bool, flatten: bool, dtype: str) -> FashionMNIST:
    raw = _load_raw(folder, key)

    def images(x: np.ndarray) -> np.ndarray:
        out = x.reshape(len(x), -1) if flatten else x
        out = out.astype(np.dtype(dtype))
        if normalize:
            out /= 255  # in place: avoids a second full-size temporary
        out.setflags(write=False)
        return out

    def labels(y: np.ndarray) -> np.ndarray:
        out = y.astype(np.int64)
        out.setflags(write=False)
        return out

    return FashionMNIST(
        x_train=images(raw["train_images"]),
        y_train=labels(raw["train_labels"]),
        x_test=images(raw["test_images"]),
        y_test=labels(raw["test_labels"]),
    )


def load_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    normalize: bool = True,
    flatten: bool = True,
    dtype: npt.DTypeLike = np.float32,
    download: bool | None = None,
) -> FashionMNIST:
    """Load FashionMNIST (60,000 train / 10,000 test).

    x: shape (N, 784) when ``flatten`` else (N, 28, 28), of ``dtype``, scaled to [0, 1] when
    ``normalize`` (else 0..255). y: int64 class indices 0..9 (see CLASS_NAMES). Arrays are
    read-only (shared by the cache): copy before modifying in place.
    """
    dt = np.dtype(dtype)
    if normalize and dt.kind != "f":
        raise ValueError(f"normalize=True needs a floating dtype, got {dt}")
    folder = find_fashion_mnist(data_dir, download=download)
    files = _source_files(folder)
    if files is None:
        raise DatasetMissing(f"FashionMNIST files disappeared from {folder}")
    key = _fingerprint(files)
    return _load_converted(str(folder.resolve()), key, normalize, flatten, dt.str)


def clear_cache() -> None:
    """Forget the in-process cache (the on-disk decoded cache is kept)."""
    _load_converted.cache_clear()
    _load_raw.cache_clear()


# --------------------------------------------------------------------------------------------------
# Synthetic 2-D data set


@dataclass(frozen=True)
class Synthetic:
    """The synthetic 2-D data set: x float64 (N, 2), y int64 (N,) in {0, 1}."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


DEFAULT_A: tuple[tuple[float, float], ...] = ((1.0, 0.4), (0.4, 0.6))


def make_synthetic(
    n_train: int = 60000,
    n_val: int = 10000,
    seed: int = 0,
    A: npt.ArrayLike | None = None,
    threshold: float = 1.0,
) -> Synthetic:
    """x ~ N(0, I₂); y = 1 where xᵀAx > threshold (outside an ellipse for positive-definite A), else 0.

    Deterministic for a seed. The train set is drawn before the validation set, so it does not
    depend on ``n_val``. Class balance with the defaults: P(y = 1) = 0.4965 exactly (A has
    eigenvalues 1.247 and 0.353); seed 0 gives 49.42% ones in train and 50.08% in validation.
    """
    A_ = np.asarray(DEFAULT_A if A is None else A, dtype=np.float64)
    if A_.shape != (2, 2):
        raise ValueError(f"A must be 2x2, got shape {A_.shape}")
    if n_train < 0 or n_val < 0:
        raise ValueError("n_train and n_val must be non-negative")
    rng = np.random.default_rng(seed)
    x_train = rng.standard_normal((n_train, 2))
    x_val = rng.standard_normal((n_val, 2))

    def label(x: np.ndarray) -> np.ndarray:
        q = np.einsum("ni,ij,nj->n", x, A_, x)
        return (q > threshold).astype(np.int64)

    return Synthetic(x_train=x_train, y_train=label(x_train), x_val=x_val, y_val=label(x_val))

