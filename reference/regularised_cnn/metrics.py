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
    # TODO: Compare the argmax of each row of probs with the argmax of the
    #       corresponding one-hot row; return the share of matches in percent.
    # BEGIN SOLUTION
    # Percentage (0-100) of rows whose most probable class, argmax(probs), is the labelled one,
    # argmax(labels_onehot). labels_onehot, probs: (N, C).
    #
    # Compares one class per row: rounding the probabilities and comparing them element-wise with the
    # one-hot rows would count every matching 0 as a success and inflate the figure.
    labels_onehot, probs = np.asarray(labels_onehot), np.asarray(probs)
    return 100.0 * float(np.mean(np.argmax(probs, axis=1) == np.argmax(labels_onehot, axis=1)))
    # END SOLUTION
