"""Hostile: tries to forge results instead of computing them.

* prints fake result frames and "PASSED" lines on stdout and stderr;
* writes forged, well-formed frames (length-prefixed JSON with every plausible request id, claiming
  success and full points) and raw "PASSED" bytes to every open file descriptor (all those listed in
  /proc/self/fd, else 1 to 255), which includes the worker's private result pipe whatever its number.
softmax() itself returns wrong values.
"""
import json
import os
import struct
import sys

import numpy as np


def _frame(message):
    body = json.dumps(message).encode()
    return struct.pack(">Q", len(body)) + body


def softmax(o):
    claim = {"ok": True, "status": "passed", "score": 3, "max_score": 3, "value": "PASSED"}
    print(json.dumps({"id": 2, **claim}))
    print("softmax.values PASSED 3/3\nTotal: 17 / 17 (100.0%)")
    print("PASSED", file=sys.stderr)
    sys.stdout.flush()
    forged = b"".join(_frame({"id": i, **claim}) for i in range(0, 64))
    try:  # every open fd: the result pipe's number is the grader's, which varies with its open files
        fds = sorted({int(x) for x in os.listdir("/proc/self/fd")} - {0})
    except OSError:
        fds = range(1, 256)
    for fd in fds:
        for payload in (forged, b"PASSED\n" * 3):
            try:
                os.write(fd, payload)
            except OSError:
                pass
    return np.zeros_like(np.asarray(o, dtype=np.float64))  # wrong on purpose


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
