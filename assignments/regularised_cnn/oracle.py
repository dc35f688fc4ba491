"""A4 oracles and shared judges: the grader's own float64 computations.

Runs in the grader only. Expected values come from closed forms in torch, torch autograd in float64,
torch.optim itself (the gradient-descent replay and the optimiser trajectories) and the grader's own
forward passes (accuracies and losses), never from the reference solution or the student. It ships in
the student edition: nothing here computes a task's answer in numpy (tests/test_no_answers.py).
Thresholds and the measurements behind them: docs/regularised_cnn.md.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from grader.api import (CheckFailed, Outcome, autograd, f32_exact as f32, judge, judge_loss_accuracy,
                        judge_train_lowers_loss, labels_without_ties, partial_credit, require_at_least, t64, torch)

t = t64

# |got − expected| ≤ atol + rtol·|expected|: float32 arithmetic is off by ~1e-7 relative per
# operation, ~1e-6 after a few hundred multiply-adds or 30 optimiser steps; summation order changes
# the same low bits. Every wrong formula in assignments/regularised_cnn/cases.py fails these bounds
# (the tests check it).
GRAD = dict(rtol=1e-4, atol=1e-6)
GRAD_TOL = "|got − expected| ≤ 1e-6 + 1e-4·|expected| (float32 and any summation order pass)"


def expect_float(name: str, got: Any) -> float:
    arr = judge.as_array(name, got)
    if arr.size != 1:
        raise CheckFailed(f"{name}: expected one number, got an array of shape {arr.shape}")
    return float(arr.reshape(()))


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Rows of probabilities for the inputs of the accuracy and cross-entropy checks (torch's softmax:
    A1's task, never written out in the student edition)."""
    return torch().softmax(t(logits), dim=-1).numpy()


def onehot(labels: np.ndarray, c: int) -> np.ndarray:
    out = np.zeros((len(labels), c))
    out[np.arange(len(labels)), labels] = 1.0
    return out


# ---------------------------------------------------------------------------------------------------
# 4.1 accuracy
# ---------------------------------------------------------------------------------------------------
# The accuracy is a count over N rows times 100/N: float32 or any order gives it to ~1e-5; one row
# more or less right moves it by 100/N ≥ 0.5 points. Rounding the probabilities and comparing them
# element-wise with the one-hot rows (the tf.round bug) counts matching zeros: on the hidden inputs
# (most rows have no probability above 0.5) it gives ~90 % where the true figure is ~40 %.
ACC_TOL = 1e-4
ACC_TOL_TEXT = "|got − expected| ≤ 1e-4 percentage points (one row more or less right is ≥ 0.5 points)"


def accuracy_inputs(rng: np.random.Generator, n: int, c: int, temperature: float, right: float):
    """Probabilities (N, C) from random logits / temperature, with no near-ties at the top, and
    one-hot labels equal to the argmax in a share `right` of the rows (random elsewhere)."""
    while True:
        logits = rng.normal(size=(n, c)) * temperature
        top2 = np.sort(logits, axis=1)[:, -2:]
        if np.all(top2[:, 1] - top2[:, 0] > 1e-3):
            break
    probs = f32(probabilities(logits))
    pred = probs.argmax(1)
    labels = np.where(rng.uniform(size=n) < right, pred, rng.integers(0, c, size=n))
    return onehot(labels, c), probs


def rounding_accuracy(labels_onehot, probs) -> float:
    """What the classic bug computes: mean over all entries of round(probs) == labels, in percent."""
    return 100.0 * float(np.mean(np.round(probs) == labels_onehot))


def argmax_accuracy(labels_onehot, probs) -> float:
    """The right accuracy in percent (rows whose argmax agree), torch."""
    th = torch()
    return 100.0 * float((th.as_tensor(probs).argmax(1) == th.as_tensor(labels_onehot).argmax(1)).double().mean())


def judge_accuracy(ctx, labels_onehot, probs, label: str) -> None:
    expected = argmax_accuracy(labels_onehot, probs)
    got = expect_float(f"accuracy(labels_onehot, probs) for {label}",
                       ctx.probe("call", "metrics", "accuracy", labels_onehot, probs))
    if abs(got - expected) <= ACC_TOL:
        return
    n = len(probs)
    hint = ""
    if abs(got - expected / 100) <= 1e-6:
        hint = " (a fraction: the accuracy is asked in percent, 0–100)"
    elif abs(got - rounding_accuracy(labels_onehot, probs)) <= 1e-3:
        hint = (" (that is what rounding the probabilities and comparing them element-wise with the one-hot "
                "rows gives: it counts every matching 0; compare argmax(probs) with argmax(labels) per row)")
    elif abs(got - 100 * np.mean(np.all(np.round(probs) == labels_onehot, axis=1))) <= 1e-3:
        hint = (" (that is the share of rows whose rounded probabilities equal the one-hot row: a row whose "
                "top probability is below 0.5 then never counts; use argmax)")
    raise CheckFailed(f"accuracy(labels_onehot, probs) for {label}: expected {expected:.6g} % "
                      f"({int(round(expected * n / 100))} of {n} rows right), got {got:.6g}{hint}")


# ---------------------------------------------------------------------------------------------------
# 4.2 penalties
# ---------------------------------------------------------------------------------------------------
PENALTY_SHAPES = [(3, 4), (5,), (2, 3, 3, 2)]


def penalty_weights(rng: np.random.Generator, shapes=PENALTY_SHAPES, zeros: int = 3) -> list[np.ndarray]:
    """float32-exact N(0, 1) arrays, with `zeros` exact zeros in each (sign(0) = 0 must show)."""
    out = []
    for s in shapes:
        w = f32(rng.normal(size=s))
        flat = w.reshape(-1)
        flat[rng.choice(flat.size, size=min(zeros, flat.size), replace=False)] = 0.0
        out.append(w)
    return out


def penalty_t(weights, lam, kind):
    th = torch()
    if kind == "l1":
        return lam * sum(th.sum(th.abs(w)) for w in weights)
    return lam * sum(th.sum(w * w) for w in weights)


def penalty_value(weights, lam, kind) -> float:
    with torch().no_grad():
        return float(penalty_t([t(w) for w in weights], lam, kind))


def penalty_grads(weights, lam, kind) -> list[np.ndarray]:
    """Autograd, float64 (torch's |x| has derivative sign(x), 0 at 0)."""
    _, grads = autograd(lambda *ws: penalty_t(list(ws), lam, kind), *weights)
    return grads


def parse_array_list(name: str, got: Any, shapes: Sequence[tuple]) -> list[np.ndarray]:
    if not isinstance(got, list) or len(got) != len(shapes):
        what = f"{len(got)} items" if isinstance(got, list) else f"a {type(got).__name__}"
        raise CheckFailed(f"{name} must return a list of {len(shapes)} arrays (one per weight array), got {what}")
    return [judge.as_array(f"{name}[{i}]", g, s) for i, (g, s) in enumerate(zip(got, shapes))]


def judge_penalties(ctx, weights, lam, label: str) -> list[str]:
    """Values and gradients of both penalties; the list of what was wrong."""
    problems = []
    for kind in ("l1", "l2"):
        name = f"{kind}_penalty(weights, lam={lam:g}) for {label}"
        try:
            got = expect_float(name, ctx.probe("call", "penalties", f"{kind}_penalty", weights, lam))
            judge.close(name, got, penalty_value(weights, lam, kind), **GRAD)
        except CheckFailed as exc:
            problems.append(exc.message + ("\n(L1: lam·Σ|w|)" if kind == "l1" else
                                           "\n(L2: lam·Σw² over every entry of every array, no ½)"))
    return problems


def judge_penalty_grads(ctx, weights, lam, label: str, figures: list | None = None) -> list[str]:
    """What is wrong with l1_grad and l2_grad (a list); their error maps are appended to `figures`."""
    problems = []
    shapes = [w.shape for w in weights]
    for kind in ("l1", "l2"):
        name = f"{kind}_grad(weights, lam={lam:g}) for {label}"
        try:
            got = parse_array_list(name, ctx.probe("call", "penalties", f"{kind}_grad", weights, lam), shapes)
            judge.close_each([(f"{name}[{i}]", g, e) for i, (g, e) in
                              enumerate(zip(got, penalty_grads(weights, lam, kind)))], **GRAD, figure=True)
        except CheckFailed as exc:
            if figures is not None:
                figures += exc.figures
            hint = ("\n(lam·sign(w), and sign(0) = 0: np.sign does that; the weights given hold exact zeros)"
                    if kind == "l1" else "\n(the derivative of lam·Σw² is 2·lam·w)")
            problems.append(exc.message + hint)
    return problems


def ce_inputs(rng: np.random.Generator, n: int, c: int):
    probs = f32(probabilities(rng.normal(size=(n, c)) * 1.5))
    labels = rng.integers(0, c, size=n)
    return probs, labels


def regularised_ce_value(probs, labels, weights, lam, kind) -> float:
    th = torch()
    with th.no_grad():
        p = t(probs)
        data = -th.log(p[th.arange(len(labels)), th.as_tensor(labels, dtype=th.long)]).mean()
        return float(data + penalty_t([t(w) for w in weights], lam, kind))


def judge_regularised_ce(ctx, probs, labels, weights, lam, kind, label: str) -> None:
    name = f"regularised_cross_entropy(probs, labels, weights, lam={lam:g}, kind={kind!r}) for {label}"
    got = expect_float(name, ctx.probe("call", "penalties", "regularised_cross_entropy",
                                       probs, labels, weights, lam, kind))
    expected = regularised_ce_value(probs, labels, weights, lam, kind)
    try:
        judge.close(name, got, expected, **GRAD)
    except CheckFailed as exc:
        data = regularised_ce_value(probs, labels, weights, 0.0, kind)
        pen = expected - data
        hints = {"the data term summed over the rows instead of averaged": data * len(labels) + pen,
                 "the penalty missing": data, "the penalty with a ½": data + pen / 2}
        hint = next((f"\n(that is {h})" for h, v in hints.items() if abs(got - v) <= 1e-4 * abs(v) + 1e-6), "")
        raise CheckFailed(exc.message + f"\n(expected = mean −log p[label] = {data:.6g} plus the penalty "
                          f"{pen:.6g}){hint}") from None


def judge_ce_unknown_kind(ctx, probs, labels, weights) -> Optional[str]:
    got = judge.require_keys("regularised_cross_entropy", ctx.probe("regularised_ce_error", probs, labels,
                                                                   weights, 0.1, "l3"), ["raised"])
    if got["raised"] is None:
        return (f"regularised_cross_entropy(..., kind='l3') must raise a ValueError, but it returned "
                f"{got.get('returned')}")
    if not got.get("is_value_error"):
        return (f"regularised_cross_entropy(..., kind='l3') must raise a ValueError, but it raised "
                f"{got['raised']}: {got.get('message', '')}")
    return None


# ---------------------------------------------------------------------------------------------------
# 4.3 the linear classifier
# ---------------------------------------------------------------------------------------------------
def linear_problem(rng: np.random.Generator, n: int = 30, d: int = 7, c: int = 4, w_scale: float = 0.3):
    X = f32(rng.normal(size=(n, d)))
    Y = onehot(rng.integers(0, c, size=n), c)
    W = f32(rng.normal(0, w_scale, size=(d, c)))
    b = f32(rng.normal(0, 0.3, size=c))
    return X, Y, W, b


def linear_loss_t(X, Y, W, b, reg):
    """Σ(XW + b − Y)²/N + reg·ΣW² of float64 tensors (torch.sum: numpy arrays are refused)."""
    th = torch()
    return th.sum((X @ W + b - Y) ** 2) / len(X) + reg * th.sum(W ** 2)


def linear_loss_grads(X, Y, W, b, reg):
    """(loss, dW, db), autograd float64."""
    Xt, Yt = t(X), t(Y)
    value, (dW, db) = autograd(lambda W_, b_: linear_loss_t(Xt, Yt, W_, b_, reg), W, b)
    return value, dW, db


def parse_loss_grads(name: str, got: Any, d: int, c: int):
    if not isinstance(got, list) or len(got) != 3:
        raise CheckFailed(f"{name} must return (loss, dW, db), got {type(got).__name__}")
    return (expect_float(f"{name}: loss", got[0]), judge.as_array(f"{name}: dW", got[1], (d, c)),
            judge.as_array(f"{name}: db", got[2], (c,)))


def judge_loss_and_grads(ctx, X, Y, W, b, reg, label: str) -> None:
    name = f"loss_and_grads(X, Y, W, b, reg={reg:g}) for {label}"
    loss, dW, db = parse_loss_grads(name, ctx.probe("call", "linear", "loss_and_grads", X, Y, W, b, reg),
                                    *W.shape)
    e_loss, e_dW, e_db = linear_loss_grads(X, Y, W, b, reg)
    try:
        judge.close_each([(f"{name}: loss (Σ(XW + b − Y)²/N + reg·ΣW²)", loss, e_loss), (f"{name}: dW", dW, e_dW),
                          (f"{name}: db", db, e_db)], **GRAD, figure=[False, True, True])
    except CheckFailed as exc:
        hint = ""
        if np.allclose(dW, e_dW - reg * W, rtol=1e-4, atol=1e-6):
            hint = "\n(dW lacks half of the L2 term: d(reg·ΣW²)/dW = 2·reg·W)"
        elif np.allclose(db, e_db / 2, rtol=1e-4, atol=1e-6):
            hint = "\n(the gradients lack the 2 of the squared error: d(s − y)²/ds = 2(s − y))"
        elif abs(loss - e_loss - reg * float(np.sum(b * b))) <= 1e-4 * abs(e_loss):
            hint = "\n(the biases are not penalised: reg·ΣW² only)"
        raise CheckFailed(exc.message + hint, exc.fraction, figures=exc.figures) from None


def gd_replay(X, Y, W0, b0, lr, lr_decay, reg, iterations):
    """The grader's own full-batch gradient descent, torch.optim.SGD on autograd gradients (float64):
    (W, b, losses, lrs) with losses[k] the loss the k-th step starts from."""
    th = torch()
    Xt, Yt = t(X), t(Y)
    W, b = t(W0).requires_grad_(True), t(b0).requires_grad_(True)
    opt = th.optim.SGD([W, b], lr=lr)
    losses, lrs = [], []
    for _ in range(iterations):
        opt.param_groups[0]["lr"] = lr
        opt.zero_grad()
        loss = linear_loss_t(Xt, Yt, W, b, reg)
        loss.backward()
        losses.append(float(loss.detach()))
        lrs.append(lr)
        opt.step()
        lr *= lr_decay
    return W.detach().numpy(), b.detach().numpy(), losses, lrs


def parse_train(name: str, got: Any, d: int, c: int, iterations: Optional[int]):
    got = judge.require_keys(name, got, ["W", "b", "history"])
    W = judge.as_array(f"{name}: W", got["W"], (d, c))
    b = judge.as_array(f"{name}: b", got["b"], (c,))
    hist = got["history"]
    if iterations is None:
        return W, b, None
    hist = judge.require_keys(f"{name}: history", hist, ["loss", "lr"])
    out = {}
    for key in ("loss", "lr"):
        v = hist[key]
        if not isinstance(v, list) or len(v) != iterations:
            n_got = f"{len(v)} values" if isinstance(v, list) else f"a {type(v).__name__}"
            raise CheckFailed(f"{name}: history[{key!r}] must be a list with one value per iteration "
                              f"({iterations}), got {n_got}")
        out[key] = judge.as_array(f"{name}: history[{key!r}]", np.ravel(np.array(v, dtype=float)), (iterations,))
    return W, b, out


def judge_train_trajectory(ctx, X, Y, lr, lr_decay, reg, iterations, batch_size=None, seed=7) -> None:
    """train(iterations=0) gives the initial (W, b) of that seed; the grader replays full-batch GD from
    them and compares the parameters and the history of train(iterations) with its own."""
    d, c = X.shape[1], Y.shape[1]
    args = f"lr={lr:g}, lr_decay={lr_decay:g}, reg={reg:g}"
    name0 = f"train(X, Y, {args}, iterations=0, seed={seed})"
    W0, b0, _ = parse_train(name0, ctx.probe("linear_train", X, Y, lr, lr_decay, reg, 0, None, seed), d, c, None)
    problems = []
    if float(np.sqrt(np.mean(W0 ** 2))) > 2e-3 or np.any(b0 != 0):
        problems.append(f"{name0}: the initial parameters must be a small random W (std ≤ 1e-3) and b = 0; got "
                        f"W with rms {np.sqrt(np.mean(W0 ** 2)):.3g} and max |b| = {np.max(np.abs(b0)):.3g}")
    bs = "" if batch_size is None else f", batch_size={batch_size}"
    name = f"train(X, Y, {args}, iterations={iterations}{bs}, seed={seed}) on {X.shape[0]} samples"
    W, b, hist = parse_train(name, ctx.probe("linear_train", X, Y, lr, lr_decay, reg, iterations, batch_size, seed),
                             d, c, iterations)
    eW, eb, elosses, elrs = gd_replay(X, Y, W0, b0, lr, lr_decay, reg, iterations)
    try:
        judge.close_each([(f"{name}: W", W, eW), (f"{name}: b", b, eb)], **GRAD)
    except CheckFailed as exc:
        problems.append(exc.message + f"\n(expected {iterations} gradient steps from the initial W, b of that seed "
                        "(what iterations=0 returns), step k with lr·lr_decay^k, k = 0, 1, …)")
    try:
        judge.close(f"{name}: history['lr'] (the learning rate each iteration used)", hist["lr"], elrs,
                    rtol=1e-9, atol=0)
    except CheckFailed as exc:
        problems.append(exc.message + "\n(iteration 0 uses lr itself; multiply by lr_decay after each iteration)")
    try:
        judge.close(f"{name}: history['loss'] (the training loss each step started from)", hist["loss"], elosses,
                    **GRAD)
    except CheckFailed as exc:
        problems.append(exc.message)
    if problems:
        raise CheckFailed("\n".join(problems), fraction=max(0.0, 1 - len(problems) / 3))


def linear_accuracy(W, b, X, y) -> float:
    """The fraction of X classified as y by argmax(XW + b), torch float64 (the grader's measure)."""
    return float(np.mean((t(X) @ t(W) + t(b)).argmax(1).numpy() == np.asarray(y)))


# FashionMNIST runs of the student's train, measured by the grader on the 10,000 test images with
# the returned W, b (docs/regularised_cnn.md has the reference's figures). Gradient descent on raw
# pixels is ill-conditioned (the largest eigenvalue of XᵀX/N is ~110, so lr must stay below ~0.009)
# and converges slowly; from W ≈ 0 (std ≤ 1e-3) every correct implementation follows nearly the same
# path, so the margins below the reference are for float32 and other summation orders.
# Full batch: the first FULL_N training images (shared as float64), FULL_ITERS steps at lr FULL_LR
# decaying by FULL_DECAY: the reference reaches 0.741 (seeds 0 and 1: 0.7410, 0.7406). Seed spread
# (train's seed 0–9, bench/seed_spread.json): reference 0.7410 ± 0.0003, other_style 0.7410 ± 0.0003
# (n 10 each, min 0.7406); 0.1 % bound 0.7400 ≥ FULL_FULL. Never stepping leaves 0.09.
FULL_N, FULL_ITERS, FULL_LR, FULL_DECAY, FULL_REG = 10_000, 150, 0.008, 0.998, 1e-3
FULL_FULL, FULL_ZERO = 0.72, 0.55
# Minibatches: the 60,000 training images, MB_ITERS passes in batches of MB_BATCH: the reference
# reaches 0.782 (0.747 after one pass, 0.789 after three). Seed spread (init and order from train's
# seed 0–9): reference 0.7821 ± 0.0017, other_style 0.7818 ± 0.0014 (n 10 each, min 0.7791); 0.1 %
# bound 0.7768 ≥ MB_FULL. One minibatch per pass reaches 0.24.
MB_ITERS, MB_BATCH, MB_LR, MB_DECAY, MB_REG = 2, 200, 0.005, 0.7, 1e-3
MB_FULL, MB_ZERO = 0.76, 0.55
# reg > 0 against reg = 0, the same run otherwise (first REG_N images, full batch): the L2 term must
# shrink ‖W‖ to at most REG_RATIO of the unregularised norm (the reference: 0.73×, 0.84× at reg 0.5).
# Seed spread (train's seed 0–9): reference 0.7292 ± 0.0007, other_style 0.7406 ± 0.0003 (n 10 each,
# max 0.7411); 0.1 % bound of the pooled 0.7530 ≤ REG_RATIO. Ignoring reg gives 1.0.
REG_N, REG_ITERS, REG_LR, REG_VALUES = 2000, 60, 0.008, (0.0, 1.0)
REG_RATIO = 0.9


def onehot_train(data, n: Optional[int] = None):
    y = data.y_train if n is None else data.y_train[:n]
    # a slice of the training set as float64 (X @ W then needs no conversion each step); all of it as
    # float32 (376 MB as float64), for minibatches, which index small batches anyway
    x = data.x_train if n is None else np.asarray(data.x_train[:n], np.float64)
    return x, onehot(y, 10)


def judge_linear_fashion(ctx, n, iterations, lr, decay, reg, batch_size, full, zero) -> Outcome:
    data = ctx.data()
    X, Y = onehot_train(data, n)
    tag = "all" if n is None else f"first{n}"
    x_path, y_path = ctx.share(f"fashion_x_{tag}", X), ctx.share(f"fashion_Y_{tag}", Y)
    bs = "None (full batch)" if batch_size is None else str(batch_size)
    name = (f"train(X, Y, lr={lr:g}, lr_decay={decay:g}, reg={reg:g}, iterations={iterations}, batch_size={bs}) "
            f"on {len(X):,} training images")
    W, b, _ = parse_train(name, ctx.probe("linear_train", x_path, y_path, lr, decay, reg, iterations, batch_size, 0),
                          784, 10, None)
    acc = linear_accuracy(W, b, data.x_test, data.y_test)
    return require_at_least(acc, zero, full,
                            f"test accuracy of the W, b from {name}: {acc:.4f} (measured by the grader on the "
                            f"10,000 test images, argmax of XW + b); full marks at ≥ {full:.2f}, none below {zero:.2f}")


def judge_reg_shrinks(ctx) -> Outcome:
    data = ctx.data()
    X, Y = onehot_train(data, REG_N)
    x_path, y_path = ctx.share(f"fashion_x_first{REG_N}", X), ctx.share(f"fashion_Y_first{REG_N}", Y)
    got = ctx.probe("linear_train_pair", x_path, y_path, REG_LR, 1.0, list(REG_VALUES), REG_ITERS, None, 0)
    if not isinstance(got, list) or len(got) != 2:
        raise CheckFailed("train did not return a W for each run")
    what = f"train(X, Y, lr={REG_LR:g}, lr_decay=1, reg=…, iterations={REG_ITERS}) on {REG_N:,} images"
    W0, W1 = (judge.as_array(f"{what}: W (reg={r:g})", w, (784, 10)) for w, r in zip(got, REG_VALUES))
    n0, n1 = float(np.linalg.norm(W0)), float(np.linalg.norm(W1))
    ratio = n1 / n0 if n0 > 0 else float("inf")
    msg = (f"{what}: ‖W‖ = {n0:.4g} with reg = {REG_VALUES[0]:g} and {n1:.4g} with reg = {REG_VALUES[1]:g} "
           f"({ratio:.3f}×); full marks when the regularised norm is ≤ {REG_RATIO:g}× the unregularised one")
    credit = partial_credit(ratio, 1.0, REG_RATIO)
    if credit < 1:
        raise CheckFailed(msg + ". Does train pass reg on to loss_and_grads?", fraction=credit)
    return Outcome(1.0, msg)


# ---------------------------------------------------------------------------------------------------
# 4.4 dropout
# ---------------------------------------------------------------------------------------------------
# Kept entries must be scaled by exactly 1/(1 − p) (relative 1e-5: float32 passes); the share of
# dropped entries of n must lie within 6 standard deviations sqrt(p(1 − p)/n) of p (a correct mask
# fails with probability < 1e-8); backward must use the forward's mask (1e-6 + 1e-5·|expected|).
DROP_SIGMAS = 6.0
DROP_TOL = ("kept entries scaled by 1/(1 − p) within 1e-5 (relative), dropped exactly 0; the share dropped "
            "within 6·sqrt(p(1 − p)/n) of p; backward equals dY times the forward's mask within 1e-6 + 1e-5·|dY|")


def dropout_inputs(rng: np.random.Generator, shape):
    X = f32(rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape))  # never 0
    dY = f32(rng.normal(size=shape))
    return X, dY


def judge_dropout_pass(name: str, p: float, X, dY, got) -> list[str]:
    Y = judge.as_array(f"{name}: forward(X)", got["Y"], X.shape)
    dX = judge.as_array(f"{name}: backward(dY)", got["dX"], X.shape)
    problems = []
    ratio = Y / X
    kept = ratio != 0
    scale = 1.0 / (1.0 - p)
    if kept.any():
        r = ratio[kept]
        bad = np.abs(r - scale) > 1e-5 * scale
        if bad.any():
            typical = float(np.median(r))
            hint = {1.0: " (no rescaling?)", p: " (scaled by p instead of 1/(1 − p)?)",
                    1 / p if p else -1: " (scaled by 1/p instead of 1/(1 − p)?)",
                    1 - p: " (scaled by 1 − p instead of 1/(1 − p)?)"}
            h = next((v for k, v in hint.items() if abs(typical - k) <= 1e-5 * max(1, k)), "")
            problems.append(f"{name}: {int(bad.sum())} of {int(kept.sum())} kept entries are not X·1/(1 − p) = "
                            f"X·{scale:.6g}: forward(X)/X is typically {typical:.6g}{h}")
    n = X.size
    share = 1.0 - kept.mean()
    bound = DROP_SIGMAS * math.sqrt(p * (1 - p) / n)
    if abs(share - p) > bound:
        hint = " (units kept with probability p instead of 1 − p?)" if abs(share - (1 - p)) <= bound else ""
        problems.append(f"{name}: {100 * share:.2f} % of the {n:,} entries dropped, expected p = {100 * p:g} % "
                        f"(allowed ±{100 * bound:.2f} %){hint}")
    try:
        judge.close(f"{name}: backward(dY) (dY times the same mask as the forward pass)", dX, dY * ratio,
                    rtol=1e-5, atol=1e-6)
    except CheckFailed as exc:
        problems.append(exc.message + "\n(backward must reuse the mask of the last forward pass, scaled the same "
                        "way, not draw a new one)")
    return problems


def judge_identity(name: str, X, dY, got) -> list[str]:
    problems = []
    for key, expected, what in (("Y", X, "forward(X)"), ("dX", dY, "backward(dY)")):
        try:
            judge.close(f"{name}: {what} must be the identity", got[key], expected, rtol=1e-6, atol=0)
        except CheckFailed as exc:
            problems.append(exc.message)
    return problems


# ---------------------------------------------------------------------------------------------------
# 4.5 optimisers: the expected trajectories are torch.optim's own, in float64
# ---------------------------------------------------------------------------------------------------
OPT_TOL = ("every parameter after every step within 1e-6 + 1e-4·|expected| of torch.optim's trajectory "
           "(float64) on the same gradients; inputs unchanged")
TORCH_OPT = {"sgd_momentum_step": "SGD", "rmsprop_step": "RMSprop", "adam_step": "Adam", "adamw_step": "AdamW"}
# the student-facing defaults (SGD's momentum 0.9 is the statement's; the rest are torch's)
DEFAULTS = {"sgd_momentum_step": dict(momentum=0.9, weight_decay=0.0),
            "rmsprop_step": dict(alpha=0.99, eps=1e-8, weight_decay=0.0),
            "adam_step": dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
            "adamw_step": dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)}


def torch_trajectory(name: str, param, grads, kwargs: dict) -> list[np.ndarray]:
    th = torch()
    opts = dict(DEFAULTS[name], **kwargs)
    p = th.tensor(np.array(param, dtype=np.float64), requires_grad=True)
    cls = getattr(th.optim, TORCH_OPT[name])
    if name == "sgd_momentum_step":
        opt = cls([p], lr=opts["lr"], momentum=opts["momentum"], weight_decay=opts["weight_decay"])
    elif name == "rmsprop_step":
        opt = cls([p], lr=opts["lr"], alpha=opts["alpha"], eps=opts["eps"], weight_decay=opts["weight_decay"])
    else:
        opt = cls([p], lr=opts["lr"], betas=tuple(opts["betas"]), eps=opts["eps"], weight_decay=opts["weight_decay"])
    out = []
    for g in grads:
        p.grad = th.tensor(np.array(g, dtype=np.float64))
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


def gradient_sequence(rng: np.random.Generator, shape, steps: int, tiny: bool = True) -> list[np.ndarray]:
    """Gradients with a persistent drift plus noise, on scales 1e-5 … 10 across entries (tiny ones
    make eps's place in the denominator show), rounded to float32 values."""
    scales = np.exp(rng.uniform(np.log(1e-5 if tiny else 1e-2), np.log(10.0), size=shape))
    drift = rng.normal(size=shape)
    return [f32(scales * (drift + 0.7 * rng.normal(size=shape))) for _ in range(steps)]


def _fmt_kwargs(kwargs: dict) -> str:
    return ", ".join(f"{k}={tuple(v) if isinstance(v, list) else v!r}" for k, v in kwargs.items())


def judge_optimizer(ctx, name: str, shape, steps: int, kwargs: dict, label: str, tiny: bool = True,
                    figures: list | None = None) -> list[str]:
    """The student's `steps` updates from state {} against torch.optim's; what was wrong (a list).
    The error map of the first wrong step's parameter is appended to `figures`."""
    param = f32(ctx.rng.normal(size=shape))
    grads = gradient_sequence(ctx.rng, shape, steps, tiny)
    got = judge.require_keys(name, ctx.probe("optim_run", name, param, grads, kwargs), ["trajectory", "watched"])
    expected = torch_trajectory(name, param, grads, kwargs)
    call = f"{name}(param, grad, state, {_fmt_kwargs(kwargs)})"
    traj = got["trajectory"]
    problems = []
    for k, (g, e) in enumerate(zip(traj, expected)):
        try:
            judge.close(f"{call} {label}: the parameter after step {k + 1} of {steps}", g, e, **GRAD,
                        figure=figures is not None)
        except CheckFailed as exc:
            if figures is not None:
                figures += exc.figures
            first = ""
            if k > 0:
                first = " (step 1 was right)" if k == 1 else f" (steps 1–{k} were right)"
            problems.append(exc.message + first + f"\n(expected torch.optim.{TORCH_OPT[name]}'s update; "
                            "see the statement for the order of operations)")
            break
    problems += judge_unchanged(call, got["watched"])
    return problems


def judge_unchanged(call: str, watched) -> list[str]:
    for w in watched:
        changed = []
        for what in ("param", "grad"):
            if not np.array_equal(np.asarray(w[f"{what}_before"]), np.asarray(w[f"{what}_after"])):
                changed.append(what)
        sb, sa = w["state_before"], w["state_after"]
        if set(sb) != set(sa) or any(not np.array_equal(np.asarray(sb[k]), np.asarray(sa[k])) for k in sb):
            changed.append("state (the dict passed in, or arrays in it)")
        if changed:
            return [f"{call}: step {w['step']} modified its input {', '.join(changed)} in place; return new arrays "
                    "and a new state dict (e.g. new = dict(state); new['m'] = beta1 * state['m'] + …)"]
    return []


# ---------------------------------------------------------------------------------------------------
# 4.6 the CNN
# ---------------------------------------------------------------------------------------------------
CNN_SHAPES = [(32, 1, 3, 3), (32,), (64, 32, 3, 3), (64,), (64, 64, 3, 3), (64,), (64, 576), (64,), (10, 64), (10,)]
CNN_N_PARAMS = 93_322
CNN_LAYERS = "conv3×3(1→32)-ReLU-pool, conv3×3(32→64)-ReLU-pool, conv3×3(64→64)-ReLU-pool, Linear(576→64)-ReLU, Linear(64→10)"
# logits of a float32 model against the grader's float64 forward of the same weights: ~1e-6 relative
# after 5 layers of up to 576 multiply-adds; a missing ReLU, another pooling or a softmax at the end
# change them by > 0.1.
LOGITS = dict(rtol=1e-4, atol=1e-5)
# Two train-mode passes "differ" when some logit differs by more than this (dropout changes them by
# ~0.1); eval-mode passes must be identical up to the same.
DIFFER = 1e-6

# The submitted cnn.pt, evaluated by the grader on the 10,000 test images. The reference
# (reference/regularised_cnn/train_reference.py: AdamW 1e-3, wd 1e-4, dropout 0.3, batch 64, 15 epochs, cosine)
# reaches 0.9196 (0.90 after 6 epochs, 0.91 after 9: docs/regularised_cnn.md); full marks at 0.90, linear partial credit down to 0.80.
WEIGHTS_FULL = 0.90
# The accuracy of a cnn.pt on 10,000 images is measured in float32: identical on the reference (0.9196
# in both), half the memory, and usually faster than float64 (3.5 s against 9 s in one measurement;
# under heavy load the two were within noise: docs/regularised_cnn.md). float32 can only flip the
# argmax of an image whose two top logits are within ~1e-5, far below the 1e-4 an image weighs.
WEIGHTS_DTYPE = "float32"
WEIGHTS_ZERO = 0.80
WEIGHTS_FILE = "cnn.pt"
SAVE_HINT = ("train your CNN (see the README), then save its weights next to cnn.py with "
             f"torch.save(model.state_dict(), \"{WEIGHTS_FILE}\")")

# The student's train() on the grader's CNN (dropout 0.3) with the grader's AdamW(1e-3, 1e-4), first
# TRAIN_N training images; the grader measures the mean cross-entropy before and after. The reference
# brings it to TRAIN_REF_RATIO of the start (docs/regularised_cnn.md); full marks at TRAIN_FULL_RATIO.
# Seed spread (the check's seed 0–9: the grader's init, dropout masks and order): reference and
# other_style both 0.4739 ± 0.0283 (n 10 each, max 0.5033); 0.1 % bound mean + 3.09·sd = 0.5614 ≤ 0.7.
# One epoch reaches 0.77, no optimizer step 1.0.
TRAIN_N, TRAIN_BATCH, TRAIN_EPOCHS, TRAIN_LR, TRAIN_WD = 1000, 50, 2, 1e-3, 1e-4
TRAIN_FULL_RATIO = 0.7

# make_optimizer: a step with zero gradients at this lr and weight decay must shrink every weight
# tensor (AdamW: by the factor 1 − lr·wd = 0.999, far beyond float32 rounding).
OPT_LR, OPT_WD = 1e-2, 0.1


def _shape_list(shapes) -> str:
    return ", ".join(str(tuple(s)) for s in shapes)


def match_cnn_state(name: str, state: Any) -> list[np.ndarray]:
    """The 10 arrays of the CNN in layer order (conv1 W, b, …, fc2 W, b) as float64.

    Matched by shape and order, never by name: in the given order when the shapes follow the layer
    order; otherwise by module (`<prefix>.weight` with its `<prefix>.bias`), identified by the
    weight's shape (all five weight shapes differ). Anything else is an architecture error.
    """
    state = judge.require_keys(name, state, ["keys", "arrays"])
    keys, arrays = list(state["keys"]), list(state["arrays"])
    shapes = [tuple(np.shape(a)) for a in arrays]
    expected = [tuple(s) for s in CNN_SHAPES]
    if shapes == expected:
        return [judge.as_array(f"{name}['{k}']", a, s) for k, a, s in zip(keys, arrays, expected)]
    if sorted(shapes) == sorted(expected):
        by_key = dict(zip(keys, arrays))
        found = {}
        for k, s in zip(keys, shapes):
            if k.endswith(".weight") and s in expected[0::2] and s not in found:
                bias_key = k[: -len("weight")] + "bias"
                if bias_key in by_key:
                    found[s] = (k, by_key[k], bias_key, by_key[bias_key])
        if len(found) == 5:
            out = []
            for ws, bs in zip(expected[0::2], expected[1::2]):
                kw, w, kb, b = found[ws]
                out += [judge.as_array(f"{name}['{kw}']", w, ws), judge.as_array(f"{name}['{kb}']", b, bs)]
            return out
    have = ", ".join(f"{k} {s}" for k, s in zip(keys, shapes)) or "nothing"
    n = sum(int(np.prod(s)) for s in shapes)
    hint = ""
    if any(len(s) == 2 and s[::-1] in shapes for s in expected):
        hint = "\n(a transposed shape: nn.Linear stores its weight as (out_features, in_features))"
    elif any(s not in expected for s in shapes if len(s) == 1 and shapes.count(s) == 4):
        hint = "\n(BatchNorm or other extra layers are not part of this architecture)"
    raise CheckFailed(f"{name} does not hold the CNN {CNN_LAYERS}: expected the tensors {_shape_list(expected)} "
                      f"({CNN_N_PARAMS:,} numbers, any names), got {have} ({n:,} numbers){hint}")


def cnn_logits(params: Sequence[np.ndarray], X: np.ndarray, batch: int = 500, dtype: str = "float64"):
    """The grader's forward pass (eval mode: no dropout), as a torch tensor (N, 10); float64 unless
    asked (the 10,000-image accuracy of a cnn.pt uses float32: see WEIGHTS_DTYPE)."""
    th = torch()
    F = th.nn.functional
    X = np.asarray(X)
    tt = (lambda a: th.tensor(np.asarray(a, dtype=np.float32))) if dtype == "float32" else t
    ps = [tt(p) for p in params]
    outs = []
    with th.no_grad():
        for s in range(0, len(X), batch):
            h = tt(X[s:s + batch]).reshape(-1, 1, 28, 28)
            for i in (0, 2, 4):
                h = F.max_pool2d(F.relu(F.conv2d(h, ps[i], ps[i + 1], padding=1)), 2)
            h = F.relu(h.flatten(1) @ ps[6].T + ps[7])
            outs.append(h @ ps[8].T + ps[9])
    return th.cat(outs)


def cnn_loss_acc(params, X, y, dtype: str = "float64") -> tuple[float, float]:
    th = torch()
    logits = cnn_logits(params, X, dtype=dtype).double()
    labels = th.as_tensor(np.array(y), dtype=th.long)
    return float(th.nn.functional.cross_entropy(logits, labels)), float((logits.argmax(1) == labels).double().mean())


def random_cnn_params(rng: np.random.Generator) -> list[np.ndarray]:
    """He-scaled weights and small biases, float32 values: logits of order 1 for inputs in [0, 1]."""
    params = []
    for s in CNN_SHAPES:
        if len(s) == 1:
            params.append(f32(rng.normal(0, 0.05, size=s)))
        else:
            fan_in = int(np.prod(s[1:]))
            params.append(f32(rng.normal(0, math.sqrt(2 / fan_in), size=s)))
    return params


def cnn_inputs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Image-like inputs (N, 784) in [0, 1], float32 values: smooth blobs plus noise."""
    base = rng.uniform(0, 1, size=(n, 7, 7))
    img = np.kron(base, np.ones((4, 4)))
    return f32(np.clip(0.7 * img + 0.3 * rng.uniform(0, 1, size=(n, 28, 28)), 0, 1).reshape(n, 784))


def judge_evaluate(ctx, n: int, batch_size: int, hard_last: bool = False) -> None:
    params = random_cnn_params(ctx.rng)
    X = cnn_inputs(ctx.rng, n + n // 5 + 10)  # near-ties are rare: a fifth more candidates is plenty
    X, y = labels_without_ties(ctx.rng, X, cnn_logits(params, X).numpy(), n,
                               hard_last=n % batch_size if hard_last else 0)
    loss, acc = cnn_loss_acc(params, X, y)
    got = judge.require_keys("evaluate", ctx.probe("evaluate", params, X, y, batch_size), ["result"])
    res = got["result"]
    name = f"evaluate(model, loader) with {n} samples in batches of {batch_size}"
    if not isinstance(res, list) or len(res) != 2:
        raise CheckFailed(f"{name} must return (loss, accuracy), got {type(res).__name__}")
    g_loss = expect_float(f"{name}: loss", res[0])
    g_acc = expect_float(f"{name}: accuracy", res[1])
    judge_loss_accuracy(name, g_loss, g_acc, loss, acc, n=n, batch_size=batch_size,
                        loss_what=f"mean cross-entropy over all {n} samples, in eval mode",
                        loss_hint="\n(the model given has a dropout layer and comes in train mode: call model.eval())",
                        percent_tol=1e-4)


def judge_train(ctx, n, batch_size, epochs, lr, wd, dropout, full_ratio) -> Outcome:
    """The student's train on the grader's CNN and optimiser; the grader measures the loss before and after."""
    data = ctx.data()
    x_path = ctx.share(f"fashion_x_first{n}", data.x_train[:n])
    y_path = ctx.share(f"fashion_y_first{n}", data.y_train[:n])
    got = judge.require_keys("train", ctx.probe("train", x_path, y_path, n, batch_size, epochs, lr, wd, dropout,
                                                ctx.seed), ["before", "after", "losses"])
    X, y = data.x_train[:n], data.y_train[:n]
    what = (f"train(model, loader, optimizer, epochs={epochs}, device='cpu') with AdamW(lr={lr:g}, "
            f"weight_decay={wd:g}) on {n:,} training images in batches of {batch_size}")
    return judge_train_lowers_loss(got, what=what, epochs=epochs, loss=lambda p: cnn_loss_acc(p, X, y)[0],
                                   full_ratio=full_ratio,
                                   hint="Does train call optimizer.zero_grad(), loss.backward() and "
                                        "optimizer.step() for every batch?")


def judge_make_optimizer(ctx, lr: float, wd: float) -> None:
    got = ctx.probe("make_optimizer", lr, wd, ctx.seed)
    call = f"make_optimizer(model, lr={lr:g}, weight_decay={wd:g})"
    if not got.get("is_optimizer"):
        raise CheckFailed(f"{call} must return a torch.optim.Optimizer, got {got.get('type')}")
    problems = []
    covered = sorted(i for g in got["groups"] for i in g["params"])
    if covered != list(range(len(CNN_SHAPES))):
        problems.append(f"{call}: its parameter groups hold parameters {covered} of the model's "
                        f"{len(CNN_SHAPES)} (each must appear once: optimizer(model.parameters(), …))")
    for i, g in enumerate(got["groups"]):
        if g["weight_decay"] <= 0:
            problems.append(f"{call}: parameter group {i} has weight_decay {g['weight_decay']:g}: the optimizer "
                            "does not regularise (pass weight_decay=weight_decay)")
        elif abs(g["weight_decay"] - wd) > 1e-12 * wd:
            problems.append(f"{call}: parameter group {i} has weight_decay {g['weight_decay']:g}, expected {wd:g}")
        if not abs(g["lr"] - lr) <= 1e-12 * lr:
            problems.append(f"{call}: parameter group {i} has lr {g['lr']:g}, expected {lr:g}")
    grown = []
    for i, (b, a) in enumerate(zip(got["before"], got["after"])):
        nb, na = float(np.linalg.norm(np.asarray(b, np.float64))), float(np.linalg.norm(np.asarray(a, np.float64)))
        if len(CNN_SHAPES[i]) > 1 and not na < nb:
            grown.append(f"tensor {i} {CNN_SHAPES[i]}: ‖w‖ {nb:.6g} → {na:.6g}")
    if grown:
        problems.append(f"{call}: one step with all gradients zero must shrink the weights (weight decay), but "
                        + "; ".join(grown[:3]))
    if problems:
        raise CheckFailed(f"optimizer {got.get('type')}: " + "\n".join(problems[:4]),
                          fraction=0.0 if len(problems) > 1 else 0.5)
