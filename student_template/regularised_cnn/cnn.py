"""4.6 A small regularised CNN on FashionMNIST in PyTorch: dropout and weight decay.

Input: a batch (N, 1, 28, 28) of images with pixels in [0, 1]; output: logits (N, 10).
"""
import torch
from torch import nn


def build_cnn(dropout=0.3):
    """Returns an nn.Module:
    Conv2d(1, 32, 3, padding=1) → ReLU → MaxPool2d(2)      28×28 → 14×14
    Conv2d(32, 64, 3, padding=1) → ReLU → MaxPool2d(2)     14×14 → 7×7
    Conv2d(64, 64, 3, padding=1) → ReLU → MaxPool2d(2)     7×7 → 3×3
    Flatten (64·3·3 = 576) → Linear(576, 64) → ReLU → Dropout(dropout) → Linear(64, 10)
    93,322 parameters; logits out (no softmax).
    """
    ###########################################################################
    # TODO: Build the network (nn.Sequential is the shortest way).            #
    ###########################################################################
    raise NotImplementedError("build_cnn: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def make_optimizer(model, lr=1e-3, weight_decay=1e-4):
    """Returns a torch.optim optimizer over model.parameters() that regularises: weight decay
    `weight_decay` in its parameter groups (torch.optim.AdamW is the natural choice), lr `lr`."""
    ###########################################################################
    # TODO: One line.                                                         #
    ###########################################################################
    raise NotImplementedError("make_optimizer: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


def train(model, loader, optimizer, epochs, device="cpu"):
    """Trains `model` in place with `optimizer` (the one given: do not build another) on the
    cross-entropy (nn.CrossEntropyLoss), in train mode (dropout active), for `epochs` passes over
    `loader`, which yields (x, y) batches: x float32 (B, 1, 28, 28), y int64 (B,).

    Returns a list with one number per epoch: the mean training loss over that epoch's samples
    (each batch's loss taken before its update step).
    """
    ###########################################################################
    # TODO: For each batch: zero the gradients, forward, loss, backward,      #
    # optimizer step; accumulate the epoch's loss.                            #
    ###########################################################################
    raise NotImplementedError("train: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################


@torch.no_grad()
def evaluate(model, loader):
    """Returns (loss, accuracy) of `model` on all samples of `loader`, in eval mode (dropout off)
    and without gradients: the mean cross-entropy over all samples (not the mean of the batch
    means: the last batch may be smaller) and the fraction classified correctly (in [0, 1])."""
    ###########################################################################
    # TODO: model.eval(), torch.no_grad(), sum the per-sample losses and      #
    # count the correct predictions.                                          #
    ###########################################################################
    raise NotImplementedError("evaluate: not implemented yet")
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
