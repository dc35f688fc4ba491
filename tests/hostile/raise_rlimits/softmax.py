"""Hostile: lifts every resource limit back to unlimited, then allocates 50 GB."""
import resource

import numpy as np


def softmax(o):
    for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC",
                 "RLIMIT_CORE", "RLIMIT_DATA", "RLIMIT_STACK"):
        res = getattr(resource, name)
        try:
            resource.setrlimit(res, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            print(f"RAISED {name}")
        except (ValueError, OSError) as exc:
            print(f"could not raise {name}: {exc}")
    hoard = np.ones(50 * 10**9 // 8)
    return hoard[: np.size(o)].reshape(np.shape(o))


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))
