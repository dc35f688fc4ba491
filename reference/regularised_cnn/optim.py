"""4.5 One update of a numpy parameter array, exactly as torch.optim does it.

Every function takes (param, grad, state, lr, ...), returns (new_param, new_state) and must NOT
modify its inputs in place: build new arrays and a new state dict. `state` starts as {} and holds
arrays (moments) and a step count. Weight decay as in torch: coupled (g = grad + wd·param) for SGD,
RMSprop and Adam; decoupled (param ← param·(1 − lr·wd) before the step) for AdamW. See the
statement for the exact formulas (they follow torch's documentation).
"""
import numpy as np


def sgd_momentum_step(param, grad, state, lr, momentum=0.9, weight_decay=0.0):
    """torch.optim.SGD(lr, momentum, weight_decay) (dampening 0, no Nesterov):
    g = grad + wd·param; b = g at the first step, else momentum·b + g; param ← param − lr·b."""
    # TODO: One SGD-with-momentum step.
    # BEGIN SOLUTION
    # torch.optim.SGD(momentum=momentum, dampening=0, nesterov=False):
    # g = grad + wd·param; buf = g at the first step, else momentum·buf + g; param − lr·buf.
    g = grad + weight_decay * param if weight_decay != 0 else np.array(grad, dtype=float)
    if "momentum_buffer" in state:
        buf = momentum * state["momentum_buffer"] + g
    else:
        buf = np.array(g, dtype=float)
    return param - lr * buf, {"momentum_buffer": buf, "step": state.get("step", 0) + 1}
    # END SOLUTION


def rmsprop_step(param, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """torch.optim.RMSprop(lr, alpha, eps, weight_decay): g = grad + wd·param;
    v = alpha·v + (1 − alpha)·g² (v starts at 0); param ← param − lr·g / (√v + eps)."""
    # TODO: One RMSprop step (eps outside the square root).
    # BEGIN SOLUTION
    # torch.optim.RMSprop (not centered, no momentum):
    # g = grad + wd·param; v = alpha·v + (1 − alpha)·g² (v starts at 0); param − lr·g/(√v + eps).
    g = grad + weight_decay * param if weight_decay != 0 else np.array(grad, dtype=float)
    v = state.get("square_avg", np.zeros_like(g))
    v = alpha * v + (1.0 - alpha) * g * g
    return param - lr * g / (np.sqrt(v) + eps), {"square_avg": v, "step": state.get("step", 0) + 1}
    # END SOLUTION


# BEGIN SOLUTION
def _adam(param, g, state, lr, betas, eps):
    beta1, beta2 = betas
    step = state.get("step", 0) + 1
    m = beta1 * state.get("exp_avg", np.zeros_like(g)) + (1.0 - beta1) * g
    v = beta2 * state.get("exp_avg_sq", np.zeros_like(g)) + (1.0 - beta2) * g * g
    bias1 = 1.0 - beta1 ** step
    bias2 = 1.0 - beta2 ** step
    denom = np.sqrt(v) / np.sqrt(bias2) + eps  # torch: eps added after the bias-corrected root
    return param - (lr / bias1) * m / denom, {"exp_avg": m, "exp_avg_sq": v, "step": step}
# END SOLUTION


def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """torch.optim.Adam(lr, betas, eps, weight_decay): t ← t + 1; g = grad + wd·param;
    m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; m̂ = m/(1 − β1^t);
    param ← param − lr·m̂ / (√v/√(1 − β2^t) + eps)."""
    # TODO: One Adam step with bias correction.
    # BEGIN SOLUTION
    # torch.optim.Adam: coupled weight decay (g = grad + wd·param), bias-corrected moments.
    g = grad + weight_decay * param if weight_decay != 0 else np.array(grad, dtype=float)
    return _adam(param, g, state, lr, betas, eps)
    # END SOLUTION


def adamw_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
    """torch.optim.AdamW: param ← param·(1 − lr·wd) first, then Adam's step on grad itself."""
    # TODO: Decoupled weight decay, then the Adam update (no wd in g).
    # BEGIN SOLUTION
    # torch.optim.AdamW: param·(1 − lr·wd) first (decoupled decay), then Adam's step on grad.
    decayed = param * (1.0 - lr * weight_decay)
    return _adam(decayed, np.array(grad, dtype=float), state, lr, betas, eps)
    # END SOLUTION
