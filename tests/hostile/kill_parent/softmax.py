"""Hostile: SIGKILLs its parent (the grader, under rlimits), the parent's process group and pid 1."""
import os
import signal

import numpy as np


def softmax(o):
    ppid = os.getppid()
    attempts = [("parent", lambda: os.kill(ppid, signal.SIGKILL)),
                ("parent's group", lambda: os.killpg(os.getpgid(ppid), signal.SIGKILL)),
                ("pid 1", lambda: os.kill(1, signal.SIGKILL))]
    for name, attack in attempts:
        try:
            attack()
            print(f"KILLED {name}")
        except OSError as exc:
            print(f"could not kill {name}: {type(exc).__name__}")
    return np.zeros_like(np.asarray(o, dtype=np.float64))


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
