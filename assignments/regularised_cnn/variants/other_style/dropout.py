"""A correct variant: float32, the mask from rng.binomial, another default generator."""
import numpy as np


class Dropout:
    def __init__(self, p):
        self.p = p
        self.scaled_mask = None

    def forward(self, X, train=True, rng=None):
        X = np.asarray(X, dtype=np.float32)
        if not train or self.p == 0:
            self.scaled_mask = np.ones_like(X)
            return X
        rng = rng if rng is not None else np.random.default_rng(12345)
        keep = rng.binomial(1, 1.0 - self.p, size=X.shape).astype(np.float32)
        self.scaled_mask = keep / np.float32(1.0 - self.p)
        return X * self.scaled_mask

    def backward(self, dY):
        return np.asarray(dY, dtype=np.float32) * self.scaled_mask
