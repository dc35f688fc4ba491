"""4.4 Inverted dropout (numpy)."""
import numpy as np


class Dropout:
    """Inverted dropout with drop probability p (0 ≤ p < 1), as torch.nn.Dropout(p).

    In training, each entry is set to 0 with probability p and the kept entries are scaled by
    1/(1 − p), so that nothing needs to change at test time. With train=False (or p = 0) the layer
    is the identity.
    """

    def __init__(self, p):
        self.p = float(p)
        self.mask = None  # the scaled mask of the last forward pass: 0 or 1/(1 − p) per entry

    def forward(self, X, train=True, rng=None):
        """X: any shape -> same shape.

        - rng: a numpy.random.Generator to draw the mask from (e.g. rng.random(X.shape));
          when None, use a seeded one (np.random.default_rng(0)).
        - Keep the mask for backward.
        """
        #######################################################################
        # TODO: Identity when not training or p == 0; otherwise draw a mask   #
        # (keep with probability 1 − p), scale the kept entries by 1/(1 − p). #
        #######################################################################
        raise NotImplementedError("Dropout.forward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################

    def backward(self, dY):
        """dY: the gradient w.r.t. the output -> the gradient w.r.t. the input, through the SAME
        mask (and scaling) as the last forward pass; dY itself after an identity forward."""
        #######################################################################
        # TODO: Reuse the forward pass's mask: do not draw a new one.         #
        #######################################################################
        raise NotImplementedError("Dropout.backward: not implemented yet")
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################
