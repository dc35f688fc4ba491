"""Wrong A2 submissions, each made by one edit of the reference solution, with the checks that must catch it.

Every check of the assignment appears in some `catches` set (tests/test_relu_fit_checks.py asserts it):
a check that no wrong submission fails would be a defect.
"""
from __future__ import annotations

from backprop_mutants import Mutant

W, R = "warmup.py", "relu_net.py"
FIT_ALL = {"fit.d1", "fit.d2", "fit.deterministic", "fit.hidden_sets", "fit.other_seeds"}

MUTANTS = [
    # 2.1 warmup.py
    Mutant("sq_norm_grad_no_factor_2", W, "return 2 * np.asarray(x)", "return np.asarray(x)",
           {"warmup.sq_norm_grad", "warmup.shapes"}),
    Mutant("sq_norm_grad_flattens", W, "return 2 * np.asarray(x)", "return 2 * np.ravel(x)", {"warmup.shapes"}),
    Mutant("mean_of_columns", W, "return np.mean(np.asarray(X), axis=0)", "return np.mean(np.asarray(X), axis=1)",
           {"warmup.mean_minimizer", "warmup.shapes"}),
    Mutant("l1_loss_squared", W, "np.sum(np.abs(", "np.sum(np.square(",
           {"warmup.l1_loss", "warmup.l1_sign_zero", "warmup.shapes"}),
    Mutant("l1_subgradient_no_sign", W, "return X.T @ np.sign(X @ np.asarray(w) - np.asarray(y))",
           "return X.T @ (X @ np.asarray(w) - np.asarray(y))",
           {"warmup.l1_subgradient", "warmup.l1_sign_zero", "warmup.shapes"}),
    Mutant("sign_of_zero_is_one", W, "return X.T @ np.sign(X @ np.asarray(w) - np.asarray(y))",
           "return X.T @ np.where(X @ np.asarray(w) - np.asarray(y) >= 0, 1.0, -1.0)", {"warmup.l1_sign_zero"}),
    # 2.2 relu_net.py: predict, loss_grad
    Mutant("parameter_order_mixed_up", R, "return p[0:4], p[4:8], p[8:12], p[12]",
           "return p[0:4], p[8:12], p[4:8], p[12]",
           {"relu_net.predict_example", "relu_net.predict_random", "relu_net.predict_hidden", "relu_net.loss_grad",
            "relu_net.loss_grad_fd", "relu_net.relu_prime_zero", "relu_net.relu_prime_zero_hidden"}),
    # (its fit fails too, after 2000 restarts of ~2 ms: the Jacobian no longer matches; a fit returned in
    # another order is tested with its message in tests/test_relu_fit_checks.py)
    Mutant("relu_prime_zero_is_one", R, "active = (z > 0).astype(np.float64)            # ReLU'(z)",
           "active = (z >= 0).astype(np.float64)            # ReLU'(z)",
           {"relu_net.relu_prime_zero", "relu_net.relu_prime_zero_hidden"}),
    Mutant("gradient_sign_flipped", R, "r = b_o + h @ w_o - y", "r = y - b_o - h @ w_o",
           {"relu_net.loss_grad", "relu_net.loss_grad_fd"}),
    Mutant("gradient_w_h_missing_x", R, "d_wh = d_bh * x", "d_wh = d_bh",
           {"relu_net.loss_grad", "relu_net.loss_grad_fd"}),
    Mutant("predict_array_only", R, "z = np.multiply.outer(xa, w_h) + b_h", "z = xa[:, None] * w_h + b_h",
           {"relu_net.predict_hidden"}),
    Mutant("predict_without_bias", R, "out = np.maximum(z, 0.0) @ w_o + b_o", "out = np.maximum(z, 0.0) @ w_o",
           {"relu_net.predict_example", "relu_net.predict_random", "relu_net.predict_hidden"}),
    # 2.2 relu_net.py: fit
    Mutant("fit_only_approximately_right", R, "            return p\n", "            return p * (1 + 1e-4)\n",
           FIT_ALL),
    Mutant("fit_least_squares_not_exact", R,
           "p, _info, _ier, _msg = fsolve(residuals, p0, fprime=jac, full_output=True, xtol=1e-13)\n"
           "        if np.all(np.isfinite(p)) and np.max(np.abs(predict(p, xs) - ys)) <= target:",
           "p = p0  # least squares for w_o, b_o at random kinks: close, but not through every point\n"
           "        if True:", FIT_ALL),
    Mutant("fit_returns_nan", R, "            return p\n", "            return np.full_like(p, np.nan)\n", FIT_ALL),
    Mutant("fit_wrong_length", R, "            return p\n", "            return p[:12]\n", FIT_ALL),
    Mutant("fit_not_seeded", R, "rng = np.random.default_rng(seed)", "rng = np.random.default_rng()",
           {"fit.deterministic"}),
    Mutant("fit_assumes_x_is_0_to_n", R, "xs = np.asarray(xs, dtype=np.float64).ravel()",
           "xs = np.arange(len(ys), dtype=np.float64)", {"fit.hidden_sets"}),
]
