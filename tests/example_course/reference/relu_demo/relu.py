"""ReLU and its gradient."""
import numpy as np


def relu(x):
    """max(x, 0) elementwise, same shape as x."""
    # Use np.maximum.
    # BEGIN SOLUTION
    return np.maximum(x, 0.0)
    # END SOLUTION


def relu_grad(x, upstream):
    """The gradient of sum(upstream * relu(x)) with respect to x: upstream where x > 0, else 0."""
    # Multiply upstream by a mask.
    # BEGIN SOLUTION
    return upstream * (x > 0)
    # END SOLUTION
