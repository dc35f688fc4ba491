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
    ###########################################################################
    # TODO: Compute the scores, the residual S − Y, the loss and both         #
    # gradients.                                                              #
    ###########################################################################
    raise NotImplementedError("loss_and_grads: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


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
    ###########################################################################
    # TODO: Initialise W and b, loop over the iterations (and minibatches),   #
    # record the history, decay the learning rate.                            #
    ###########################################################################
    raise NotImplementedError("train: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
