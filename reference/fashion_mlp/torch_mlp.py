"""3.2 The 784-256-128-64-10 ReLU MLP in PyTorch: build, train with Adam, evaluate.

The model maps a batch of flattened images (N, 784) (or (N, 1, 28, 28): it flattens first) with
pixels in [0, 1] to logits (N, 10); the softmax is inside the cross-entropy loss.
"""
import torch
from torch import nn


def build_model():
    """784-256-128-64-10 with ReLU between the linear layers: 242,762 parameters."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )


def train(model, loader, epochs, lr, device, on_epoch=None):
    """Adam(lr) on the cross-entropy, `epochs` passes over `loader`; trains `model` in place.

    Returns the list of per-epoch mean training losses (mean over the epoch's samples, each batch's
    loss taken before its update). `on_epoch(epoch, loss)`, when given, is called after each epoch
    (the training script and the benchmark use it; the grader does not).
    """
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


@torch.no_grad()
def evaluate(model, loader):
    """(mean cross-entropy over all samples of `loader`, fraction classified correctly), in eval mode."""
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
