"""A2 public checks: run by students' `grade check` and by instructors.

Tolerances (stated per check, shown in reports; derivations in oracle.py and docs/relu_fit.md):
* GRAD: |got − expected| ≤ 1e-6 + 1e-4·|expected|, for values and gradients. Accepts float32 arithmetic
  and any summation order (loops or vectorised); every wrong formula in tests/ misses by more than 1e-2.
* ReLU'(0) = 0: exact (the gradient entries of a unit whose pre-activation is exactly 0 must be 0).
* FIT_TOL: every residual |f(x_j) − y_j| ≤ 1e-4·(1 + |y_j|), f computed by the grader (float64).
* Oracles: torch autograd in float64 (grader/engine/oracles.py), closed forms, the grader's own forward pass.
"""
from __future__ import annotations

import numpy as np

from grader.api import CheckFailed, CheckList, Limits, Visibility, autograd, judge, t64

from . import oracle
from .oracle import FIT_TOL, GRAD, GRAD_TOL, PRED_TOL

# A fit from initial guesses whose kinks lie inside the data range takes well under a second (the
# reference: 0.01–0.1 s per data set; a plain fsolve loop with finite differences ≈ 0.05–2 s). 30 s per
# check (up to 4 fits) leaves room for slow but sound restart strategies and still stops an endless
# restart loop. Every fit check has the same limits, so they share one worker.
FIT_LIMITS = Limits(timeout=30)

CHECKS = CheckList(Visibility.PUBLIC)

# ---------------------------------------------------------------------------------------------
# 2.1 warmup.py
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("warmup", module="warmup")


@check("sq_norm_grad", "sq_norm_grad(x) is the gradient of ‖x‖², 2x", 2, tolerance=GRAD_TOL)
def warmup_sq_norm_grad(ctx):
    x = ctx.rng.normal(0, 2, size=6)
    _, (expected,) = autograd(lambda t: (t ** 2).sum(), x)
    judge.close("sq_norm_grad(x), x of shape (6,)", ctx.probe("call", "warmup", "sq_norm_grad", x), expected, **GRAD)


@check("mean_minimizer", "mean_minimizer(X) minimises Σᵢ‖xᵢ − μ‖² over the rows of X", 2, tolerance=GRAD_TOL)
def warmup_mean_minimizer(ctx):
    X = ctx.rng.normal(0, 3, size=(7, 3))  # 7 rows of 3: the mean of the rows, not of the columns
    judge.close("mean_minimizer(X), X of shape (7, 3) (μ has one entry per column)",
                ctx.probe("call", "warmup", "mean_minimizer", X), t64(X).mean(0).numpy(), **GRAD)


def l1_problem(rng, n: int, d: int):
    """X, w, y with every residual Xw − y at least 0.1 away from 0 (no sign ambiguity in float32)."""
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d)
    noise = rng.choice([-1.0, 1.0], n) * rng.uniform(0.1, 2.0, n)
    return X, w, X @ w + noise


@check("l1_loss", "l1_loss(X, w, y) is ‖Xw − y‖₁", 2, tolerance=GRAD_TOL)
def warmup_l1_loss(ctx):
    X, w, y = l1_problem(ctx.rng, 8, 3)
    expected, _ = autograd(lambda Xt, wt, yt: (Xt @ wt - yt).abs().sum(), X, w, y)
    judge.close("l1_loss(X, w, y), X of shape (8, 3)", ctx.probe("call", "warmup", "l1_loss", X, w, y),
                expected, **GRAD)


@check("l1_subgradient", "l1_subgradient(X, w, y) = Xᵀ sign(Xw − y) matches autograd", 3, tolerance=GRAD_TOL)
def warmup_l1_subgradient(ctx):
    X, w, y = l1_problem(ctx.rng, 8, 3)
    _, (expected,) = autograd(lambda wt: (t64(X) @ wt - t64(y)).abs().sum(), w)
    judge.close("l1_subgradient(X, w, y), X of shape (8, 3) (a gradient with respect to w)",
                ctx.probe("call", "warmup", "l1_subgradient", X, w, y), expected, **GRAD)


# ---------------------------------------------------------------------------------------------
# 2.2 relu_net.py: predict and loss_grad
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("relu_net", module="relu_net")


@check("predict_example", "predict(p, x) at the example parameters of the statement", 3, tolerance=PRED_TOL)
def relu_predict_example(ctx):
    xs = np.array([-3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 4.0])
    oracle.judge_predict(ctx, oracle.EXAMPLE_P, [xs], "the example p")


@check("predict_random", "predict(p, x) at random parameters, vectorised over 50 points", 3, tolerance=PRED_TOL)
def relu_predict_random(ctx):
    p = oracle.random_params(ctx.rng, -3.0, 3.0)
    xs = oracle.f32_exact(ctx.rng.uniform(-5.0, 5.0, size=50))
    oracle.judge_predict(ctx, p, [xs], "random p")


@check("loss_grad", "loss_grad(p, x, y) matches torch autograd (float64) away from the kinks", 5,
       tolerance=GRAD_TOL + "; points ≥ 0.25 away from every kink (in pre-activation), |y − f(x)| ≥ 1")
def relu_loss_grad(ctx):
    p = oracle.random_params(ctx.rng)
    xs = oracle.points_away_from_kinks(ctx.rng, p, 6, -3.0, 3.0)
    oracle.judge_loss_grads(ctx, p, list(zip(xs, oracle.targets(ctx.rng, p, xs))), "random p")


@check("relu_prime_zero", "ReLU'(0) = 0: at a pre-activation of exactly 0 the unit passes no gradient", 3,
       tolerance="exact: the entries of units with w_h·x + b_h == 0 must be 0; the rest " + GRAD_TOL)
def relu_prime_zero(ctx):
    # the example p: at x = 1 units 1, 3, 4 have pre-activation exactly 0; at x = −1 unit 2 has
    oracle.judge_relu_zero(ctx, oracle.EXAMPLE_P, [(1.0, 0.5), (-1.0, 2.0)], "the example p")


# ---------------------------------------------------------------------------------------------
# 2.2 relu_net.py: fit
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("fit", module="relu_net")


@check("d1", "fit(xs, ys) interpolates D1 (13 points, 3 kinks) exactly", 5, limits=FIT_LIMITS, tolerance=FIT_TOL)
def fit_d1(ctx):
    oracle.judge_fit(ctx, *oracle.D1, "D1")


@check("d2", "fit(xs, ys) interpolates D2 (11 points, 2 kinks) exactly", 5, limits=FIT_LIMITS, tolerance=FIT_TOL)
def fit_d2(ctx):
    oracle.judge_fit(ctx, *oracle.D2, "D2")


@check("deterministic", "fit(xs, ys, seed) gives the same exact fit when called twice with the same seed", 2,
       limits=FIT_LIMITS, tolerance="bit-for-bit equal parameters, and an exact fit: " + FIT_TOL)
def fit_deterministic(ctx):
    xs, ys = oracle.D2
    seed = 3
    first, second = ctx.probe("fit_twice", xs, ys, seed)
    name = f"fit(xs, ys, seed={seed}) on D2"
    p1 = oracle.fitted_params(f"first call of {name}", first)
    p2 = oracle.fitted_params(f"second call of {name}", second)
    if not np.array_equal(p1, p2):
        i = int(np.argmax(np.abs(p1 - p2)))
        raise CheckFailed(f"{name} called twice returned different parameters (entry {i}: {p1[i]:.10g} "
                          f"then {p2[i]:.10g}): draw every random number from a generator made from `seed`, "
                          "e.g. rng = np.random.default_rng(seed)")
    ok, msg = oracle.fit_report(p1, xs, ys)
    if not ok:
        raise CheckFailed(f"{name}: the same both times, but not an exact fit: {msg}")
