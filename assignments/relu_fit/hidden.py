"""A2 hidden checks: instructor grading only (`grade check --hidden`, `grade batch`).

Never shipped to students. Inputs come from the check's RNG (seeded by the assignment seed and the
check id); expected values are computed here by oracles, never stored. The hidden data sets for `fit`
are built from known parameters, so four ReLUs fit each of them exactly.
"""
from __future__ import annotations

import numpy as np

from grader.api import CheckFailed, CheckList, Visibility, autograd, central_diff, judge, t64

from . import oracle
from .checks import FIT_LIMITS, l1_problem
from .oracle import FIT_TOL, GRAD, GRAD_TOL, PRED_TOL

CHECKS = CheckList(Visibility.HIDDEN)

# --- 2.1 warmup ------------------------------------------------------------------------------------
check = CHECKS.task("warmup", module="warmup")


@check("l1_sign_zero", "l1_subgradient uses sign(0) = 0 where a residual Xw − y is exactly 0", 2,
       tolerance="exact inputs (small integers): rows with a zero residual contribute nothing; " + GRAD_TOL)
def warmup_l1_sign_zero(ctx):
    rng = ctx.rng
    X = rng.integers(-3, 4, size=(7, 3)).astype(np.float64)
    w = rng.integers(-2, 3, size=3).astype(np.float64)
    y = X @ w + rng.choice([-2.0, -1.0, 1.0, 2.0], size=7)
    y[[1, 4, 5]] = (X @ w)[[1, 4, 5]]  # residuals exactly 0 in any precision (small integers)
    _, (expected,) = autograd(lambda wt: (t64(X) @ wt - t64(y)).abs().sum(), w)  # torch: sign(0) = 0
    got = ctx.probe("call", "warmup", "l1_subgradient", X, w, y)
    try:
        judge.close("l1_subgradient(X, w, y) with residuals exactly 0 in rows 1, 4, 5", got, expected, **GRAD)
    except CheckFailed as exc:
        raise CheckFailed(exc.message + " (the subgradient takes sign(0) = 0, as np.sign does)") from None
    l1 = np.abs(X @ w - y).sum()
    judge.close("l1_loss(X, w, y) with residuals exactly 0 in rows 1, 4, 5",
                ctx.probe("call", "warmup", "l1_loss", X, w, y), l1, **GRAD)


@check("shapes", "warm-up functions on other shapes: a matrix x, a single row, wide X, large values", 3,
       tolerance=GRAD_TOL)
def warmup_shapes(ctx):
    rng = ctx.rng
    x = rng.normal(0, 3, size=(3, 4))  # ∇‖x‖² (Frobenius) has the shape of x
    one_row = oracle.f32_exact(rng.normal(0, 1e3, size=(1, 5)))
    tall = oracle.f32_exact(rng.normal(5e3, 1.0, size=(40, 2)))  # large mean, small spread
    Xw, w, y = l1_problem(rng, 3, 6)  # wide: fewer rows than columns
    _, (g,) = autograd(lambda wt: (t64(Xw) @ wt - t64(y)).abs().sum(), w)
    judge.close_each([
        ("sq_norm_grad(x), x of shape (3, 4)", ctx.probe("call", "warmup", "sq_norm_grad", x), 2 * x),
        ("mean_minimizer(X), X of shape (1, 5) (one row)", ctx.probe("call", "warmup", "mean_minimizer", one_row),
         one_row[0]),
        ("mean_minimizer(X), X of shape (40, 2), values ≈ 5e3", ctx.probe("call", "warmup", "mean_minimizer", tall),
         tall.mean(axis=0)),
        ("l1_loss(X, w, y), X of shape (3, 6)", ctx.probe("call", "warmup", "l1_loss", Xw, w, y),
         np.abs(Xw @ w - y).sum()),
        ("l1_subgradient(X, w, y), X of shape (3, 6)", ctx.probe("call", "warmup", "l1_subgradient", Xw, w, y), g),
    ], **GRAD)


# --- 2.2 relu_net ------------------------------------------------------------------------------------
check = CHECKS.task("relu_net", module="relu_net")


@check("predict_hidden", "predict on hidden parameters: a float x, one point, 1000 points, integer x", 3,
       tolerance=PRED_TOL + "; a float x may give a float or an array of one")
def relu_predict_hidden(ctx):
    rng = ctx.rng
    p = oracle.f32_exact(oracle.random_params(rng, -10.0, 10.0) * np.r_[np.ones(8), 3, 3, 3, 3, 5])
    xs = [float(oracle.f32_exact(rng.uniform(-8, 8))), oracle.f32_exact(rng.uniform(-8, 8, size=1)),
          oracle.f32_exact(rng.uniform(-20, 20, size=1000)), np.arange(-6, 7)]
    oracle.judge_predict(ctx, p, xs, "hidden p")


@check("loss_grad_fd", "loss_grad agrees with central finite differences (float64, h = 1e-5) at hidden points", 3,
       tolerance=GRAD_TOL + "; points at least 0.25 away from every kink (central differences exact to ~1e-9 there)")
def relu_loss_grad_fd(ctx):
    rng = ctx.rng
    failures, total = [], 0
    for scale in (1.0, 4.0):
        p = oracle.random_params(rng, -2.0 * scale, 2.0 * scale)
        xs = oracle.points_away_from_kinks(rng, p, 4, -3.0 * scale, 3.0 * scale)
        points = list(zip(xs, oracle.targets(rng, p, xs, scale)))
        # the grader's own float64 forward pass in numpy: independent of torch
        expected = [central_diff(lambda ps, x=x, y=y: float((y - oracle.predict(ps[0], x)) ** 2), [p])[0]
                    for x, y in points]
        total += 1
        try:
            oracle.judge_loss_grads(ctx, p, points, f"hidden p, kinks within ±{2 * scale:g}", expected=expected)
        except CheckFailed as exc:
            failures.append(exc.message)
    if failures:
        raise CheckFailed("\n".join(failures), fraction=1 - len(failures) / total)


@check("relu_prime_zero_hidden", "ReLU'(0) = 0 at hidden points where several pre-activations are exactly 0", 2,
       tolerance="exact: the entries of units with w_h·x + b_h == 0 must be 0; the rest " + GRAD_TOL)
def relu_prime_zero_hidden(ctx):
    rng = ctx.rng
    # dyadic numbers with few bits: w_h·x + b_h is exactly 0 in float32 and float64, in any order
    x = float(rng.choice([-1.5, -0.75, 0.75, 1.25, 2.5]))
    w_h = rng.choice([-2.0, -1.5, -0.5, 0.5, 1.0, 2.0], 4)
    zero = rng.permutation(4)[:2]
    b_h = -w_h * x + rng.choice([-1.0, -0.5, 0.5, 1.0], 4)
    b_h[zero] = -w_h[zero] * x
    w_o = rng.choice([-2.0, -1.0, 1.0, 1.5], 4)
    p = np.concatenate([w_h, b_h, w_o, [0.25]])
    y = float(oracle.predict(p, x)) + 1.5  # a nonzero residual, so that ReLU'(0) matters
    oracle.judge_relu_zero(ctx, p, [(x, y), (x, y - 3.0)], "hidden p")


# --- 2.2 fit -----------------------------------------------------------------------------------------
check = CHECKS.task("fit", module="relu_net")

# Hidden data sets, D1/D2-like: (number of points, x step, number of kinks). Built from known
# parameters with slopes in {±1, ±2, ±3}, kinks at interior points at least two steps apart and from
# the ends, |y| ≤ 12, x starting anywhere in [−4, 3]·step. A plain fsolve loop from guesses with
# kinks inside the data range solves them about as fast as D1 (tests/test_relu_fit_checks.py).
HIDDEN_LAYOUTS = [(13, 1.0, 3), (13, 0.5, 3), (11, 1.0, 2), (10, 1.0, 2)]
SLOPES = [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0]


def piecewise_linear_set(rng: np.random.Generator, n: int, h: float, n_kinks: int):
    """(xs, ys, p_true): a sequence four ReLUs fit exactly, with the parameters that fit it."""
    while True:
        xs = float(rng.integers(-4, 4)) * h + h * np.arange(n)
        while True:
            idx = np.sort(rng.choice(np.arange(2, n - 2), n_kinks, replace=False))
            if np.all(np.diff(idx) >= 2):
                break
        slopes = [float(rng.choice(SLOPES))]
        for _ in range(n_kinks):
            slopes.append(float(rng.choice([s for s in SLOPES if s != slopes[-1]])))
        changes = np.diff(slopes)
        w_h, b_h, w_o = np.zeros(4), np.zeros(4), np.zeros(4)
        dirs = rng.choice([-1.0, 1.0], n_kinks)
        for j in range(n_kinks):  # w_o·relu(±(x − t)): the slope jumps by w_o at t, either way round
            w_h[j], b_h[j], w_o[j] = dirs[j], -dirs[j] * xs[idx[j]], changes[j]
        # a unit with its kink left of the data carries the slope there
        w_h[n_kinks], b_h[n_kinks] = 1.0, 1.0 - xs[0]
        w_o[n_kinks] = slopes[0] + sum(changes[j] for j in range(n_kinks) if dirs[j] < 0)
        if n_kinks < 3:  # a spare unit, dead on the data
            w_h[3], b_h[3], w_o[3] = -1.0, xs[0] - 1.0, 1.0
        p = np.concatenate([w_h, b_h, w_o, [0.0]])
        p[12] = float(rng.integers(-4, 9)) - oracle.predict(p, xs[0])
        ys = oracle.predict(p, xs)
        if np.max(np.abs(ys)) <= 12:
            return xs, ys, p


def hidden_sets(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for layout in HIDDEN_LAYOUTS:
        xs, ys, p = piecewise_linear_set(rng, *layout)
        assert np.max(np.abs(oracle.predict(p, xs) - ys)) == 0  # fittable by construction
        out.append((xs, ys))
    return out


@check("hidden_sets", "fit interpolates 4 hidden piecewise-linear data sets exactly (10–13 points, other x ranges)",
       8, limits=FIT_LIMITS, tolerance=FIT_TOL + "; partial credit per data set")
def fit_hidden_sets(ctx):
    sets = hidden_sets(ctx.rng)
    failures = []
    for k, (xs, ys) in enumerate(sets, 1):
        label = f"hidden set {k} ({len(xs)} points, x from {xs[0]:g} to {xs[-1]:g})"
        try:
            oracle.judge_fit(ctx, xs, ys, label)
        except CheckFailed as exc:
            failures.append(exc.message)
    if failures:
        raise CheckFailed(f"{len(failures)} of {len(sets)} hidden data sets not fitted exactly:\n"
                          + "\n".join(failures), fraction=1 - len(failures) / len(sets))


@check("other_seeds", "fit finds an exact fit of D1 and D2 with other seeds too", 3, limits=FIT_LIMITS,
       tolerance=FIT_TOL)
def fit_other_seeds(ctx):
    cases = [(oracle.D1, "D1", 7), (oracle.D2, "D2", 11)]
    failures = []
    for (xs, ys), label, seed in cases:
        try:
            oracle.judge_fit(ctx, xs, ys, label, seed=seed)
        except CheckFailed as exc:
            failures.append(exc.message)
    if failures:
        raise CheckFailed("\n".join(failures), fraction=1 - len(failures) / len(cases))
