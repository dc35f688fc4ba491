"""Hostile: returns subclasses of ndarray and float whose comparisons and arithmetic lie."""
import numpy as np


class LyingArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)

    def __ne__(self, other):
        return np.zeros(self.shape, dtype=bool)

    def __sub__(self, other):
        return np.zeros(self.shape)

    __rsub__ = __sub__

    def __abs__(self):
        return np.zeros(self.shape)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(self.shape)  # np.abs(got - expected), np.isclose, ...: all zero


class LyingFloat(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__

    def __abs__(self):
        return 0.0

    def __hash__(self):
        return 0


class LyingList(list):
    def __eq__(self, other):
        return True


def softmax(o):
    wrong = np.zeros(np.shape(o))
    return wrong.view(LyingArray)


def cross_entropy(o, t):
    return LyingFloat(-1.0)  # wrong (a cross-entropy is never negative)


def softmax_jacobian(o):
    return LyingList([[0.0] * np.size(o)] * np.size(o))
