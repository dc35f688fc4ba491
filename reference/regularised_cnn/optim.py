"""4.5 One update of a parameter array, exactly as torch.optim does it (numpy, explicit state).

Every function returns (new_param, new_state) and leaves its inputs untouched: `state` starts as
an empty dict {} and is returned updated (a new dict, new arrays). Weight decay as in torch:
coupled (grad + wd·param) for SGD, RMSprop and Adam; decoupled (param·(1 − lr·wd)) for AdamW.
"""
import numpy as np


def sgd_momentum_step(param, grad, state, lr, momentum=0.9, weight_decay=0.0):
    """torch.optim.SGD(momentum=momentum, dampening=0, nesterov=False):
    g = grad + wd·param; buf = g at the first step, else momentum·buf + g; param − lr·buf."""
    g = grad + weight_decay * param if weight_decay != 0 else np.array(grad, dtype=float)
    if "momentum_buffer" in state:
        buf = momentum * state["momentum_buffer"] + g
    else:
        buf = np.array(g, dtype=float)
    return param - lr * buf, {"momentum_buffer": buf, "step": state.get("step", 0) + 1}


def rmsprop_step(param, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """torch.optim.RMSprop (not centered, no momentum):
    g = grad + wd·param; v = alpha·v + (1 − alpha)·g² (v starts at 0); param − lr·g/(√v + eps)."""
    g = grad + weight_decay * param if weight_decay != 0 else np.array(grad, dtype=float)
    v = state.get("square_avg", np.zeros_like(g))
    v = alpha * v + (1.0 - alpha) * g * g
    return param - lr * g / (np.sqrt(v) + eps), {"square_avg": v, "step": state.get("step", 0) + 1}


def _adam(param, g, state, lr, betas, eps):
    beta1, beta2 = betas
    step = state.get("step", 0) + 1
    m = beta1 * state.get("exp_avg", np.zeros_like(g)) + (1.0 - beta1) * g
    v = beta2 * state.get("exp_avg_sq", np.zeros_like(g)) + (1.0 - beta2) * g * g
    bias1 = 1.0 - beta1 ** step
    bias2 = 1.0 - beta2 ** step
    denom = np.sqrt(v) / np.sqrt(bias2) + eps  # torch: eps added after the bias-corrected root
    return param - (lr / bias1) * m / denom, {"exp_avg": m, "exp_avg_sq": v, "step": step}


def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """torch.optim.Adam: coupled weight decay (g = grad + wd·param), bias-corrected moments."""
    g = grad + weight_decay * param if weight_decay != 0 else np.array(grad, dtype=float)
    return _adam(param, g, state, lr, betas, eps)


def adamw_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
    """torch.optim.AdamW: param·(1 − lr·wd) first (decoupled decay), then Adam's step on grad."""
    decayed = param * (1.0 - lr * weight_decay)
    return _adam(decayed, np.array(grad, dtype=float), state, lr, betas, eps)
