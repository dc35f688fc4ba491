"""Tests for grader.data: IDX reading, the FashionMNIST search/download/cache, the synthetic set.

Everything runs offline: downloads are served by a local HTTP server on 127.0.0.1 (or file://) with
checksums patched to those of small fake IDX files. The real data set is tested only when Debian's
package is installed.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from grader import data

REAL_DIR = Path("/usr/share/datasets/fashion-mnist")
DEFAULT_SYSTEM_DIRS = data.SYSTEM_DIRS  # captured before the autouse fixture patches it
HAVE_REAL = all((REAL_DIR / name).is_file() for name in data.FILES.values())

IDX_CODES = {
    np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E,
}


# --------------------------------------------------------------------------------------------------
# helpers


def idx_bytes(arr: np.ndarray) -> bytes:
    """Encode ``arr`` as IDX: magic (0, 0, type code, ndim), big-endian u32 dims, big-endian data."""
    code = IDX_CODES[arr.dtype.type]
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, arr: np.ndarray, gz: bool | None = None) -> Path:
    payload = idx_bytes(arr)
    if gz is None:
        gz = path.name.endswith(".gz")
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def fake_arrays(n_train: int = 6, n_test: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def make_fake_dataset(folder: Path, *, gz: bool = True, seed: int = 0) -> dict[str, np.ndarray]:
    """Write a tiny but well-formed FashionMNIST folder; return the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = fake_arrays(seed=seed)
    for key, name in data.FILES.items():
        write_idx(folder / (name if gz else name[:-3]), arrays[key], gz=gz)
    return arrays


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test sees the real environment: private cache, no env vars, no system dirs, no network."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for var in ("GRADER_DATA", "GRADER_NO_DOWNLOAD", "GRADER_FASHION_MNIST_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(data, "SYSTEM_DIRS", (tmp_path / "no-debian",))
    monkeypatch.setattr(data, "MIRRORS", ())
    data.clear_cache()
    yield
    data.clear_cache()


# --------------------------------------------------------------------------------------------------
# IDX reader


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize(
    "arr",
    [
        np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
        np.array([-3, 0, 7], dtype=np.int8),
        np.array([[1, -2], [300, -40000]], dtype=np.int32),
        np.array([1.5, -2.25, 1e-3], dtype=np.float32),
        np.array([[np.pi], [-1e300]], dtype=np.float64),
        np.zeros((0, 28, 28), dtype=np.uint8),
    ],
    ids=["u8-3d", "i8", "i32-2d", "f32", "f64", "empty"],
)
def test_read_idx_roundtrip(tmp_path, arr, gz):
    p = write_idx(tmp_path / "a.idx", arr, gz=gz)
    got = data.read_idx(p)
    assert got.shape == arr.shape and got.dtype == arr.dtype
    assert got.dtype.isnative
    np.testing.assert_array_equal(got, arr)
    got[...] = 0  # owns a writable copy


def test_read_idx_detects_gzip_by_content_not_name(tmp_path):
    arr = np.arange(10, dtype=np.uint8)
    p = tmp_path / "labels-idx1-ubyte"  # no .gz suffix, but gzip content
    p.write_bytes(gzip.compress(idx_bytes(arr)))
    np.testing.assert_array_equal(data.read_idx(p), arr)


GOOD = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00" + GOOD[2:], "magic"),
        (b"\x00\x00\x07\x02" + GOOD[4:], "type code 0x07"),
        (b"\x00\x00\x08\x00", "zero dimensions"),
        (GOOD[:9], "truncated IDX header"),
        (GOOD[:-1], "size mismatch"),
        (GOOD + b"\x00", "size mismatch"),
        (b"\x00\x00\x08\x03" + GOOD[4:], "size mismatch"),  # claims 3 dims, data too short
    ],
    ids=["short", "magic", "dtype", "ndim0", "header", "truncated", "trailing", "ndim"],
)
@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_malformed(tmp_path, payload, message, gz):
    p = tmp_path / "bad.idx"
    p.write_bytes(gzip.compress(payload) if gz else payload)
    with pytest.raises(ValueError, match=message) as exc:
        data.read_idx(p)
    assert str(p) in str(exc.value)  # the message names the file


def test_read_idx_corrupt_gzip(tmp_path):
    p = tmp_path / "bad.gz"
    p.write_bytes(gzip.compress(GOOD)[:-6])  # gzip magic, truncated stream
    with pytest.raises(ValueError, match="gzip"):
        data.read_idx(p)


# --------------------------------------------------------------------------------------------------
# search order


def test_candidate_dirs_order(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_DATA", str(tmp_path / "env"))
    dirs = data.candidate_dirs(tmp_path / "explicit")
    assert dirs == [
        tmp_path / "explicit",
        tmp_path / "env",
        tmp_path / "env" / "fashion-mnist",
        tmp_path / "xdg-cache" / "grader" / "fashion-mnist",
        tmp_path / "no-debian",
    ]


def test_user_cache_defaults_to_home(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.user_cache_dir() == tmp_path / ".cache" / "grader" / "fashion-mnist"


def test_default_system_dir_is_debian_path():
    assert DEFAULT_SYSTEM_DIRS == (REAL_DIR,)


def test_explicit_dir_wins(tmp_path, monkeypatch):
    make_fake_dataset(tmp_path / "explicit")
    make_fake_dataset(tmp_path / "env")
    monkeypatch.setenv("GRADER_DATA", str(tmp_path / "env"))
    assert data.find_fashion_mnist(tmp_path / "explicit") == tmp_path / "explicit"


def test_explicit_dir_incomplete_falls_through(tmp_path, monkeypatch):
    make_fake_dataset(tmp_path / "explicit")
    (tmp_path / "explicit" / "t10k-labels-idx1-ubyte.gz").unlink()  # 3 of 4 files do not qualify
    make_fake_dataset(tmp_path / "env")
    monkeypatch.setenv("GRADER_DATA", str(tmp_path / "env"))
    assert data.find_fashion_mnist(tmp_path / "explicit") == tmp_path / "env"


@pytest.mark.parametrize("sub", ["", "fashion-mnist"])
def test_grader_data_env_wins_over_cache_and_debian(tmp_path, monkeypatch, sub):
    debian = tmp_path / "debian"
    make_fake_dataset(debian)
    make_fake_dataset(data.user_cache_dir())
    monkeypatch.setattr(data, "SYSTEM_DIRS", (debian,))
    make_fake_dataset(tmp_path / "env" / sub if sub else tmp_path / "env")
    monkeypatch.setenv("GRADER_DATA", str(tmp_path / "env"))
    expected = tmp_path / "env" / sub if sub else tmp_path / "env"
    assert data.find_fashion_mnist() == expected


def test_user_cache_wins_over_debian(tmp_path, monkeypatch):
    debian = tmp_path / "debian"
    make_fake_dataset(debian)
    make_fake_dataset(data.user_cache_dir())
    monkeypatch.setattr(data, "SYSTEM_DIRS", (debian,))
    assert data.find_fashion_mnist() == data.user_cache_dir()


def test_debian_dir_used_last(tmp_path, monkeypatch):
    debian = tmp_path / "debian"
    make_fake_dataset(debian)
    monkeypatch.setattr(data, "SYSTEM_DIRS", (debian,))
    monkeypatch.setenv("GRADER_DATA", str(tmp_path / "empty"))
    assert data.find_fashion_mnist(download=False) == debian


def test_plain_idx_names_accepted(tmp_path):
    arrays = make_fake_dataset(tmp_path / "plain", gz=False)
    assert data.find_fashion_mnist(tmp_path / "plain") == tmp_path / "plain"
    d = data.load_fashion_mnist(tmp_path / "plain", normalize=False, flatten=False, dtype=np.uint8)
    np.testing.assert_array_equal(d.x_train, arrays["train_images"])


# --------------------------------------------------------------------------------------------------
# DatasetMissing and download


def test_missing_message_lists_places_and_remedies(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_DATA", str(tmp_path / "env"))
    with pytest.raises(data.DatasetMissing) as exc:
        data.find_fashion_mnist(tmp_path / "explicit", download=False)
    msg = str(exc.value)
    for d in data.candidate_dirs(tmp_path / "explicit"):
        assert str(d) in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    assert "GRADER_DATA" in msg
    assert "disabled" in msg


class _Server:
    """A tiny HTTP server on 127.0.0.1 serving ``root``; counts the requests it answers."""

    def __init__(self, root: Path):
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                server.requests.append(self.path)
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_source(tmp_path, monkeypatch):
    """Serve a fake data set over HTTP and patch CHECKSUMS to its MD5s. Yields (server, arrays)."""
    root = tmp_path / "remote"
    arrays = make_fake_dataset(root / "good")
    checksums = {
        name: hashlib.md5((root / "good" / name).read_bytes()).hexdigest()
        for name in data.FILES.values()
    }
    monkeypatch.setattr(data, "CHECKSUMS", checksums)
    srv = _Server(root)
    srv.root = root
    yield srv, arrays
    srv.close()


def _cache_listing() -> list[str]:
    d = data.user_cache_dir()
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_download_with_fallback_mirror(fake_source, monkeypatch):
    srv, arrays = fake_source
    # First mirror answers 404 for every file; the second serves the data.
    monkeypatch.setattr(data, "MIRRORS", (srv.url + "nothing-here/", srv.url + "good/"))
    folder = data.find_fashion_mnist()
    assert folder == data.user_cache_dir()
    assert _cache_listing() == sorted(data.FILES.values())  # no .part leftovers
    for name in data.FILES.values():
        assert hashlib.md5((folder / name).read_bytes()).hexdigest() == data.CHECKSUMS[name]
    assert any(r.startswith("/nothing-here/") for r in srv.requests)
    d = data.load_fashion_mnist(normalize=False, flatten=False, dtype=np.uint8)
    np.testing.assert_array_equal(d.x_test, arrays["test_images"])
    np.testing.assert_array_equal(d.y_train, arrays["train_labels"])

    # Now present in the cache: a second lookup makes no request.
    n = len(srv.requests)
    data.clear_cache()
    assert data.find_fashion_mnist() == folder
    assert len(srv.requests) == n


def test_download_checksum_mismatch_rejected(fake_source, monkeypatch):
    srv, _ = fake_source
    bad = dict(data.CHECKSUMS)
    bad["train-labels-idx1-ubyte.gz"] = "0" * 32
    monkeypatch.setattr(data, "CHECKSUMS", bad)
    monkeypatch.setattr(data, "MIRRORS", (srv.url + "good/",))
    with pytest.raises(data.DatasetMissing, match="checksum mismatch") as exc:
        data.find_fashion_mnist()
    assert srv.url + "good/train-labels-idx1-ubyte.gz" in str(exc.value)
    # The verified file stays; the rejected one was never renamed into place, and no temp remains.
    assert _cache_listing() == ["train-images-idx3-ubyte.gz"]
    # The incomplete cache folder does not qualify as a data set.
    with pytest.raises(data.DatasetMissing):
        data.find_fashion_mnist(download=False)


def test_download_resumes_keeping_verified_files(fake_source, monkeypatch):
    srv, _ = fake_source
    cache = data.user_cache_dir()
    cache.mkdir(parents=True)
    name = "train-images-idx3-ubyte.gz"
    (cache / name).write_bytes(b"left over from an interrupted run")  # wrong MD5: fetched again
    good_labels = srv.root / "good" / "t10k-labels-idx1-ubyte.gz"  # right MD5: kept
    (cache / good_labels.name).write_bytes(good_labels.read_bytes())
    monkeypatch.setattr(data, "MIRRORS", (srv.url + "good/",))
    data.find_fashion_mnist()
    assert sorted(srv.requests) == sorted(
        "/good/" + n for n in data.FILES.values() if n != "t10k-labels-idx1-ubyte.gz"
    )
    assert hashlib.md5((cache / name).read_bytes()).hexdigest() == data.CHECKSUMS[name]


def test_download_from_file_url_and_env_mirror(fake_source, monkeypatch):
    srv, _ = fake_source
    monkeypatch.setenv("GRADER_FASHION_MNIST_URL", (srv.root / "good").as_uri())  # no trailing slash
    monkeypatch.setattr(data, "MIRRORS", ("http://127.0.0.1:9/unreachable/",))
    assert data.find_fashion_mnist() == data.user_cache_dir()
    assert srv.requests == []


@pytest.mark.parametrize("how", ["env", "arg"])
def test_download_disabled(fake_source, monkeypatch, how):
    srv, _ = fake_source
    monkeypatch.setattr(data, "MIRRORS", (srv.url + "good/",))
    if how == "env":
        monkeypatch.setenv("GRADER_NO_DOWNLOAD", "1")
        call = data.find_fashion_mnist
    else:
        call = functools.partial(data.find_fashion_mnist, download=False)
    with pytest.raises(data.DatasetMissing, match="disabled"):
        call()
    assert srv.requests == []
    with pytest.raises(data.DatasetMissing):
        data.load_fashion_mnist(download=False)


def test_download_unreachable_reports_errors(monkeypatch):
    monkeypatch.setattr(data, "MIRRORS", ("http://127.0.0.1:9/a/", "not-a-url/"))
    with pytest.raises(data.DatasetMissing) as exc:
        data.find_fashion_mnist()
    msg = str(exc.value)
    assert "http://127.0.0.1:9/a/train-images-idx3-ubyte.gz" in msg
    assert "failed" in msg and "apt-get install dataset-fashion-mnist" in msg


# --------------------------------------------------------------------------------------------------
# loading and caches (fake data: fast, and exact expected values)


def test_load_shapes_dtypes_and_values(tmp_path):
    arrays = make_fake_dataset(tmp_path / "ds")
    d = data.load_fashion_mnist(tmp_path / "ds")
    assert d.x_train.shape == (6, 784) and d.x_test.shape == (4, 784)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64 and d.y_test.dtype == np.int64
    np.testing.assert_allclose(d.x_train, arrays["train_images"].reshape(6, -1) / 255, rtol=1e-6)
    np.testing.assert_array_equal(d.y_test, arrays["test_labels"])
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0

    d2 = data.load_fashion_mnist(tmp_path / "ds", flatten=False, normalize=False, dtype=np.float64)
    assert d2.x_test.shape == (4, 28, 28) and d2.x_test.dtype == np.float64
    np.testing.assert_array_equal(d2.x_test, arrays["test_images"])


def test_loaded_arrays_are_read_only_and_shared(tmp_path):
    make_fake_dataset(tmp_path / "ds")
    d = data.load_fashion_mnist(tmp_path / "ds")
    assert data.load_fashion_mnist(tmp_path / "ds") is d  # in-process cache
    with pytest.raises(ValueError):
        d.x_train[0, 0] = 5.0
    with pytest.raises(AttributeError):
        d.x_train = None  # frozen dataclass


def test_normalize_needs_float_dtype(tmp_path):
    make_fake_dataset(tmp_path / "ds")
    with pytest.raises(ValueError, match="floating"):
        data.load_fashion_mnist(tmp_path / "ds", dtype=np.uint8)


def test_decoded_cache_written_and_used(tmp_path, monkeypatch):
    arrays = make_fake_dataset(tmp_path / "ds")
    first = data.load_fashion_mnist(tmp_path / "ds", normalize=False, dtype=np.uint8, flatten=False)
    npz = data.user_cache_dir() / data.CACHE_NAME
    assert npz.is_file()
    assert not [p for p in npz.parent.iterdir() if p.name.endswith(".part")]

    # A new process is simulated by clearing the in-process cache; the sources must not be decoded.
    data.clear_cache()

    def no_decode(path):
        raise AssertionError(f"decoded {path} although the cache is fresh")

    monkeypatch.setattr(data, "read_idx", no_decode)
    second = data.load_fashion_mnist(tmp_path / "ds", normalize=False, dtype=np.uint8, flatten=False)
    assert second is not first
    for key, attr in [("train_images", "x_train"), ("test_labels", "y_test")]:
        np.testing.assert_array_equal(getattr(second, attr), arrays[key])


def test_stale_decoded_cache_ignored(tmp_path):
    make_fake_dataset(tmp_path / "ds", seed=0)
    old = data.load_fashion_mnist(tmp_path / "ds")
    npz = data.user_cache_dir() / data.CACHE_NAME
    before = npz.stat().st_mtime_ns

    # Replace the sources with different content (the fingerprint uses size and mtime).
    new_arrays = make_fake_dataset(tmp_path / "ds", seed=1)
    t = time.time() + 10
    for name in data.FILES.values():
        os.utime(tmp_path / "ds" / name, (t, t))
    data.clear_cache()
    new = data.load_fashion_mnist(tmp_path / "ds")
    np.testing.assert_array_equal(new.y_train, new_arrays["train_labels"])
    assert not np.array_equal(new.x_train, old.x_train)
    assert npz.stat().st_mtime_ns != before  # rewritten for the new sources

    # Even without clearing, a changed fingerprint misses the in-process cache.
    make_fake_dataset(tmp_path / "ds", seed=2)
    for name in data.FILES.values():
        os.utime(tmp_path / "ds" / name, (t + 10, t + 10))
    latest = data.load_fashion_mnist(tmp_path / "ds")
    np.testing.assert_array_equal(latest.y_test, fake_arrays(seed=2)["test_labels"])


def test_corrupt_decoded_cache_ignored(tmp_path):
    arrays = make_fake_dataset(tmp_path / "ds")
    npz = data.user_cache_dir() / data.CACHE_NAME
    npz.parent.mkdir(parents=True)
    npz.write_bytes(b"PK\x03\x04 definitely not a zip")
    d = data.load_fashion_mnist(tmp_path / "ds", normalize=False, dtype=np.uint8)
    np.testing.assert_array_equal(d.y_train, arrays["train_labels"])
    with np.load(npz, allow_pickle=False) as z:  # replaced by a valid cache
        assert set(z.files) == {"source_key", *data.FILES}


def test_wrong_image_size_reported(tmp_path):
    make_fake_dataset(tmp_path / "ds")
    write_idx(tmp_path / "ds" / "train-images-idx3-ubyte.gz", np.zeros((6, 27, 28), np.uint8))
    with pytest.raises(ValueError, match=r"28, 28"):
        data.load_fashion_mnist(tmp_path / "ds")


# --------------------------------------------------------------------------------------------------
# the real data set (Debian package dataset-fashion-mnist)


@pytest.mark.skipif(not HAVE_REAL, reason=f"{REAL_DIR} absent (apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist_and_cache_round_trip(monkeypatch):
    monkeypatch.setattr(data, "SYSTEM_DIRS", (REAL_DIR,))
    assert data.find_fashion_mnist(download=False) == REAL_DIR

    t0 = time.perf_counter()
    d = data.load_fashion_mnist(download=False)
    cold = time.perf_counter() - t0
    assert d.x_train.shape == (60000, 784) and d.x_test.shape == (10000, 784)
    assert d.y_train.shape == (60000,) and d.y_test.shape == (10000,)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert float(d.x_train.min()) == 0.0 and float(d.x_train.max()) == 1.0
    assert float(d.x_test.min()) >= 0.0 and float(d.x_test.max()) <= 1.0
    # Balanced classes 0..9: 6,000 per class in train, 1,000 in test.
    assert np.bincount(d.y_train).tolist() == [6000] * 10
    assert np.bincount(d.y_test).tolist() == [1000] * 10
    assert d.y_test[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]  # first test labels, as published
    assert len(data.CLASS_NAMES) == 10 and data.CLASS_NAMES[9] == "Ankle boot"

    # Decoded-cache round trip: a fresh in-process cache loads the npz, not the gz files.
    data.clear_cache()
    monkeypatch.setattr(data, "read_idx", lambda p: pytest.fail(f"decoded {p} despite the cache"))
    t0 = time.perf_counter()
    d2 = data.load_fashion_mnist(download=False)
    cached = time.perf_counter() - t0
    np.testing.assert_array_equal(d2.x_train, d.x_train)
    np.testing.assert_array_equal(d2.y_test, d.y_test)
    raw = data.load_fashion_mnist(download=False, flatten=False, normalize=False, dtype=np.uint8)
    assert raw.x_train.shape == (60000, 28, 28) and raw.x_train.dtype == np.uint8
    print(f"\nFashionMNIST load: cold {cold:.3f} s, from decoded cache {cached:.3f} s")


# --------------------------------------------------------------------------------------------------
# synthetic data set


def test_synthetic_shapes_and_dtypes():
    s = data.make_synthetic()
    assert s.x_train.shape == (60000, 2) and s.x_val.shape == (10000, 2)
    assert s.y_train.shape == (60000,) and s.y_val.shape == (10000,)
    assert s.x_train.dtype == np.float64 and s.y_train.dtype == np.int64
    assert set(np.unique(s.y_train).tolist()) == {0, 1}
    # Documented balance: P(y=1) = 0.4965; seed 0 gives 49.42% / 50.08%.
    assert s.y_train.mean() == pytest.approx(0.4942, abs=5e-5)
    assert s.y_val.mean() == pytest.approx(0.5008, abs=5e-5)


def test_synthetic_deterministic():
    a = data.make_synthetic(n_train=500, n_val=100, seed=3)
    b = data.make_synthetic(n_train=500, n_val=100, seed=3)
    for f in ("x_train", "y_train", "x_val", "y_val"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    c = data.make_synthetic(n_train=500, n_val=100, seed=4)
    assert not np.array_equal(a.x_train, c.x_train)
    # The train set does not depend on the validation size.
    np.testing.assert_array_equal(data.make_synthetic(n_train=500, n_val=7, seed=3).x_train, a.x_train)


def test_synthetic_labels_follow_quadratic_form():
    A = np.array([[2.0, -0.5], [-0.5, 0.3]])
    s = data.make_synthetic(n_train=1000, n_val=200, seed=1, A=A, threshold=0.7)
    for x, y in [(s.x_train, s.y_train), (s.x_val, s.y_val)]:
        q = np.array([xi @ A @ xi for xi in x])
        np.testing.assert_array_equal(y, (q > 0.7).astype(np.int64))
    default = data.make_synthetic(n_train=200, n_val=0, seed=2)
    A0 = np.array([[1.0, 0.4], [0.4, 0.6]])
    q0 = np.einsum("ni,ij,nj->n", default.x_train, A0, default.x_train)
    np.testing.assert_array_equal(default.y_train, (q0 > 1.0).astype(np.int64))


def test_synthetic_rejects_bad_A():
    with pytest.raises(ValueError, match="2x2"):
        data.make_synthetic(n_train=10, n_val=10, A=np.eye(3))
