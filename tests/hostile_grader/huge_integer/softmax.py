"""Hostile: returns integers far too large for a float (the grader once crashed converting them)."""
import numpy as np


def softmax(o):
    return [[10**400] * 6] * 4


# --- correct, untouched by the attack: the checks after it still run and pass ---------------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))

