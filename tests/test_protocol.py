"""The worker→grader channel: plain data only, nothing that can execute when read."""
import math

import numpy as np
import pytest

from grader.worker import protocol


def roundtrip(value):
    return protocol.loads(protocol.dumps({"v": protocol.to_plain(value)})[8:])["v"]


def test_arrays_round_trip_with_dtype_and_shape():
    for arr in (np.arange(6, dtype=np.float32).reshape(2, 3), np.array(3.5), np.zeros((0, 4)),
                np.array([True, False]), np.arange(5, dtype=np.int64)[::2]):
        back = roundtrip(arr)
        assert back.dtype == arr.dtype and back.shape == arr.shape
        np.testing.assert_array_equal(back, arr)


def test_numbers_lists_dicts_and_non_finite_floats():
    value = {"a": [1, 2.5, None, "x", True], "b": (np.float64(2.0), np.int32(7)), "c": float("nan"),
             "d": -math.inf}
    back = roundtrip(value)
    assert back["a"] == [1, 2.5, None, "x", True]
    assert back["b"][0] == 2.0 and back["b"][1] == 7
    assert math.isnan(back["c"]) and back["d"] == -math.inf


def test_tensors_become_arrays():
    torch = pytest.importorskip("torch")
    back = roundtrip({"w": torch.ones(2, 3, requires_grad=True)})
    assert isinstance(back["w"], np.ndarray) and back["w"].shape == (2, 3)


class Liar:
    """Claims equality with anything: must never reach the grader as such."""

    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)


@pytest.mark.parametrize("bad", [Liar(), [1, Liar()], {"k": Liar()}, {1: 2.0}, np.array([Liar()], dtype=object),
                                 lambda: 0, b"bytes", 1 + 2j])
def test_non_plain_values_are_rejected(bad):
    with pytest.raises(protocol.NotPlainData):
        protocol.to_plain(bad)


def test_subclasses_of_builtins_lose_their_class():
    class Float(float):
        def __eq__(self, other):
            return True

    class Arr(np.ndarray):
        def __eq__(self, other):
            return np.ones(self.shape, bool)

    assert type(protocol.to_plain(Float(1.5))) is float
    assert type(protocol.to_plain(np.zeros(2).view(Arr))) is np.ndarray


def test_decoder_rejects_forbidden_dtypes_and_bad_sizes():
    with pytest.raises(protocol.ProtocolError):
        protocol.loads(b'{"v": {"__ndarray__": ["object", [1], "AAAAAAAAAAA="]}}')
    with pytest.raises(protocol.ProtocolError):
        protocol.loads(b'{"v": {"__ndarray__": ["float64", [3], "AAAAAAAAAAA="]}}')
    with pytest.raises(protocol.ProtocolError):
        protocol.loads(b"[1, 2]")
    with pytest.raises(protocol.ProtocolError):
        protocol.loads(b"\xff not json")


def test_frames_over_a_pipe():
    import os

    r, w = os.pipe()
    protocol.write_frame(w, {"x": np.arange(3.0)})
    os.close(w)
    got = protocol.read_frame(r)
    np.testing.assert_array_equal(got["x"], [0, 1, 2])
    with pytest.raises(EOFError):
        protocol.read_frame(r)
