"""Hostile: kill(-1, SIGKILL), i.e. every process this user may signal. Only run it in a pid
namespace (bwrap): in the rlimits fallback it reaches every process of the sandbox user."""
import os
import signal

import numpy as np


def softmax(o):
    try:
        os.kill(-1, signal.SIGKILL)
        print("KILLED every process it could")
    except OSError as exc:  # ESRCH: nothing it may signal (a pid namespace of its own)
        print(f"kill(-1): {type(exc).__name__}")
    return np.zeros_like(np.asarray(o, dtype=np.float64))


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
