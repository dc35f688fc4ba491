"""4.2 L1 and L2 weight penalties, their gradients, and a regularised cross-entropy (numpy).

`weights` is always a list of numpy arrays of any shapes (weight matrices, convolution kernels).
Biases are not penalised: they are not in the list.
"""
import numpy as np


def l1_penalty(weights, lam):
    """Returns lam · Σ|w| over every entry of every array in `weights` (a float)."""
    # TODO: Sum the absolute values of all entries of all arrays.
    # BEGIN SOLUTION
    # lam · Σ |w| over every entry of every array.
    return float(lam * sum(np.sum(np.abs(w)) for w in weights))
    # END SOLUTION


def l2_penalty(weights, lam):
    """Returns lam · Σw² over every entry of every array in `weights` (a float). No ½."""
    # TODO: Sum the squares of all entries of all arrays.
    # BEGIN SOLUTION
    # lam · Σ w² over every entry of every array (no ½).
    return float(lam * sum(np.sum(np.square(w)) for w in weights))
    # END SOLUTION


def l1_grad(weights, lam):
    """Returns a list of arrays shaped like `weights`: lam · sign(w), with sign(0) = 0."""
    # TODO: One array per weight array. np.sign already gives sign(0) = 0.
    # BEGIN SOLUTION
    # [lam · sign(w) for each array]; sign(0) = 0 (the subgradient 0 at the kink).
    return [lam * np.sign(w) for w in weights]
    # END SOLUTION


def l2_grad(weights, lam):
    """Returns a list of arrays shaped like `weights`: the gradient 2 · lam · w of l2_penalty."""
    # TODO: One array per weight array.
    # BEGIN SOLUTION
    # [2 · lam · w for each array].
    return [2.0 * lam * np.asarray(w) for w in weights]
    # END SOLUTION


def regularised_cross_entropy(probs, labels, weights, lam, kind):
    """The mean cross-entropy of the rows plus a weight penalty.

    Inputs:
    - probs: (N, C) predicted probabilities
    - labels: (N,) integer classes 0..C-1
    - weights: list of arrays to penalise; lam: the penalty's strength
    - kind: "l1" (lam·Σ|w|) or "l2" (lam·Σw²); anything else raises a ValueError

    Returns (1/N) Σ_i −log probs[i, labels[i]] + penalty (a float).
    """
    # TODO: Average (not sum) the data term over the rows; add the penalty of
    #       the kind asked; raise ValueError for an unknown kind.
    # BEGIN SOLUTION
    # mean_i −log probs[i, labels[i]] + the L1 (kind="l1") or L2 (kind="l2") penalty of `weights`.
    #
    # probs: (N, C) probabilities; labels: (N,) integer classes. ValueError for any other kind.
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
    # END SOLUTION
