"""4.2 L1 and L2 weight penalties, their gradients, and a regularised cross-entropy.

`weights` is a list of numpy arrays of any shapes (the weight matrices and kernels of a model; the
biases are not penalised, so they are not in the list).
"""
import numpy as np


def l1_penalty(weights, lam):
    """lam · Σ |w| over every entry of every array."""
    return float(lam * sum(np.sum(np.abs(w)) for w in weights))


def l2_penalty(weights, lam):
    """lam · Σ w² over every entry of every array (no ½)."""
    return float(lam * sum(np.sum(np.square(w)) for w in weights))


def l1_grad(weights, lam):
    """[lam · sign(w) for each array]; sign(0) = 0 (the subgradient 0 at the kink)."""
    return [lam * np.sign(w) for w in weights]


def l2_grad(weights, lam):
    """[2 · lam · w for each array]."""
    return [2.0 * lam * np.asarray(w) for w in weights]


def regularised_cross_entropy(probs, labels, weights, lam, kind):
    """mean_i −log probs[i, labels[i]] + the L1 (kind="l1") or L2 (kind="l2") penalty of `weights`.

    probs: (N, C) probabilities; labels: (N,) integer classes. ValueError for any other kind.
    """
    if kind == "l1":
        penalty = l1_penalty(weights, lam)
    elif kind == "l2":
        penalty = l2_penalty(weights, lam)
    else:
        raise ValueError(f"kind must be 'l1' or 'l2', got {kind!r}")
    probs = np.asarray(probs)
    labels = np.asarray(labels, dtype=np.int64)
    data = -np.mean(np.log(probs[np.arange(len(labels)), labels]))
    return float(data + penalty)
