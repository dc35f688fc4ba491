"""A multi-layer perceptron built from the layers in layers.py, trained with minibatch SGD."""
import numpy as np

from layers import CrossEntropyLoss, Linear, MSELoss, ReLU, Sigmoid, Softmax

_ACTIVATIONS = {"sigmoid": Sigmoid, "relu": ReLU, "softmax": Softmax, "identity": None}


class MLP:
    """Fully connected network: Linear -> hidden activation -> ... -> Linear -> output activation.

    - sizes: layer widths [n_in, n_hidden_1, ..., n_out] (at least two entries)
    - hidden: activation after every Linear but the last, "sigmoid" or "relu"
    - output: activation after the last Linear, "softmax", "sigmoid" or "identity" (none)
    - seed: seed of the np.random.default_rng that initialises the weights

    Initialisation: W ~ N(0, 1/fan_in), i.e. standard deviation 1/sqrt(n_in) of each layer, which
    keeps the variance of every pre-activation about that of one input, so the sigmoids start in
    their non-saturated range; biases 0. Each layer's W (out, in) is drawn in layer order.
    """

    def __init__(self, sizes, hidden="sigmoid", output="softmax", seed=0):
        #######################################################################
        # TODO: Create rng = np.random.default_rng(seed), then for each pair  #
        # of consecutive sizes a Linear layer (W drawn as documented above, b #
        # = 0) followed by its activation (`hidden` for all but the last      #
        # Linear, `output` for the last; "identity" adds no layer). Keep the  #
        # layers in a list, in the order of the forward pass.                 #
        #######################################################################
        raise NotImplementedError("MLP.__init__: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################

    def forward(self, X):
        """X: (N, sizes[0]) -> network output (N, sizes[-1])."""
        #######################################################################
        # TODO: Run X through every layer.                                    #
        #######################################################################
        raise NotImplementedError("MLP.forward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################

    def backward(self, dLoss):
        """dLoss: gradient of the loss w.r.t. the network output (N, sizes[-1]).

        Stores every layer's parameter gradients (see `grads`) and returns dLoss/dX (N, sizes[0]).
        """
        #######################################################################
        # TODO: Run the gradient through every layer, in reverse order.       #
        #######################################################################
        raise NotImplementedError("MLP.backward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################

    def params(self):
        """[W1, b1, W2, b2, ...]: the layers' own arrays, so in-place changes update the model."""
        #######################################################################
        # TODO: Return the Linear layers' W and b arrays (not copies).        #
        #######################################################################
        raise NotImplementedError("MLP.params: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################

    def grads(self):
        """[dW1, db1, dW2, db2, ...] from the last `backward`, matching `params()`."""
        #######################################################################
        # TODO: Return the Linear layers' dW and db, in the order of          #
        # params().                                                           #
        #######################################################################
        raise NotImplementedError("MLP.grads: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################

    def step(self, lr):
        """Plain SGD, p <- p - lr * dp, in place (params() keeps referring to the live arrays)."""
        #######################################################################
        # TODO: Update every parameter in place (p -= ..., not p = p - ...).  #
        #######################################################################
        raise NotImplementedError("MLP.step: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################


    def train(self, X, y, epochs, lr, batch_size, seed=None):
        """Minibatch SGD on (X, y), reshuffled every epoch.

        Inputs:
        - X: inputs (N, sizes[0])
        - y: integer labels (N,), or target rows (N, sizes[-1]) (one-hot for a softmax output)
        - epochs, lr, batch_size: number of passes, learning rate, samples per update
        - seed: seed of the shuffling rng; None continues the model's own generator (seeded by the
          model's seed, so training stays deterministic)

        Loss: cross-entropy for a softmax output, MSE otherwise.

        Returns a history dict of per-epoch lists on the training set:
        - "loss": mean loss over the epoch's samples (each batch's loss before its update)
        - "accuracy": fraction of the epoch's samples classified correctly (same forward passes)
        """
        #######################################################################
        # TODO: Pick the loss (CrossEntropyLoss for a softmax output, else    #
        # MSELoss; for MSE with several outputs turn integer labels into one- #
        # hot rows). For every epoch: shuffle the indices, then for every     #
        # minibatch: forward, loss, backward (starting from loss.backward()), #
        # step. Record the epoch's mean loss and accuracy (predicted class =  #
        # argmax of the output; > 0.5 when there is a single output). Never   #
        # use an unseeded random generator.                                   #
        #######################################################################
        raise NotImplementedError("MLP.train: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################
