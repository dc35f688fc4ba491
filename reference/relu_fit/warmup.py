"""Warm-up: gradients of a squared norm, a sum of squared distances and an L1 loss (numpy).

Conventions: vectors are 1-D arrays; the rows of a matrix X are the data points x_i.
"""
import numpy as np


def sq_norm_grad(x):
    """Gradient of ||x||^2 = sum_k x_k^2 with respect to x: 2x (same shape as x, any shape)."""
    return 2 * np.asarray(x)


def mean_minimizer(X):
    """argmin over mu of sum_i ||x_i - mu||^2 for the rows x_i of X (N, d): the mean row, shape (d,).

    The gradient -2 sum_i (x_i - mu) vanishes at mu = (1/N) sum_i x_i, and the objective is convex.
    """
    return np.mean(np.asarray(X), axis=0)


def l1_loss(X, w, y):
    """||Xw - y||_1 = sum_i |x_i . w - y_i| for X (N, d), w (d,), y (N,): a float."""
    return float(np.sum(np.abs(np.asarray(X) @ np.asarray(w) - np.asarray(y))))


def l1_subgradient(X, w, y):
    """A subgradient of ||Xw - y||_1 with respect to w: X^T sign(Xw - y), shape (d,).

    |r| has derivative sign(r) for r != 0; at r = 0 any value in [-1, 1] is a subgradient and we
    take sign(0) = 0 (np.sign does), so rows that are fitted exactly contribute nothing.
    """
    X = np.asarray(X)
    return X.T @ np.sign(X @ np.asarray(w) - np.asarray(y))
