"""Property-based tests (hypothesis) of the grader's side against whatever a worker may send.

* The frame decoder: any bytes, any JSON, any array header decode to a message or raise
  ProtocolError — never another exception, never a huge allocation.
* The judges: every check of every assignment (but those that train on FashionMNIST), fed odd
  values as the replies of its probes, ends as a clean check result: a status, a message with no
  grader traceback, and no internal error — what the submission returned is the submission's fault.
"""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.engine import assignment as assignments
from grader.engine.model import Limits, Status
from grader.engine.session import GradeOptions, Session
from grader.worker import protocol

# ---------------------------------------------------------------------------------------- decoder
header = st.fixed_dictionaries({"__ndarray__": st.tuples(
    st.sampled_from(sorted(protocol.ALLOWED_DTYPES) + ["object", "complex128", "<U4", 3, None]),
    st.one_of(st.lists(st.integers(-3, 2**62), max_size=4), st.text(max_size=4), st.none(),
              st.lists(st.text(max_size=2), max_size=2)),
    st.one_of(st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()), st.text(max_size=12),
              st.integers()),
).map(list)})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | header | st.fixed_dictionaries({"__float__": st.text(max_size=5)}),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=20)


def _frame_body(value) -> bytes:
    return json.dumps({"id": 1, "ok": True, "value": value}).encode()


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_any_json_decodes_or_is_a_protocol_error(value):
    try:
        message = protocol.loads(_frame_body(value))
    except protocol.ProtocolError:
        return
    assert isinstance(message, dict)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_decode_or_are_a_protocol_error(body):
    try:
        protocol.loads(body)
    except protocol.ProtocolError:
        pass


@pytest.mark.parametrize("depth", [100, 10_000, 500_000])
def test_deep_nesting_is_a_protocol_error(depth):
    with pytest.raises(protocol.ProtocolError):
        protocol.loads(b'{"v": ' + b"[" * depth + b"]" * depth + b"}")


def test_an_array_whose_shape_claims_more_than_its_data_is_refused_before_allocating():
    body = _frame_body({"__ndarray__": ["float64", [2**39, 2**20], "AAAAAAAAAAA="]})
    with pytest.raises(protocol.ProtocolError, match="size does not match"):
        protocol.loads(body)


# ----------------------------------------------------------------------------------------- judges
KEYS = ["k1", "h", "k2", "y", "dW", "db", "dV", "dc", "W", "b", "V", "c", "Y", "dX", "loss", "dpred",
        "params", "grads", "out", "history", "losses", "loss_history", "acc", "accuracy", "weights",
        "biases", "state", "count", "shapes", "logits", "x"]
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)
floats64 = hnp.arrays(np.float64, shapes, elements=st.floats())
arrays = (floats64 | floats64.map(lambda a: a.astype(np.float32))
          | hnp.arrays(st.sampled_from([np.int64, np.uint8, np.bool_]), shapes))
odd_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**400, 10**400) | st.floats() | st.text(max_size=6)
    | arrays,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=3), children, max_size=6),
    max_leaves=25)


class FakeWorker:
    """Answers every probe with the next drawn value: the worker as a hostile student controls it."""

    def __init__(self, draw):
        self.draw, self.limits = draw, Limits()

    def request(self, message, timeout, max_bytes=0):
        if message["op"] == "import":
            return {"ok": True, "origin": None, "imports": [], "id": 1}
        return {"ok": True, "value": self.draw(odd_values), "audit": self.draw(odd_values), "id": 1}

    def alive(self):
        return True

    def output_size(self):
        return 0

    def read_output(self, since, limit=8000):
        return ""

    def close(self, graceful=True):
        pass


def _checks():
    found = []
    for name in assignments.available():
        for check in assignments.load(name).checks(hidden=True):
            if not check.needs_data:
                found.append(pytest.param(name, check, id=check.id))
    return found


@pytest.mark.parametrize("name, check", _checks())
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_odd_values_never_make_a_judge_crash(tmp_path_factory, name, check, data):
    folder = tmp_path_factory.mktemp("sub")
    session = Session(folder, assignments.load(name), GradeOptions(isolation="rlimits"))
    session.worker = FakeWorker(data.draw)
    session._ensure_worker = lambda limits: session.worker
    try:
        result = session.run_check(check)
    finally:
        session.worker = None
        session.close()
    assert result.status in set(Status)
    assert "Traceback" not in result.message and "grader/" not in result.message, result.message
    assert "internal grader error" not in result.message, result.internal
    assert session.internal == []
