"""4.6 A small regularised CNN on FashionMNIST in PyTorch: dropout and weight decay (AdamW).

Input: a batch (N, 1, 28, 28) of images with pixels in [0, 1]; output: logits (N, 10) (the softmax is
inside the cross-entropy loss).
"""
import torch
from torch import nn


def build_cnn(dropout=0.3):
    """conv3×3(1→32)-ReLU-pool → conv3×3(32→64)-ReLU-pool → conv3×3(64→64)-ReLU-pool → flatten(576)
    → Linear(576→64)-ReLU-Dropout(dropout) → Linear(64→10): 93,322 parameters.

    Sizes: 28×28 → 14×14 → 7×7 → 3×3 (max-pooling by 2 floors 7 to 3), so 64·3·3 = 576 features.
    """
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(576, 64), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(64, 10),
    )


def make_optimizer(model, lr=1e-3, weight_decay=1e-4):
    """AdamW: Adam with decoupled weight decay (every parameter ← (1 − lr·wd)·parameter each step)."""
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)


def train(model, loader, optimizer, epochs, device="cpu"):
    """`epochs` passes over `loader` with `optimizer` on the cross-entropy, in train mode (dropout on).

    Returns the list of per-epoch mean training losses (mean over the epoch's samples, each batch's
    loss taken before its update).
    """
    model.to(device)
    model.train()
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
    return losses


@torch.no_grad()
def evaluate(model, loader):
    """(mean cross-entropy over all samples of `loader`, fraction classified correctly), in eval mode
    (dropout off); the model's train/eval mode is restored afterwards."""
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
