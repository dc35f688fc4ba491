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
    # TODO: Build the network (nn.Sequential is the shortest way; put an
    #       nn.Flatten() first if you also want to feed it (N, 1, 28, 28)
    #       images).
    # BEGIN SOLUTION
    # 784-256-128-64-10 with ReLU between the linear layers: 242,762 parameters.
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )
    # END SOLUTION


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
    # TODO: The training loop: for each batch, zero the gradients, compute the
    #       loss, backward, optimizer step; accumulate the epoch's loss.
    # BEGIN SOLUTION
    # Adam(lr) on the cross-entropy, `epochs` passes over `loader`; trains `model` in place.
    #
    # Returns the list of per-epoch mean training losses (mean over the epoch's samples, each batch's
    # loss taken before its update). `on_epoch(epoch, loss)`, when given, is called after each epoch
    # (the training script and the benchmark use it; the grader does not).
    model.to(device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(int(epochs)):
        total, count = 0.0, 0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            count += len(y)
        losses.append(total / count)
        if on_epoch is not None:
            on_epoch(len(losses), losses[-1])
    return losses
    # END SOLUTION


@torch.no_grad()
def evaluate(model, loader):
    """Returns (loss, accuracy) of `model` on all the samples of `loader`:
    - loss: the mean cross-entropy over all samples (not the mean of the batch means: the last batch
      may be smaller)
    - accuracy: the fraction of samples whose largest logit is the true class, in [0, 1]

    Evaluate without gradients (torch.no_grad()) and in eval mode (model.eval()).
    """
    # TODO: Loop over the loader, sum the per-sample losses and count the
    #       correct predictions.
    # BEGIN SOLUTION
    # (mean cross-entropy over all samples of `loader`, fraction classified correctly), in eval mode.
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        total += loss_fn(logits, y).item()
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    model.train(was_training)
    return total / count, correct / count
    # END SOLUTION
