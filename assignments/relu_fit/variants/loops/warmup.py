"""A correct A2 warm-up written with Python loops over the entries (no vectorisation)."""
import numpy as np


def sq_norm_grad(x):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        g[idx] = 2.0 * x[idx]
    return g


def mean_minimizer(X):
    n, d = len(X), len(X[0])
    return [sum(X[i][k] for i in range(n)) / n for k in range(d)]


def _residuals(X, w, y):
    return [sum(X[i][k] * w[k] for k in range(len(w))) - y[i] for i in range(len(y))]


def l1_loss(X, w, y):
    return sum(abs(r) for r in _residuals(X, w, y))


def l1_subgradient(X, w, y):
    r = _residuals(X, w, y)
    g = [0.0] * len(w)
    for i, ri in enumerate(r):
        s = 1.0 if ri > 0 else (-1.0 if ri < 0 else 0.0)
        for k in range(len(w)):
            g[k] += X[i][k] * s
    return g
