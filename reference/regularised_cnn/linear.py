"""4.3 A linear classifier trained with squared error on one-hot targets plus an L2 penalty (numpy).

Scores S = X @ W + b with X: (N, D), W: (D, C), b: (C,); the prediction is argmax of the scores.
loss = Σ (S − Y)² / N + reg · Σ W²   (Y: (N, C) one-hot; the biases are not penalised).
"""
import numpy as np


def loss_and_grads(X, Y, W, b, reg):
    """Returns (loss, dW, db): the loss above (a float), dW = ∂loss/∂W (D, C), db = ∂loss/∂b (C,).

    Vectorised: no loops over the samples. Derive the gradients: d(s − y)²/ds = 2(s − y), and
    d(reg·ΣW²)/dW = 2·reg·W.
    """
    # TODO: Compute the scores, the residual S − Y, the loss and both
    #       gradients.
    # BEGIN SOLUTION
    # (loss, dW, dB) of Σ(XW + b − Y)²/N + reg·ΣW² for one-hot Y (N, C).
    #
    # dW = 2 Xᵀ(XW + b − Y)/N + 2·reg·W (D, C); db = 2 Σ_rows (XW + b − Y)/N (C,).
    n = X.shape[0]
    diff = X @ W + b - Y
    loss = float(np.sum(diff * diff) / n + reg * np.sum(W * W))
    dW = 2.0 * (X.T @ diff) / n + 2.0 * reg * W
    db = 2.0 * np.sum(diff, axis=0) / n
    return loss, dW, db
    # END SOLUTION


def train(X, Y, lr, lr_decay, reg, iterations, batch_size=None, seed=0):
    """Gradient descent on loss_and_grads.

    - Start from W = a small random matrix (std 1e-3 or less) drawn from np.random.default_rng(seed),
      and b = 0. The same seed must give the same start (train(..., iterations=0) returns it).
    - batch_size=None: each iteration is ONE full-batch step W ← W − lr·dW, b ← b − lr·db.
      Otherwise each iteration is one pass over the data in a freshly shuffled order, one step per
      minibatch of batch_size rows (the last one may be smaller).
    - After each iteration, multiply the learning rate by lr_decay (iteration 0 uses lr itself).

    Returns (W, b, history) where history = {"loss": [...], "lr": [...]} holds one value per
    iteration: the training loss (full batch: the loss the step starts from; minibatches: the mean
    of the minibatch losses over the pass, each taken before its step) and the learning rate used.
    """
    # TODO: Initialise W and b, loop over the iterations (and minibatches),
    #       record the history, decay the learning rate.
    # BEGIN SOLUTION
    # Gradient descent from W ~ N(0, 1e-3²) (drawn from default_rng(seed)), b = 0.
    #
    # batch_size=None: each iteration is one full-batch step; otherwise one pass over the data in a
    # fresh shuffled order, one step per minibatch (the last one may be smaller). After each iteration
    # the learning rate is multiplied by lr_decay. Returns (W, b, history): history["loss"][k] is the
    # training loss of iteration k (full batch: the loss of the parameters the step starts from;
    # minibatches: the mean over the pass of the minibatch losses, each before its step), and
    # history["lr"][k] the learning rate iteration k used. iterations=0 returns the initial W, b.
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
    # END SOLUTION
