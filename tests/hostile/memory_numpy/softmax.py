"""Hostile: softmax() allocates 50 GB with numpy."""
import numpy as np


def softmax(o):
    hoard = np.ones(50 * 10**9 // 8)
    return hoard[: np.size(o)].reshape(np.shape(o))


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
