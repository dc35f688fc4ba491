"""A1 public checks: run by students' `grade check` and by instructors.

Tolerances (stated per check, shown in reports):
* GRAD: |got − expected| ≤ 1e-6 + 1e-4·|expected|. Accepts float32 arithmetic (≈6e-8 relative rounding,
  accumulated over a few operations) and any summation order (loops or vectorised); every wrong
  formula in tests/ misses by more than 1e-2.
* Oracles: torch autograd in float64 (grader/engine/oracles.py), closed forms, central differences.
"""
from __future__ import annotations

import ast

import numpy as np

from grader.api import CheckFailed, CheckList, Limits, Visibility, autograd, judge, torch

from . import oracle

GRAD = dict(rtol=1e-4, atol=1e-6)
GRAD_TOL = "|got − expected| ≤ 1e-6 + 1e-4·|expected| (float32 passes)"

CHECKS = CheckList(Visibility.PUBLIC)

# ---------------------------------------------------------------------------------------------
# 1.1 softmax.py
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("softmax", module="softmax")


@check("values", "softmax(o) equals exp(o)/Σexp(o) along the last axis", 3, tolerance=GRAD_TOL)
def softmax_values(ctx):
    o = ctx.rng.normal(0, 2, size=(4, 6))
    judge.close("softmax(o) for o of shape (4, 6)", ctx.probe("call", "softmax", "softmax", o),
                oracle.softmax(o), **GRAD)
    o3 = ctx.rng.normal(0, 1, size=(2, 3, 5))
    judge.close("softmax(o) for o of shape (2, 3, 5) (any leading shape)",
                ctx.probe("call", "softmax", "softmax", o3), oracle.softmax(o3), **GRAD)
    v = ctx.rng.normal(0, 1, size=7)
    judge.close("softmax(o) for a 1-D o", ctx.probe("call", "softmax", "softmax", v), oracle.softmax(v), **GRAD)


@check("stable", "softmax is stable for logits of magnitude 1e4 (no overflow, no NaN)", 3, tolerance=GRAD_TOL)
def softmax_stable(ctx):
    o = np.array([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4 + 2.0, -1e4 + 1.0]])
    judge.close("softmax(o) with logits ±1e4", ctx.probe("call", "softmax", "softmax", o),
                oracle.softmax(o), **GRAD)


@check("jacobian", "softmax_jacobian(o) matches torch autograd (float64)", 4, tolerance=GRAD_TOL)
def softmax_jacobian(ctx):
    o = ctx.rng.normal(0, 1.5, size=5)
    expected = torch().autograd.functional.jacobian(lambda t: torch().softmax(t, 0), oracle.t(o)).numpy()
    judge.close("softmax_jacobian(o), C = 5 (J[i, j] = ∂y_i/∂o_j)",
                ctx.probe("call", "softmax", "softmax_jacobian", o), expected, **GRAD, figure=True)


@check("cross_entropy", "cross_entropy(o, t) is the mean cross-entropy of logits", 3, tolerance=GRAD_TOL)
def cross_entropy(ctx):
    o = ctx.rng.normal(0, 2, size=(6, 4))
    t = ctx.rng.integers(0, 4, size=6)
    judge.close("cross_entropy(o, t), N = 6, C = 4", ctx.probe("call", "softmax", "cross_entropy", o, t),
                oracle.cross_entropy(o, t), **GRAD)
    big = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]])
    tb = np.array([1, 1])
    judge.close("cross_entropy(o, t) with logits of magnitude 1e4 (stable?)",
                ctx.probe("call", "softmax", "cross_entropy", big, tb), oracle.cross_entropy(big, tb), **GRAD)


@check("cross_entropy_grad", "cross_entropy_grad(o, t) matches torch autograd (float64)", 4, tolerance=GRAD_TOL)
def cross_entropy_grad(ctx):
    o = ctx.rng.normal(0, 2, size=(5, 3))
    t = ctx.rng.integers(0, 3, size=5)
    _, (expected,) = autograd(lambda x: oracle.torch_ce(x, t), o)
    judge.close("cross_entropy_grad(o, t), N = 5, C = 3", ctx.probe("call", "softmax", "cross_entropy_grad", o, t),
                expected, **GRAD, figure=True)


@check("by_hand", "softmax.py computes by hand: no torch, jax, tensorflow or autograd", 1,
       tolerance=judge.BY_HAND_TOL)
def softmax_by_hand(ctx):
    o = ctx.rng.normal(0, 1.5, size=(3, 4))
    t = ctx.rng.integers(0, 4, size=3)

    def run():
        judge.close("softmax(o)", ctx.probe("call", "softmax", "softmax", o), oracle.softmax(o), **GRAD)
        expected = torch().autograd.functional.jacobian(lambda x: torch().softmax(x, 0), oracle.t(o[0])).numpy()
        judge.close("softmax_jacobian(o[0])", ctx.probe("call", "softmax", "softmax_jacobian", o[0]),
                    expected, **GRAD, figure=True)
        judge.close("cross_entropy(o, t)", ctx.probe("call", "softmax", "cross_entropy", o, t),
                    oracle.cross_entropy(o, t), **GRAD)
        _, (grad,) = autograd(lambda x: oracle.torch_ce(x, t), o)
        judge.close("cross_entropy_grad(o, t)", ctx.probe("call", "softmax", "cross_entropy_grad", o, t),
                    grad, **GRAD)

    judge.require_by_hand(ctx, ["softmax"], "softmax.py", run)


# ---------------------------------------------------------------------------------------------
# 1.2 scalar_backprop.py
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("scalar", module="scalar_backprop")
ALLOWED_IMPORTS = {"math", "random", "typing", "__future__", "copy", "functools", "itertools"}


@check("plain_python", "scalar_backprop.py uses plain Python only (math, random; no numpy/torch)", 2,
       tolerance="imports limited to math, random, typing, copy, functools, itertools, in the source "
                 "and at run time (exec, importlib, computed names included); forward, backward "
                 "and loss must also return correct values")
def scalar_plain_python(ctx):
    net = oracle.SCALAR_EXAMPLE  # only an implementation earns these points, not the empty template

    def run():
        got = judge.require_keys("forward(...)", ctx.probe(
            "call", "scalar_backprop", "forward", net["x"], net["W"], net["b"], net["V"], net["c"]),
            ["k1", "h", "k2", "y"])
        expected = oracle.scalar_forward(net)
        judge.close_each([(f"forward(...)['{k}']", got[k], expected[k]) for k in ("k1", "h", "k2", "y")],
                         **GRAD)
        oracle.judge_scalar_backward(ctx, net)
        judge.close("loss([0.2, 0.5, 0.3], 1)", ctx.probe("call", "scalar_backprop", "loss", [0.2, 0.5, 0.3], 1),
                    oracle.scalar_loss([0.2, 0.5, 0.3], 1), **GRAD)

    # at run time: what the module and its functions really import and call
    judge.require_by_hand(ctx, ["scalar_backprop"], "scalar_backprop.py", run, allowed=sorted(ALLOWED_IMPORTS))
    # and in the source the worker imported (a module may import numpy in a branch not taken here)
    try:
        tree = ast.parse(ctx.source("scalar_backprop"))
    except SyntaxError as exc:
        raise CheckFailed(f"scalar_backprop.py does not parse: line {exc.lineno}: {exc.msg}")
    if ctx.shared_notebook("scalar_backprop"):
        # a notebook holding every task imports numpy at its top for the other tasks: here only
        # the functions' own imports count (and, above, what they import and call at run time)
        tree.body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    bad = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            fname = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if fname in ("__import__", "import_module"):
                bad.append(f"line {node.lineno}: dynamic import")
        for n in names:
            if n.split(".")[0] not in ALLOWED_IMPORTS:
                bad.append(f"line {node.lineno}: import {n}")
    if bad:
        raise CheckFailed("this task must be plain Python (math, random only): " + "; ".join(bad))


@check("forward_example", "forward() on the example network gives the right k1, h, k2, y", 4, tolerance=GRAD_TOL)
def scalar_forward_example(ctx):
    net = oracle.SCALAR_EXAMPLE
    got = judge.require_keys("forward(...)", ctx.probe("call", "scalar_backprop", "forward",
                                                       net["x"], net["W"], net["b"], net["V"], net["c"]),
                             ["k1", "h", "k2", "y"])
    expected = oracle.scalar_forward(net)
    judge.close_each([(f"forward(...)['{k}']", got[k], expected[k]) for k in ("k1", "h", "k2", "y")], **GRAD)


@check("backward_example", "backward() on the example network matches autograd", 5, tolerance=GRAD_TOL)
def scalar_backward_example(ctx):
    oracle.judge_scalar_backward(ctx, oracle.SCALAR_EXAMPLE)


@check("loss", "loss(y, target) is −log y[target]", 1, tolerance=GRAD_TOL)
def scalar_loss(ctx):
    y = [0.2, 0.5, 0.3]
    for target in (0, 1):
        judge.close(f"loss({y}, {target})", ctx.probe("call", "scalar_backprop", "loss", y, target),
                    oracle.scalar_loss(y, target), **GRAD)


@check("sgd_step", "sgd_step(params, grads, lr) returns a new params − lr·grads, leaving its inputs unchanged", 2,
       tolerance=GRAD_TOL)
def scalar_sgd_step(ctx):
    params = oracle.random_scalar_net(ctx.rng)
    grads = {"d" + k: ctx.rng.normal(size=np.shape(params[k])).tolist() for k in ("W", "b", "V", "c")}
    p = {k: params[k] for k in ("W", "b", "V", "c")}
    reply = ctx.probe("call_keeping_args", "scalar_backprop", "sgd_step", p, grads, 0.1)
    if reply["args_changed"]:
        raise CheckFailed("sgd_step(params, grads, lr) changed the params or grads it was given: return a "
                          "new dict of new lists and leave the caller's dicts and lists unchanged")
    got = judge.require_keys("sgd_step(...)", reply["result"], ["W", "b", "V", "c"])
    keys = ("W", "b", "V", "c")
    expected = oracle.sgd_step([p[k] for k in keys], [grads["d" + k] for k in keys], 0.1)  # torch.optim.SGD
    judge.close_each([(f"sgd_step(...)['{k}']", got[k], e) for k, e in zip(keys, expected)], **GRAD)


@check("train_synthetic", "train_synthetic learns the synthetic 2-D data (validation accuracy measured by the grader)",
       5, limits=Limits(timeout=90), tolerance=oracle.SCALAR_TOL)
def scalar_train(ctx):
    return oracle.judge_scalar_training(ctx, seed=0, n=oracle.SYNTHETIC_N, lr=0.05)


# ---------------------------------------------------------------------------------------------
# 1.3 layers.py
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("layers", module="layers")


@check("linear", "Linear forward and backward (dX, dW, db) match autograd, non-square W", 4, tolerance=GRAD_TOL)
def layers_linear(ctx):
    oracle.judge_layer(ctx, "Linear", n=5, n_in=4, n_out=3)


@check("sigmoid", "Sigmoid forward and backward match autograd", 2, tolerance=GRAD_TOL)
def layers_sigmoid(ctx):
    oracle.judge_layer(ctx, "Sigmoid", n=4, n_in=3)


@check("relu", "ReLU forward and backward match autograd (away from 0)", 2, tolerance=GRAD_TOL)
def layers_relu(ctx):
    oracle.judge_layer(ctx, "ReLU", n=4, n_in=5)


@check("softmax", "Softmax layer backward (through the full Jacobian) matches autograd", 3, tolerance=GRAD_TOL)
def layers_softmax(ctx):
    oracle.judge_layer(ctx, "Softmax", n=3, n_in=4)


@check("mse", "MSELoss: mean over the batch of ½‖ŷ − y‖², and its gradient", 2, tolerance=GRAD_TOL)
def layers_mse(ctx):
    oracle.judge_loss(ctx, "MSELoss", n=4, c=3)


@check("cross_entropy", "CrossEntropyLoss on probabilities: value and gradient", 2, tolerance=GRAD_TOL)
def layers_cross_entropy(ctx):
    oracle.judge_loss(ctx, "CrossEntropyLoss", n=5, c=4)


@check("vectorised", "every layer's forward and backward is vectorised over the batch (no Python loop over rows)",
       1, tolerance="the lines of layers.py run for a batch of 256 exceed those for a batch of 8 by fewer than 124")
def layers_vectorised(ctx):
    # counted, not timed: Python's line events in layers.py (a trace hook in the worker) do not
    # depend on the machine's speed; a loop over the classes or features is allowed (same C in both)
    small, big = 8, 256
    counts = ctx.probe("layer_line_counts", [small, big], 5, 3, int(ctx.rng.integers(1 << 30)))
    loops = [f"{cls}: {c[1] - c[0]} more lines for {big} rows than for {small}"
             for cls, c in counts.items() if c[1] - c[0] >= (big - small) // 2]
    if loops:
        raise CheckFailed("a Python loop over the rows of the batch (vectorise it over the batch, section 1.3): "
                          + "; ".join(loops), fraction=0.0)


@check("by_hand", "layers.py computes forward and backward by hand: no torch autograd, jax or tensorflow",
       1, tolerance=judge.BY_HAND_TOL)
def layers_by_hand(ctx):
    def run():
        oracle.judge_layer(ctx, "Linear", n=3, n_in=4, n_out=2)
        for cls in ("Sigmoid", "ReLU", "Softmax"):
            oracle.judge_layer(ctx, cls, n=3, n_in=4)
        oracle.judge_loss(ctx, "MSELoss", n=3, c=5)  # C ≠ 2: ½·SSE/N = SSE/(N·C) only at C = 2
        oracle.judge_loss(ctx, "CrossEntropyLoss", n=3, c=4)

    judge.require_by_hand(ctx, ["layers"], "layers.py", run)


# ---------------------------------------------------------------------------------------------
# 1.3 mlp.py
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("mlp", module="mlp")


@check("shapes", "MLP(sizes) has W of shape (out, in) and b of shape (out,), per layer (also with no hidden layer)", 2,
       tolerance="exact shapes; params() and grads() in layer order W1, b1, W2, b2, …")
def mlp_shapes(ctx):
    # [6, 4]: two widths, one Linear and no hidden layer, is a network too ("at least two entries")
    for sizes, expected in (([7, 5, 3], [(5, 7), (5,), (3, 5), (3,)]), ([6, 4], [(4, 6), (4,)])):
        got = ctx.probe("mlp_shapes", sizes, "sigmoid", "softmax", 0)["params"]
        names = ", ".join(f"{'W' if i % 2 == 0 else 'b'}{i // 2 + 1}" for i in range(len(expected)))
        if len(got) != len(expected):
            raise CheckFailed(f"MLP({sizes}).params(): expected {len(expected)} arrays ({names}), got {len(got)}")
        for i, (g, e) in enumerate(zip(got, expected)):
            judge.as_array(f"MLP({sizes}).params()[{i}]", g, e)


@check("init", "MLP(sizes, seed) initialises W ~ N(0, 1/n_in) and b = 0", 1,
       tolerance="b exactly 0; W's mean within 0.1/sqrt(n_in) of 0 and its standard deviation within 5 % of "
                 "1/sqrt(n_in) (W1 has 120,000 draws, W2 3,000: a correct draw is ≥ 3.8 standard errors inside)")
def mlp_init(ctx):
    sizes = [400, 300, 10]
    got = ctx.probe("mlp_shapes", sizes, "sigmoid", "softmax", int(ctx.rng.integers(1000)))["params"]
    if len(got) != 4:
        raise CheckFailed(f"MLP({sizes}).params(): expected 4 arrays (W1, b1, W2, b2), got {len(got)}")
    for i, n_in in ((0, 400), (2, 300)):
        W = judge.as_array(f"MLP({sizes}).params()[{i}] (W{i // 2 + 1})", got[i], (sizes[i // 2 + 1], n_in))
        b = judge.as_array(f"MLP({sizes}).params()[{i + 1}] (b{i // 2 + 1})", got[i + 1], (sizes[i // 2 + 1],))
        want = 1 / np.sqrt(n_in)
        if np.any(b != 0):
            raise CheckFailed(f"MLP({sizes}): b{i // 2 + 1} must start at 0, it holds values up to {np.abs(b).max():.3g}")
        if abs(W.mean()) > 0.1 * want or abs(W.std() / want - 1) > 0.05:
            raise CheckFailed(f"MLP({sizes}): W{i // 2 + 1} has mean {W.mean():.4g} and standard deviation "
                              f"{W.std():.4g}; the statement asks N(0, 1/n_in): mean 0, standard deviation "
                              f"1/sqrt({n_in}) = {want:.4g}")


@check("example", "the example 2-2-2 network: loss and gradients (MSE, sigmoid)", 4, tolerance=GRAD_TOL)
def mlp_example(ctx):
    oracle.judge_mlp_loss(ctx, oracle.MLP_EXAMPLE)


@check("gradients", "full MLP gradient (ReLU hidden, softmax output) matches autograd", 4, tolerance=GRAD_TOL)
def mlp_gradients(ctx):
    oracle.judge_mlp_pass(ctx, [4, 6, 5, 3], "relu", "softmax", n=7)


@check("sgd_step", "one SGD step: every parameter moves by −lr·gradient", 2, tolerance=GRAD_TOL)
def mlp_sgd_step(ctx):
    oracle.judge_mlp_step(ctx, [3, 4, 2], "sigmoid", "identity", n=5, lr=0.1)


@check("train_exact", "train(): minibatch SGD and its loss/accuracy history, exactly as the statement defines them", 3,
       tolerance=GRAD_TOL + "; on small cases whose result no shuffle changes (one batch, or one repeated sample), "
                            "every loss/target path: softmax with labels or one-hot rows, MSE with labels or rows, "
                            "one output or several")
def mlp_train_exact(ctx):
    oracle.judge_train_exact(ctx)


@check("by_hand", "mlp.py trains by hand (its layers' backward): no torch autograd, jax or tensorflow", 1,
       tolerance=judge.BY_HAND_TOL)
def mlp_by_hand(ctx):
    def run():
        oracle.judge_mlp_pass(ctx, [4, 5, 3], "relu", "softmax", n=3)
        oracle.judge_mlp_step(ctx, [3, 4, 2], "sigmoid", "identity", n=3, lr=0.1)

    judge.require_by_hand(ctx, ["mlp", "layers"], "mlp.py", run)


@check("train_fashion", "784-300-10 MLP trained on FashionMNIST reaches the test-accuracy threshold",
       6, limits=Limits(timeout=oracle.FASHION_TIMEOUT, memory_mb=4096), needs_data=True,
       tolerance=f"accuracy measured by the grader on the 10,000 test images: full marks at "
                 f"≥ {oracle.FASHION_FULL:.2f}, partial credit from {oracle.FASHION_ZERO:.2f}" + judge.SEED_SPREAD_TOL)
def mlp_train_fashion(ctx):
    return oracle.judge_fashion_training(ctx)
