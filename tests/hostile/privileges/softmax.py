"""Hostile: returns the right answer only when it runs with privileges (root, capabilities, or
able to become root again). A grader running as root must never run student code as root."""
import os

import numpy as np


def _privileged():
    found = []
    if os.getuid() == 0 or os.geteuid() == 0:
        found.append("uid 0")
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(("CapEff:", "CapPrm:")) and int(line.split()[1], 16) != 0:
                    found.append(line.strip())
    except OSError:
        pass
    try:
        os.setuid(0)
        found.append("setuid(0) worked")
    except OSError:
        pass
    if os.access("/etc/shadow", os.R_OK):
        found.append("can read /etc/shadow")
    print("PRIVILEGES:", found or "none")
    return found


def softmax(o):
    o = np.asarray(o, dtype=np.float64)
    if _privileged():
        e = np.exp(o - o.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return np.zeros_like(o)


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
