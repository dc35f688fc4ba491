"""Hostile: returns a 48 MB array (float64, 6000 x 1000) where a (4, 6) one is expected: the reply
alone would cost the grader several times that once decoded and converted."""
import numpy as np


def softmax(o):
    return np.ones((6000, 1000))


# --- correct, untouched by the attack: the checks after it still run and pass ---------------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))

