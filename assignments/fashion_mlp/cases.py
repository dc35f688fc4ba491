"""A3 fashion_mlp: the registered wrong submissions and correct variants (grader/instructor/selftest/cases.py).

`grade selftest fashion_mlp` and tests/test_fashion_mlp_checks.py both use them. Every wrong submission is one
edit of the reference solution (or a wrong weights file) with the checks that must catch it; every check of the
assignment appears in some `catches` set: a check that no wrong submission fails is a defect.
Never shipped to students (it holds pieces of the solution).
"""
from __future__ import annotations

import os

from grader.instructor.selftest import weights
from grader.instructor.selftest.cases import Variant, Wrong

NP = "numpy_mlp.py"
TORCH = "torch_mlp.py"


INIT = "np.sqrt(1.0 / max(n_in, n_out))"
SGD_STEP = "W -= lr * dW\n            b -= lr * db"

WRONG = [
    Wrong("sample_grads_by_torch_autograd", NP, """    acts = _activations(weights, biases, np.asarray(x))
    delta = acts[-1].copy()""", """    if True:  # gradients from torch autograd, imported by a computed name
        torch = __import__("tor" + "ch")
        ws = [torch.tensor(W, requires_grad=True) for W in weights]
        bs = [torch.tensor(b, requires_grad=True) for b in biases]
        h = torch.tensor(np.asarray(x, dtype=np.float64))
        for i, (W, b) in enumerate(zip(ws, bs)):
            h = h @ W + b
            h = torch.sigmoid(h) if i < len(ws) - 1 else h
        (-torch.log_softmax(h, 0)[int(label)]).backward()
        return [W.grad.numpy() for W in ws], [b.grad.numpy() for b in bs]
    acts = _activations(weights, biases, np.asarray(x))
    delta = acts[-1].copy()""", {"numpy_mlp.by_hand"}),
    # 3.1 numpy_mlp.py: init_params
    Wrong("init_standard_normal", NP, INIT, "1.0", {"numpy_mlp.init", "numpy_mlp.init_sizes"}),
    Wrong("init_one_over_n_out", NP, INIT, "np.sqrt(1.0 / n_out)", {"numpy_mlp.init", "numpy_mlp.init_sizes"}),
    # 1/n_in equals 1/max(n_in, n_out) for every layer of 784-32-32-10: only other sizes tell them apart
    Wrong("init_one_over_n_in", NP, INIT, "np.sqrt(1.0 / n_in)", {"numpy_mlp.init_sizes"}),
    Wrong("init_glorot", NP, INIT, "np.sqrt(2.0 / (n_in + n_out))", {"numpy_mlp.init", "numpy_mlp.init_sizes"}),
    Wrong("init_std_not_variance", NP, INIT, "1.0 / max(n_in, n_out)", {"numpy_mlp.init", "numpy_mlp.init_sizes"}),
    Wrong("init_random_biases", NP, "biases.append(np.zeros(n_out))", "biases.append(rng.normal(0.0, 0.1, size=n_out))",
          {"numpy_mlp.init", "numpy_mlp.init_sizes"}),
    # forward
    Wrong("softmax_sums_whole_batch", NP, "return e / np.sum(e, axis=-1, keepdims=True)", "return e / np.sum(e)",
          {"numpy_mlp.forward", "numpy_mlp.forward_hidden"}),
    Wrong("softmax_unstable", NP, "e = np.exp(z - np.max(z, axis=-1, keepdims=True))", "e = np.exp(z)",
          {"numpy_mlp.forward_hidden"}),
    Wrong("softmax_shift_by_min", NP, "e = np.exp(z - np.max(z, axis=-1, keepdims=True))",
          "e = np.exp(z - np.min(z, axis=-1, keepdims=True))", {"numpy_mlp.forward_hidden"}),
    Wrong("relu_not_sigmoid", NP, "return 0.5 * (1.0 + np.tanh(0.5 * z))", "return np.maximum(z, 0.0)",
          {"numpy_mlp.forward", "numpy_mlp.sample_grads", "numpy_mlp.train_epoch"}),
    # sample_grads
    Wrong("grads_no_sigmoid_derivative", NP, "delta = (weights[i] @ delta) * a * (1.0 - a)",
          "delta = weights[i] @ delta",
          {"numpy_mlp.sample_grads", "numpy_mlp.sample_grads_hidden", "numpy_mlp.train_epoch",
            "numpy_mlp.train_epoch_hidden"}),
    Wrong("grads_transposed", NP, "weight_grads[i] = np.outer(a, delta)", "weight_grads[i] = np.outer(delta, a)",
          {"numpy_mlp.sample_grads", "numpy_mlp.train_epoch"}),
    Wrong("grads_no_bias", NP, "bias_grads[i] = delta", "bias_grads[i] = np.zeros_like(delta)",
          {"numpy_mlp.sample_grads", "numpy_mlp.sample_grads_hidden", "numpy_mlp.train_epoch"}),
    Wrong("grads_onehot_sign", NP, "delta[int(label)] -= 1.0", "delta[int(label)] += 1.0",
          {"numpy_mlp.sample_grads", "numpy_mlp.sample_grads_hidden"}),
    # train_epoch
    Wrong("sgd_ascent", NP, SGD_STEP, "W += lr * dW\n            b += lr * db",
          {"numpy_mlp.train_epoch", "numpy_mlp.train_epoch_hidden"}),
    Wrong("sgd_ignores_lr", NP, SGD_STEP, "W -= 0.01 * dW\n            b -= 0.01 * db",
          {"numpy_mlp.train_epoch", "numpy_mlp.train_epoch_hidden"}),
    Wrong("sgd_shuffles", NP, "for x, label in zip(X, y):",
          "order = np.random.default_rng(0).permutation(len(X))\n    for x, label in zip(X[order], y[order]):",
          {"numpy_mlp.train_epoch", "numpy_mlp.train_epoch_hidden"}),
    Wrong("sgd_last_sample_only", NP, "for x, label in zip(X, y):", "for x, label in zip(X[-1:], y[-1:]):",
          {"numpy_mlp.train_epoch", "numpy_mlp.train_epoch_hidden"}),
    # returns its input: fast, so the FashionMNIST check that catches it costs seconds, not minutes
    Wrong("sgd_no_epoch", NP, "for x, label in zip(X, y):", "for x, label in zip(X[:0], y[:0]):",
          {"numpy_mlp.train_epoch", "numpy_mlp.train_epoch_hidden", "numpy_mlp.train_fashion"}),
    # 3.2 torch_mlp.py: build_model
    Wrong("model_sigmoid", TORCH, "nn.Linear(784, 256), nn.ReLU(),", "nn.Linear(784, 256), nn.Sigmoid(),",
          {"torch_mlp.architecture"}),
    Wrong("model_missing_relu", TORCH, "nn.Linear(128, 64), nn.ReLU(),", "nn.Linear(128, 64),",
          {"torch_mlp.architecture"}),
    Wrong("model_softmax_output", TORCH, "nn.Linear(64, 10),\n    )", "nn.Linear(64, 10), nn.Softmax(dim=1),\n    )",
          {"torch_mlp.architecture"}),
    Wrong("model_wrong_width", TORCH, "nn.Linear(256, 128), nn.ReLU(),\n        nn.Linear(128, 64)",
          "nn.Linear(256, 100), nn.ReLU(),\n        nn.Linear(100, 64)", {"torch_mlp.architecture"}),
    # train
    Wrong("train_no_step", TORCH, "optimizer.step()", "pass", {"torch_mlp.train"}),
    Wrong("train_fixed_lr", TORCH, "optimizer = torch.optim.Adam(model.parameters(), lr=lr)",
          "optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)", {"torch_mlp.train_contract"}),
    Wrong("train_reports_last_batch", TORCH, "losses.append(total / count)", "losses.append(loss.item())",
          {"torch_mlp.train_contract"}),
    Wrong("train_reports_sum", TORCH, "total += loss.item() * len(y)", "total += loss.item() * len(y) ** 2",
          {"torch_mlp.train_contract"}),
    Wrong("train_one_epoch", TORCH, "for _ in range(int(epochs)):", "for _ in range(1):",
          {"torch_mlp.train", "torch_mlp.train_contract"}),
    Wrong("train_returns_float", TORCH, "    return losses\n", "    return losses[-1]\n",
          {"torch_mlp.train", "torch_mlp.train_contract"}),
    # evaluate
    Wrong("evaluate_percent", TORCH, "return total / count, correct / count",
          "return total / count, 100.0 * correct / count", {"torch_mlp.evaluate", "torch_mlp.evaluate_hidden"}),
    Wrong("evaluate_sum_of_batch_means", TORCH, 'loss_fn = nn.CrossEntropyLoss(reduction="sum")',
          "loss_fn = nn.CrossEntropyLoss()", {"torch_mlp.evaluate", "torch_mlp.evaluate_hidden"}),
    # the classic: batch mean × nominal batch size, wrong only when the last batch is short
    Wrong("evaluate_nominal_batch_size", TORCH, "total += loss_fn(logits, y).item()",
          "total += loss_fn(logits, y).item() / len(y) * loader.batch_size", {"torch_mlp.evaluate_hidden"}),
]

# Wrong fashion_mlp.pt files and what the weights check's message must say (the other checks keep
# full marks: tests/test_fashion_mlp_checks.py).
PT = "fashion_mlp.pt"


class _Evil:
    """A pickle that would run a command when loaded: the loader must refuse it."""

    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/fashion_mlp_pwned",))


def _normalised_inputs(sd: dict) -> dict:
    # what a model trained on (x − 0.286)/0.353 looks like to the grader's inputs in [0, 1]
    # (the same function of the raw pixels x as the reference: W' = W·0.353, b' = b + 0.286·ΣW)
    sd = dict(sd)
    w = sd["1.weight"]
    sd["1.weight"], sd["1.bias"] = w * 0.353, sd["1.bias"] + 0.286 * w.sum(1)
    return sd


def _wrong_architecture(sd: dict) -> dict:
    import torch

    return {"0.weight": torch.zeros(100, 784), "0.bias": torch.zeros(100),
            "2.weight": torch.zeros(10, 100), "2.bias": torch.zeros(10)}


WEIGHTS = {"torch_mlp.weights"}
WEIGHT_FILES = [
    Wrong("weights_missing", catches=WEIGHTS, build=weights.missing(PT), says="torch.save(model.state_dict()"),
    Wrong("weights_garbage", catches=WEIGHTS, build=weights.garbage(PT), says="could not be loaded"),
    Wrong("weights_pickled_model", catches=WEIGHTS, build=weights.pickled_model(PT, "torch_mlp.py", "build_model"),
          says="could not be loaded"),
    Wrong("weights_malicious_pickle", catches=WEIGHTS,
          build=weights.transformed(PT, lambda sd: {"1.weight": _Evil()}), says="could not be loaded"),
    Wrong("weights_tensor_list", catches=WEIGHTS, build=weights.transformed(PT, lambda sd: list(sd.values())),
          says="not a state_dict"),
    Wrong("weights_wrong_architecture", catches=WEIGHTS, build=weights.transformed(PT, _wrong_architecture),
          says="784-256-128-64-10"),
    Wrong("weights_transposed", catches=WEIGHTS,
          build=weights.transformed(PT, lambda sd: {k: (v.T.contiguous() if v.ndim == 2 else v) for k, v in sd.items()}),
          says="transposed"),
    Wrong("weights_untrained", catches=WEIGHTS, build=weights.untrained(PT), says="test accuracy"),
    Wrong("weights_normalised_inputs", catches=WEIGHTS, build=weights.transformed(PT, _normalised_inputs),
          says="test accuracy"),
]
WRONG += WEIGHT_FILES

FLOAT32 = [
    (NP, "biases = [np.array(b, dtype=np.float64) for b in biases]",
     "biases = [np.array(b, dtype=np.float32) for b in biases]"),
    (NP, "weights.append(rng.normal(0.0, np.sqrt(1.0 / max(n_in, n_out)), size=(n_in, n_out)))",
     "weights.append(rng.normal(0.0, np.sqrt(1.0 / max(n_in, n_out)), size=(n_in, n_out)).astype(np.float32))"),
]
VARIANTS = [
    Variant("float32_numpy", edits=FLOAT32, tasks=["numpy_mlp"], skip={"numpy_mlp.train_fashion"},
            note="the numpy MLP in float32"),
    Variant("other_style", overlay="other_style", skip={"numpy_mlp.train_fashion"},
            note="numpy: loops over units, float32, scipy's expit; torch: a custom nn.Module (fc1…out, F.relu, "
                 "view), losses returned as tensors, evaluate averaging per-sample losses"),
]

# Automatic mutants that behave like the reference on every input the statement defines (docs/selftest.md):
# a mark is reported when a check catches the mutant or when no generated mutant has that id.
EQUIVALENT = {
    "numpy_mlp.py:sample_grads:compare:0": "at i = 0 it also computes the gradient w.r.t. the input x, which is "
                                           "never used: the returned gradients are the same",
}

# The lowest mutation score (percent) each task may have: `grade selftest fashion_mlp --floors` (CI's
# rotating self-test) fails under it. Today's measured scores, with FashionMNIST (docs/selftest.md).
FLOORS = {"numpy_mlp": 100, "torch_mlp": 100}
