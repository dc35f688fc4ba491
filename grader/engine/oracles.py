"""Independent oracles, computed in the grader: torch autograd in float64 and central differences.

They ship in the student edition: whatever here gives a task's expected value computes it with
torch (tests/test_no_answers.py), never in numpy or plain Python."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def torch():
    """Import torch on first use: `grade check` on a task that needs no oracle stays fast."""
    import torch as _torch

    return _torch


def t64(a) -> "object":
    return torch().tensor(np.asarray(a, dtype=np.float64), dtype=torch().float64)


def autograd(fn: Callable, *arrays, ) -> tuple[float, list[np.ndarray]]:
    """(value, [d value / d array]) of a scalar torch function of float64 tensors."""
    th = torch()
    ts = [t64(a).requires_grad_(True) for a in arrays]
    out = fn(*ts)
    grads = th.autograd.grad(out, ts, allow_unused=True)
    return float(out.detach()), [np.zeros_like(np.asarray(a, np.float64)) if g is None else g.numpy()
                        for a, g in zip(arrays, grads)]


def sgd_step(params: Sequence, grads: Sequence, lr: float) -> list[np.ndarray]:
    """The parameters after one step of torch.optim.SGD (p − lr·g), float64, for each array of
    `params` with its gradient in `grads` (nested lists or arrays)."""
    th = torch()
    ts = [t64(p).requires_grad_(True) for p in params]
    for p, g in zip(ts, grads):
        p.grad = t64(g)
    th.optim.SGD(ts, lr=lr).step()
    return [p.detach().numpy() for p in ts]


def central_diff(f: Callable[[list[np.ndarray]], float], params: Sequence[np.ndarray],
                 h: float = 1e-5) -> list[np.ndarray]:
    """Central finite differences (f(p+h) − f(p−h)) / 2h for every entry of every array, float64.

    Error O(h²) for smooth f: keep inputs away from ReLU kinks (|pre-activation| ≫ h).
    """
    params = [np.array(p, dtype=np.float64) for p in params]
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            fp = f(params)
            p[idx] = old - h
            fm = f(params)
            p[idx] = old
            g[idx] = (fp - fm) / (2 * h)
        grads.append(g)
    return grads
