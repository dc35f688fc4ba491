"""A2 relu_fit: the registered wrong submissions and correct variants (grader/instructor/selftest/cases.py).

`grade selftest relu_fit` and tests/test_relu_fit_checks.py both use them. Every wrong submission is one
edit of the reference solution with the checks that must catch it; every check of the
assignment appears in some `catches` set: a check that no wrong submission fails is a defect.
Never shipped to students (it holds pieces of the solution).
"""
from __future__ import annotations

from grader.instructor.selftest.cases import Variant, Wrong

W, R = "warmup.py", "relu_net.py"
FIT_ALL = {"fit.d1", "fit.d2", "fit.deterministic", "fit.hidden_sets", "fit.other_seeds"}

WRONG = [
    # 2.1 warmup.py
    Wrong("sq_norm_grad_no_factor_2", W, "return 2 * np.asarray(x)", "return np.asarray(x)",
          {"warmup.sq_norm_grad", "warmup.shapes"}),
    Wrong("sq_norm_grad_flattens", W, "return 2 * np.asarray(x)", "return 2 * np.ravel(x)", {"warmup.shapes"}),
    Wrong("mean_of_columns", W, "return np.mean(np.asarray(X), axis=0)", "return np.mean(np.asarray(X), axis=1)",
          {"warmup.mean_minimizer", "warmup.shapes"}),
    Wrong("l1_loss_squared", W, "np.sum(np.abs(", "np.sum(np.square(",
          {"warmup.l1_loss", "warmup.l1_sign_zero", "warmup.shapes"}),
    Wrong("l1_subgradient_no_sign", W, "return X.T @ np.sign(X @ np.asarray(w) - np.asarray(y))",
          "return X.T @ (X @ np.asarray(w) - np.asarray(y))",
          {"warmup.l1_subgradient", "warmup.l1_sign_zero", "warmup.shapes"}),
    Wrong("sign_of_zero_is_one", W, "return X.T @ np.sign(X @ np.asarray(w) - np.asarray(y))",
          "return X.T @ np.where(X @ np.asarray(w) - np.asarray(y) >= 0, 1.0, -1.0)", {"warmup.l1_sign_zero"}),
    # 2.2 relu_net.py: predict, loss_grad
    Wrong("parameter_order_mixed_up", R, "return p[0:4], p[4:8], p[8:12], p[12]",
          "return p[0:4], p[8:12], p[4:8], p[12]",
          {"relu_net.predict_example", "relu_net.predict_random", "relu_net.predict_hidden", "relu_net.loss_grad",
            "relu_net.loss_grad_fd", "relu_net.relu_prime_zero", "relu_net.relu_prime_zero_hidden"}),
    # (its fit fails too, after 2000 restarts of ~2 ms: the Jacobian no longer matches; a fit returned in
    # another order is tested with its message in tests/test_relu_fit_checks.py)
    Wrong("relu_prime_zero_is_one", R, "active = (z > 0).astype(np.float64)            # ReLU'(z)",
          "active = (z >= 0).astype(np.float64)            # ReLU'(z)",
          {"relu_net.relu_prime_zero", "relu_net.relu_prime_zero_hidden"}),
    Wrong("gradient_sign_flipped", R, "r = b_o + h @ w_o - y", "r = y - b_o - h @ w_o",
          {"relu_net.loss_grad", "relu_net.loss_grad_fd"}),
    Wrong("gradient_w_h_missing_x", R, "d_wh = d_bh * x", "d_wh = d_bh",
          {"relu_net.loss_grad", "relu_net.loss_grad_fd"}),
    Wrong("predict_array_only", R, "z = np.multiply.outer(xa, w_h) + b_h", "z = xa[:, None] * w_h + b_h",
          {"relu_net.predict_hidden"}),
    Wrong("predict_without_bias", R, "out = np.maximum(z, 0.0) @ w_o + b_o", "out = np.maximum(z, 0.0) @ w_o",
          {"relu_net.predict_example", "relu_net.predict_random", "relu_net.predict_hidden"}),
    # 2.2 relu_net.py: fit
    Wrong("fit_only_approximately_right", R, "            return p\n", "            return p * (1 + 1e-4)\n",
          FIT_ALL),
    Wrong("fit_least_squares_not_exact", R,
          "p, _info, _ier, _msg = fsolve(residuals, p0, fprime=jac, full_output=True, xtol=1e-13)\n"
          "        if np.all(np.isfinite(p)) and np.max(np.abs(predict(p, xs) - ys)) <= target:",
          "p = p0  # least squares for w_o, b_o at random kinks: close, but not through every point\n"
          "        if True:", FIT_ALL),
    Wrong("fit_returns_nan", R, "            return p\n", "            return np.full_like(p, np.nan)\n", FIT_ALL),
    Wrong("fit_wrong_length", R, "            return p\n", "            return p[:12]\n", FIT_ALL),
    Wrong("fit_not_seeded", R, "rng = np.random.default_rng(seed)", "rng = np.random.default_rng()",
          {"fit.deterministic"}),
    Wrong("fit_assumes_x_is_0_to_n", R, "xs = np.asarray(xs, dtype=np.float64).ravel()",
          "xs = np.arange(len(ys), dtype=np.float64)", {"fit.hidden_sets"}),
]

FLOAT32 = [
    ("warmup.py", "return 2 * np.asarray(x)", "return 2 * np.asarray(x, dtype=np.float32)"),
    ("warmup.py", "return np.mean(np.asarray(X), axis=0)", "return np.mean(np.asarray(X, dtype=np.float32), axis=0)"),
    ("warmup.py", "return float(np.sum(np.abs(np.asarray(X) @ np.asarray(w) - np.asarray(y))))",
     "return float(np.sum(np.abs(np.float32(X) @ np.float32(w) - np.float32(y))))"),
    ("warmup.py", "X = np.asarray(X)\n", "X = np.asarray(X, dtype=np.float32)\n"),
    ("relu_net.py", "p = np.asarray(p, dtype=np.float64)", "p = np.asarray(p, dtype=np.float32)"),
    ("relu_net.py", "xa = np.asarray(x, dtype=np.float64)", "xa = np.asarray(x, dtype=np.float32)"),
    ("relu_net.py", "x = float(x)", "x, y = np.float32(x), np.float32(y)"),
]


def _fit_returns(expr: str) -> tuple:
    """The reference's fit returning `expr` of its exact parameters `p` instead of `p`."""
    return (R, "            return p\n", f"            return {expr}\n")


VARIANTS = [
    Variant("float32", edits=FLOAT32, tasks=["warmup", "relu_net"], note="float32 arithmetic"),
    Variant("loops_plain_fsolve", overlay="loops",
            note="loops everywhere, lists returned, and a plain fit (finite differences, zero padding, other "
                 "initial guesses): another valid fit of every data set, hidden ones included"),
    # a permutation of the four hidden units is another exact fit
    Variant("fit_units_permuted", edits=[_fit_returns("p[np.r_[[2, 0, 3, 1], [6, 4, 7, 5], [10, 8, 11, 9], 12]]")],
            tasks=["fit"]),
    # unit 1 scaled by 8 (w_h, b_h) and 1/8 (w_o): the same function; printed to 8 significant digits
    Variant("fit_rescaled_printed_8_digits", tasks=["fit"], edits=[_fit_returns(
        'np.array([float(f"{v:.7e}") for v in p * np.r_[8, 1, 1, 1, 8, 1, 1, 1, 0.125, 1, 1, 1, 1]])')]),
    Variant("fit_float32_parameters", edits=[_fit_returns("p.astype(np.float32)")], tasks=["fit"]),
    Variant("fit_other_seed_stream", tasks=["fit"],
            edits=[(R, "rng = np.random.default_rng(seed)", "rng = np.random.default_rng(seed + 12345)")]),
]

# Automatic mutants (grader/instructor/selftest/mutate.py) that behave like the reference: never survivors.
# (`grade selftest relu_fit` lists the survivors; each of these was read and argued, not assumed)
_FIT_INTERNALS = "the fit's own search (fsolve's Jacobian, initial guess, stopping tolerance, restarts): " \
                 "another search that still ends at an exact fit; the checks judge the fit, not the search"
EQUIVALENT = {
    "warmup.py:l1_loss:swap-operands:0": "|Xw − y| = |y − Xw|: the same L1 loss",
    "relu_net.py:loss_grad:swap-operands:1": "h @ w_o = w_o @ h for the 1-D vectors h and w_o (a dot product)",
    **{f"relu_net.py:{mid}": _FIT_INTERNALS for mid in (
        "_jacobian:compare:0", "_jacobian:constant:1", "_jacobian:reduction:0",
        "_initial_guess:constant:0", "_initial_guess:drop-factor:1", "_initial_guess:arith:1",
        "_initial_guess:constant:1", "_initial_guess:reduction:2",
        "fit:arith:0", "fit:constant:0", "fit:constant:1", "fit:drop-factor:0", "fit:drop-term:0",
        "fit:drop-term:1", "fit:reduction:0", "fit:range:0", "fit:compare:1", "fit:swap-operands:0")},
}

# The lowest mutation score (percent) each task may have: `grade selftest relu_fit --floors` (CI's
# rotating self-test) fails under it. Today's measured scores, with FashionMNIST (docs/selftest.md).
FLOORS = {"warmup": 100, "relu_net": 100, "fit": 100}
