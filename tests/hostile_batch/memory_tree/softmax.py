"""Hostile (batch): a tree of 4 processes, each touching memory up to its own limit and holding
it. RLIMIT_AS bounds each process, not the tree: without a bound on the whole tree (a cgroup's
memory.max, a watcher of the tree's RSS) the submission holds about 4 × its memory limit."""
import ctypes
import json
import os
import time

import numpy as np

CHUNK = 16 * 2**20  # bytes per allocation: grown until the allocator fails


def _marker():
    try:
        with open("case.json") as f:
            return json.load(f)["marker"]
    except (OSError, ValueError, KeyError):
        return "hb-memtree"


def _fill_and_hold():
    held = []
    while True:
        try:
            held.append(np.ones(CHUNK, dtype=np.uint8))  # ones: every page touched, resident
        except MemoryError:
            break
    print(f"pid {os.getpid()} holds {len(held) * CHUNK >> 20} MB", flush=True)
    while True:
        time.sleep(3600)


def softmax(o):
    ctypes.CDLL(None).prctl(15, _marker().encode()[:15], 0, 0, 0)  # PR_SET_NAME
    for _ in range(3):  # 3 children and this process: a tree of 4
        try:
            if os.fork() == 0:
                break
        except OSError:
            break
    _fill_and_hold()


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
