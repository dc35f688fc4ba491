"""A correct numpy_mlp in another style: explicit loops over units, float32, scipy's expit, no helpers shared
with the reference. Too slow for FashionMNIST on purpose: only the small checks run it."""
import math

import numpy as np
from scipy.special import expit


def init_params(rng, sizes=(784, 32, 32, 10)):
    weights, biases = [], []
    for i in range(len(sizes) - 1):
        std = 1.0 / math.sqrt(max(sizes[i], sizes[i + 1]))
        weights.append((std * rng.standard_normal((sizes[i], sizes[i + 1]))).astype(np.float32))
        biases.append(np.zeros(sizes[i + 1], dtype=np.float32))
    return weights, biases


def _softmax_row(z):
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = sum(e)
    return [v / s for v in e]


def _forward_one(weights, biases, x):
    acts = [np.asarray(x, dtype=np.float32)]
    for k, (W, b) in enumerate(zip(weights, biases)):
        W = np.asarray(W, dtype=np.float32)
        z = np.zeros(W.shape[1], dtype=np.float32)
        for j in range(W.shape[1]):  # one unit at a time
            z[j] = np.dot(acts[-1], W[:, j]) + b[j]
        acts.append(np.array(_softmax_row(z), dtype=np.float32) if k == len(weights) - 1 else expit(z))
    return acts


def forward(weights, biases, x):
    x = np.asarray(x)
    if x.ndim == 1:
        return _forward_one(weights, biases, x)[-1]
    return np.stack([_forward_one(weights, biases, row)[-1] for row in x])


def sample_grads(weights, biases, x, label):
    acts = _forward_one(weights, biases, x)
    delta = acts[-1].copy()
    delta[label] = delta[label] - 1
    gw, gb = [], []
    for k in reversed(range(len(weights))):
        a = acts[k]
        dW = np.empty((len(a), len(delta)), dtype=np.float32)
        for i in range(len(a)):
            dW[i, :] = a[i] * delta
        gw.insert(0, dW)
        gb.insert(0, delta.copy())
        if k:
            back = np.array([np.dot(np.asarray(weights[k][i], np.float32), delta) for i in range(len(a))],
                            dtype=np.float32)
            delta = back * a * (1 - a)
    return gw, gb


def train_epoch(weights, biases, X, y, lr):
    for n in range(len(X)):
        gw, gb = sample_grads(weights, biases, X[n], int(y[n]))
        weights = [W - lr * g for W, g in zip(weights, gw)]
        biases = [b - lr * g for b, g in zip(biases, gb)]
    return weights, biases
