"""Backpropagation by hand through a tiny 2-3-2 network, in plain Python.

Only `math` and `random`: every vector is a list of floats, every matrix a list of rows.

Network (one instance at a time):
    x (2)  ->  k1 = W^T x + b  (3)   W is 2x3, W[i][j] connects input i to hidden unit j
           ->  h  = sigmoid(k1) (3)
           ->  k2 = V^T h + c  (2)   V is 3x2, V[j][m] connects hidden unit j to output m
           ->  y  = softmax(k2) (2)
    loss = -log y[target]

Do not import numpy (or anything but `math` and `random`) in this file: the point is to write every
sum of the forward and backward pass yourself. You may add small helper functions.
"""
import math
import random


# BEGIN SOLUTION
def _sigmoid(z):
    """Logistic function, written so that math.exp never overflows (z may be -1000)."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
# END SOLUTION


# BEGIN SOLUTION
def _softmax(s):
    """Softmax of a list; the max is subtracted first so exp never overflows."""
    m = max(s)
    e = [math.exp(v - m) for v in s]
    total = sum(e)
    return [v / total for v in e]
# END SOLUTION


def forward(x, W, b, V, c):
    """Forward pass for one instance.

    Inputs:
    - x: list of 2 floats
    - W: 2x3 nested list, b: list of 3
    - V: 3x2 nested list, c: list of 2

    Returns a dict (the cache for `backward`) with lists
    - k1: hidden pre-activations (3), k1[j] = sum_i W[i][j] x[i] + b[j]
    - h: hidden activations sigmoid(k1) (3)
    - k2: output logits (2), k2[m] = sum_j V[j][m] h[j] + c[m]
    - y: output probabilities softmax(k2) (2)
    """
    # TODO: Compute k1, h, k2 and y with loops or list comprehensions and
    #       return them in a dict. Make the sigmoid and the softmax numerically
    #       safe (math.exp overflows above ~709).
    # BEGIN SOLUTION
    n_in, n_hid, n_out = len(W), len(b), len(c)
    # float(): integer parameters and inputs still give float pre-activations
    k1 = [float(b[j]) + sum(W[i][j] * x[i] for i in range(n_in)) for j in range(n_hid)]
    h = [_sigmoid(v) for v in k1]
    k2 = [float(c[m]) + sum(V[j][m] * h[j] for j in range(n_hid)) for m in range(n_out)]
    y = _softmax(k2)
    return {"k1": k1, "h": h, "k2": k2, "y": y}
    # END SOLUTION


def loss(y, target):
    """Cross-entropy of one instance: -log y[target].

    Inputs:
    - y: list of output probabilities
    - target: int, the true class

    Returns a float (inf if the probability of the target underflowed to 0).
    """
    # TODO: Return the loss of one instance.
    # BEGIN SOLUTION
    p = y[int(target)]
    return -math.log(p) if p > 0.0 else math.inf
    # END SOLUTION


def backward(x, target, W, b, V, c, cache):
    """Gradients of `loss(forward(x, ...)["y"], target)` for one instance.

    Inputs:
    - x, W, b, V, c: as in `forward`
    - target: int, the true class
    - cache: the dict returned by `forward(x, W, b, V, c)` (recomputed if None)

    Returns a dict of gradients with the shapes of the parameters:
    - dW: 2x3, db: 3, dV: 3x2, dc: 2
    """
    # TODO: Backpropagate from the loss to every parameter, one stage at a
    #       time: dL/dk2 (softmax and cross-entropy together), then dV, dc,
    #       dL/dh, dL/dk1 (through the sigmoid) and finally dW and db. Return
    #       nested lists with the shapes of W, b, V and c.
    # BEGIN SOLUTION
    if cache is None:
        cache = forward(x, W, b, V, c)
    h, y = cache["h"], cache["y"]
    n_in, n_hid, n_out = len(W), len(b), len(c)
    target = int(target)

    # softmax + cross-entropy together: dL/dk2[m] = y[m] - [m == target]
    dk2 = [y[m] - (1.0 if m == target else 0.0) for m in range(n_out)]
    # k2 = V^T h + c
    dV = [[h[j] * dk2[m] for m in range(n_out)] for j in range(n_hid)]
    dc = list(dk2)
    dh = [sum(V[j][m] * dk2[m] for m in range(n_out)) for j in range(n_hid)]
    # h = sigmoid(k1), sigmoid' = h (1 - h)
    dk1 = [dh[j] * h[j] * (1.0 - h[j]) for j in range(n_hid)]
    # k1 = W^T x + b
    dW = [[x[i] * dk1[j] for j in range(n_hid)] for i in range(n_in)]
    db = list(dk1)
    return {"dW": dW, "db": db, "dV": dV, "dc": dc}
    # END SOLUTION


def sgd_step(params, grads, lr):
    """One plain gradient-descent step, p <- p - lr * dp, without modifying the inputs.

    Inputs:
    - params: dict with W (2x3), b (3), V (3x2), c (2)
    - grads: dict with dW, db, dV, dc of the same shapes
    - lr: learning rate

    Returns a new params dict with keys W, b, V, c.
    """
    # TODO: Return new nested lists; leave `params` and `grads` unchanged.
    # BEGIN SOLUTION
    def vec(p, g):
        return [pi - lr * gi for pi, gi in zip(p, g)]

    return {
        "W": [vec(row, grow) for row, grow in zip(params["W"], grads["dW"])],
        "b": vec(params["b"], grads["db"]),
        "V": [vec(row, grow) for row, grow in zip(params["V"], grads["dV"])],
        "c": vec(params["c"], grads["dc"]),
    }
    # END SOLUTION


def init_params(rng, n_in=2, n_hid=3, n_out=2):
    """Weights ~ N(0, 1) drawn from `rng` (W row by row, then V), biases 0."""
    return {
        "W": [[rng.gauss(0.0, 1.0) for _ in range(n_hid)] for _ in range(n_in)],
        "b": [0.0] * n_hid,
        "V": [[rng.gauss(0.0, 1.0) for _ in range(n_out)] for _ in range(n_hid)],
        "c": [0.0] * n_out,
    }


def train_synthetic(X, T, epochs, lr, seed):
    """Per-instance SGD on the synthetic 2-D data set.

    Inputs:
    - X: sequence of N points, each [x1, x2]
    - T: sequence of N integer labels in {0, 1}
    - epochs: number of passes over the data, in the given order
    - lr: learning rate
    - seed: seed of the random.Random that initialises the weights

    Returns (params, losses):
    - params: dict with W (2x3), b (3), V (3x2), c (2) after training
    - losses: list of `epochs` floats, the mean loss of each epoch (each instance's loss is taken
      just before the update on that instance)
    """
    # TODO: Initialise the parameters with random.Random(seed) (weights N(0,
    #       1), biases 0: see init_params), then for every epoch and every
    #       instance: forward, loss, backward, sgd_step. X and T may be numpy
    #       arrays: convert with float() and int() first (it is also faster).
    # BEGIN SOLUTION
    rng = random.Random(seed)
    params = init_params(rng)
    # accept numpy arrays/scalars too: plain floats and ints from here on
    X = [[float(v) for v in x] for x in X]
    T = [int(t) for t in T]

    losses = []
    for _ in range(int(epochs)):
        total = 0.0
        for x, t in zip(X, T):
            W, b, V, c = params["W"], params["b"], params["V"], params["c"]
            cache = forward(x, W, b, V, c)
            total += loss(cache["y"], t)
            grads = backward(x, t, W, b, V, c, cache)
            params = sgd_step(params, grads, lr)
        losses.append(total / max(len(X), 1))
    return params, losses
    # END SOLUTION
