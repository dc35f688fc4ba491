"""4.2 L1 and L2 weight penalties, their gradients, and a regularised cross-entropy (numpy).

`weights` is always a list of numpy arrays of any shapes (weight matrices, convolution kernels).
Biases are not penalised: they are not in the list.
"""
import numpy as np


def l1_penalty(weights, lam):
    """Returns lam · Σ|w| over every entry of every array in `weights` (a float)."""
    ###########################################################################
    # TODO: Sum the absolute values of all entries of all arrays.             #
    ###########################################################################
    raise NotImplementedError("l1_penalty: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def l2_penalty(weights, lam):
    """Returns lam · Σw² over every entry of every array in `weights` (a float). No ½."""
    ###########################################################################
    # TODO: Sum the squares of all entries of all arrays.                     #
    ###########################################################################
    raise NotImplementedError("l2_penalty: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def l1_grad(weights, lam):
    """Returns a list of arrays shaped like `weights`: lam · sign(w), with sign(0) = 0."""
    ###########################################################################
    # TODO: One array per weight array. np.sign already gives sign(0) = 0.    #
    ###########################################################################
    raise NotImplementedError("l1_grad: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def l2_grad(weights, lam):
    """Returns a list of arrays shaped like `weights`: the gradient 2 · lam · w of l2_penalty."""
    ###########################################################################
    # TODO: One array per weight array.                                       #
    ###########################################################################
    raise NotImplementedError("l2_grad: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def regularised_cross_entropy(probs, labels, weights, lam, kind):
    """The mean cross-entropy of the rows plus a weight penalty.

    Inputs:
    - probs: (N, C) predicted probabilities
    - labels: (N,) integer classes 0..C-1
    - weights: list of arrays to penalise; lam: the penalty's strength
    - kind: "l1" (lam·Σ|w|) or "l2" (lam·Σw²); anything else raises a ValueError

    Returns (1/N) Σ_i −log probs[i, labels[i]] + penalty (a float).
    """
    ###########################################################################
    # TODO: Average (not sum) the data term over the rows; add the penalty of #
    # the kind asked; raise ValueError for an unknown kind.                   #
    ###########################################################################
    raise NotImplementedError("regularised_cross_entropy: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
