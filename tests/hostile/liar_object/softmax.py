"""Hostile: returns objects that claim to equal anything instead of numbers."""
import numpy as np


class Liar:
    """Equal to everything, smaller than every tolerance, and an array of the right shape on demand."""

    def __init__(self, shape=()):
        self.shape = shape

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __lt__(self, other):
        return True

    __le__ = __lt__

    def __gt__(self, other):
        return False

    __ge__ = __gt__

    def __sub__(self, other):
        return Liar(self.shape)

    __rsub__ = __add__ = __radd__ = __mul__ = __rmul__ = __truediv__ = __sub__

    def __abs__(self):
        return Liar(self.shape)

    def __float__(self):
        return 0.0

    def __array__(self, dtype=None, copy=None):
        return np.zeros(self.shape)

    def __bool__(self):
        return True

    def __hash__(self):
        return 0


class FakeTensor:
    """Pretends to be a torch tensor; its .numpy() is a Liar again."""

    __module__ = "torch"

    class dtype:
        is_complex = False

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return Liar()


def softmax(o):
    return Liar(np.shape(o))


def cross_entropy(o, t):
    return FakeTensor()
