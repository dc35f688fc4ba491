"""4.1 Classification accuracy from predicted probabilities (numpy)."""
import numpy as np


def accuracy(labels_onehot, probs):
    """Accuracy in percent.

    Inputs:
    - labels_onehot: (N, C) one-hot rows (1 at the true class, 0 elsewhere)
    - probs: (N, C) predicted probabilities (each row sums to 1)

    Returns a float in [0, 100]: the percentage of rows whose most probable class,
    argmax(probs[i]), is the true class, argmax(labels_onehot[i]).

    Careful: rounding the probabilities and comparing them element-wise with the one-hot rows
    counts every matching 0 as a success and inflates the figure. Compare one class per row.
    """
    ###########################################################################
    # TODO: Compare the argmax of each row of probs with the argmax of the    #
    # corresponding one-hot row; return the share of matches in percent.      #
    ###########################################################################
    raise NotImplementedError("accuracy: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
