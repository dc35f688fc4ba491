"""Hostile: finds the reference solution on disk and delegates to it.

Tries the paths it was told about (case.json: what an attacker would guess), the grader's package
location (`import grader`), the reference next to the working directory's ancestors, and a bounded
walk of the file system. If it finds the reference, softmax() is the reference's and passes.
"""
import importlib.util
import json
import os
import time
from pathlib import Path

import numpy as np


def _candidates():
    try:
        with open("case.json") as f:
            case = json.load(f)
    except (OSError, ValueError):
        case = {}
    for p in case.get("paths", []):
        yield Path(p)
    try:
        import grader  # the editable install points at the repository

        yield Path(grader.__file__).resolve().parents[1] / "reference" / "backprop" / "softmax.py"
    except Exception as exc:
        print(f"import grader: {type(exc).__name__}")
    for parent in Path.cwd().resolve().parents:
        yield parent / "reference" / "backprop" / "softmax.py"
    deadline = time.monotonic() + 2.0
    for root, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr", "lib", "lib64", "bin",
                                                "sbin", "boot", "snap", "var", "etc")]
        if root.count(os.sep) > 5 or time.monotonic() > deadline:
            dirs[:] = []
        if root.endswith(os.path.join("reference", "backprop")) and "softmax.py" in files:
            yield Path(root) / "softmax.py"


def _reference():
    for path in _candidates():
        try:
            if path.is_file():
                spec = importlib.util.spec_from_file_location("stolen_reference", path)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                print(f"FOUND {path}")
                return module
        except OSError:
            continue
    return None


def softmax(o):
    ref = _reference()
    if ref is not None:
        return ref.softmax(o)
    return np.zeros_like(np.asarray(o, dtype=np.float64))


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
