"""Softmax, its Jacobian and the softmax cross-entropy loss (numpy).

Conventions: the classes are the last axis; a batch is the first axis; labels `t` are integer class
indices.
"""
import numpy as np


def _as_float(a):
    """`a` as a float array; float32/float64 inputs keep their precision, anything else is float64."""
    a = np.asarray(a)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)


def softmax(o):
    """Softmax along the last axis.

    Inputs:
    - o: array of logits, any shape (..., C)

    Returns:
    - y: array of the same shape, y[..., i] = exp(o[..., i]) / sum_j exp(o[..., j])
    """
    # TODO: Implement the softmax along the last axis, for any leading shape.
    #       It must stay finite for logits of magnitude 1e4: softmax(o) equals
    #       softmax(o - m) for any constant m per row, so subtract the row
    #       maximum before calling np.exp (keepdims=True helps with the
    #       broadcasting).
    # BEGIN SOLUTION
    o = _as_float(o)
    # softmax(o) = softmax(o - m) for any constant m; subtracting the row max makes every exponent
    # <= 0, so exp never overflows (logits of 1e4 would give inf/inf = nan otherwise).
    z = o - np.max(o, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)
    # END SOLUTION


def softmax_jacobian(o):
    """Jacobian of the softmax of one logit vector.

    Inputs:
    - o: 1-D array of logits, shape (C,)

    Returns:
    - J: array of shape (C, C), J[i, j] = dy_i / do_j = y_i * (delta_ij - y_j)
    """
    # TODO: Build the C x C Jacobian of the softmax at o. Derive it on paper
    #       first; np.diag and np.outer give a two-line answer.
    # BEGIN SOLUTION
    y = softmax(_as_float(o).reshape(-1))
    # diag(y) - y y^T, written as one outer product
    return np.diag(y) - np.outer(y, y)
    # END SOLUTION


def cross_entropy(o, t):
    """Mean softmax cross-entropy of logits against integer labels.

    Inputs:
    - o: logits, shape (N, C)
    - t: integer labels, shape (N,), values in [0, C)

    Returns:
    - loss: float, (1/N) * sum_n -log softmax(o_n)[t_n]
    """
    # TODO: Compute the mean cross-entropy. Do not take the log of softmax
    #       probabilities (they underflow to 0 for large logits): use -log
    #       softmax(o)[t] = logsumexp(o) - o[t], with the row max shifted out.
    # BEGIN SOLUTION
    o = _as_float(o)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    # -log softmax(o)[t] = logsumexp(o) - o[t]; computing it this way (with the max shifted out)
    # never takes the log of an underflowed 0, so it stays finite for huge logits.
    m = np.max(o, axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.sum(np.exp(o - m), axis=1))
    n = o.shape[0]
    return float(np.mean(lse - o[np.arange(n), t]))
    # END SOLUTION


def cross_entropy_grad(o, t):
    """Gradient of `cross_entropy(o, t)` with respect to the logits.

    Inputs:
    - o: logits, shape (N, C)
    - t: integer labels, shape (N,)

    Returns:
    - do: array of shape (N, C), (softmax(o) - onehot(t)) / N
    """
    # TODO: Compute d loss / d o. Remember that the loss is a mean over the
    #       batch.
    # BEGIN SOLUTION
    o = _as_float(o)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    n = o.shape[0]
    d = softmax(o)
    d[np.arange(n), t] -= 1.0  # subtract the one-hot target in place
    # the loss is a mean over the batch, so every row's gradient carries the 1/N
    return d / n
    # END SOLUTION
