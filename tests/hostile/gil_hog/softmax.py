"""Hostile: after softmax() returns, a thread grabs the GIL forever (a regular expression with
catastrophic backtracking runs in C and never releases it), so the worker stops reading its
requests: a grader that writes a large request without a deadline would hang forever."""
import re
import threading
import time

import numpy as np


def _hog():
    time.sleep(0.3)  # let softmax() return and the worker wait for the next request first
    re.match(r"(a*)*b", "a" * 64)


def softmax(o):
    threading.Thread(target=_hog, daemon=True).start()
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
