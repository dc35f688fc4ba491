"""3.1 A 784-32-32-10 MLP in numpy: sigmoid hidden layers, softmax output, cross-entropy, per-sample SGD.

Conventions: `weights[i]` has shape (n_in, n_out) and layer i computes `a @ weights[i] + biases[i]`;
`biases[i]` has shape (n_out,). Write every function for any number of layers (loop over the lists).
"""
import numpy as np

SIZES = (784, 32, 32, 10)


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
    ###########################################################################
    # TODO: Draw the weights layer by layer with rng.normal and make the      #
    # biases zero.                                                            #
    ###########################################################################
    raise NotImplementedError("init_params: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def forward(weights, biases, x):
    """Class probabilities.

    Inputs:
    - weights, biases: lists as returned by init_params
    - x: one sample of shape (784,) or a batch of shape (N, 784), pixels in [0, 1]

    Returns the softmax probabilities: shape (10,) for one sample, (N, 10) for a batch.
    Every hidden layer is followed by the logistic sigmoid, the last layer by the softmax.
    """
    ###########################################################################
    # TODO: Run x through the layers. Make the softmax numerically stable     #
    # (subtract the max of each row's logits before np.exp).                  #
    ###########################################################################
    raise NotImplementedError("forward: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def sample_grads(weights, biases, x, label):
    """Gradients of the cross-entropy loss -log p[label] of ONE sample.

    Inputs:
    - weights, biases: lists as returned by init_params
    - x: one sample of shape (784,)
    - label: its class, an int in 0..9

    Returns (weight_grads, bias_grads): lists shaped exactly like weights and biases.
    Hint: the gradient with respect to the last layer's pre-activation is p - onehot(label).
    """
    ###########################################################################
    # TODO: A forward pass that keeps every layer's activation, then the      #
    # backward pass from the output layer to the first.                       #
    ###########################################################################
    raise NotImplementedError("sample_grads: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


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
    ###########################################################################
    # TODO: Loop over the samples and update the parameters after each one.   #
    ###########################################################################
    raise NotImplementedError("train_epoch: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
