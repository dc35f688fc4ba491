"""A correct variant: float32 parameters, another initialisation (uniform, std 5e-4), a history
kept as numpy arrays, minibatches drawn with a different generator call."""
import numpy as np


def loss_and_grads(X, Y, W, b, reg):
    N = len(X)
    residual = (X @ W + b) - Y
    loss = np.einsum("ij,ij->", residual, residual) / N + reg * np.einsum("ij,ij->", W, W)
    dW = (X.T @ residual) * (2 / N) + W * (2 * reg)
    db = residual.sum(axis=0) * (2 / N)
    return loss, dW, db


def train(X, Y, lr, lr_decay, reg, iterations, batch_size=None, seed=0):
    gen = np.random.default_rng(seed + 1000)
    W = (gen.uniform(-1, 1, size=(X.shape[1], Y.shape[1])) * 5e-4 * np.sqrt(3)).astype(np.float32)
    b = np.zeros(Y.shape[1], dtype=np.float32)
    losses, lrs = [], []
    rate = lr
    for it in range(iterations):
        lrs.append(rate)
        if batch_size is None:
            loss, dW, db = loss_and_grads(X, Y, W, b, reg)
            W = (W - rate * dW).astype(np.float32)
            b = (b - rate * db).astype(np.float32)
            losses.append(loss)
        else:
            idx = gen.choice(len(X), size=len(X), replace=False)
            batch_losses = []
            for chunk in np.array_split(idx, int(np.ceil(len(X) / batch_size))):
                loss, dW, db = loss_and_grads(X[chunk], Y[chunk], W, b, reg)
                W = (W - rate * dW).astype(np.float32)
                b = (b - rate * db).astype(np.float32)
                batch_losses.append(loss * len(chunk))
            losses.append(sum(batch_losses) / len(X))
        rate = rate * lr_decay
    return W, b, {"loss": np.array(losses), "lr": np.array(lrs)}
