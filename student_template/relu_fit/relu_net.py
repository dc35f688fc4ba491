"""A 1-4-1 ReLU network: prediction, the gradient of the squared error, and an exact fit with fsolve.

The network: f(x) = b_o + sum_i w_o[i] * max(0, w_h[i] * x + b_h[i]), i = 1..4.
Its 13 parameters live in one vector p, in this order:

    p = [w_h1, w_h2, w_h3, w_h4,  b_h1, b_h2, b_h3, b_h4,  w_o1, w_o2, w_o3, w_o4,  b_o]

Example: p = [-1, 1, 1, -1, 1, 1, -1, 1, 1, -1, -1, -1, 1].
"""
import numpy as np
from scipy.optimize import fsolve

N_HIDDEN = 4
N_PARAMS = 3 * N_HIDDEN + 1


def unpack(p):
    """(w_h, b_h, w_o, b_o) from the parameter vector p of 13 entries."""
    p = np.asarray(p, dtype=np.float64)
    return p[0:4], p[4:8], p[8:12], p[12]


def predict(p, x):
    """The network's output f(x).

    Inputs:
    - p: array of 13 parameters, in the order above
    - x: a float, or a 1-D array of shape (n,)

    Returns:
    - f(x): a float for a float x; an array of shape (n,) for an array x
    """
    ###########################################################################
    # TODO: Unpack p (slices p[0:4], p[4:8], ...) and compute f for every x   #
    # at once: the pre-activations of all points and units form an (n, 4)     #
    # array (np.outer or broadcasting with x[:, None]). np.asarray(x) and     #
    # np.ndim help to treat a float x too.                                    #
    ###########################################################################
    raise NotImplementedError("predict: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def loss_grad(p, x, y):
    """Gradient of the squared error (y - f(x))^2 with respect to p, for one point (x, y).

    Inputs:
    - p: array of 13 parameters
    - x, y: floats

    Returns:
    - g: array of shape (13,), in the same order as p

    ReLU'(0) = 0: a hidden unit whose pre-activation w_h[i] * x + b_h[i] is exactly 0 passes no
    gradient (this is checked exactly).
    """
    ###########################################################################
    # TODO: Apply the chain rule: d(y - f)^2/df, then df/db_o, df/dw_o[i],    #
    # df/db_h[i] and df/dw_h[i] (through ReLU'). Return the 13 entries in the #
    # order of p.                                                             #
    ###########################################################################
    raise NotImplementedError("loss_grad: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def fit(xs, ys, seed=0, max_restarts=2000):
    """Parameters p with predict(p, xs) == ys at every point, found with scipy.optimize.fsolve.

    Inputs:
    - xs, ys: 1-D arrays of the same length n (2 <= n <= 13), xs increasing
    - seed: seed for every random number you draw (same seed, same result)

    Returns:
    - p: array of shape (13,) that fits every point exactly (residuals ~1e-10, not ~1e-2)
    """
    ###########################################################################
    # TODO: Solve predict(p, xs) - ys = 0 with fsolve. fsolve needs as many   #
    # equations as unknowns: with n < 13 points pad the residual vector up to #
    # 13 entries (for example by repeating residuals). Restart from new       #
    # random guesses until the residuals are ~0: guesses whose kinks -b_h[i]  #
    # / w_h[i] lie inside [min(xs), max(xs)] succeed far more often than      #
    # plain np.random.randn(13). Draw them from rng =                         #
    # np.random.default_rng(seed).                                            #
    ###########################################################################
    raise NotImplementedError("fit: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
