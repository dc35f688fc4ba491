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
        # TODO: Compute Y and cache what backward needs.
        # BEGIN SOLUTION
        self.X = _as_float(X)
        return self.X @ self.W.T + self.b
        # END SOLUTION

    def backward(self, dY):
        """dY: (N, out) -> dX: (N, in); sets self.dW and self.db."""
        # TODO: Set self.dW and self.db and return dX. Check every shape.
        # BEGIN SOLUTION
        dY = _as_float(dY)
        # view the batch as 2-D so a single 1-D sample gets an outer product, not a dot product
        X2 = self.X.reshape(-1, self.W.shape[1])
        dY2 = dY.reshape(-1, self.W.shape[0])
        self.dW = dY2.T @ X2           # dL/dW[o, i] = sum_n dY[n, o] X[n, i]
        self.db = dY2.sum(axis=0)      # b is added to every row
        return dY @ self.W             # dL/dX[n, i] = sum_o dY[n, o] W[o, i]
        # END SOLUTION


class Sigmoid:
    """Logistic activation, elementwise: Y = 1 / (1 + exp(-X))."""

    def __init__(self):
        self.Y = None

    def forward(self, X):
        """X: any shape -> Y: same shape, in (0, 1)."""
        # TODO: Compute the sigmoid without overflow warnings for large |X| and
        #       cache what backward needs.
        # BEGIN SOLUTION
        X = _as_float(X)
        # exp(-|X|) <= 1 never overflows; choose the algebraically equal form for each sign
        e = np.exp(-np.abs(X))
        self.Y = np.where(X >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return self.Y
        # END SOLUTION

    def backward(self, dY):
        """dY: same shape as Y -> dX = dY * Y * (1 - Y)."""
        # TODO: Return dX.
        # BEGIN SOLUTION
        return dY * self.Y * (1.0 - self.Y)
        # END SOLUTION


class ReLU:
    """Rectified linear unit, elementwise: Y = max(0, X), with ReLU'(0) = 0."""

    def __init__(self):
        self.mask = None

    def forward(self, X):
        """X: any shape -> Y: same shape."""
        # TODO: Compute Y and cache what backward needs.
        # BEGIN SOLUTION
        X = _as_float(X)
        self.mask = X > 0  # strict: the gradient at exactly 0 is 0
        return np.where(self.mask, X, 0.0)
        # END SOLUTION

    def backward(self, dY):
        """dY: same shape as Y -> dX = dY where X > 0, else 0."""
        # TODO: Return dX. The gradient at exactly X == 0 must be 0.
        # BEGIN SOLUTION
        return np.where(self.mask, dY, 0.0)
        # END SOLUTION


class Softmax:
    """Softmax over the last axis (the classes), row by row."""

    def __init__(self):
        self.Y = None

    def forward(self, X):
        """X: (N, C) logits -> Y: (N, C) probabilities."""
        # TODO: Compute a numerically stable softmax of every row (you may
        #       import and reuse your softmax from softmax.py) and cache it.
        # BEGIN SOLUTION
        X = _as_float(X)
        e = np.exp(X - X.max(axis=-1, keepdims=True))  # shift by the max: no overflow
        self.Y = e / e.sum(axis=-1, keepdims=True)
        return self.Y
        # END SOLUTION

    def backward(self, dY):
        """dY: (N, C) -> dX: (N, C), dX[n] = J[n]^T dY[n] with J[n] = diag(Y[n]) - Y[n] Y[n]^T."""
        # TODO: Build the (N, C, C) stack of Jacobians, one per row, and apply
        #       it to dY (np.einsum does both without a loop).
        # BEGIN SOLUTION
        Y = self.Y.reshape(-1, self.Y.shape[-1])
        dY2 = np.asarray(dY).reshape(Y.shape)
        # the full (N, C, C) Jacobian, one C x C matrix per row: J[n, i, j] = dY_i / dX_j
        J = np.einsum("ni,ij->nij", Y, np.eye(Y.shape[1], dtype=Y.dtype)) - np.einsum("ni,nj->nij", Y, Y)
        dX = np.einsum("nij,ni->nj", J, dY2)  # chain rule: dL/dX_j = sum_i dL/dY_i * dY_i/dX_j
        return dX.reshape(self.Y.shape)
        # END SOLUTION


class MSELoss:
    """Mean over the batch of 0.5 * ||pred - target||^2.

    pred: (N, D); target: same number of elements (e.g. (N, D), or (N,) when D == 1).
    A 1-D pred is one sample.
    """

    def __init__(self):
        self.diff = None
        self.n = 1

    def forward(self, pred, target):
        # TODO: Return the loss as a float and cache what backward needs.
        #       Careful: (N,) minus (N, 1) broadcasts to (N, N).
        # BEGIN SOLUTION
        pred = _as_float(pred)
        # reshape the target to pred's shape: (N,) against (N, 1) must not broadcast to (N, N)
        target = _as_float(target).reshape(pred.shape)
        self.diff = pred - target
        self.n = pred.shape[0] if pred.ndim > 1 else 1
        return float(0.5 * np.sum(self.diff ** 2) / self.n)
        # END SOLUTION

    def backward(self):
        """-> dpred, shape of pred: (pred - target) / N."""
        # TODO: Return d loss / d pred.
        # BEGIN SOLUTION
        return self.diff / self.n
        # END SOLUTION


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
        # TODO: Accept both integer labels and one-hot rows (compare the
        #       target's shape with pred's). Return the loss as a float and
        #       cache what backward needs.
        # BEGIN SOLUTION
        pred = _as_float(pred)
        target = np.asarray(target)
        if target.shape != pred.shape:
            # integer labels: turn them into one-hot rows of pred's dtype
            labels = target.astype(np.int64).reshape(pred.shape[:-1])
            target = (labels[..., None] == np.arange(pred.shape[-1])).astype(pred.dtype)
        self.t = target.astype(pred.dtype, copy=False)
        self.p = np.maximum(pred, np.finfo(pred.dtype).tiny)
        self.n = pred.shape[0] if pred.ndim > 1 else 1
        return float(-np.sum(self.t * np.log(self.p)) / self.n)
        # END SOLUTION

    def backward(self):
        """-> dpred, shape of pred: -target / (N * p)."""
        # TODO: Return d loss / d pred.
        # BEGIN SOLUTION
        return -self.t / (self.n * self.p)
        # END SOLUTION
