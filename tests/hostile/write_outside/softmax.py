"""Hostile: writes everywhere but its scratch copy.

Targets: the original submission folder (overwrite softmax.py, add a file), the grader's repository,
the grader's $HOME, /tmp, the grader's runtime folder (probes.py), and — as controls — its own
working directory and its $HOME, which it may write. Every write that succeeds is printed.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np


def _case():
    try:
        with open("case.json") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _try_write(path, text="pwned\n"):
    try:
        with open(path, "w") as f:
            f.write(text)
        print(f"WROTE {path}")
        return True
    except OSError as exc:
        print(f"DENIED {path}: {type(exc).__name__}")
        return False


def softmax(o):
    case = _case()
    tag = case.get("marker", "pwned")
    targets = []
    if "original" in case:
        targets += [Path(case["original"]) / "softmax.py", Path(case["original"]) / f"pwned-{tag}"]
    for key in ("repo", "home"):
        if key in case:
            targets.append(Path(case[key]) / f"pwned-{tag}")
    targets += [Path("/tmp") / f"pwned-{tag}", Path("/root") / f"pwned-{tag}"]
    try:  # the runtime folder with the probes: its path is in the worker's command line (rlimits)
        config = json.loads(sys.argv[1])
        targets.append(Path(config["probes"]))
    except (IndexError, ValueError, KeyError):
        pass
    for target in targets:
        _try_write(target, "def softmax(o):\n    return o  # pwned\n")
    _try_write(Path.cwd() / "scratch-ok")  # its own scratch copy: allowed
    _try_write(Path(os.environ.get("HOME", ".")) / f"home-ok-{tag}")  # its (sandbox) home: allowed
    return np.zeros_like(np.asarray(o, dtype=np.float64))  # wrong on purpose


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
