"""3.2 The 784-256-128-64-10 ReLU MLP in PyTorch: build, train with Adam, evaluate.

The model maps a batch of flattened images (N, 784) with pixels in [0, 1] to logits (N, 10); the
softmax is part of the cross-entropy loss (nn.CrossEntropyLoss takes logits).
"""
import torch
from torch import nn


def build_model():
    """Returns an nn.Module: Linear(784, 256) -> ReLU -> Linear(256, 128) -> ReLU -> Linear(128, 64)
    -> ReLU -> Linear(64, 10). 242,762 parameters; no softmax at the end.
    """
    ###########################################################################
    # TODO: Build the network (nn.Sequential is the shortest way; put an      #
    # nn.Flatten() first if you also want to feed it (N, 1, 28, 28) images).  #
    ###########################################################################
    raise NotImplementedError("build_model: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def train(model, loader, epochs, lr, device, on_epoch=None):
    """Train `model` in place.

    Inputs:
    - model: an nn.Module mapping (N, 784) inputs to (N, 10) logits
    - loader: a torch DataLoader yielding (x, y) batches: x float32 (B, 784), y int64 labels (B,)
    - epochs: number of passes over the loader
    - lr: the learning rate of torch.optim.Adam
    - device: where to train, e.g. "cpu" or "cuda"

    Use torch.optim.Adam(model.parameters(), lr=lr) and nn.CrossEntropyLoss().
    Returns a list with one number per epoch: the mean training loss over that epoch's samples
    (each batch's loss taken before its update step).
    """
    ###########################################################################
    # TODO: The training loop: for each batch, zero the gradients, compute    #
    # the loss, backward, optimizer step; accumulate the epoch's loss.        #
    ###########################################################################
    raise NotImplementedError("train: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


@torch.no_grad()
def evaluate(model, loader):
    """Returns (loss, accuracy) of `model` on all the samples of `loader`:
    - loss: the mean cross-entropy over all samples (not the mean of the batch means: the last batch
      may be smaller)
    - accuracy: the fraction of samples whose largest logit is the true class, in [0, 1]

    Evaluate without gradients (torch.no_grad()) and in eval mode (model.eval()).
    """
    ###########################################################################
    # TODO: Loop over the loader, sum the per-sample losses and count the     #
    # correct predictions.                                                    #
    ###########################################################################
    raise NotImplementedError("evaluate: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
