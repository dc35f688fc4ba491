"""Judges turn wrong values into precise messages: which quantity, where, expected vs got."""
import numpy as np
import pytest

from grader.engine import judge
from grader.engine.model import CheckFailed


def test_close_accepts_within_tolerance_and_names_the_worst_entry():
    exp = np.array([[1.0, 2.0], [3.0, 4.0]])
    judge.close("x", exp + 1e-9, exp, rtol=1e-6, atol=1e-8)
    got = exp.copy()
    got[1, 0] = 3.5
    with pytest.raises(CheckFailed) as e:
        judge.close("dW", got, exp, rtol=1e-6, atol=1e-8)
    msg = e.value.message
    assert "dW" in msg and "[1, 0]" in msg and "expected 3" in msg and "got 3.5" in msg
    assert "1 of 4 entries" in msg


def test_shape_mismatch_hints_at_transpose():
    with pytest.raises(CheckFailed, match=r"expected shape \(2, 3\), got \(3, 2\).*transposed"):
        judge.close("W", np.zeros((3, 2)), np.zeros((2, 3)), rtol=0, atol=0)


@pytest.mark.parametrize("got, words", [(None, "returned None"), ("abc", "expected numbers"),
                                        ([[1, 2], [3]], "ragged"), ([np.nan, 1.0], "nan")])
def test_unusable_values_are_explained(got, words):
    with pytest.raises(CheckFailed) as e:
        judge.close("y", got, np.ones(2), rtol=1e-6, atol=1e-8)
    assert words in e.value.message


def test_close_each_gives_partial_credit():
    with pytest.raises(CheckFailed) as e:
        judge.close_each([("a", 1.0, 1.0), ("b", 2.0, 3.0), ("c", 1.0, 1.0), ("d", 0.0, 0.0)], rtol=0, atol=1e-9)
    assert e.value.fraction == pytest.approx(0.75)
    assert "b:" in e.value.message


def test_require_keys():
    with pytest.raises(CheckFailed, match="lacks key"):
        judge.require_keys("forward()", {"h": 1}, ["h", "y"])
    with pytest.raises(CheckFailed, match="expected a dict"):
        judge.require_keys("forward()", [1], ["h"])
