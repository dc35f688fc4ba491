"""Hostile: forges the reply to its probe with a value nested 200,000 lists deep (RecursionError in
a decoder that does not expect it)."""
import json
import os
import struct
import sys

import numpy as np


def softmax(o):
    res_fd = json.loads(sys.argv[1])["res_fd"]
    body = b'{"id": 2, "ok": true, "value": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    os.write(res_fd, struct.pack(">Q", len(body)))
    view = memoryview(body)
    while view:
        view = view[os.write(res_fd, view):]
    return np.zeros_like(np.asarray(o, dtype=np.float64))


# --- correct, untouched by the attack: the checks after it still run and pass ---------------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))

