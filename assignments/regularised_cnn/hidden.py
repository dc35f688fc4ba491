"""A4 hidden checks: instructor grading only (`grade check --hidden`, `grade batch`).

Never shipped to students. Inputs come from the check's RNG (seeded by the assignment seed and the
check id); expected values are computed here by oracles, never stored.
"""
from __future__ import annotations

import numpy as np

from grader.api import CheckFailed, CheckList, Visibility, judge, judge_lr0_contract

from . import oracle
from .checks import TORCH_LIMITS
from .oracle import GRAD_TOL

CHECKS = CheckList(Visibility.HIDDEN)

# --- 4.1 metrics --------------------------------------------------------------------------------------
check = CHECKS.task("metrics", module="metrics")


@check("accuracy_rounding", "accuracy() on rows whose top probability is below 0.5 (rounding would inflate it)", 3,
       tolerance=oracle.ACC_TOL_TEXT)
def accuracy_rounding(ctx):
    # flat softmax rows (top probability ~0.2): np.round gives all zeros, which match 9 of the 10
    # entries of every one-hot row, so the element-wise comparison reports ~90 % whatever the model
    labels, probs = oracle.accuracy_inputs(ctx.rng, n=60, c=10, temperature=0.8, right=0.4)
    true = oracle.argmax_accuracy(labels, probs)
    assert abs(oracle.rounding_accuracy(labels, probs) - true) > 20  # the inputs do tell the bug apart
    oracle.judge_accuracy(ctx, labels, probs, "60 rows whose top probability is mostly below 0.5")
    # float32 probabilities, one confident row among flat ones, a batch of one
    labels, probs = oracle.accuracy_inputs(ctx.rng, n=1, c=4, temperature=0.5, right=0.0)
    oracle.judge_accuracy(ctx, labels, probs.astype(np.float32), "a single row (float32)")


# --- 4.2 penalties ------------------------------------------------------------------------------------
check = CHECKS.task("penalties", module="penalties")


@check("hidden", "penalties and their gradients on other shapes and lam; the regularised loss on other data", 3,
       tolerance=GRAD_TOL)
def penalties_hidden(ctx):
    weights = oracle.penalty_weights(ctx.rng, [(16, 1, 3, 3), (10, 7), (1,)], zeros=5)
    problems = oracle.judge_penalties(ctx, weights, 1.7, "arrays of shapes (16, 1, 3, 3), (10, 7), (1,)")
    problems += oracle.judge_penalty_grads(ctx, weights, 1.7, "arrays of shapes (16, 1, 3, 3), (10, 7), (1,)")
    probs, labels = oracle.ce_inputs(ctx.rng, 50, 10)
    for kind in ("l1", "l2"):
        try:
            oracle.judge_regularised_ce(ctx, probs, labels, weights, 0.01, kind, "50 rows of 10 classes")
        except CheckFailed as exc:
            problems.append(exc.message)
    if problems:
        raise CheckFailed("\n".join(problems[:3]), fraction=max(0.0, 1 - len(problems) / 6))


# --- 4.3 linear ---------------------------------------------------------------------------------------
check = CHECKS.task("linear", module="linear")


@check("hidden", "loss_and_grads with reg = 0 and larger weights; train with one batch = full batch, "
       "no decay, another seed; the initial W's std (≤ 1e-3) on a 300×10 problem", 3,
       tolerance=GRAD_TOL + "; train as in train_steps")
def linear_hidden(ctx):
    problems = []
    X, Y, W, b = oracle.linear_problem(ctx.rng, n=9, d=12, c=5, w_scale=2.0)
    for reg in (0.0, 3.0):
        try:
            oracle.judge_loss_and_grads(ctx, X, Y, W, b, reg, "N = 9, D = 12, C = 5")
        except CheckFailed as exc:
            problems.append(exc.message)
    X, Y, _, _ = oracle.linear_problem(ctx.rng, n=25, d=5, c=3)
    try:  # one minibatch holding all the samples: the same steps as full batch, whatever the order
        oracle.judge_train_trajectory(ctx, X, Y, lr=0.05, lr_decay=1.0, reg=0.0, iterations=4, batch_size=25,
                                      seed=123)
    except CheckFailed as exc:
        problems.append(exc.message)
    # the initial W of a 300×10 problem: std 1e-3 or less (the rms of 3,000 draws within 6 of its standard
    # deviations, 1/sqrt(2·3,000) relative, of 1e-3)
    X, Y, _, _ = oracle.linear_problem(ctx.rng, n=20, d=300, c=10)
    name0 = "train(X, Y, lr=0.1, lr_decay=1, reg=0, iterations=0, seed=5) with D = 300, C = 10"
    W0, _, _ = oracle.parse_train(name0, ctx.probe("linear_train", X, Y, 0.1, 1.0, 0.0, 0, None, 5), 300, 10, None)
    rms, bound = float(np.sqrt(np.mean(W0 ** 2))), 1e-3 * (1 + 6 / np.sqrt(2 * W0.size))
    if rms > bound:
        problems.append(f"{name0}: the initial W must have std 1e-3 or less; its rms is {rms:.3g} (allowed up to "
                        f"{bound:.3g} for 3,000 random draws)")
    if problems:
        raise CheckFailed("\n".join(problems), fraction=max(0.0, 1 - len(problems) / 4))


# --- 4.4 dropout --------------------------------------------------------------------------------------
check = CHECKS.task("dropout", module="dropout")


@check("hidden", "Dropout(0.8) on 1-D and 4-D inputs; a new mask on every forward call; the rng given is used", 3,
       tolerance=oracle.DROP_TOL + "; masks from the same seed equal, from other seeds or successive calls different")
def dropout_hidden(ctx):
    problems = []
    X, dY = oracle.dropout_inputs(ctx.rng, (20000,))
    got = ctx.probe("dropout_pass", 0.8, X, dY, True, 11)[0]
    problems += oracle.judge_dropout_pass("Dropout(0.8) on X of shape (20000,)", 0.8, X, dY, got)
    X, dY = oracle.dropout_inputs(ctx.rng, (8, 4, 12, 12))
    runs = ctx.probe("dropout_pass", 0.5, X, dY, True, 5, repeat=2)
    for k, r in enumerate(runs):
        problems += oracle.judge_dropout_pass(f"Dropout(0.5) on X of shape (8, 4, 12, 12), call {k + 1}", 0.5, X, dY, r)
    masks = [np.asarray(r["Y"]) != 0 for r in runs]
    if np.array_equal(masks[0], masks[1]):
        problems.append("Dropout(0.5): two forward calls with the same rng gave the same mask: draw a new mask "
                        "from rng on every call")
    again = ctx.probe("dropout_pass", 0.5, X, dY, True, 5, repeat=1)[0]
    other = ctx.probe("dropout_pass", 0.5, X, dY, True, 6, repeat=1)[0]
    if not np.array_equal(np.asarray(again["Y"]) != 0, masks[0]):
        problems.append("Dropout(0.5): the same seeded rng gave a different mask: draw the mask from the rng given")
    elif np.array_equal(np.asarray(other["Y"]) != 0, masks[0]):
        problems.append("Dropout(0.5): rngs with different seeds gave the same mask: use the rng given")
    none = ctx.probe("dropout_pass", 0.5, X, dY, True, None)[0]
    problems += oracle.judge_dropout_pass("Dropout(0.5) with rng=None", 0.5, X, dY, none)
    if problems:
        raise CheckFailed("\n".join(problems[:3]), fraction=max(0.0, 1 - len(problems) / 4))


# --- 4.5 optim ----------------------------------------------------------------------------------------
check = CHECKS.task("optim", module="optim")


@check("hidden", "all four optimisers: 100 steps on other shapes (1-D, 3-D), their defaults, other settings "
       "(weight decay 1 too)", 4,
       tolerance=oracle.OPT_TOL)
def optim_hidden(ctx):
    runs = [("sgd_momentum_step", (7,), dict(lr=0.003, momentum=0.99)),
            ("sgd_momentum_step", (2, 3, 2), dict(lr=0.02, weight_decay=0.3)),
            ("sgd_momentum_step", (5,), dict(lr=0.01, weight_decay=1.0)),
            ("rmsprop_step", (7,), dict(lr=0.001, alpha=0.5)),
            ("rmsprop_step", (2, 3, 2), dict(lr=0.003, eps=1e-6, weight_decay=1.0)),
            ("adam_step", (7,), dict(lr=0.002)),
            ("adam_step", (2, 3, 2), dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.05)),
            ("adam_step", (5,), dict(lr=0.01, weight_decay=1.0)),
            ("adamw_step", (7,), dict(lr=0.002)),
            ("adamw_step", (2, 3, 2), dict(lr=0.01, betas=(0.5, 0.9), eps=1e-4, weight_decay=1.0))]
    problems = []
    for name, shape, kwargs in runs:
        problems += oracle.judge_optimizer(ctx, name, shape, 100, kwargs, f"on shape {shape}")
    if problems:
        raise CheckFailed(f"{len(problems)} of {len(runs)} runs wrong:\n" + "\n".join(problems[:3]),
                          fraction=max(0.0, 1 - len(problems) / len(runs)))


# --- 4.6 cnn ------------------------------------------------------------------------------------------
check = CHECKS.task("cnn", module="cnn")


@check("optimizer_args", "make_optimizer uses the lr and weight_decay it is given", 2, limits=TORCH_LIMITS,
       tolerance="each group's lr and weight_decay as given; a zero-gradient step shrinks every weight tensor")
def cnn_optimizer_args(ctx):
    oracle.judge_make_optimizer(ctx, 3e-3, 0.05)


@check("train_contract", "train() uses the optimizer and epochs it is given and returns the mean loss of each epoch",
       3, limits=TORCH_LIMITS, needs_data=True,
       tolerance="with an optimizer at lr = 0 the parameters stay within 1e-6; each returned epoch loss within 1e-4 "
                 "(relative) of the grader's mean cross-entropy on the images; one loss per epoch")
def cnn_train_contract(ctx):
    data = ctx.data()
    n, batch, epochs = 300, 50, 3
    idx = np.sort(ctx.rng.choice(len(data.x_train), size=n, replace=False))
    x_path = ctx.share("fashion_x_hidden300", data.x_train[idx])
    y_path = ctx.share("fashion_y_hidden300", data.y_train[idx])
    # no dropout in the grader's network here: with lr = 0 every epoch's mean loss is then the same number
    got = judge.require_keys("train", ctx.probe("train", x_path, y_path, n, batch, epochs, 0.0, 0.0, 0.0, ctx.seed),
                             ["before", "after", "losses"])
    what = (f"train(model, loader, optimizer, epochs={epochs}, device='cpu') with AdamW(lr=0) on {n} images in "
            f"batches of {batch}")
    judge_lr0_contract(got, what=what, epochs=epochs, n=n,
                       loss=lambda before: oracle.cnn_loss_acc(before, data.x_train[idx], data.y_train[idx])[0],
                       step_hint="train must step the optimizer it is given, not one of its own")


@check("evaluate_hidden", "evaluate() with a short last batch: the mean over samples, not over batches", 3,
       limits=TORCH_LIMITS,
       tolerance="loss within 1e-6 + 1e-4·|expected| of the grader's float64 value; accuracy within 1e-6")
def cnn_evaluate_hidden(ctx):
    oracle.judge_evaluate(ctx, n=500, batch_size=200, hard_last=True)
