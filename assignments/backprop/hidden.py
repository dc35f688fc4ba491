"""A1 hidden checks: instructor grading only (`grade check --hidden`, `grade batch`).

Never shipped to students. Inputs come from the check's RNG (seeded by the assignment seed and the
check id); expected values are computed here by oracles, never stored.
"""
from __future__ import annotations

import numpy as np

from grader.api import CheckFailed, CheckList, Limits, Visibility, autograd, central_diff, judge, torch

from . import oracle
from .checks import GRAD, GRAD_TOL

CHECKS = CheckList(Visibility.HIDDEN)

# --- 1.1 softmax ------------------------------------------------------------------------------------
check = CHECKS.task("softmax", module="softmax")


@check("rows_scale", "softmax on rows of very different scale (1e-3 … 1e4) and a 3-D batch", 3, tolerance=GRAD_TOL)
def softmax_rows_scale(ctx):
    o = ctx.rng.normal(size=(2, 3, 4)) * np.array([1e-3, 1.0, 1e3])[None, :, None]
    o[1, 2] += 1e4
    o = oracle.f32_exact(o)  # inputs a float32 submission represents exactly
    judge.close("softmax(o), rows scaled 1e-3, 1, 1e3 (+1e4)", ctx.probe("call", "softmax", "softmax", o),
                oracle.softmax(o), **GRAD)


@check("jacobian_hidden", "softmax_jacobian on hidden inputs, including large logits", 3, tolerance=GRAD_TOL)
def softmax_jacobian_hidden(ctx):
    for scale, c in ((1.0, 7), (300.0, 4)):
        o = ctx.rng.normal(0, scale, size=c)
        expected = torch().autograd.functional.jacobian(lambda x: torch().softmax(x, 0), oracle.t(o)).numpy()
        judge.close(f"softmax_jacobian(o), C = {c}, logits of scale {scale:g}",
                    ctx.probe("call", "softmax", "softmax_jacobian", o), expected, **GRAD)


@check("cross_entropy_hidden", "cross_entropy and its gradient on hidden inputs (N = 9, C = 6, logits up to ~1e3)", 4,
       tolerance=GRAD_TOL)
def softmax_ce_hidden(ctx):
    o = ctx.rng.normal(0, 50, size=(9, 6))
    o[::3] += 1000.0  # exp(1000) overflows float64: only a shifted log-sum-exp survives
    o = oracle.f32_exact(o)
    t = ctx.rng.integers(0, 6, size=9)
    value, (grad,) = autograd(lambda x: oracle.torch_ce(x, t), o)
    judge.close_each([("cross_entropy(o, t)", ctx.probe("call", "softmax", "cross_entropy", o, t), value),
                      ("cross_entropy_grad(o, t)", ctx.probe("call", "softmax", "cross_entropy_grad", o, t), grad)],
                     **GRAD)


# --- 1.2 scalar ---------------------------------------------------------------------------------------
check = CHECKS.task("scalar", module="scalar_backprop")


@check("random_nets", "forward and backward on 5 random networks match autograd", 5, tolerance=GRAD_TOL)
def scalar_random_nets(ctx):
    wrong = 0
    messages = []
    for i in range(5):
        net = oracle.random_scalar_net(ctx.rng)
        try:
            got = judge.require_keys("forward(...)", ctx.probe(
                "call", "scalar_backprop", "forward", *(net[k] for k in ("x", "W", "b", "V", "c"))),
                ["k1", "h", "k2", "y"])
            exp = oracle.scalar_forward(net)
            judge.close_each([(f"network {i + 1}: forward(...)['{k}']", got[k], exp[k]) for k in exp], **GRAD)
            oracle.judge_scalar_backward(ctx, net, f"random network {i + 1}")
        except CheckFailed as exc:
            wrong += 1
            messages.append(exc.message)
    if wrong:
        raise CheckFailed(f"{wrong} of 5 random networks wrong; first: {messages[0]}", fraction=(5 - wrong) / 5)


@check("train_hidden", "train_synthetic on a hidden synthetic sample", 4, limits=Limits(timeout=120),
       tolerance=oracle.SCALAR_TOL)
def scalar_train_hidden(ctx):
    return oracle.judge_scalar_training(ctx, seed=3, n=oracle.SYNTHETIC_N, lr=0.05)


# --- 1.3 layers ----------------------------------------------------------------------------------------
check = CHECKS.task("layers", module="layers")


@check("batch_sizes", "every layer on batch sizes 1, 3 and 17, square and non-square", 5, tolerance=GRAD_TOL)
def layers_batch_sizes(ctx):
    cases = [("Linear", 1, 3, 3), ("Linear", 17, 6, 2), ("Linear", 3, 2, 5), ("Sigmoid", 1, 4, None),
             ("Sigmoid", 17, 2, None), ("ReLU", 1, 6, None), ("ReLU", 17, 3, None), ("Softmax", 1, 5, None),
             ("Softmax", 17, 3, None)]
    failures = []
    for cls, n, n_in, n_out in cases:
        try:
            oracle.judge_layer(ctx, cls, n=n, n_in=n_in, n_out=n_out)
        except CheckFailed as exc:
            failures.append(exc.message)
    if failures:
        raise CheckFailed(f"{len(failures)} of {len(cases)} layer cases wrong; first: {failures[0]}",
                          fraction=1 - len(failures) / len(cases))


@check("relu_at_zero", "ReLU'(0) = 0: backward at an input of exactly 0 gives 0", 2,
       tolerance="exact: dX must be 0 where X == 0")
def layers_relu_at_zero(ctx):
    X = np.array([[0.0, 1.0, -1.0, 0.0], [0.0, 0.0, 2.0, -0.5]])
    dY = np.ones_like(X)
    got = ctx.probe("layer_pass", "ReLU", [], X, dY)
    dX = judge.as_array("ReLU.backward(dY)", got["dX"], X.shape)
    zeros = X == 0
    if np.any(dX[zeros] != 0):
        raise CheckFailed(f"ReLU.backward at X == 0 must give 0 (ReLU'(0) = 0), got {dX[zeros].tolist()}")
    judge.close("ReLU.backward(dY) away from 0", dX[~zeros], (X[~zeros] > 0).astype(float), rtol=0, atol=0)


@check("softmax_large", "Softmax layer and CrossEntropyLoss stay finite for large inputs", 2, tolerance=GRAD_TOL)
def layers_softmax_large(ctx):
    X = oracle.f32_exact(ctx.rng.normal(0, 1, size=(3, 4)) + np.array([[1e4], [-1e4], [0.0]]))
    oracle.judge_layer(ctx, "Softmax", n=3, n_in=4, X=X)
    # rows whose logits lie 1e3 apart: a shift by anything but the row's maximum overflows
    spread = np.zeros((3, 4))
    spread[np.arange(3), [1, 3, 0]] = 1e3
    oracle.judge_layer(ctx, "Softmax", n=3, n_in=4, X=oracle.f32_exact(spread + ctx.rng.normal(0, 1, size=(3, 4))))
    # CrossEntropyLoss on that Softmax's output: logits 30 apart make the other classes' probabilities
    # underflow to exactly 0 (e^-1000) while the target's stays 1; with one-hot targets 0 · log 0 must
    # not turn the loss or its gradient into nan (the statement: "stay finite for large inputs")
    Z = np.zeros((3, 4))
    Z[np.arange(3), [2, 0, 3]] = 1e3
    P = oracle.softmax(Z + ctx.rng.normal(0, 1, size=(3, 4)))
    labels = np.argmax(P, axis=1)
    oracle.judge_loss(ctx, "CrossEntropyLoss", n=3, c=4, pred=P, target=labels, what=", labels, large logits")
    onehot = (labels[:, None] == np.arange(4)).astype(float)
    oracle.judge_loss(ctx, "CrossEntropyLoss", n=3, c=4, pred=P, target=onehot, what=", one-hot, large logits")


# --- 1.3 MLP ---------------------------------------------------------------------------------------------
check = CHECKS.task("mlp", module="mlp")


@check("gradient_fd", "MLP gradients agree with central finite differences (float64, h = 1e-5)", 4,
       tolerance="relative error ≤ 1e-4 (central differences are accurate to ~1e-8 here)")
def mlp_gradient_fd(ctx):
    # 3 outputs, not 2: with C = 2 a MSE of SSE/(N·C) equals the asked ½·SSE/N and would pass
    sizes, hidden, output = [3, 4, 3], "sigmoid", "identity"
    params = oracle.random_mlp(ctx.rng, sizes)
    X, target = ctx.rng.normal(size=(6, 3)), ctx.rng.normal(size=(6, 3))

    def loss(ps):  # the grader's own float64 forward in numpy: independent of torch
        h = X
        for i in range(0, len(ps), 2):
            h = h @ ps[i].T + ps[i + 1]
            if i < len(ps) - 2:
                h = 1 / (1 + np.exp(-h))
        return 0.5 * np.sum((h - target) ** 2) / len(X)

    expected = central_diff(loss, params)
    got = ctx.probe("mlp_loss_pass", sizes, hidden, output, params, X, target, "MSELoss")
    grads = got["grads"]
    if not isinstance(grads, list) or len(grads) != len(expected):
        raise CheckFailed("grads() must return dW1, db1, dW2, db2")
    for i, (g, e) in enumerate(zip(grads, expected)):
        g = judge.as_array(f"grads()[{i}]", g, e.shape)
        err = judge.rel_error(g, e)
        if err > 1e-4:
            raise CheckFailed(f"grads()[{i}] ({'dW' if i % 2 == 0 else 'db'}{i // 2 + 1}): relative error "
                              f"{err:.2e} against central differences (allowed 1e-4)")


@check("gradients_deep", "gradients of a deeper sigmoid network on a batch of one", 3, tolerance=GRAD_TOL)
def mlp_gradients_deep(ctx):
    oracle.judge_mlp_pass(ctx, [5, 4, 4, 3], "sigmoid", "softmax", n=1)


@check("train_seeded", "train() shuffles with the model's seeded generator: the same run twice ends with the same weights",
       1, tolerance="the two runs' weights agree to 1e-9 (relative); different shuffles differ by far more")
def mlp_train_seeded(ctx):
    X, y = ctx.rng.normal(size=(16, 3)), ctx.rng.permutation(np.arange(16) % 3)
    runs = ctx.probe("mlp_train_twice", [3, 5, 3], "relu", "softmax", None, X, y, 2, 0.5, 4, 3)
    first, second = (r.get("params") for r in runs)
    if not isinstance(first, list) or not isinstance(second, list) or len(first) != 4 or len(second) != 4:
        raise CheckFailed("params() after training must hold W1, b1, W2, b2")
    try:
        judge.close_each([(f"{'W' if i % 2 == 0 else 'b'}{i // 2 + 1} of the second run against the first", b, a)
                          for i, (a, b) in enumerate(zip(first, second))], rtol=1e-9, atol=1e-12)
    except CheckFailed as exc:
        raise CheckFailed("MLP([3, 5, 3], seed=3).train(X, y, epochs=2, lr=0.5, batch_size=4), run twice on the "
                          "same data in one process, ended with different weights: the shuffling is not seeded (the statement: "
                          "a seeded generator, e.g. the model's own np.random.default_rng(seed), not np.random's "
                          "global one)\n" + exc.message,
                          fraction=0.0) from None


@check("train_history", f"train() on 2-D data: history of loss/accuracy per epoch, loss falls, grader accuracy "
                          f"≥ {oracle.HISTORY_FULL:.2f}",
       3, limits=Limits(timeout=60),
       tolerance="history['loss'] and history['accuracy'] have one entry per epoch; last loss < first; "
                 f"accuracy measured by the grader ≥ {oracle.HISTORY_FULL:.2f} (full marks), partial from "
                 f"{oracle.HISTORY_ZERO:.2f}" + judge.SEED_SPREAD_TOL)
def mlp_train_history(ctx):
    from grader.data import make_synthetic

    data = make_synthetic(n_train=4000, n_val=2000, seed=5)
    x_path = ctx.share("mlp_syn_x", data.x_train)
    y_path = ctx.share("mlp_syn_y", data.y_train)
    epochs = 5
    got = ctx.probe("mlp_train", [2, 16, 2], "relu", "softmax", x_path, y_path, epochs, 0.5, 16, 0)
    history = judge.require_keys("train(...) history", got.get("history"), ["loss", "accuracy"])
    for key in ("loss", "accuracy"):
        judge.as_array(f"history['{key}']", history[key], (epochs,))
    losses = np.asarray(history["loss"], dtype=float)
    if not losses[-1] < losses[0]:
        raise CheckFailed(f"the training loss did not fall: {losses.round(4).tolist()}")
    acc = oracle.mlp_accuracy(got["params"], data.x_val, data.y_val, [2, 16, 2], "relu", "softmax")
    return oracle.require_accuracy(acc, oracle.HISTORY_ZERO, oracle.HISTORY_FULL,
                                   f"validation accuracy {acc:.3f} measured by the grader "
                                   f"(full marks at ≥ {oracle.HISTORY_FULL:.2f})")
