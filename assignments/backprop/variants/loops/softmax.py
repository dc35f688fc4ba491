"""A correct softmax.py written with Python loops over rows (a valid variant the checks must accept)."""
import math

import numpy as np


def _rows(o):
    o = np.asarray(o, dtype=float)
    return o.reshape(-1, o.shape[-1]), o.shape


def softmax(o):
    rows, shape = _rows(o)
    out = np.empty_like(rows)
    for r in range(rows.shape[0]):
        m = max(rows[r])
        exps = [math.exp(v - m) for v in rows[r]]
        s = sum(exps)
        for j, e in enumerate(exps):
            out[r, j] = e / s
    return out.reshape(shape)


def softmax_jacobian(o):
    y = softmax(o)
    C = len(y)
    J = np.zeros((C, C))
    for i in range(C):
        for j in range(C):
            J[i, j] = y[i] * ((1.0 if i == j else 0.0) - y[j])
    return J


def cross_entropy(o, t):
    total = 0.0
    for row, label in zip(np.asarray(o, dtype=float), t):
        m = max(row)
        lse = m + math.log(sum(math.exp(v - m) for v in row))
        total += lse - row[int(label)]
    return total / len(t)


def cross_entropy_grad(o, t):
    y = softmax(o)
    for n, label in enumerate(t):
        y[n, int(label)] -= 1.0
    return y / len(t)
