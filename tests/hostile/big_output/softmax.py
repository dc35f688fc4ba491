"""Hostile: floods stdout and stderr with 10 MB each, then returns the right answer."""
import sys

import numpy as np


def softmax(o):
    line = "spam " * 19 + "\n"  # 96 bytes
    sys.stdout.write(line * (10 * 2**20 // len(line)))
    sys.stderr.write(line * (10 * 2**20 // len(line)))
    o = np.asarray(o, dtype=np.float64)
    e = np.exp(o - o.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
