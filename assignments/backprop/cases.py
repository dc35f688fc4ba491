"""A1 backprop: the registered wrong submissions and correct variants (grader/instructor/selftest/cases.py).

`grade selftest backprop` and tests/test_backprop_checks.py both use them. Every wrong submission is one
edit of the reference solution with the checks that must catch it; every check of the
assignment appears in some `catches` set: a check that no wrong submission fails is a defect.
Never shipped to students (it holds pieces of the solution).
"""
from __future__ import annotations

from grader.instructor.selftest.cases import Variant, Wrong

WRONG = [
    # 1.1 softmax.py
    Wrong("softmax_no_max_shift", "softmax.py", "z = o - np.max(o, axis=-1, keepdims=True)", "z = o",
          {"softmax.stable", "softmax.rows_scale"}),
    Wrong("softmax_wrong_axis", "softmax.py", "return e / np.sum(e, axis=-1, keepdims=True)",
          "return e / np.sum(e, axis=0, keepdims=True)", {"softmax.values"}),
    Wrong("jacobian_diagonal_only", "softmax.py", "return np.diag(y) - np.outer(y, y)",
          "return np.diag(y * (1 - y))", {"softmax.jacobian", "softmax.jacobian_hidden"}),
    Wrong("cross_entropy_sum_not_mean", "softmax.py", "return float(np.mean(lse - o[np.arange(n), t]))",
          "return float(np.sum(lse - o[np.arange(n), t]))",
          {"softmax.cross_entropy", "softmax.cross_entropy_hidden"}),
    Wrong("cross_entropy_unstable", "softmax.py", "m = np.max(o, axis=1, keepdims=True)",
          "m = np.zeros((o.shape[0], 1))", {"softmax.cross_entropy", "softmax.cross_entropy_hidden"}),
    Wrong("cross_entropy_grad_no_mean", "softmax.py", "return d / n", "return d",
          {"softmax.cross_entropy_grad", "softmax.cross_entropy_hidden"}),
    Wrong("cross_entropy_grad_by_autograd", "softmax.py", """    d = softmax(o)
    d[np.arange(n), t] -= 1.0  # subtract the one-hot target in place
    # the loss is a mean over the batch, so every row's gradient carries the 1/N
    return d / n""", """    torch = __import__("importlib").import_module("tor" + "ch")  # lazy, computed name
    x = torch.tensor(o, requires_grad=True)
    torch.nn.functional.cross_entropy(x, torch.tensor(t)).backward()
    return x.grad.numpy()""", {"softmax.by_hand"}),
    # 1.2 scalar_backprop.py
    Wrong("scalar_uses_numpy", "scalar_backprop.py", "import math\n", "import math\nimport numpy as np\n",
          {"scalar.plain_python"}),
    Wrong("scalar_exec_import_numpy", "scalar_backprop.py", "import math\n",
          "import math\nexec('import num' + 'py as np')\n", {"scalar.plain_python"}),
    Wrong("scalar_numpy_via_sys_modules", "scalar_backprop.py", "h = [_sigmoid(v) for v in k1]",
          "h = [float(v) for v in __import__('sys').modules['numpy'].tanh(k1) * 0.5 + 0.5]",
          {"scalar.plain_python"}),
    Wrong("scalar_tanh_not_sigmoid", "scalar_backprop.py", "h = [_sigmoid(v) for v in k1]",
          "h = [math.tanh(v) for v in k1]",
          {"scalar.forward_example", "scalar.backward_example", "scalar.random_nets"}),
    Wrong("scalar_forward_no_bias", "scalar_backprop.py", "k1 = [float(b[j]) + sum(", "k1 = [0.0 + sum(",
          {"scalar.random_nets"}),
    Wrong("scalar_backward_sign", "scalar_backprop.py", "dk2 = [y[m] - (1.0 if m == target else 0.0)",
          "dk2 = [(1.0 if m == target else 0.0) - y[m]",
          {"scalar.backward_example", "scalar.random_nets", "scalar.train_synthetic"}),
    Wrong("scalar_loss_log10", "scalar_backprop.py", "return -math.log(p) if", "return -math.log10(p) if",
          {"scalar.loss"}),
    Wrong("scalar_sgd_ascent", "scalar_backprop.py", "return [pi - lr * gi for", "return [pi + lr * gi for",
          {"scalar.sgd_step"}),
    Wrong("scalar_sgd_in_place", "scalar_backprop.py", "        return [pi - lr * gi for pi, gi in zip(p, g)]",
          "        p[:] = [pi - lr * gi for pi, gi in zip(p, g)]  # the caller's lists, changed\n        return p",
          {"scalar.sgd_step"}),
    Wrong("scalar_train_reports_sum", "scalar_backprop.py", "losses.append(total / max(len(X), 1))",
          "losses.append(total)", {"scalar.train_synthetic", "scalar.train_hidden"}),
    Wrong("scalar_train_no_update", "scalar_backprop.py", "params = sgd_step(params, grads, lr)", "pass",
          {"scalar.train_synthetic", "scalar.train_hidden"}),
    # 1.3 layers.py
    Wrong("linear_db_mean", "layers.py", "self.db = dY2.sum(axis=0)", "self.db = dY2.mean(axis=0)",
          {"layers.linear", "layers.batch_sizes"}),
    Wrong("sigmoid_backward_missing_factor", "layers.py", "return dY * self.Y * (1.0 - self.Y)",
          "return dY * self.Y",
          {"layers.sigmoid", "layers.batch_sizes", "mlp.example", "mlp.gradient_fd", "mlp.gradients_deep"},
          tasks=("layers", "mlp")),
    Wrong("relu_grad_one_at_zero", "layers.py", "self.mask = X > 0", "self.mask = X >= 0",
          {"layers.relu_at_zero"}),
    Wrong("relu_backward_passes_all", "layers.py", "return np.where(self.mask, dY, 0.0)", "return dY",
          {"layers.relu", "mlp.gradients"}, tasks=("layers", "mlp")),
    Wrong("softmax_layer_diagonal_jacobian", "layers.py", ' - np.einsum("ni,nj->nij", Y, Y)', "",
          {"layers.softmax", "layers.batch_sizes", "mlp.gradients"}, tasks=("layers", "mlp")),
    Wrong("softmax_layer_unstable", "layers.py", "e = np.exp(X - X.max(axis=-1, keepdims=True))",
          "e = np.exp(X)", {"layers.softmax_large"}),
    Wrong("mse_no_half", "layers.py", "return float(0.5 * np.sum(self.diff ** 2) / self.n)",
          "return float(np.sum(self.diff ** 2) / self.n)", {"layers.mse", "mlp.example"},
          tasks=("layers", "mlp")),
    Wrong("softmax_layer_loops_over_rows", "layers.py",
          '        dX = np.einsum("nij,ni->nj", J, dY2)  # chain rule: dL/dX_j = sum_i dL/dY_i * dY_i/dX_j',
          "        dX = np.stack([J[n].T @ dY2[n] for n in range(len(Y))])  # one row at a time",
          {"layers.vectorised"}),
    Wrong("softmax_layer_min_shift", "layers.py", "e = np.exp(X - X.max(axis=-1, keepdims=True))",
          "e = np.exp(X - X.min(axis=-1, keepdims=True))", {"layers.softmax_large"}),
    Wrong("mse_mean_over_all_entries", "layers.py", "return float(0.5 * np.sum(self.diff ** 2) / self.n)",
          "return float(np.mean(self.diff ** 2))", {"layers.mse", "layers.by_hand"}),
    Wrong("cross_entropy_loss_no_clip", "layers.py", "self.p = np.maximum(pred, np.finfo(pred.dtype).tiny)",
          "self.p = pred", {"layers.softmax_large"}),
    Wrong("cross_entropy_loss_not_implemented", "layers.py", "        pred = _as_float(pred)\n        target = np.asarray(target)",
          "        raise NotImplementedError('CrossEntropyLoss: one-hot targets are not handled yet')",
          {"layers.cross_entropy", "layers.softmax_large"}),
    Wrong("cross_entropy_loss_grad_sign", "layers.py", "return -self.t / (self.n * self.p)",
          "return self.t / (self.n * self.p)", {"layers.cross_entropy", "mlp.train_history"},
          tasks=("layers", "mlp")),
    Wrong("linear_backward_by_torch_autograd", "layers.py", """        self.dW = dY2.T @ X2           # dL/dW[o, i] = sum_n dY[n, o] X[n, i]
        self.db = dY2.sum(axis=0)      # b is added to every row
        return dY @ self.W             # dL/dX[n, i] = sum_o dY[n, o] W[o, i]""", """        torch = __import__("tor" + "ch")  # imported lazily, by a computed name
        Xt = torch.tensor(X2, requires_grad=True)
        Wt = torch.tensor(self.W, requires_grad=True)
        bt = torch.tensor(self.b, requires_grad=True)
        (Xt @ Wt.T + bt).backward(torch.tensor(dY2))
        self.dW, self.db = Wt.grad.numpy(), bt.grad.numpy()
        return Xt.grad.numpy().reshape(dY.shape[:-1] + (self.W.shape[1],))""",
          {"layers.by_hand", "mlp.by_hand"}, tasks=("layers", "mlp")),
    # 1.3 mlp.py
    Wrong("mlp_step_by_torch_optimizer", "mlp.py", """        for p, g in zip(self.params(), self.grads()):
            p -= lr * g""", """        exec("import torch", globals())  # an import the source never shows
        for p, g in zip(self.params(), self.grads()):
            t = torch.from_numpy(p)
            t -= lr * torch.from_numpy(g)""", {"mlp.by_hand"}),
    Wrong("mlp_weights_in_out", "mlp.py", "W = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)",
          "W = rng.standard_normal((n_in, n_out)).T.copy().T / np.sqrt(n_in)", {"mlp.shapes"}),
    Wrong("mlp_step_ignores_lr", "mlp.py", "p -= lr * g", "p -= g", {"mlp.sgd_step"}),
]

WRONG += [
    Wrong("mlp_init_no_scaling", "mlp.py", "W = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)",
          "W = rng.standard_normal((n_out, n_in))", {"mlp.init"}),
    Wrong("mlp_init_random_bias", "mlp.py", "lin = Linear(W, np.zeros(n_out))",
          "lin = Linear(W, rng.standard_normal(n_out) * 0.01)", {"mlp.init"}),
    Wrong("mlp_needs_a_hidden_layer", "mlp.py", "if len(sizes) < 2:", "if len(sizes) < 3:", {"mlp.shapes"}),
    Wrong("mlp_train_loss_mean_of_batches", "mlp.py", "total_loss += loss_fn.forward(out, targets[idx]) * len(idx)",
          "total_loss += loss_fn.forward(out, targets[idx]) * n / -(-n // batch_size)", {"mlp.train_exact"}),
    Wrong("mlp_train_mse_labels_not_one_hot", "mlp.py", "if y.ndim == 1 and n_out > 1:",
          "if False:", {"mlp.train_exact"}),
    Wrong("mlp_train_single_output_argmax", "mlp.py",
          "pred = out.argmax(axis=1) if out.shape[1] > 1 else (out[:, 0] > 0.5).astype(np.int64)",
          "pred = out.argmax(axis=1)", {"mlp.train_exact"}),
    Wrong("mlp_train_drops_last_batch", "mlp.py", "for start in range(0, n, batch_size):",
          "for start in range(0, n - batch_size + 1, batch_size):", {"mlp.train_exact"}),
    Wrong("mlp_train_unseeded_shuffle", "mlp.py", "order = rng.permutation(n)", "order = np.random.permutation(n)",
          {"mlp.train_seeded"}),
]

# Slow: trains the 784-300-10 network on FashionMNIST; its step never moves the weights.
WRONG.append(Wrong("mlp_step_no_update", "mlp.py", "p -= lr * g", "p -= 0 * g",
                   {"mlp.train_fashion", "mlp.sgd_step", "mlp.train_history"}))

FLOAT32 = [
    ("softmax.py", "return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)",
     "return a.astype(np.float32)"),
    ("layers.py", "return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)",
     "return a.astype(np.float32)"),
]
VARIANTS = [
    Variant("float32", edits=FLOAT32, tasks=["softmax", "layers", "mlp"], skip={"mlp.train_fashion"},
            note="softmax and layers compute in float32"),
    Variant("loops", overlay="loops", tasks=["softmax"], note="softmax, its Jacobian and cross-entropy with loops"),
    Variant("class_loop", edits=[("layers.py",
            '        dX = np.einsum("nij,ni->nj", J, dY2)  # chain rule: dL/dX_j = sum_i dL/dY_i * dY_i/dX_j',
            "        dX = np.zeros_like(dY2)\n        for j in range(Y.shape[1]):  # a loop over the classes, not the rows\n"
            "            dX[:, j] = np.einsum(\"ni,ni->n\", J[:, :, j], dY2)")],
            tasks=["layers"], note="Softmax.backward loops over the classes (vectorised over the batch)"),
    Variant("fresh_rng", edits=[("mlp.py", "rng = self._rng if seed is None else np.random.default_rng(seed)",
                                 "rng = np.random.default_rng(self.seed if seed is None else seed)")],
            tasks=["mlp"], skip={"mlp.train_fashion"},
            note="train() shuffles with a new generator seeded by the model's seed on every call"),
]

# Automatic mutants (docs/selftest.md) that behave like the reference on every input the statement
# defines, each with the reason (read in issue 18; `grade selftest backprop` lists the rest).
_ONE_D = "a 1-D pred (one sample) is outside the statement, which gives pred of shape (N, C)"
_BOUNDED = ("the 2-3-2 net's logits are bounded (|k2| ≤ Σ|V| + |c|, a few units for any parameters the statement "
            "trains), so which stable shift is used, or none, gives the same probabilities")
EQUIVALENT = {
    "layers.py:Sigmoid.forward:compare:0": "at X = 0 both branches give 0.5 exactly",
    "layers.py:MSELoss.forward:compare:0": _ONE_D,
    "layers.py:MSELoss.forward:constant:2": _ONE_D,
    "layers.py:CrossEntropyLoss.forward:compare:2": _ONE_D,
    "layers.py:CrossEntropyLoss.forward:constant:2": _ONE_D,
    "scalar_backprop.py:_sigmoid:compare:0": "at z = 0 both branches give 0.5 exactly",
    "scalar_backprop.py:_sigmoid:constant:0": "for 0 ≤ z < 1 the other branch, e^z / (1 + e^z), is the same value "
                                              "and cannot overflow",
    "scalar_backprop.py:_softmax:reduction:0": _BOUNDED,
    "scalar_backprop.py:_softmax:arith:0": _BOUNDED,
    "scalar_backprop.py:_softmax:drop-term:0": _BOUNDED,
    "scalar_backprop.py:loss:compare:0": "y comes from a softmax of bounded logits, so y[target] > 0: the p = 0 "
                                         "branch is never taken",
    "scalar_backprop.py:backward:compare:0": "the statement always passes forward's cache; recomputing the forward "
                                             "pass instead gives the same values",
    "scalar_backprop.py:train_synthetic:constant:0": "adds 1/60,000 to the reported mean loss: below what any check "
                                                     "can tell from a student's own order of random draws",
    "scalar_backprop.py:train_synthetic:constant:1": "max(len(X), 2) = len(X) for any data set of 2 points or more",
    "mlp.py:MLP._n_correct:compare:1": "differs only for an output of exactly 0.5, a tie: no fair check hinges on how "
                                       "a float tie is broken",
    "mlp.py:MLP._n_correct:compare:4": "a single-column target is a class, 0 or 1: ≥ 0.5 and > 0.5 agree on both",
    "mlp.py:MLP.train:boolean:0": "Linear already turns a non-float X into float64, and float32 → float64 is exact: "
                                  "train computes the same values whichever X it converts",
}

# The lowest mutation score (percent) each task may have: `grade selftest backprop --floors` (CI's
# rotating self-test) fails under it: the measured scores, with FashionMNIST, after every survivor was read (docs/selftest.md).
FLOORS = {"softmax": 100, "scalar": 100, "layers": 100, "mlp": 100}
