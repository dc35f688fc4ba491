"""Hostile: writes a 64 MB JSON bomb (21 million empty lists, ~1.5 GB once decoded) on the worker's
result pipe, hoping to exhaust the grader's memory."""
import json
import os
import struct
import sys

import numpy as np


def softmax(o):
    res_fd = json.loads(sys.argv[1])["res_fd"]
    body = b'{"id": 2, "ok": true, "value": [' + b"[]," * (21 * 2**20) + b"[]]}"
    os.write(res_fd, struct.pack(">Q", len(body)))
    view = memoryview(body)
    while view:
        view = view[os.write(res_fd, view):]
    return np.zeros_like(np.asarray(o, dtype=np.float64))


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
