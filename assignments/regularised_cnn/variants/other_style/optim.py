"""A correct variant: float32 throughout, other state key names, state copied with dict(), Adam
written out separately from AdamW, loops over the entries for SGD."""
import math

import numpy as np


def sgd_momentum_step(param, grad, state, lr, momentum=0.9, weight_decay=0.0):
    param = np.asarray(param, dtype=np.float32)
    grad = np.asarray(grad, dtype=np.float32)
    new = dict(state)
    g = grad + np.float32(weight_decay) * param
    if "v" not in state:
        v = g.copy()
    else:
        v = np.empty_like(g)
        for i in np.ndindex(g.shape):
            v[i] = momentum * state["v"][i] + g[i]
    new["v"] = v
    new["t"] = state.get("t", 0) + 1
    return param - np.float32(lr) * v, new


def rmsprop_step(param, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    param = np.asarray(param, dtype=np.float32)
    g = np.asarray(grad, dtype=np.float32) + np.float32(weight_decay) * param
    sq = state.get("sq", np.zeros_like(g))
    sq = np.float32(alpha) * sq + np.float32(1 - alpha) * np.square(g)
    return param - np.float32(lr) * g / (np.sqrt(sq) + np.float32(eps)), {"sq": sq, "t": state.get("t", 0) + 1}


def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    b1, b2 = betas
    param = np.asarray(param, dtype=np.float32)
    g = np.asarray(grad, dtype=np.float32)
    if weight_decay:
        g = g + np.float32(weight_decay) * param
    t = state.get("t", 0) + 1
    m = state.get("m", np.zeros_like(g)) * np.float32(b1) + np.float32(1 - b1) * g
    v = state.get("v", np.zeros_like(g)) * np.float32(b2) + np.float32(1 - b2) * g * g
    denom = np.sqrt(v) / np.float32(math.sqrt(1 - b2 ** t)) + np.float32(eps)
    return param - np.float32(lr / (1 - b1 ** t)) * m / denom, {"m": m, "v": v, "t": t}


def adamw_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
    param = np.asarray(param, dtype=np.float32) * np.float32(1 - lr * weight_decay)
    return adam_step(param, grad, state, lr, betas, eps, 0.0)
