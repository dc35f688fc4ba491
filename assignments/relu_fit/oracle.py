"""A2 oracles and shared judges: the grader's own float64 computations (numpy, torch autograd).

Used by checks.py and hidden.py. Runs in the grader only; holds no student code and no reference
solution. A fit is judged by evaluating the returned parameters with the grader's own numpy forward
pass (`predict` below), never with the student's.
"""
from __future__ import annotations

import numpy as np

from grader.api import CheckFailed, autograd, f32_exact, judge, t64, torch

N_HIDDEN = 4
N_PARAMS = 3 * N_HIDDEN + 1
ORDER = "[w_h1..w_h4, b_h1..b_h4, w_o1..w_o4, b_o]"

# Gradients and the warm-up: |got − expected| ≤ 1e-6 + 1e-4·|expected|. float32 arithmetic (relative
# rounding ≈ 6e-8, a few operations deep) and any order of summation pass with a wide margin; every
# wrong formula in assignments/relu_fit/cases.py misses by more than 1e-2.
GRAD = dict(rtol=1e-4, atol=1e-6)
GRAD_TOL = "|got − expected| ≤ 1e-6 + 1e-4·|expected| (float32 passes)"

# An exact fit: every residual |f(x_j) − y_j| ≤ FIT_RTOL·(1 + |y_j|), f evaluated by the grader in
# float64. Why 1e-4 (details and tables in docs/relu_fit.md):
# * Rounding every parameter by a relative ε moves f(x_j) by at most ε·S_j (first order; ReLU is
#   1-Lipschitz), S_j = |b_o| + 2·Σ_{i active at x_j} |w_oi|·(|w_hi·x_j| + |b_hi|). So parameters printed to
#   8 significant digits (ε = 5e-8) are guaranteed to pass when S_j ≤ 1000·(1 + |y_j|), to 9 digits
#   (ε = 5e-9) when S_j ≤ 10000·(1 + |y_j|), float32 parameters (ε = 6e-8) when S_j ≤ 830·(1 + |y_j|).
# * Measured on 200 reference fits (seeds 0–199) of each of D1, D2 and the 4 hidden sets, and on a plain
#   fsolve loop: S_j/(1 + |y_j|) has median 30–300, 99th percentile ≤ 1600; the largest residual, as a
#   fraction of the tolerance, after printing p to 9 digits is 0.013, to 8 digits 0.16, after storing it
#   in float32 0.23: every one passes, with a margin of ≥ 75×, ≥ 6× and ≥ 4×.
# * An exact fit from fsolve has residuals ≤ 1e-9; fits that do not interpolate miss by far more than
#   the tolerance: on D1 the best least-squares fit with one kink off by 0.05 by 0.08 (off by 0.001:
#   1.5e-3), the output layer fitted by least squares at random kinks by 0.4–5, fsolve stalled after
#   an N(0, 1) guess by 0.4–6.
# * Seed spread of the graded figure, the largest residual / its tolerance (bench/seed_spread.json, fit's
#   seed 0–9): reference ≤ 7e-9 (D1), ≤ 3e-10 (D2), ≤ 5e-7 (hidden sets); loops_plain_fsolve ≤ 6e-6;
#   fit_float32_parameters ≤ 0.038; the 0.1 % bound mean + 3.09·sd is at most 0.047 of the tolerance.
FIT_RTOL = 1e-4
FIT_TOL = ("every residual |f(x_j) − y_j| ≤ 1e-4·(1 + |y_j|), f computed by the grader in float64 "
           "from your parameters; accepts parameters printed to 8 significant digits or stored in float32")

# predict: the error of a float32 forward pass scales with the size of the terms it sums, not with the
# result (f(x) may cancel to ~0): |got − f(x)| ≤ 1e-6·(1 + s(x)) + 1e-4·|f(x)| with
# s(x) = |b_o| + Σ_i |w_oi|·(|w_hi·x| + |b_hi|). float32 rounding (≈ 6e-8 per operation, a few deep)
# stays below 2e-7·s(x); a wrong formula (order of p, missing bias, another activation) misses by O(1).
PRED_TOL = ("|got − f(x)| ≤ 1e-6·(1 + s(x)) + 1e-4·|f(x)|, s(x) = |b_o| + Σᵢ|w_oᵢ|·(|w_hᵢ·x| + |b_hᵢ|) "
            "the size of the terms summed (float32 passes)")

GRAD_ORDER = "0–3 ∂/∂w_h1..4, 4–7 ∂/∂b_h1..4, 8–11 ∂/∂w_o1..4, 12 ∂/∂b_o"

EXAMPLE_P = [-1.0, 1.0, 1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0, -1.0, -1.0, -1.0, 1.0]

# The public data sets of the statement.
D1 = (np.arange(13.0), np.array([8, 6, 4, 2, 0, 2, 4, 2, 0, 2, 4, 6, 8], dtype=np.float64))
D2 = (np.arange(11.0), np.array([0, 1, 2, 3, 2, 1, 2, 3, 4, 5, 6], dtype=np.float64))

# Orders of the 13 parameters that students mix up: if the returned p fits the data when read in one
# of these orders, the message says so. Each maps the student's vector to the statement's order.
_UNITS = np.arange(N_HIDDEN)
MIXED_ORDERS = {
    "[w_h1..w_h4, w_o1..w_o4, b_h1..b_h4, b_o]": np.r_[0:4, 8:12, 4:8, 12],
    "[b_h1..b_h4, w_h1..w_h4, w_o1..w_o4, b_o]": np.r_[4:8, 0:4, 8:12, 12],
    "per unit [w_h1, b_h1, w_o1, w_h2, b_h2, w_o2, …, b_o]": np.r_[3 * _UNITS, 3 * _UNITS + 1, 3 * _UNITS + 2, 12],
    "[b_o, w_h1..w_h4, b_h1..b_h4, w_o1..w_o4]": np.r_[1:13, 0],
}


# --- the network ------------------------------------------------------------------------------------
def unpack(p: np.ndarray):
    p = np.asarray(p, dtype=np.float64)
    return p[0:4], p[4:8], p[8:12], p[12]


def predict(p, x) -> np.ndarray:
    """The grader's forward pass, torch float64: f(x) = b_o + Σ_i w_oi·max(0, w_hi·x + b_hi).

    In torch (not numpy) so that the student edition ships no numpy answer to `predict`."""
    th = torch()
    q = t64(p)
    z = t64(x).unsqueeze(-1) * q[0:4] + q[4:8]
    return (th.relu(z) @ q[8:12] + q[12]).numpy()


def term_scale(p, x) -> np.ndarray:
    """s(x) = |b_o| + Σ_i |w_oi|·(|w_hi·x| + |b_hi|): the size of the terms that predict sums."""
    w_h, b_h, w_o, b_o = unpack(p)
    return np.abs(b_o) + (np.abs(np.multiply.outer(np.asarray(x, dtype=np.float64), w_h)) + np.abs(b_h)) @ np.abs(w_o)


def close_predict(name: str, got, p, x) -> None:
    """predict's result against the grader's f(x) within PRED_TOL; a precise message otherwise."""
    expected = predict(p, x)
    arr = judge.as_array(name, got, np.shape(expected))
    allowed = 1e-6 * (1.0 + term_scale(p, x)) + 1e-4 * np.abs(expected)
    err = np.abs(arr - expected)
    bad = err > allowed
    if bad.any():
        j = np.unravel_index(np.argmax(err - allowed), np.shape(expected)) if np.ndim(expected) else ()
        where = f" at index {list(map(int, j))} (x = {float(np.asarray(x)[j]):g})" if j else ""
        raise CheckFailed(f"{name}: {int(bad.sum())} of {bad.size} values wrong; worst{where}: expected "
                          f"{float(expected[j]):.8g}, got {float(arr[j]):.8g} (abs error {float(err[j]):.2e}, "
                          f"allowed {float(allowed[j]):.2e} = 1e-6·(1 + s(x)) + 1e-4·|expected|)")


def _torch_f(p, x: float):
    th = torch()
    return p[12] + (th.relu(p[0:4] * x + p[4:8]) * p[8:12]).sum()


def loss_grad(p, x: float, y: float) -> np.ndarray:
    """d (y − f(x))² / d p by torch autograd in float64; torch's ReLU'(0) is 0."""
    _, (g,) = autograd(lambda t: (y - _torch_f(t, x)) ** 2, np.asarray(p, dtype=np.float64))
    return g



def random_params(rng: np.random.Generator, lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
    """Parameters with kinks t_i = −b_hi/w_hi in [lo, hi], slopes of both signs, float32-exact."""
    kinks = rng.uniform(lo, hi, N_HIDDEN)
    w_h = rng.choice([-1.0, 1.0], N_HIDDEN) * rng.uniform(0.5, 2.0, N_HIDDEN)
    w_o = rng.normal(0.0, 1.5, N_HIDDEN)
    b_o = rng.normal(0.0, 1.0)
    return f32_exact(np.concatenate([w_h, -w_h * kinks, w_o, [b_o]]))


def points_away_from_kinks(rng: np.random.Generator, p: np.ndarray, n: int, lo: float, hi: float,
                           margin: float = 0.25) -> np.ndarray:
    """n float32-exact points x in [lo, hi] where every pre-activation has |w_hi·x + b_hi| ≥ margin.

    Central differences (h = 1e-5) and float32 rounding then never cross a kink.
    """
    w_h, b_h, _, _ = unpack(p)
    out: list[float] = []
    while len(out) < n:
        x = float(f32_exact(rng.uniform(lo, hi)))
        if np.all(np.abs(w_h * x + b_h) >= margin):
            out.append(x)
    return np.array(out)


def targets(rng: np.random.Generator, p: np.ndarray, xs: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """float32-exact y with |y − f(x)| ≥ scale: every entry of the gradient is proportional to y − f(x),
    so a residual well away from 0 keeps float32 rounding of f small relative to it."""
    r = rng.choice([-1.0, 1.0], len(xs)) * rng.uniform(1.0, 3.0, len(xs)) * scale
    return f32_exact(predict(p, xs) + r)


# --- judges -----------------------------------------------------------------------------------------
def judge_predict(ctx, p, xs: list, label: str) -> None:
    """predict(p, x) for each x in xs (arrays of any length, floats): values and shapes."""
    got = ctx.probe("predict_each", np.asarray(p, dtype=np.float64), xs)
    if not isinstance(got, list) or len(got) != len(xs):
        raise CheckFailed("predict: the probe returned something unexpected")
    errors = []
    for x, g in zip(xs, got):
        try:
            if np.ndim(x) == 0:
                what = f"predict(p, x) for a float x = {float(x):g} ({label})"
                arr = judge.as_array(what, g)
                if arr.size != 1:
                    raise CheckFailed(f"{what}: expected one number, got shape {arr.shape}")
                close_predict(what, arr.reshape(()), p, x)
            else:
                dtype = "" if np.asarray(x).dtype == np.float64 else f" of dtype {np.asarray(x).dtype}"
                close_predict(f"predict(p, x) for x of shape {np.shape(x)}{dtype} ({label})", g, p, x)
        except CheckFailed as exc:
            errors.append(exc.message)
    if errors:
        raise CheckFailed("\n".join(errors), fraction=1 - len(errors) / len(xs))


def judge_loss_grads(ctx, p, points: list[tuple[float, float]], label: str, expected=None) -> None:
    """loss_grad(p, x, y) at each point against torch autograd (float64)."""
    got = ctx.probe("loss_grads", np.asarray(p, dtype=np.float64), [list(map(float, pt)) for pt in points])
    expected = expected or [loss_grad(p, x, y) for x, y in points]
    try:
        judge.close_each([(f"loss_grad(p, x={x:g}, y={y:g}) ({label})", g, e)
                          for (x, y), g, e in zip(points, got, expected)], **GRAD)
    except CheckFailed as exc:
        hint = f"\n(entries in the order of p: {GRAD_ORDER})"
        try:
            if all(np.allclose(-np.asarray(g, dtype=np.float64), e, rtol=1e-4, atol=1e-6)
                   for g, e in zip(got, expected)):
                hint += "\nEvery entry has the wrong sign: d(y − f)²/dp = −2·(y − f)·df/dp."
        except (TypeError, ValueError):
            pass
        raise CheckFailed(exc.message + hint, fraction=exc.fraction) from None


def judge_relu_zero(ctx, p, points: list[tuple[float, float]], label: str) -> None:
    """At points where some pre-activation is exactly 0, those units' 3 gradient entries must be
    exactly 0 (ReLU'(0) = 0, and ReLU(0) = 0 makes d/dw_o zero too); the rest as GRAD."""
    p = np.asarray(p, dtype=np.float64)
    got = ctx.probe("loss_grads", p, [list(map(float, pt)) for pt in points])
    w_h, b_h, _, _ = unpack(p)
    for (x, y), g in zip(points, got):
        z = w_h * x + b_h
        zero_units = np.flatnonzero(z == 0)
        assert zero_units.size, "a ReLU'(0) point needs a zero pre-activation"
        what = f"loss_grad(p, x={x:g}, y={y:g}) ({label})"
        g = judge.as_array(what, g, (N_PARAMS,))
        idx = np.concatenate([zero_units, zero_units + 4, zero_units + 8])
        names = {i: n for i, n in zip(range(N_PARAMS), [f"dw_h{k}" for k in range(1, 5)] +
                                      [f"db_h{k}" for k in range(1, 5)] + [f"dw_o{k}" for k in range(1, 5)] + ["db_o"])}
        bad = [i for i in idx if g[i] != 0]
        if bad:
            units = ", ".join(str(u + 1) for u in zero_units)
            shown = ", ".join(f"{names[i]} = {g[i]:.6g}" for i in bad[:4])
            raise CheckFailed(f"{what}: hidden unit(s) {units} have pre-activation w_h·x + b_h exactly 0 there, "
                              f"and ReLU'(0) = 0, so their gradient entries must be exactly 0; got {shown}")
        try:
            judge.close(what, g, loss_grad(p, x, y), **GRAD)
        except CheckFailed as exc:
            raise CheckFailed(exc.message + f" (entries in the order of p: {GRAD_ORDER})") from None


def fit_report(p, xs, ys) -> tuple[bool, str]:
    """(passes, message) for fitted parameters p on the points (xs, ys), by the grader's predict."""
    residual = np.abs(predict(p, xs) - ys)
    allowed = FIT_RTOL * (1.0 + np.abs(ys))
    bad = residual > allowed
    if not bad.any():
        return True, ""
    j = int(np.argmax(residual / allowed))
    f = predict(p, xs[j])
    msg = (f"{int(bad.sum())} of {len(xs)} points not fitted; worst at x = {xs[j]:g}: y = {ys[j]:g}, "
           f"f(x) = {f:.8g} (residual {residual[j]:.2e}, allowed 1e-4·(1 + |y|) = {allowed[j]:.1e}). "
           f"The grader computes f with its own forward pass from your p in the order {ORDER}")
    for name, perm in MIXED_ORDERS.items():
        q = np.asarray(p, dtype=np.float64)[perm]
        if np.all(np.abs(predict(q, xs) - ys) <= FIT_RTOL * (1.0 + np.abs(ys))):
            msg += f"; your p does fit the data when read in the order {name}: return it in the order {ORDER}"
            break
    else:
        if residual.max() < 1e-2 * (1.0 + np.abs(ys).max()):
            msg += ("; close, but not exact: an exact fit solves f(x_j) = y_j to ~1e-10 (did fsolve converge? "
                    "check the residuals before returning and restart if they are not ~0)")
    return False, msg


def fitted_params(name: str, got) -> np.ndarray:
    """The returned p as 13 finite float64 numbers, or CheckFailed saying what is wrong with it."""
    if isinstance(got, list) and 2 <= len(got) <= 4 and isinstance(got[0], np.ndarray) and got[0].size == N_PARAMS:
        # e.g. fsolve's full_output (x, infodict, ier, mesg) passed on
        raise CheckFailed(f"{name}: returned a tuple of {len(got)}; return only p (an array of {N_PARAMS})")
    return judge.as_array(f"{name} (the parameters p, {N_PARAMS} numbers in the order {ORDER})", got, (N_PARAMS,))


def judge_fit(ctx, xs, ys, label: str, seed: int = 0) -> None:
    name = f"fit(xs, ys, seed={seed}) on {label}"
    p = fitted_params(name, ctx.probe("fit", xs, ys, seed))
    ok, msg = fit_report(p, xs, ys)
    if not ok:
        raise CheckFailed(f"{name}: {msg}")
