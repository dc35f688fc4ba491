"""4.3 A linear classifier trained with squared error on one-hot targets plus an L2 penalty.

Scores S = X W + b (X: (N, D), W: (D, C), b: (C,)); loss = Σ (S − Y)² / N + reg · Σ W²
(the biases are not penalised); prediction: argmax of the scores.
"""
import numpy as np


def loss_and_grads(X, Y, W, b, reg):
    """(loss, dW, dB) of Σ(XW + b − Y)²/N + reg·ΣW² for one-hot Y (N, C).

    dW = 2 Xᵀ(XW + b − Y)/N + 2·reg·W (D, C); db = 2 Σ_rows (XW + b − Y)/N (C,).
    """
    n = X.shape[0]
    diff = X @ W + b - Y
    loss = float(np.sum(diff * diff) / n + reg * np.sum(W * W))
    dW = 2.0 * (X.T @ diff) / n + 2.0 * reg * W
    db = 2.0 * np.sum(diff, axis=0) / n
    return loss, dW, db


def train(X, Y, lr, lr_decay, reg, iterations, batch_size=None, seed=0):
    """Gradient descent from W ~ N(0, 1e-3²) (drawn from default_rng(seed)), b = 0.

    batch_size=None: each iteration is one full-batch step; otherwise one pass over the data in a
    fresh shuffled order, one step per minibatch (the last one may be smaller). After each iteration
    the learning rate is multiplied by lr_decay. Returns (W, b, history): history["loss"][k] is the
    training loss of iteration k (full batch: the loss of the parameters the step starts from;
    minibatches: the mean over the pass of the minibatch losses, each before its step), and
    history["lr"][k] the learning rate iteration k used. iterations=0 returns the initial W, b.
    """
    rng = np.random.default_rng(seed)
    n, d = X.shape
    W = 1e-3 * rng.standard_normal((d, Y.shape[1]))
    b = np.zeros(Y.shape[1])
    history = {"loss": [], "lr": []}
    for _ in range(int(iterations)):
        if batch_size is None:
            loss, dW, db = loss_and_grads(X, Y, W, b, reg)
            W = W - lr * dW
            b = b - lr * db
        else:
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, int(batch_size)):
                idx = order[start:start + int(batch_size)]
                batch_loss, dW, db = loss_and_grads(X[idx], Y[idx], W, b, reg)
                W = W - lr * dW
                b = b - lr * db
                total += batch_loss * len(idx)
            loss = total / n
        history["loss"].append(loss)
        history["lr"].append(lr)
        lr *= lr_decay
    return W, b, history
