"""Hostile: writes a 200 MB file in its working directory (RLIMIT_FSIZE allows far less)."""
import numpy as np


def softmax(o):
    chunk = b"\0" * 2**20
    with open("huge.bin", "wb") as f:
        for _ in range(200):
            f.write(chunk)
    return np.zeros_like(np.asarray(o, dtype=np.float64))


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
