"""Worker-side probes for A3: call the student's code on inputs the grader chose; return plain data.

Runs inside the sandbox. Holds no expected values: judging happens in checks.py / hidden.py.
Torch is imported inside the probes that need it (the student's torch_mlp imports it anyway).
"""

import numpy as np
from gradeworker.weights import load_state_file, plain_state

WEIGHTS_FILE = "fashion_mlp.pt"
MAX_WEIGHTS_MB = 50  # the 242,762 float32 parameters take ~1 MB; anything far larger is not them


# --- 3.1 numpy_mlp ------------------------------------------------------------------------------
# Probes are named after the student's function they call: "forward: not implemented yet".
def init_params(sub, seed, sizes=None):
    """init_params(np.random.default_rng(seed)) (and sizes=..., when given)."""
    rng = np.random.default_rng(seed)
    fn = sub.fn("numpy_mlp", "init_params")
    return fn(rng) if sizes is None else fn(rng, sizes=tuple(int(s) for s in sizes))


def forward(sub, weights, biases, x):
    return sub.fn("numpy_mlp", "forward")(weights, biases, x)


def sample_grads(sub, weights, biases, x, label):
    return sub.fn("numpy_mlp", "sample_grads")(weights, biases, x, int(label))


def _unpack(out, what):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"{what} must return (weights, biases), got {type(out).__name__}")
    return list(out[0]), list(out[1])


def train_epoch(sub, weights, biases, X, y, lr, epochs=None, order_seed=0, every_epoch=False):
    """train_epoch(weights, biases, X, y, lr) once; or, with `epochs`, that many times on the arrays
    in the files X and y (paths of shared .npy files), reshuffled before every epoch.

    The grader gives the initial parameters; the trained ones come back for the grader to measure
    (with `every_epoch`, those after each epoch too: the grader draws its own per-epoch curve).
    """
    fn = sub.fn("numpy_mlp", "train_epoch")
    if epochs is None:
        return fn(weights, biases, X, y, lr)
    X, y = np.load(X), np.load(y)
    rng = np.random.default_rng(order_seed)
    history = []
    for epoch in range(int(epochs)):
        order = rng.permutation(len(X))
        weights, biases = _unpack(fn(weights, biases, X[order], y[order], lr), f"train_epoch (epoch {epoch + 1})")
        if every_epoch:
            history.append([[np.array(w) for w in weights], [np.array(b) for b in biases]])
    return {"final": [weights, biases], "epochs": history} if every_epoch else [weights, biases]


# --- 3.2 torch_mlp ------------------------------------------------------------------------------
def grader_model(params=None):
    """The grader's own 784-256-128-64-10 ReLU network (the probes hand it to the student's
    train/evaluate, so those are checked independently of build_model); params in layer order."""
    import torch
    from torch import nn

    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    if params is not None:
        with torch.no_grad():
            for p, value in zip(model.parameters(), params):
                p.copy_(torch.as_tensor(np.asarray(value), dtype=torch.float32))
    return model


def build_model(sub, X):
    """build_model(): its type, parameter count, state_dict and its logits for inputs X."""
    import torch

    model = sub.fn("torch_mlp", "build_model")()
    if not isinstance(model, torch.nn.Module):
        return {"is_module": False, "type": f"{type(model).__module__}.{type(model).__qualname__}"}
    model.eval()  # inference: dropout (if any) off
    with torch.no_grad():
        out = model(torch.as_tensor(np.asarray(X), dtype=torch.float32))
    return {"is_module": True, "n_params": int(sum(p.numel() for p in model.parameters())),
            "state": plain_state(model), "out": out}


def load_weights(sub):
    """Load the submitted fashion_mlp.pt safely (weights_only=True) here, in the sandbox.

    Returns {"state": ...} or {"problem": what, "detail": text}; never raises for a bad file.
    """
    return load_state_file(sub.folder, WEIGHTS_FILE, MAX_WEIGHTS_MB)


def _loader(X, y, batch_size, shuffle, seed):
    import torch

    ds = torch.utils.data.TensorDataset(torch.as_tensor(np.asarray(X), dtype=torch.float32),
                                        torch.as_tensor(np.asarray(y), dtype=torch.int64))
    g = torch.Generator().manual_seed(int(seed))
    return torch.utils.data.DataLoader(ds, batch_size=int(batch_size), shuffle=shuffle, generator=g)


def train(sub, x_path, y_path, n, batch_size, epochs, lr, seed):
    """The student's train() on the grader's network and the first n shared images.

    Returns the parameters before and after (the grader measures the loss itself) and what train
    returned.
    """
    import torch

    X = np.load(x_path)[:n]
    y = np.load(y_path)[:n]
    torch.manual_seed(int(seed))
    model = grader_model()
    before = [p.detach().clone() for p in model.parameters()]
    losses = sub.fn("torch_mlp", "train")(model, _loader(X, y, batch_size, True, seed), epochs, lr, "cpu")
    after = [p.detach().cpu().clone() for p in model.parameters()]
    return {"before": before, "after": after, "losses": losses}


def evaluate(sub, params, X, y, batch_size):
    """The student's evaluate() on the grader's network with the grader's parameters and data."""
    model = grader_model(params)
    return sub.fn("torch_mlp", "evaluate")(model, _loader(X, y, batch_size, False, 0))
