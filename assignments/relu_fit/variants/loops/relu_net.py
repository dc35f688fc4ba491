"""A correct A2 network written the plain way: loops over points and units, and a fit that uses
fsolve with finite differences, zero padding and guesses with kinks inside the data range (another
valid fit than the reference's: a different initialisation, a different solution)."""
import math

import numpy as np
from scipy.optimize import fsolve


def _f(p, x):
    out = p[12]
    for i in range(4):
        z = p[i] * x + p[4 + i]
        if z > 0:
            out += p[8 + i] * z
    return out


def predict(p, x):
    if np.ndim(x) == 0:
        return _f(p, float(x))
    return np.array([_f(p, float(xi)) for xi in x])


def loss_grad(p, x, y):
    r = _f(p, x) - y
    g = [0.0] * 13
    for i in range(4):
        z = p[i] * x + p[4 + i]
        if z > 0:
            g[i] = 2 * r * p[8 + i] * x
            g[4 + i] = 2 * r * p[8 + i]
            g[8 + i] = 2 * r * z
    g[12] = 2 * r
    return g


def fit(xs, ys, seed=0):
    xs, ys = list(map(float, xs)), list(map(float, ys))
    n = len(xs)
    rng = np.random.default_rng(seed)

    def residuals(p):
        r = [_f(p, x) - y for x, y in zip(xs, ys)]
        return r + [0.0] * (13 - n)

    for _ in range(20000):
        kinks = rng.uniform(min(xs), max(xs), 4)
        w_h = rng.choice([-1.0, 1.0], 4)
        p0 = np.concatenate([w_h, -w_h * kinks, rng.normal(size=4), [np.mean(ys)]])
        p = fsolve(residuals, p0)
        if all(math.isfinite(v) for v in p) and max(abs(r) for r in residuals(p)) < 1e-9:
            return [float(v) for v in p]  # a list is fine too
    raise RuntimeError("no fit")
