"""Layers and losses with hand-written backward passes (numpy, vectorised over the batch).

Conventions: a batch is the first axis (a 1-D input is treated as a single sample); every layer has
`forward(X)`, which caches what its backward pass needs, and `backward(dY)`, which takes the gradient
of the loss with respect to the layer's output and returns the gradient with respect to its input.
Parameter gradients are stored as attributes (`Linear.dW`, `Linear.db`). Losses have
`forward(pred, target)` -> float and `backward()` -> d loss / d pred.

No Python loops over the samples of a batch: use matrix products, broadcasting and np.einsum.
"""
import numpy as np


def _as_float(a):
    """`a` as a float array; float32/float64 arrays are kept as they are (no copy), others -> float64."""
    a = np.asarray(a)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)


class Linear:
    """Fully connected layer: Y = X @ W.T + b.

    - W: weights, shape (out, in)
    - b: biases, shape (out,)
    After `backward`: dW (out, in) and db (out,), summed over the batch (the upstream gradient dY
    already carries any 1/N of a mean loss).
    """

    def __init__(self, W, b):
        # keep the caller's arrays (no copy) so that updating them in place updates the layer
        self.W = _as_float(W)
        self.b = _as_float(b)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.X = None

    def forward(self, X):
        """X: (N, in) -> Y: (N, out)."""
        #######################################################################
        # TODO: Compute Y and cache what backward needs.                      #
        #######################################################################
        raise NotImplementedError("Linear.forward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################

    def backward(self, dY):
        """dY: (N, out) -> dX: (N, in); sets self.dW and self.db."""
        #######################################################################
        # TODO: Set self.dW and self.db and return dX. Check every shape.     #
        #######################################################################
        raise NotImplementedError("Linear.backward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################


class Sigmoid:
    """Logistic activation, elementwise: Y = 1 / (1 + exp(-X))."""

    def __init__(self):
        self.Y = None

    def forward(self, X):
        """X: any shape -> Y: same shape, in (0, 1)."""
        #######################################################################
        # TODO: Compute the sigmoid without overflow warnings for large |X|   #
        # and cache what backward needs.                                      #
        #######################################################################
        raise NotImplementedError("Sigmoid.forward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################

    def backward(self, dY):
        """dY: same shape as Y -> dX = dY * Y * (1 - Y)."""
        #######################################################################
        # TODO: Return dX.                                                    #
        #######################################################################
        raise NotImplementedError("Sigmoid.backward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################


class ReLU:
    """Rectified linear unit, elementwise: Y = max(0, X), with ReLU'(0) = 0."""

    def __init__(self):
        self.mask = None

    def forward(self, X):
        """X: any shape -> Y: same shape."""
        #######################################################################
        # TODO: Compute Y and cache what backward needs.                      #
        #######################################################################
        raise NotImplementedError("ReLU.forward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################

    def backward(self, dY):
        """dY: same shape as Y -> dX = dY where X > 0, else 0."""
        #######################################################################
        # TODO: Return dX. The gradient at exactly X == 0 must be 0.          #
        #######################################################################
        raise NotImplementedError("ReLU.backward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################


class Softmax:
    """Softmax over the last axis (the classes), row by row."""

    def __init__(self):
        self.Y = None

    def forward(self, X):
        """X: (N, C) logits -> Y: (N, C) probabilities."""
        #######################################################################
        # TODO: Compute a numerically stable softmax of every row (you may    #
        # import and reuse your softmax from softmax.py) and cache it.        #
        #######################################################################
        raise NotImplementedError("Softmax.forward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################

    def backward(self, dY):
        """dY: (N, C) -> dX: (N, C), dX[n] = J[n]^T dY[n] with J[n] = diag(Y[n]) - Y[n] Y[n]^T."""
        #######################################################################
        # TODO: Build the (N, C, C) stack of Jacobians, one per row, and      #
        # apply it to dY (np.einsum does both without a loop).                #
        #######################################################################
        raise NotImplementedError("Softmax.backward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################


class MSELoss:
    """Mean over the batch of 0.5 * ||pred - target||^2.

    pred: (N, D); target: same number of elements (e.g. (N, D), or (N,) when D == 1).
    A 1-D pred is one sample.
    """

    def __init__(self):
        self.diff = None
        self.n = 1

    def forward(self, pred, target):
        #######################################################################
        # TODO: Return the loss as a float and cache what backward needs.     #
        # Careful: (N,) minus (N, 1) broadcasts to (N, N).                    #
        #######################################################################
        raise NotImplementedError("MSELoss.forward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################

    def backward(self):
        """-> dpred, shape of pred: (pred - target) / N."""
        #######################################################################
        # TODO: Return d loss / d pred.                                       #
        #######################################################################
        raise NotImplementedError("MSELoss.backward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################


class CrossEntropyLoss:
    """Mean over the batch of -log p[target], computed from probabilities (e.g. a Softmax output).

    pred: probabilities (N, C). target: integer labels (N,) or one-hot rows (N, C) (any target
    distribution works: the loss is then -sum_c target[n, c] log p[n, c]). A 1-D pred is one sample.

    Probabilities are clipped from below at the smallest normal float of their dtype (~1e-308 in
    float64, ~1e-38 in float32). This changes nothing unless a probability underflowed to 0, where
    it keeps the loss finite (instead of inf, or 0 * log 0 = nan for a one-hot target) and keeps the
    gradient -t / (N p) finite; through Softmax.backward that still gives the exact dL/dlogits.
    """

    def __init__(self):
        self.p = None
        self.t = None
        self.n = 1

    def forward(self, pred, target):
        #######################################################################
        # TODO: Accept both integer labels and one-hot rows (compare the      #
        # target's shape with pred's). Return the loss as a float and cache   #
        # what backward needs.                                                #
        #######################################################################
        raise NotImplementedError("CrossEntropyLoss.forward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################

    def backward(self):
        """-> dpred, shape of pred: -target / (N * p)."""
        #######################################################################
        # TODO: Return d loss / d pred.                                       #
        #######################################################################
        raise NotImplementedError("CrossEntropyLoss.backward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################
