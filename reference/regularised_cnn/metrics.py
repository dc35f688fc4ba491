"""4.1 Classification accuracy from predicted probabilities."""
import numpy as np


def accuracy(labels_onehot, probs):
    """Percentage (0-100) of rows whose most probable class, argmax(probs), is the labelled one,
    argmax(labels_onehot). labels_onehot, probs: (N, C).

    Compares one class per row: rounding the probabilities and comparing them element-wise with the
    one-hot rows would count every matching 0 as a success and inflate the figure.
    """
    labels_onehot, probs = np.asarray(labels_onehot), np.asarray(probs)
    return 100.0 * float(np.mean(np.argmax(probs, axis=1) == np.argmax(labels_onehot, axis=1)))
