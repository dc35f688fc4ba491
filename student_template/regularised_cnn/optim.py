"""4.5 One update of a numpy parameter array, exactly as torch.optim does it.

Every function takes (param, grad, state, lr, ...), returns (new_param, new_state) and must NOT
modify its inputs in place: build new arrays and a new state dict. `state` starts as {} and holds
arrays (moments) and a step count. Weight decay as in torch: coupled (g = grad + wd·param) for SGD,
RMSprop and Adam; decoupled (param ← param·(1 − lr·wd) before the step) for AdamW. See the
statement for the exact formulas (they follow torch's documentation).
"""
import numpy as np


def sgd_momentum_step(param, grad, state, lr, momentum=0.9, weight_decay=0.0):
    """torch.optim.SGD(lr, momentum, weight_decay) (dampening 0, no Nesterov):
    g = grad + wd·param; b = g at the first step, else momentum·b + g; param ← param − lr·b."""
    ###########################################################################
    # TODO: One SGD-with-momentum step.                                       #
    ###########################################################################
    raise NotImplementedError("sgd_momentum_step: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def rmsprop_step(param, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """torch.optim.RMSprop(lr, alpha, eps, weight_decay): g = grad + wd·param;
    v = alpha·v + (1 − alpha)·g² (v starts at 0); param ← param − lr·g / (√v + eps)."""
    ###########################################################################
    # TODO: One RMSprop step (eps outside the square root).                   #
    ###########################################################################
    raise NotImplementedError("rmsprop_step: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """torch.optim.Adam(lr, betas, eps, weight_decay): t ← t + 1; g = grad + wd·param;
    m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; m̂ = m/(1 − β1^t);
    param ← param − lr·m̂ / (√v/√(1 − β2^t) + eps)."""
    ###########################################################################
    # TODO: One Adam step with bias correction.                               #
    ###########################################################################
    raise NotImplementedError("adam_step: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def adamw_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
    """torch.optim.AdamW: param ← param·(1 − lr·wd) first, then Adam's step on grad itself."""
    ###########################################################################
    # TODO: Decoupled weight decay, then the Adam update (no wd in g).        #
    ###########################################################################
    raise NotImplementedError("adamw_step: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
