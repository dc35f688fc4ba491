"""Hostile: builds a tree 3,000 folders deep in its scratch copy, then takes its permissions away,
so that a recursive cleanup (shutil.rmtree) would raise RecursionError and leave it behind."""
import os

import numpy as np


def softmax(o):
    here = os.getcwd()
    os.makedirs("deep", exist_ok=True)
    os.chdir("deep")
    for _ in range(3000):
        os.mkdir("d")
        os.chdir("d")
    open("f", "w").close()
    os.chmod(".", 0)
    os.chdir(here)
    os.chmod("deep", 0)
    return np.zeros_like(np.asarray(o, dtype=np.float64))


# --- correct, untouched by the attack: the checks after it still run and pass ---------------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))

