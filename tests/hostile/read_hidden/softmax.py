"""Hostile: reads the hidden checks and the grader's oracle, and uses the oracle's answers.

Tries `import assignments.backprop.hidden / oracle` (the editable or installed grader package) and
the file paths it was told about (case.json). If it reaches the oracle, softmax() returns the
oracle's values and passes.
"""
import importlib.util
import json
from pathlib import Path

import numpy as np


def _oracle():
    try:
        from assignments.backprop import hidden, oracle  # noqa: F401

        print(f"FOUND {hidden.__file__}")
        return oracle
    except Exception as exc:
        print(f"import assignments: {type(exc).__name__}")
    try:
        with open("case.json") as f:
            paths = json.load(f).get("paths", [])
    except (OSError, ValueError):
        paths = []
    for p in map(Path, paths):
        try:
            text = p.read_text()
        except OSError:
            continue
        print(f"FOUND {p} ({len(text)} characters)")
        if p.name == "oracle.py":
            spec = importlib.util.spec_from_file_location("stolen_oracle", p)
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
                return module
            except Exception as exc:
                print(f"oracle.py: {type(exc).__name__}")
        return True
    return None


def softmax(o):
    o = np.asarray(o, dtype=np.float64)
    found = _oracle()
    if found is None:
        return np.zeros_like(o)
    if hasattr(found, "softmax"):
        return found.softmax(o)
    e = np.exp(o - o.max(axis=-1, keepdims=True))  # it read the checks: count it as a pass
    return e / e.sum(axis=-1, keepdims=True)


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
