"""Wrong A3 submissions, each made by one edit of the reference solution, with the checks that must catch it.

Every check of the assignment appears in some `catches` set (tests/test_fashion_mlp_checks.py asserts it):
a check that no wrong submission fails would be a defect. The `torch_mlp.weights` check is caught by
wrong weight files (WEIGHT_FILES below), built in the test from the reference's fashion_mlp.pt.
"""
from __future__ import annotations

from backprop_mutants import Mutant as BaseMutant

NP = "numpy_mlp.py"
TORCH = "torch_mlp.py"


class Mutant(BaseMutant):
    """A1's mutant (one edit of the reference and the checks that must catch it), plus whether
    grading it needs FashionMNIST."""

    @property
    def needs_data(self) -> bool:
        return bool(self.catches & NEEDS_DATA)


NEEDS_DATA = frozenset({"numpy_mlp.train_fashion", "torch_mlp.train", "torch_mlp.train_contract",
                        "torch_mlp.weights"})

INIT = "np.sqrt(1.0 / max(n_in, n_out))"
SGD_STEP = "W -= lr * dW\n            b -= lr * db"

MUTANTS = [
    Mutant("sample_grads_by_torch_autograd", NP, """    acts = _activations(weights, biases, np.asarray(x))
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
    Mutant("init_standard_normal", NP, INIT, "1.0", {"numpy_mlp.init", "numpy_mlp.init_sizes"}),
    Mutant("init_one_over_n_out", NP, INIT, "np.sqrt(1.0 / n_out)", {"numpy_mlp.init", "numpy_mlp.init_sizes"}),
    # 1/n_in equals 1/max(n_in, n_out) for every layer of 784-32-32-10: only other sizes tell them apart
    Mutant("init_one_over_n_in", NP, INIT, "np.sqrt(1.0 / n_in)", {"numpy_mlp.init_sizes"}),
    Mutant("init_glorot", NP, INIT, "np.sqrt(2.0 / (n_in + n_out))", {"numpy_mlp.init", "numpy_mlp.init_sizes"}),
    Mutant("init_std_not_variance", NP, INIT, "1.0 / max(n_in, n_out)", {"numpy_mlp.init", "numpy_mlp.init_sizes"}),
    Mutant("init_random_biases", NP, "biases.append(np.zeros(n_out))", "biases.append(rng.normal(0.0, 0.1, size=n_out))",
           {"numpy_mlp.init", "numpy_mlp.init_sizes"}),
    # forward
    Mutant("softmax_sums_whole_batch", NP, "return e / np.sum(e, axis=-1, keepdims=True)", "return e / np.sum(e)",
           {"numpy_mlp.forward", "numpy_mlp.forward_hidden"}),
    Mutant("softmax_unstable", NP, "e = np.exp(z - np.max(z, axis=-1, keepdims=True))", "e = np.exp(z)",
           {"numpy_mlp.forward_hidden"}),
    Mutant("relu_not_sigmoid", NP, "return 0.5 * (1.0 + np.tanh(0.5 * z))", "return np.maximum(z, 0.0)",
           {"numpy_mlp.forward", "numpy_mlp.sample_grads", "numpy_mlp.train_epoch"}),
    # sample_grads
    Mutant("grads_no_sigmoid_derivative", NP, "delta = (weights[i] @ delta) * a * (1.0 - a)",
           "delta = weights[i] @ delta",
           {"numpy_mlp.sample_grads", "numpy_mlp.sample_grads_hidden", "numpy_mlp.train_epoch",
            "numpy_mlp.train_epoch_hidden"}),
    Mutant("grads_transposed", NP, "weight_grads[i] = np.outer(a, delta)", "weight_grads[i] = np.outer(delta, a)",
           {"numpy_mlp.sample_grads", "numpy_mlp.train_epoch"}),
    Mutant("grads_no_bias", NP, "bias_grads[i] = delta", "bias_grads[i] = np.zeros_like(delta)",
           {"numpy_mlp.sample_grads", "numpy_mlp.sample_grads_hidden", "numpy_mlp.train_epoch"}),
    Mutant("grads_onehot_sign", NP, "delta[int(label)] -= 1.0", "delta[int(label)] += 1.0",
           {"numpy_mlp.sample_grads", "numpy_mlp.sample_grads_hidden"}),
    # train_epoch
    Mutant("sgd_ascent", NP, SGD_STEP, "W += lr * dW\n            b += lr * db",
           {"numpy_mlp.train_epoch", "numpy_mlp.train_epoch_hidden"}),
    Mutant("sgd_ignores_lr", NP, SGD_STEP, "W -= 0.01 * dW\n            b -= 0.01 * db",
           {"numpy_mlp.train_epoch", "numpy_mlp.train_epoch_hidden"}),
    Mutant("sgd_shuffles", NP, "for x, label in zip(X, y):",
           "order = np.random.default_rng(0).permutation(len(X))\n    for x, label in zip(X[order], y[order]):",
           {"numpy_mlp.train_epoch", "numpy_mlp.train_epoch_hidden"}),
    Mutant("sgd_last_sample_only", NP, "for x, label in zip(X, y):", "for x, label in zip(X[-1:], y[-1:]):",
           {"numpy_mlp.train_epoch", "numpy_mlp.train_epoch_hidden"}),
    # returns its input: fast, so the FashionMNIST check that catches it costs seconds, not minutes
    Mutant("sgd_no_epoch", NP, "for x, label in zip(X, y):", "for x, label in zip(X[:0], y[:0]):",
           {"numpy_mlp.train_epoch", "numpy_mlp.train_epoch_hidden", "numpy_mlp.train_fashion"}),
    # 3.2 torch_mlp.py: build_model
    Mutant("model_sigmoid", TORCH, "nn.Linear(784, 256), nn.ReLU(),", "nn.Linear(784, 256), nn.Sigmoid(),",
           {"torch_mlp.architecture"}),
    Mutant("model_missing_relu", TORCH, "nn.Linear(128, 64), nn.ReLU(),", "nn.Linear(128, 64),",
           {"torch_mlp.architecture"}),
    Mutant("model_softmax_output", TORCH, "nn.Linear(64, 10),\n    )", "nn.Linear(64, 10), nn.Softmax(dim=1),\n    )",
           {"torch_mlp.architecture"}),
    Mutant("model_wrong_width", TORCH, "nn.Linear(256, 128), nn.ReLU(),\n        nn.Linear(128, 64)",
           "nn.Linear(256, 100), nn.ReLU(),\n        nn.Linear(100, 64)", {"torch_mlp.architecture"}),
    # train
    Mutant("train_no_step", TORCH, "optimizer.step()", "pass", {"torch_mlp.train"}),
    Mutant("train_fixed_lr", TORCH, "optimizer = torch.optim.Adam(model.parameters(), lr=lr)",
           "optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)", {"torch_mlp.train_contract"}),
    Mutant("train_reports_last_batch", TORCH, "losses.append(total / count)", "losses.append(loss.item())",
           {"torch_mlp.train_contract"}),
    Mutant("train_reports_sum", TORCH, "total += loss.item() * len(y)", "total += loss.item() * len(y) ** 2",
           {"torch_mlp.train_contract"}),
    Mutant("train_one_epoch", TORCH, "for _ in range(int(epochs)):", "for _ in range(1):",
           {"torch_mlp.train", "torch_mlp.train_contract"}),
    Mutant("train_returns_float", TORCH, "    return losses\n", "    return losses[-1]\n",
           {"torch_mlp.train", "torch_mlp.train_contract"}),
    # evaluate
    Mutant("evaluate_percent", TORCH, "return total / count, correct / count",
           "return total / count, 100.0 * correct / count", {"torch_mlp.evaluate", "torch_mlp.evaluate_hidden"}),
    Mutant("evaluate_sum_of_batch_means", TORCH, 'loss_fn = nn.CrossEntropyLoss(reduction="sum")',
           "loss_fn = nn.CrossEntropyLoss()", {"torch_mlp.evaluate", "torch_mlp.evaluate_hidden"}),
    # the classic: batch mean × nominal batch size, wrong only when the last batch is short
    Mutant("evaluate_nominal_batch_size", TORCH, "total += loss_fn(logits, y).item()",
           "total += loss_fn(logits, y).item() / len(y) * loader.batch_size", {"torch_mlp.evaluate_hidden"}),
]

# Wrong fashion_mlp.pt files (built by tests/test_fashion_mlp_checks.py) and what the message must say.
WEIGHT_FILES = {
    "missing": "torch.save(model.state_dict()",
    "garbage": "could not be loaded",
    "pickled_model": "could not be loaded",
    "malicious_pickle": "could not be loaded",
    "tensor_list": "not a state_dict",
    "wrong_architecture": "784-256-128-64-10",
    "transposed": "transposed",
    "untrained": "test accuracy",
    "normalised_inputs": "test accuracy",
}
