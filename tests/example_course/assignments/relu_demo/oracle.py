"""relu_demo: the grader's own ReLU and its gradient, and the tolerance of every check."""
import numpy as np

TOL = dict(rtol=1e-6, atol=1e-12)
TOL_TEXT = "|got − expected| ≤ 1e-12 + 1e-6·|expected|, same shape as x"


def relu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, 0.0)


def relu_grad(x: np.ndarray, upstream: np.ndarray) -> np.ndarray:
    return np.where(x > 0, upstream, 0.0)
