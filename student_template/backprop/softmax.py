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
    ###########################################################################
    # TODO: Implement the softmax along the last axis, for any leading shape. #
    # It must stay finite for logits of magnitude 1e4: softmax(o) equals      #
    # softmax(o - m) for any constant m per row, so subtract the row maximum  #
    # before calling np.exp (keepdims=True helps with the broadcasting).      #
    ###########################################################################
    raise NotImplementedError("softmax: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def softmax_jacobian(o):
    """Jacobian of the softmax of one logit vector.

    Inputs:
    - o: 1-D array of logits, shape (C,)

    Returns:
    - J: array of shape (C, C), J[i, j] = dy_i / do_j = y_i * (delta_ij - y_j)
    """
    ###########################################################################
    # TODO: Build the C x C Jacobian of the softmax at o. Derive it on paper  #
    # first; np.diag and np.outer give a two-line answer.                     #
    ###########################################################################
    raise NotImplementedError("softmax_jacobian: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def cross_entropy(o, t):
    """Mean softmax cross-entropy of logits against integer labels.

    Inputs:
    - o: logits, shape (N, C)
    - t: integer labels, shape (N,), values in [0, C)

    Returns:
    - loss: float, (1/N) * sum_n -log softmax(o_n)[t_n]
    """
    ###########################################################################
    # TODO: Compute the mean cross-entropy. Do not take the log of softmax    #
    # probabilities (they underflow to 0 for large logits): use -log          #
    # softmax(o)[t] = logsumexp(o) - o[t], with the row max shifted out.      #
    ###########################################################################
    raise NotImplementedError("cross_entropy: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def cross_entropy_grad(o, t):
    """Gradient of `cross_entropy(o, t)` with respect to the logits.

    Inputs:
    - o: logits, shape (N, C)
    - t: integer labels, shape (N,)

    Returns:
    - do: array of shape (N, C), (softmax(o) - onehot(t)) / N
    """
    ###########################################################################
    # TODO: Compute d loss / d o. Remember that the loss is a mean over the   #
    # batch.                                                                  #
    ###########################################################################
    raise NotImplementedError("cross_entropy_grad: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
