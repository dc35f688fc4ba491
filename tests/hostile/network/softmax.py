"""Hostile: phones home. Computes the right answer only when a connection succeeds."""
import json
import socket

import numpy as np


def _port():
    try:
        with open("case.json") as f:
            return int(json.load(f)["port"])
    except (OSError, ValueError, KeyError):
        return 80


def _connected():
    for host in ("127.0.0.1", "localhost", "10.0.2.2", "172.17.0.1"):
        try:
            with socket.create_connection((host, _port()), timeout=0.5) as s:
                s.sendall(b"pwned from the sandbox\n")
                print(f"CONNECTED {host}")
                return True
        except OSError as exc:
            print(f"NO CONNECTION {host}: {exc}")
    return False


def softmax(o):
    o = np.asarray(o, dtype=np.float64)
    if _connected():
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
