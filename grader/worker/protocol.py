"""Frames exchanged between the grader and its worker: length-prefixed JSON, arrays as raw bytes.

JSON and `np.frombuffer` on a whitelist of numeric dtypes cannot execute code when read, unlike pickle:
a hostile worker can at worst send wrong numbers, which the grader then judges as wrong.
"""
from __future__ import annotations

import base64
import json
import math
import os
import struct
from typing import Any

import numpy as np

MAX_FRAME = 1 << 30  # 1 GiB: bigger frames are treated as a protocol violation
# JSON values per frame: arrays travel as one base64 string each, so real frames hold few values,
# while a hostile frame of 64 MB of "[]," would decode into 21 million lists (~1.5 GB) in the grader
MAX_VALUES = 1 << 22
ALLOWED_DTYPES = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64",
}
_ND = "__ndarray__"


class ProtocolError(Exception):
    """The other side sent something that is not a valid frame."""


class NotPlainData(TypeError):
    """A student function returned an object that is not plain data."""


def to_plain(value: Any, _depth: int = 0) -> Any:
    """Convert a returned value to plain data: numbers, strings, lists, str-keyed dicts, arrays.

    Exact type checks (not isinstance) so that a student's subclass of float or list, or an object
    whose __eq__ claims equality with anything, never reaches the grader as such.
    """
    if _depth > 20:
        raise NotPlainData("the returned value is nested more than 20 levels deep")
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        return value
    if t is float:
        return value
    if isinstance(value, (bool, int, float)) and not isinstance(value, np.generic):
        # subclasses of the builtins: keep the number, drop the class
        return float(value) if isinstance(value, float) else int(value)
    if isinstance(value, np.generic):
        return to_plain(np.asarray(value), _depth)
    if isinstance(value, (list, tuple)):  # subclasses too: only their elements reach the grader
        return [to_plain(v, _depth + 1) for v in list(value)]
    if isinstance(value, dict):  # includes OrderedDict state_dicts
        out = {}
        for k, v in dict(value).items():
            if type(k) is not str:
                raise NotPlainData(f"dictionary keys must be strings, got {type(k).__name__}")
            out[k] = to_plain(v, _depth + 1)
        return out
    if isinstance(value, np.ndarray):
        arr = np.array(value, copy=True, subok=False)
        if arr.dtype.name not in ALLOWED_DTYPES:
            raise NotPlainData(f"returned an array of dtype {arr.dtype}, expected numbers")
        return arr
    mod = getattr(t, "__module__", "") or ""
    if mod.startswith("torch") and hasattr(value, "detach"):
        t_ = value.detach().cpu()
        if t_.dtype.is_complex:
            raise NotPlainData("returned a complex tensor, expected real numbers")
        if str(t_.dtype) == "torch.bfloat16":
            t_ = t_.float()
        return to_plain(t_.numpy(), _depth)
    raise NotPlainData(f"returned an object of type {t.__module__}.{t.__qualname__}, "
                       "expected numbers, lists or arrays")


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        # tobytes() writes C order whatever the layout; not ascontiguousarray, which makes 0-d arrays 1-d
        return {_ND: [value.dtype.name, list(value.shape), base64.b64encode(value.tobytes()).decode("ascii")]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    return value


MAX_DEPTH = 64  # nesting of a decoded frame (to_plain allows 20 in returned values)
MAX_DIMS = 32  # numpy's own limit is 64


def _decode(value: Any, depth: int = 0) -> Any:
    """Rebuild arrays and non-finite floats; ProtocolError for anything malformed."""
    if depth > MAX_DEPTH:
        raise ProtocolError(f"frame nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, list):
        return [_decode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if _ND in value and len(value) == 1:
            return _decode_array(value[_ND])
        if "__float__" in value and len(value) == 1:
            if value["__float__"] not in ("nan", "inf", "-inf"):
                raise ProtocolError("malformed non-finite float")
            return float(value["__float__"])  # 'nan', 'inf', '-inf' only ever come from _encode
        return {k: _decode(v, depth + 1) for k, v in value.items()}
    return value


def _decode_array(header: Any) -> np.ndarray:
    """dtype, shape and base64 data, each checked before anything is allocated from them."""
    if not (isinstance(header, list) and len(header) == 3):
        raise ProtocolError("malformed array header")
    dtype, shape, data = header
    if not isinstance(dtype, str) or dtype not in ALLOWED_DTYPES:
        raise ProtocolError(f"array dtype {str(dtype)[:40]!r} not allowed")
    if (not isinstance(shape, list) or len(shape) > MAX_DIMS
            or not all(type(d) is int and 0 <= d < 2**40 for d in shape)):
        raise ProtocolError("malformed array shape")
    if not isinstance(data, str):
        raise ProtocolError("malformed array data")
    size = math.prod(shape)
    if size * np.dtype(dtype).itemsize != (len(data) // 4) * 3 - data[-2:].count("="):
        raise ProtocolError("array size does not match its shape")
    try:
        raw = base64.b64decode(data, validate=True)
    except (ValueError, TypeError):
        raise ProtocolError("malformed array data (not base64)") from None
    arr = np.frombuffer(raw, dtype=np.dtype(dtype))
    if arr.size != size:
        raise ProtocolError("array size does not match its shape")
    return arr.reshape(tuple(shape)).copy()


def _too_many_values(body: bytes) -> bool:
    return body.count(b",") + body.count(b"[") + body.count(b"{") > MAX_VALUES  # upper bound, in C


def dumps(message: dict) -> bytes:
    body = json.dumps(_encode(message), allow_nan=False).encode("utf-8")
    if _too_many_values(body):  # the worker turns this into a "bad_return" reply
        raise ValueError(f"the returned value holds more than {MAX_VALUES} numbers or lists: "
                         "return numpy arrays rather than huge nested lists")
    return struct.pack(">Q", len(body)) + body


def loads(body: bytes) -> dict:
    if _too_many_values(body):
        raise ProtocolError(f"frame with more than {MAX_VALUES} JSON values")
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"malformed frame: {str(exc)[:200]}") from None
    except (RecursionError, ValueError, MemoryError) as exc:  # nested too deep, huge integers
        raise ProtocolError(f"malformed frame ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise ProtocolError("a frame must hold a JSON object")
    try:
        return _decode(message)
    except ProtocolError:
        raise
    except (RecursionError, ValueError, TypeError, OverflowError, MemoryError) as exc:
        raise ProtocolError(f"malformed frame ({type(exc).__name__})") from None


def write_frame(fd: int, message: dict) -> None:
    data = memoryview(dumps(message))
    while data:
        n = os.write(fd, data)
        data = data[n:]


def read_exact(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> dict:
    (size,) = struct.unpack(">Q", read_exact(fd, 8))
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes exceeds the limit")
    return loads(read_exact(fd, size))
