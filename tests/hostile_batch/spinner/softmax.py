"""Hostile (batch): spins on every core it can fork. One busy process per core (twice over), each
in an endless arithmetic loop, until the grader kills them: its neighbours get what CPU is left."""
import ctypes
import json
import os

import numpy as np


def _marker():
    try:
        with open("case.json") as f:
            return json.load(f)["marker"]
    except (OSError, ValueError, KeyError):
        return "hb-spinner"


def softmax(o):
    ctypes.CDLL(None).prctl(15, _marker().encode()[:15], 0, 0, 0)  # PR_SET_NAME
    for _ in range(2 * (os.cpu_count() or 1) - 1):  # and this process: 2 per core
        try:
            if os.fork() == 0:
                break
        except OSError:
            break
    x = 0
    while True:
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
