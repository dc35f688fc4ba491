"""A4 regularised_cnn: the registered wrong submissions and correct variants (grader/instructor/selftest/cases.py).

`grade selftest regularised_cnn` and tests/test_regularised_cnn_checks.py both use them. Every wrong submission is one
edit of the reference solution (or a wrong weights file) with the checks that must catch it; every check of the
assignment appears in some `catches` set: a check that no wrong submission fails is a defect.
Never shipped to students (it holds pieces of the solution).
"""
from __future__ import annotations

from grader.instructor.selftest import weights
from grader.instructor.selftest.cases import Variant, Wrong

METRICS, PEN, LIN, DROP, OPT, CNN = "metrics.py", "penalties.py", "linear.py", "dropout.py", "optim.py", "cnn.py"


ACC = "return 100.0 * float(np.mean(np.argmax(probs, axis=1) == np.argmax(labels_onehot, axis=1)))"
LIN_GRADS = "dW = 2.0 * (X.T @ diff) / n + 2.0 * reg * W\n    db = 2.0 * np.sum(diff, axis=0) / n"
LIN_LOSS = "loss = float(np.sum(diff * diff) / n + reg * np.sum(W * W))"
FULL_STEP = "W = W - lr * dW\n            b = b - lr * db\n        else:"
ADAM_RETURN = 'return param - (lr / bias1) * m / denom, {"exp_avg": m, "exp_avg_sq": v, "step": step}'
ADAM_WD = ("g = grad + weight_decay * param if weight_decay != 0 else np.array(grad, dtype=float)\n"
          "    return _adam(param, g, state, lr, betas, eps)")
ADAMW = "decayed = param * (1.0 - lr * weight_decay)\n    return _adam(decayed, np.array(grad, dtype=float), state, lr, betas, eps)"
SGD_RETURN = 'return param - lr * buf, {"momentum_buffer": buf, "step": state.get("step", 0) + 1}'
RMS_V = 'v = state.get("square_avg", np.zeros_like(g))\n    v = alpha * v + (1.0 - alpha) * g * g'

TORCH = '__import__("tor" + "ch")'  # imported lazily, by a computed name: caught at run time
WRONG = [
    Wrong("accuracy_by_torch", METRICS, ACC,
          f"t = {TORCH}\n    return 100.0 * float((t.tensor(probs).argmax(1) == t.tensor(labels_onehot).argmax(1))"
          ".double().mean())", {"metrics.by_hand"}),
    Wrong("l1_penalty_by_torch", PEN, "return float(lam * sum(np.sum(np.abs(w)) for w in weights))",
          f"return float(lam * sum({TORCH}.tensor(w).abs().sum() for w in weights))", {"penalties.by_hand"}),
    Wrong("loss_by_torch", LIN, LIN_LOSS,
          f"exec('import torch', globals())\n    loss = float(torch.tensor(diff).pow(2).sum() / n + reg * np.sum(W * W))",
          {"linear.by_hand"}),
    Wrong("dropout_mask_by_torch", DROP, "self.mask = keep / (1.0 - self.p)",
          f"self.mask = {TORCH}.from_numpy(keep / (1.0 - self.p)).numpy()", {"dropout.by_hand"}),
    Wrong("adam_root_by_torch", OPT, "denom = np.sqrt(v) / np.sqrt(bias2) + eps",
          f"denom = {TORCH}.from_numpy(v).sqrt().numpy() / np.sqrt(bias2) + eps", {"optim.by_hand"}),
    # 4.1 metrics.py
    Wrong("accuracy_rounding_elementwise", METRICS, ACC, "return 100.0 * float(np.mean(np.round(probs) == labels_onehot))",
          {"metrics.accuracy", "metrics.accuracy_rounding"}),
    Wrong("accuracy_rounding_rowwise", METRICS, ACC,
          "return 100.0 * float(np.mean(np.all(np.round(probs) == labels_onehot, axis=1)))",
          {"metrics.accuracy_rounding"}),
    Wrong("accuracy_fraction", METRICS, ACC, ACC.replace("100.0 * ", ""), {"metrics.accuracy", "metrics.accuracy_rounding"}),
    # 4.2 penalties.py
    Wrong("l1_sign_zero_is_one", PEN, "[lam * np.sign(w) for w in weights]",
          "[lam * np.where(np.asarray(w) >= 0, 1.0, -1.0) for w in weights]", {"penalties.grads", "penalties.hidden"}),
    Wrong("l2_with_half", PEN, "return float(lam * sum(np.sum(np.square(w)) for w in weights))",
          "return float(0.5 * lam * sum(np.sum(np.square(w)) for w in weights))",
          {"penalties.values", "penalties.regularised_ce", "penalties.hidden"}),
    Wrong("l2_without_square", PEN, "return float(lam * sum(np.sum(np.square(w)) for w in weights))",
          "return float(lam * sum(np.sum(w) for w in weights))",
          {"penalties.values", "penalties.regularised_ce", "penalties.hidden"}),
    Wrong("l2_grad_without_2", PEN, "[2.0 * lam * np.asarray(w) for w in weights]", "[lam * np.asarray(w) for w in weights]",
          {"penalties.grads", "penalties.hidden"}),
    Wrong("l1_without_abs", PEN, "np.sum(np.abs(w))", "np.sum(w)", {"penalties.values", "penalties.regularised_ce"}),
    Wrong("ce_sums_the_data_term", PEN, "data = -np.mean(", "data = -np.sum(", {"penalties.regularised_ce", "penalties.hidden"}),
    Wrong("ce_no_value_error", PEN, "raise ValueError(f\"kind must be 'l1' or 'l2', got {kind!r}\")", "penalty = 0.0",
          {"penalties.regularised_ce"}),
    # 4.3 linear.py
    Wrong("linear_grads_without_2", LIN, LIN_GRADS, "dW = (X.T @ diff) / n + 2.0 * reg * W\n    db = np.sum(diff, axis=0) / n",
          {"linear.loss_and_grads", "linear.train_steps", "linear.hidden"}),
    Wrong("linear_l2_grad_without_2", LIN, "+ 2.0 * reg * W", "+ reg * W",
          {"linear.loss_and_grads", "linear.train_steps", "linear.hidden"}),
    Wrong("linear_penalises_biases", LIN, LIN_LOSS + "\n    " + LIN_GRADS,
          "loss = float(np.sum(diff * diff) / n + reg * (np.sum(W * W) + np.sum(b * b)))\n    " +
          LIN_GRADS + " + 2.0 * reg * b", {"linear.loss_and_grads", "linear.hidden"}),
    Wrong("linear_loss_not_averaged", LIN, LIN_LOSS, "loss = float(np.sum(diff * diff) + reg * np.sum(W * W))",
          {"linear.loss_and_grads", "linear.train_steps", "linear.hidden"}),
    Wrong("lr_decay_applied_to_nothing", LIN, "        lr *= lr_decay\n", "        next_lr = lr * lr_decay\n",
          {"linear.train_steps"}),
    Wrong("lr_decay_before_first_step", LIN, '    history = {"loss": [], "lr": []}\n',
          '    history = {"loss": [], "lr": []}\n    lr *= lr_decay\n', {"linear.train_steps"}),
    Wrong("train_ignores_reg", LIN, "loss, dW, db = loss_and_grads(X, Y, W, b, reg)",
          "loss, dW, db = loss_and_grads(X, Y, W, b, 0.0)", {"linear.train_steps", "linear.reg_shrinks"}),
    Wrong("train_never_steps", LIN, FULL_STEP, "pass\n        else:", {"linear.train_steps", "linear.fashion_full_batch"}),
    Wrong("train_one_minibatch_per_pass", LIN, "for start in range(0, n, int(batch_size)):",
          "for start in range(0, int(batch_size), int(batch_size)):", {"linear.fashion_minibatch"}),
    Wrong("train_large_init", LIN, "W = 1e-3 * rng.standard_normal", "W = 0.1 * rng.standard_normal",
          {"linear.train_steps", "linear.hidden"}),
    Wrong("train_init_std_1.5e-3", LIN, "W = 1e-3 * rng.standard_normal", "W = 1.5e-3 * rng.standard_normal",
          {"linear.hidden"}),
    # 4.4 dropout.py
    Wrong("dropout_no_rescaling", DROP, "self.mask = keep / (1.0 - self.p)", "self.mask = keep * 1.0",
          {"dropout.train_mode", "dropout.hidden"}),
    Wrong("dropout_rescales_by_p", DROP, "self.mask = keep / (1.0 - self.p)", "self.mask = keep / self.p",
          {"dropout.train_mode", "dropout.hidden"}),
    Wrong("dropout_keeps_with_p", DROP, "keep = rng.random(X.shape) >= self.p", "keep = rng.random(X.shape) < self.p",
          {"dropout.train_mode", "dropout.hidden"}),
    Wrong("dropout_active_in_eval", DROP, "if not train or self.p == 0.0:", "if self.p == 0.0:", {"dropout.eval_mode"}),
    Wrong("dropout_fresh_mask_in_backward", DROP, "return dY * self.mask",
          "return dY * (np.random.default_rng(1).random(dY.shape) >= self.p) / (1.0 - self.p)",
          {"dropout.train_mode", "dropout.hidden"}),
    Wrong("dropout_ignores_rng", DROP, "if rng is None:\n            rng = np.random.default_rng(0)",
          "rng = np.random.default_rng(0)", {"dropout.hidden"}),
    # 4.5 optim.py
    Wrong("sgd_no_decay_at_1", OPT, "param − lr·buf.\n    g = grad + weight_decay * param if weight_decay != 0",
          "param − lr·buf.\n    g = grad + weight_decay * param if weight_decay not in (0, 1)", {"optim.hidden"}),
    Wrong("adam_no_decay_at_1", OPT, "moments.\n    g = grad + weight_decay * param if weight_decay != 0",
          "moments.\n    g = grad + weight_decay * param if weight_decay not in (0, 1)", {"optim.hidden"}),
    Wrong("momentum_applied_after_step", OPT, SGD_RETURN,
          'return param - lr * state.get("momentum_buffer", g), {"momentum_buffer": buf, "step": 1}',
          {"optim.sgd_momentum", "optim.hidden"}),
    Wrong("momentum_with_dampening", OPT, 'buf = momentum * state["momentum_buffer"] + g',
          'buf = momentum * state["momentum_buffer"] + (1 - momentum) * g', {"optim.sgd_momentum", "optim.hidden"}),
    Wrong("sgd_param_in_place", OPT, SGD_RETURN,
          'param -= lr * buf\n    return param, {"momentum_buffer": buf, "step": 1}', {"optim.sgd_momentum"}),
    Wrong("rmsprop_eps_inside_root", OPT, "param - lr * g / (np.sqrt(v) + eps)", "param - lr * g / np.sqrt(v + eps)",
          {"optim.rmsprop", "optim.hidden"}),
    Wrong("rmsprop_no_root", OPT, "param - lr * g / (np.sqrt(v) + eps)", "param - lr * g / (v + eps)",
          {"optim.rmsprop", "optim.hidden"}),
    Wrong("rmsprop_state_in_place", OPT, RMS_V,
          'v = state.setdefault("square_avg", np.zeros_like(g))\n    v *= alpha\n    v += (1.0 - alpha) * g * g',
          {"optim.rmsprop", "optim.hidden"}),
    Wrong("adam_no_bias_correction", OPT, "bias1 = 1.0 - beta1 ** step\n    bias2 = 1.0 - beta2 ** step",
          "bias1 = 1.0\n    bias2 = 1.0", {"optim.adam", "optim.adamw", "optim.hidden"}),
    Wrong("adam_eps_inside_root", OPT, "denom = np.sqrt(v) / np.sqrt(bias2) + eps", "denom = np.sqrt(v / bias2 + eps)",
          {"optim.adam", "optim.adamw", "optim.hidden"}),
    Wrong("adam_with_decoupled_decay", OPT, ADAM_WD,
          "return _adam(param * (1.0 - lr * weight_decay), np.array(grad, dtype=float), state, lr, betas, eps)",
          {"optim.adam", "optim.hidden"}),
    Wrong("adamw_with_coupled_decay", OPT, ADAMW, "return _adam(param, grad + weight_decay * param, state, lr, betas, eps)",
          {"optim.adamw", "optim.hidden"}),
    Wrong("adam_state_in_place", OPT, ADAM_RETURN,
          "state.update(exp_avg=m, exp_avg_sq=v, step=step)\n    return param - (lr / bias1) * m / denom, state",
          {"optim.adam", "optim.adamw", "optim.hidden"}),
    # 4.6 cnn.py
    Wrong("cnn_without_dropout", CNN, "nn.Linear(576, 64), nn.ReLU(), nn.Dropout(dropout),", "nn.Linear(576, 64), nn.ReLU(),",
          {"cnn.dropout"}),
    Wrong("cnn_dropout_hard_coded", CNN, "nn.Dropout(dropout)", "nn.Dropout(0.3)", {"cnn.dropout"}),
    Wrong("cnn_wrong_parameter_count", CNN, "nn.Conv2d(64, 64, kernel_size=3, padding=1)",
          "nn.Conv2d(64, 64, kernel_size=3, padding=1, bias=False)", {"cnn.architecture"}),
    Wrong("cnn_softmax_output", CNN, "nn.Linear(64, 10),\n    )", "nn.Linear(64, 10), nn.Softmax(dim=1),\n    )",
          {"cnn.architecture"}),
    Wrong("cnn_average_pooling", CNN, "nn.Conv2d(1, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),",
          "nn.Conv2d(1, 32, kernel_size=3, padding=1), nn.ReLU(), nn.AvgPool2d(2),", {"cnn.architecture"}),
    Wrong("optimizer_without_weight_decay", CNN, "torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)",
          "torch.optim.Adam(model.parameters(), lr=lr)", {"cnn.optimizer", "cnn.optimizer_args"}),
    Wrong("optimizer_hard_coded", CNN, "lr=lr, weight_decay=weight_decay)", "lr=1e-3, weight_decay=1e-4)",
          {"cnn.optimizer", "cnn.optimizer_args"}),
    Wrong("train_no_step", CNN, "optimizer.step()", "pass", {"cnn.train"}),
    Wrong("train_own_optimizer", CNN, "loss_fn = nn.CrossEntropyLoss()\n    losses = []",
          "loss_fn = nn.CrossEntropyLoss()\n    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n    losses = []",
          {"cnn.train_contract"}),
    Wrong("train_reports_last_batch", CNN, "losses.append(total / count)", "losses.append(loss.item())",
          {"cnn.train_contract"}),
    Wrong("train_one_epoch", CNN, "for _ in range(int(epochs)):", "for _ in range(1):", {"cnn.train", "cnn.train_contract"}),
    Wrong("evaluate_in_train_mode", CNN, "    model.eval()\n    loss_fn", "    loss_fn", {"cnn.evaluate", "cnn.evaluate_hidden"}),
    Wrong("evaluate_percent", CNN, "return total / count, correct / count", "return total / count, 100.0 * correct / count",
          {"cnn.evaluate", "cnn.evaluate_hidden"}),
    Wrong("evaluate_mean_of_batch_means", CNN, 'nn.CrossEntropyLoss(reduction="sum")\n    total',
          'nn.CrossEntropyLoss()\n    total', {"cnn.evaluate", "cnn.evaluate_hidden"}),
    Wrong("evaluate_nominal_batch_size", CNN, "total += loss_fn(logits, y).item()",
          "total += loss_fn(logits, y).item() / len(y) * loader.batch_size", {"cnn.evaluate_hidden"}),
]

# Wrong cnn.pt files and what the weights check's message must say (the other checks keep full
# marks: tests/test_regularised_cnn_checks.py).
PT = "cnn.pt"


def _mlp_weights(sd: dict) -> dict:
    """A3's MLP handed in as cnn.pt (its shapes; the values do not matter)."""
    import torch

    sizes = [784, 256, 128, 64, 10]
    out = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        out[f"{2 * i + 1}.weight"], out[f"{2 * i + 1}.bias"] = torch.zeros(b, a), torch.zeros(b)
    return out


WEIGHTS = {"cnn.weights"}
WEIGHT_FILES = [
    Wrong("weights_missing", catches=WEIGHTS, build=weights.missing(PT), says="torch.save(model.state_dict()"),
    Wrong("weights_garbage", catches=WEIGHTS, build=weights.garbage(PT), says="could not be loaded"),
    Wrong("weights_pickled_model", catches=WEIGHTS, build=weights.pickled_model(PT, "cnn.py", "build_cnn"),
          says="could not be loaded"),
    Wrong("weights_other_architecture", catches=WEIGHTS, build=weights.transformed(PT, _mlp_weights),
          says="does not hold the CNN"),
    Wrong("weights_tensor_list", catches=WEIGHTS, build=weights.transformed(PT, lambda sd: list(sd.values())),
          says="not a state_dict"),
    Wrong("weights_untrained", catches=WEIGHTS, build=weights.untrained(PT), says="test accuracy"),
]
WRONG += WEIGHT_FILES

VARIANTS = [
    Variant("other_style", overlay="other_style", skip={"cnn.weights"},
            note="loops, float32, other state keys and initialisation, rng.binomial masks, a custom nn.Module "
                 "whose layers are named and registered differently, coupled Adam weight decay, tensors returned "
                 "(cnn.weights is the reference's file: left out)"),
    *(Variant(f"other_seed_{k}", tasks=["dropout", "linear"],
              edits=[("dropout.py", "rng = np.random.default_rng(0)", f"rng = np.random.default_rng({k})"),
                     ("linear.py", "rng = np.random.default_rng(seed)", f"rng = np.random.default_rng(seed + {k})")],
              note="other default seeds (dropout's generator, linear's init stream)") for k in (1, 2)),
]

# Automatic mutants that behave like the reference on every input the statement defines (docs/selftest.md):
# a mark is reported when a check catches the mutant or when no generated mutant has that id.
_STEP = ("the step count is never read by this update (only Adam's bias correction uses one), and the state's "
         "contents are the student's own: every returned param is the same")
EQUIVALENT = {
    "dropout.py:Dropout.forward:constant:0": "with p = 0 the mask keeps every entry (rng.random ≥ 0) scaled by 1: "
                                             "the identity, as the statement asks; p = 1 is outside 0 ≤ p < 1",
    "dropout.py:Dropout.forward:constant:1": "the seed of the default generator is the student's choice (any seeded "
                                             "one, see variants other_seed_1/2): only the mask's law is defined",
    "dropout.py:Dropout.forward:compare:2": "rng.random() equals p with probability 2^-53 at most: > and ≥ keep the "
                                            "same entries",
    "optim.py:sgd_momentum_step:arith:6": _STEP,
    "optim.py:sgd_momentum_step:constant:1": _STEP,
    "optim.py:sgd_momentum_step:constant:2": _STEP,
    "optim.py:sgd_momentum_step:drop-term:5": _STEP,
    "optim.py:sgd_momentum_step:drop-term:6": _STEP,
    "optim.py:rmsprop_step:arith:11": _STEP,
    "optim.py:rmsprop_step:constant:2": _STEP,
    "optim.py:rmsprop_step:constant:3": _STEP,
    "optim.py:rmsprop_step:drop-term:8": _STEP,
    "optim.py:rmsprop_step:drop-term:9": _STEP,
}

# The lowest mutation score (percent) each task may have: `grade selftest regularised_cnn --floors` (CI's
# rotating self-test) fails under it. Today's measured scores, with FashionMNIST (docs/selftest.md).
FLOORS = {"metrics": 100, "penalties": 100, "linear": 100, "dropout": 100, "optim": 100, "cnn": 100}
