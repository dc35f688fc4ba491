"""4.4 Inverted dropout (numpy).

Training: each unit is dropped (set to 0) with probability p and the kept ones are scaled by
1/(1 − p), so that the expected output equals the input and nothing changes at test time.
"""
import numpy as np


class Dropout:
    """p: the probability of dropping a unit (as in torch.nn.Dropout), 0 ≤ p < 1."""

    def __init__(self, p):
        self.p = float(p)
        self.mask = None  # the scaled mask of the last forward pass: 0 or 1/(1 − p) per entry

    def forward(self, X, train=True, rng=None):
        """X: any shape -> same shape. train=False (or p = 0): the identity.

        rng: a numpy.random.Generator for the mask; a seeded one (default_rng(0)) when None.
        """
        X = np.asarray(X)
        if not train or self.p == 0.0:
            self.mask = None
            return X
        if rng is None:
            rng = np.random.default_rng(0)
        keep = rng.random(X.shape) >= self.p  # kept with probability 1 − p
        self.mask = keep / (1.0 - self.p)
        return X * self.mask

    def backward(self, dY):
        """dY: gradient w.r.t. the output -> gradient w.r.t. the input, through the same mask."""
        dY = np.asarray(dY)
        if self.mask is None:
            return dY
        return dY * self.mask
