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
    # TODO: Unpack p (slices p[0:4], p[4:8], ...) and compute f for every x at
    #       once: the pre-activations of all points and units form an (n, 4)
    #       array (np.outer or broadcasting with x[:, None]). np.asarray(x) and
    #       np.ndim help to treat a float x too.
    # BEGIN SOLUTION
    # f(x) for a float x (returns a float) or a 1-D array x (returns an array of the same shape).
    w_h, b_h, w_o, b_o = unpack(p)
    xa = np.asarray(x, dtype=np.float64)
    z = np.multiply.outer(xa, w_h) + b_h          # pre-activations, shape x.shape + (4,)
    out = np.maximum(z, 0.0) @ w_o + b_o
    return float(out) if xa.ndim == 0 else out
    # END SOLUTION


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
    # TODO: Apply the chain rule: d(y - f)^2/df, then df/db_o, df/dw_o[i],
    #       df/db_h[i] and df/dw_h[i] (through ReLU'). Return the 13 entries in
    #       the order of p.
    # BEGIN SOLUTION
    # Gradient of (y - f(x))^2 with respect to p, for one point (x, y): an array of 13.
    #
    # ReLU'(0) = 0: a unit whose pre-activation is exactly 0 passes no gradient.
    w_h, b_h, w_o, b_o = unpack(p)
    x = float(x)
    z = w_h * x + b_h
    h = np.maximum(z, 0.0)
    r = b_o + h @ w_o - y                          # f(x) - y
    df = 2.0 * r                                   # d(y - f)^2 / df
    active = (z > 0).astype(np.float64)            # ReLU'(z), 0 at z == 0
    d_bh = df * w_o * active
    d_wh = d_bh * x
    d_wo = df * h
    return np.concatenate([d_wh, d_bh, d_wo, [df]])
    # END SOLUTION


# BEGIN SOLUTION
def _jacobian(p, xs):
    """d f(x_j) / d p for every x_j: shape (len(xs), 13)."""
    w_h, b_h, w_o, _ = unpack(p)
    z = np.multiply.outer(xs, w_h) + b_h
    active = (z > 0).astype(np.float64)
    d_bh = active * w_o
    return np.hstack([d_bh * xs[:, None], d_bh, np.maximum(z, 0.0), np.ones((len(xs), 1))])
# END SOLUTION


# BEGIN SOLUTION
def _initial_guess(rng, xs, ys):
    """A random starting point for fsolve: four kinks inside the data range, the rest by least squares.

    From plain N(0, 1) guesses the kinks mostly fall outside the data, the units are dead or linear
    there, and fsolve stalls (thousands of restarts on D1). Kink t_i = -b_h[i] / w_h[i] drawn uniformly
    in [min x, max x], w_h[i] = +-1; then the output weights and bias, which enter f linearly, are
    the least-squares fit to the data for those kinks: fsolve only has to move the kinks.
    """
    kinks = rng.uniform(xs.min(), xs.max(), N_HIDDEN)
    w_h = rng.choice([-1.0, 1.0], N_HIDDEN)
    b_h = -w_h * kinks
    H = np.hstack([np.maximum(np.multiply.outer(xs, w_h) + b_h, 0.0), np.ones((len(xs), 1))])
    out = np.linalg.lstsq(H, ys, rcond=None)[0]   # [w_o1..w_o4, b_o]
    return np.concatenate([w_h, b_h, out])
# END SOLUTION


def fit(xs, ys, seed=0, max_restarts=2000):
    """Parameters p with predict(p, xs) == ys at every point, found with scipy.optimize.fsolve.

    Inputs:
    - xs, ys: 1-D arrays of the same length n (2 <= n <= 13), xs increasing
    - seed: seed for every random number you draw (same seed, same result)

    Returns:
    - p: array of shape (13,) that fits every point exactly (residuals ~1e-10, not ~1e-2)
    """
    # TODO: Solve predict(p, xs) - ys = 0 with fsolve. fsolve needs as many
    #       equations as unknowns: with n < 13 points pad the residual vector
    #       up to 13 entries (for example by repeating residuals). Restart from
    #       new random guesses until the residuals are ~0: guesses whose kinks
    #       -b_h[i] / w_h[i] lie inside [min(xs), max(xs)] succeed far more
    #       often than plain np.random.randn(13). Draw them from rng =
    #       np.random.default_rng(seed).
    # BEGIN SOLUTION
    # Parameters p (13,) with predict(p, xs) == ys at every point, found with scipy.optimize.fsolve.
    #
    # fsolve solves as many equations as unknowns: with n < 13 points some residuals are repeated (the
    # same solutions; fsolve copes better with that than with rows of zeros). Restarts from random initial
    # guesses (kinks inside the data range) until one interpolates every point; deterministic for a seed.
    xs = np.asarray(xs, dtype=np.float64).ravel()
    ys = np.asarray(ys, dtype=np.float64).ravel()
    n = len(xs)
    if n > N_PARAMS:
        raise ValueError(f"fsolve needs at most {N_PARAMS} points, got {n}")
    rows = np.arange(N_PARAMS) % n   # fsolve wants 13 equations: repeat residuals cyclically

    def residuals(p):
        return (predict(p, xs) - ys)[rows]

    def jac(p):
        return _jacobian(p, xs)[rows]

    rng = np.random.default_rng(seed)
    target = 1e-10 * (1.0 + np.max(np.abs(ys)))
    for _ in range(max_restarts):
        p0 = _initial_guess(rng, xs, ys)
        p, _info, _ier, _msg = fsolve(residuals, p0, fprime=jac, full_output=True, xtol=1e-13)
        if np.all(np.isfinite(p)) and np.max(np.abs(predict(p, xs) - ys)) <= target:
            return p
    raise RuntimeError(f"no exact fit found in {max_restarts} restarts")
    # END SOLUTION
