"""3.1 A 784-32-32-10 MLP in numpy: sigmoid hidden layers, softmax output, cross-entropy, per-sample SGD.

Conventions: `weights[i]` has shape (n_in, n_out) and layer i computes `a @ weights[i] + biases[i]`;
`biases[i]` has shape (n_out,). Write every function for any number of layers (loop over the lists).
"""
import numpy as np

SIZES = (784, 32, 32, 10)


# BEGIN SOLUTION
def _sigmoid(z):
    """The logistic function, written with tanh: no overflow for any z."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _softmax(z):
    """Probabilities along the last axis; shifting by the max keeps exp from overflowing."""
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
# END SOLUTION


def init_params(rng, sizes=SIZES):
    """Random initial parameters.

    Inputs:
    - rng: a np.random.Generator (np.random.default_rng(seed)); draw every random number from it
    - sizes: the layer widths (n_0, n_1, ..., n_L); (784, 32, 32, 10) by default

    Returns (weights, biases), two lists of L arrays:
    - weights[i] of shape (sizes[i], sizes[i + 1]), entries ~ N(0, 1 / max(n_in, n_out))
      (a variance, so the standard deviation is 1 / sqrt(max(n_in, n_out)))
    - biases[i] of shape (sizes[i + 1],), all zero
    """
    # TODO: Draw the weights layer by layer with rng.normal and make the biases
    #       zero.
    # BEGIN SOLUTION
    # weights[i] ~ N(0, 1/max(n_in, n_out)) of shape (n_in, n_out), biases[i] = 0 of shape (n_out,).
    #
    # rng is a np.random.Generator; the weights are drawn from it in layer order.
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        weights.append(rng.normal(0.0, np.sqrt(1.0 / max(n_in, n_out)), size=(n_in, n_out)))
        biases.append(np.zeros(n_out))
    return weights, biases
    # END SOLUTION


# BEGIN SOLUTION
def _activations(weights, biases, x):
    """[x, h1, h2, ..., probabilities]: the input and every layer's output."""
    acts = [x]
    last = len(weights) - 1
    for i, (W, b) in enumerate(zip(weights, biases)):
        z = acts[-1] @ W + b
        acts.append(_softmax(z) if i == last else _sigmoid(z))
    return acts
# END SOLUTION


def forward(weights, biases, x):
    """Class probabilities.

    Inputs:
    - weights, biases: lists as returned by init_params
    - x: one sample of shape (784,) or a batch of shape (N, 784), pixels in [0, 1]

    Returns the softmax probabilities: shape (10,) for one sample, (N, 10) for a batch.
    Every hidden layer is followed by the logistic sigmoid, the last layer by the softmax.
    """
    # TODO: Run x through the layers. Make the softmax numerically stable
    #       (subtract the max of each row's logits before np.exp).
    # BEGIN SOLUTION
    # Class probabilities for one sample x (784,) -> (10,) or a batch (N, 784) -> (N, 10).
    return _activations(weights, biases, np.asarray(x))[-1]
    # END SOLUTION


def sample_grads(weights, biases, x, label):
    """Gradients of the cross-entropy loss -log p[label] of ONE sample.

    Inputs:
    - weights, biases: lists as returned by init_params
    - x: one sample of shape (784,)
    - label: its class, an int in 0..9

    Returns (weight_grads, bias_grads): lists shaped exactly like weights and biases.
    Hint: the gradient with respect to the last layer's pre-activation is p - onehot(label).
    """
    # TODO: A forward pass that keeps every layer's activation, then the
    #       backward pass from the output layer to the first.
    # BEGIN SOLUTION
    # Gradients of the loss -log p[label] of one sample x (784,) w.r.t. every weight and bias.
    #
    # Returns (weight_grads, bias_grads), lists shaped like weights and biases.
    acts = _activations(weights, biases, np.asarray(x))
    delta = acts[-1].copy()  # dloss/dz of the softmax layer: p - onehot(label)
    delta[int(label)] -= 1.0
    weight_grads, bias_grads = [None] * len(weights), [None] * len(weights)
    for i in range(len(weights) - 1, -1, -1):
        a = acts[i]
        weight_grads[i] = np.outer(a, delta)
        bias_grads[i] = delta
        if i > 0:
            delta = (weights[i] @ delta) * a * (1.0 - a)  # through W, then the sigmoid's derivative
    return weight_grads, bias_grads
    # END SOLUTION


def train_epoch(weights, biases, X, y, lr):
    """One epoch of per-sample SGD.

    Inputs:
    - weights, biases: the current parameters
    - X: samples of shape (N, 784); y: their labels, shape (N,)
    - lr: the learning rate

    For every sample, in the order given (do not shuffle here: the caller shuffles between epochs),
    compute its gradients with sample_grads and update every parameter: p <- p - lr * dp.
    Returns the updated (weights, biases).
    """
    # TODO: Loop over the samples and update the parameters after each one.
    # BEGIN SOLUTION
    # One epoch of per-sample SGD: one update per sample, in the order given (no shuffling here).
    #
    # Returns the updated (weights, biases); the arrays passed in are left unchanged.
    weights = [np.array(W, dtype=np.float64) for W in weights]
    biases = [np.array(b, dtype=np.float64) for b in biases]
    for x, label in zip(X, y):
        weight_grads, bias_grads = sample_grads(weights, biases, x, label)
        for W, b, dW, db in zip(weights, biases, weight_grads, bias_grads):
            W -= lr * dW
            b -= lr * db
    return weights, biases
    # END SOLUTION
