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
    # TODO: Build the network (nn.Sequential is the shortest way).
    # BEGIN SOLUTION
    # conv3×3(1→32)-ReLU-pool → conv3×3(32→64)-ReLU-pool → conv3×3(64→64)-ReLU-pool → flatten(576)
    # → Linear(576→64)-ReLU-Dropout(dropout) → Linear(64→10): 93,322 parameters.
    #
    # Sizes: 28×28 → 14×14 → 7×7 → 3×3 (max-pooling by 2 floors 7 to 3), so 64·3·3 = 576 features.
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(576, 64), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(64, 10),
    )
    # END SOLUTION


def make_optimizer(model, lr=1e-3, weight_decay=1e-4):
    """Returns a torch.optim optimizer over model.parameters() that regularises: weight decay
    `weight_decay` in its parameter groups (torch.optim.AdamW is the natural choice), lr `lr`."""
    # TODO: One line.
    # BEGIN SOLUTION
    # AdamW: Adam with decoupled weight decay (every parameter ← (1 − lr·wd)·parameter each step).
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    # END SOLUTION


def train(model, loader, optimizer, epochs, device="cpu"):
    """Trains `model` in place with `optimizer` (the one given: do not build another) on the
    cross-entropy (nn.CrossEntropyLoss), in train mode (dropout active), for `epochs` passes over
    `loader`, which yields (x, y) batches: x float32 (B, 1, 28, 28), y int64 (B,).

    Returns a list with one number per epoch: the mean training loss over that epoch's samples
    (each batch's loss taken before its update step).
    """
    # TODO: For each batch: zero the gradients, forward, loss, backward,
    #       optimizer step; accumulate the epoch's loss.
    # BEGIN SOLUTION
    # `epochs` passes over `loader` with `optimizer` on the cross-entropy, in train mode (dropout on).
    #
    # Returns the list of per-epoch mean training losses (mean over the epoch's samples, each batch's
    # loss taken before its update).
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
    # END SOLUTION


@torch.no_grad()
def evaluate(model, loader):
    """Returns (loss, accuracy) of `model` on all samples of `loader`, in eval mode (dropout off)
    and without gradients: the mean cross-entropy over all samples (not the mean of the batch
    means: the last batch may be smaller) and the fraction classified correctly (in [0, 1])."""
    # TODO: model.eval(), torch.no_grad(), sum the per-sample losses and count
    #       the correct predictions.
    # BEGIN SOLUTION
    # (mean cross-entropy over all samples of `loader`, fraction classified correctly), in eval mode
    # (dropout off); the model's train/eval mode is restored afterwards.
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
