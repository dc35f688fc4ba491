"""Hostile: forges the reply to its probe (requests are numbered: the first probe after the import is
2) with an array whose header is malformed, hoping to crash the grader's decoder."""
import json
import os
import struct
import sys

import numpy as np


def softmax(o):
    res_fd = json.loads(sys.argv[1])["res_fd"]
    body = json.dumps({"id": 2, "ok": True,
                       "value": {"__ndarray__": ["float64", ["4", -6], "AAAA"]}}).encode()
    os.write(res_fd, struct.pack(">Q", len(body)) + body)
    return np.zeros_like(np.asarray(o, dtype=np.float64))


# --- correct, untouched by the attack: the checks after it still run and pass ---------------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))

