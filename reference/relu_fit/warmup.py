"""Warm-up: gradients of a squared norm, a sum of squared distances and an L1 loss (numpy).

Conventions: vectors are 1-D arrays; the rows of a matrix X are the data points x_i.
"""
import numpy as np


def sq_norm_grad(x):
    """Gradient of ||x||^2 = sum_k x_k^2 with respect to x.

    Inputs:
    - x: array of any shape (a vector, or a matrix with the Frobenius norm)

    Returns:
    - g: array of the same shape as x, g = d ||x||^2 / dx
    """
    # TODO: Derive the gradient on paper (one entry at a time), then return it
    #       for the whole array at once.
    # BEGIN SOLUTION
    # Gradient of ||x||^2 = sum_k x_k^2 with respect to x: 2x (same shape as x, any shape).
    return 2 * np.asarray(x)
    # END SOLUTION


def mean_minimizer(X):
    """The point mu that minimises sum_i ||x_i - mu||^2 over the rows x_i of X.

    Inputs:
    - X: array of shape (N, d), one data point per row

    Returns:
    - mu: array of shape (d,)
    """
    # TODO: Set the gradient of the objective with respect to mu to zero and
    #       solve for mu. Mind the axis: mu has one entry per column of X.
    # BEGIN SOLUTION
    # argmin over mu of sum_i ||x_i - mu||^2 for the rows x_i of X (N, d): the mean row, shape (d,).
    #
    # The gradient -2 sum_i (x_i - mu) vanishes at mu = (1/N) sum_i x_i, and the objective is convex.
    return np.mean(np.asarray(X), axis=0)
    # END SOLUTION


def l1_loss(X, w, y):
    """The L1 loss ||Xw - y||_1 = sum_i |x_i . w - y_i|.

    Inputs:
    - X: array of shape (N, d)
    - w: array of shape (d,)
    - y: array of shape (N,)

    Returns:
    - loss: a float
    """
    # TODO: Compute the L1 loss without a Python loop.
    # BEGIN SOLUTION
    # ||Xw - y||_1 = sum_i |x_i . w - y_i| for X (N, d), w (d,), y (N,): a float.
    return float(np.sum(np.abs(np.asarray(X) @ np.asarray(w) - np.asarray(y))))
    # END SOLUTION


def l1_subgradient(X, w, y):
    """A subgradient of ||Xw - y||_1 with respect to w.

    Inputs:
    - X: array of shape (N, d)
    - w: array of shape (d,)
    - y: array of shape (N,)

    Returns:
    - g: array of shape (d,), g = X^T sign(Xw - y), with sign(0) = 0
    """
    # TODO: |r| is not differentiable at r = 0; any value in [-1, 1] is a
    #       subgradient there and this assignment takes sign(0) = 0 (a row that
    #       is fitted exactly contributes nothing). Check the shape of the
    #       result.
    # BEGIN SOLUTION
    # A subgradient of ||Xw - y||_1 with respect to w: X^T sign(Xw - y), shape (d,).
    #
    # |r| has derivative sign(r) for r != 0; at r = 0 any value in [-1, 1] is a subgradient and we
    # take sign(0) = 0 (np.sign does), so rows that are fitted exactly contribute nothing.
    X = np.asarray(X)
    return X.T @ np.sign(X @ np.asarray(w) - np.asarray(y))
    # END SOLUTION
