"""Worker-side probes for A4: call the student's code on inputs the grader chose; return plain data.

Runs inside the sandbox. Holds no expected values: judging happens in checks.py / hidden.py (the
optimiser trajectories, accuracies and losses are computed there). Torch is imported inside the
probes that need it.
"""
import copy

import numpy as np
from gradeworker.weights import load_state_file, plain_state

WEIGHTS_FILE = "cnn.pt"
MAX_WEIGHTS_MB = 20  # the 93,322 float32 parameters take ~0.4 MB; anything far larger is not them


def call(sub, module, name, *args, **kwargs):
    """The student's module.name(*args, **kwargs)."""
    return sub.fn(module, name)(*args, **kwargs)


# --- 4.2 penalties --------------------------------------------------------------------------------
def regularised_ce_error(sub, probs, labels, weights, lam, kind):
    """regularised_cross_entropy with an unknown kind: which exception (if any) it raises."""
    fn = sub.fn("penalties", "regularised_cross_entropy")
    try:
        value = fn(probs, labels, weights, lam, kind)
    except NotImplementedError:
        raise
    except Exception as exc:  # the type and text only: the grader judges them
        return {"raised": type(exc).__name__, "message": str(exc)[:300],
                "is_value_error": isinstance(exc, ValueError)}
    return {"raised": None, "returned": repr(value)[:100]}


# --- 4.3 linear ----------------------------------------------------------------------------------
def linear_train(sub, X, Y, lr, lr_decay, reg, iterations, batch_size=None, seed=0):
    """train(...) on the grader's data (X, Y arrays or paths of shared .npy files): (W, b, history)."""
    if isinstance(X, str):
        X, Y = np.load(X), np.load(Y)
    out = sub.fn("linear", "train")(X, Y, lr, lr_decay, reg, int(iterations), batch_size=batch_size,
                                    seed=int(seed))
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise TypeError(f"train must return (W, b, history), got {type(out).__name__}")
    W, b, history = out
    if isinstance(history, dict):
        history = {str(k): (list(v) if isinstance(v, (list, tuple, np.ndarray)) else v)
                   for k, v in history.items() if k in ("loss", "lr")}
    return {"W": W, "b": b, "history": history}


def linear_train_pair(sub, x_path, y_path, lr, lr_decay, regs, iterations, batch_size=None, seed=0):
    """The same run of train() once per reg value (the grader compares the norms of the W's)."""
    X, Y = np.load(x_path), np.load(y_path)
    return [linear_train(sub, X, Y, lr, lr_decay, reg, iterations, batch_size, seed)["W"] for reg in regs]


# --- 4.4 dropout -----------------------------------------------------------------------------------
def dropout_pass(sub, p, X, dY, train=True, seed=None, repeat=1):
    """Dropout(p).forward(X, train, rng) then backward(dY), `repeat` times on the same layer and rng.

    rng: default_rng(seed), or None (the layer's own default) when seed is None.
    """
    layer = sub.fn("dropout", "Dropout")(p)
    rng = None if seed is None else np.random.default_rng(int(seed))
    out = []
    for _ in range(int(repeat)):
        Y = layer.forward(np.array(X), train=train, rng=rng)
        Y = np.array(Y, copy=True)  # before backward could touch it
        dX = layer.backward(np.array(dY))
        out.append({"Y": Y, "dX": dX})
    return out


# --- 4.5 optim -------------------------------------------------------------------------------------
def _snapshot(state):
    if not isinstance(state, dict):
        return {"not_a_dict": type(state).__name__}
    snap = {}
    for k, v in state.items():
        key = str(k)
        if isinstance(v, np.ndarray) or np.isscalar(v):
            snap[key] = np.array(v, dtype=np.float64, copy=True)
    return snap


def optim_run(sub, name, param, grads, kwargs, watch_steps=(0, 1, 2)):
    """`len(grads)` steps of optim.name from param and state {}: the parameter after every step.

    For the steps in `watch_steps`, also what the inputs (param, grad and the state passed in) look
    like after the call next to copies taken before it, so that the grader can tell whether the
    function modified them in place.
    """
    fn = sub.fn("optim", name)
    state = {}
    p = np.array(param)
    trajectory, watched = [], []
    for k, g in enumerate(grads):
        g = np.array(g)
        p_before, g_before, s_before = p.copy(), g.copy(), _snapshot(copy.deepcopy(state))
        out = fn(p, g, state, **kwargs)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"{name} must return (new_param, new_state), got {type(out).__name__}")
        if k in watch_steps:
            watched.append({"step": k + 1, "param_before": p_before, "param_after": np.array(p, copy=True),
                            "grad_before": g_before, "grad_after": np.array(g, copy=True),
                            "state_before": s_before, "state_after": _snapshot(state)})
        new_p, state = out
        if not isinstance(state, dict):
            raise TypeError(f"{name} must return the new state as a dict, got {type(state).__name__}")
        p = np.array(new_p, copy=True)  # keeps the student's dtype; decoupled from their array
        trajectory.append(np.array(p, copy=True))
    return {"trajectory": trajectory, "watched": watched}


# --- 4.6 cnn ---------------------------------------------------------------------------------------
def grader_cnn(params=None, dropout=0.0):
    """The grader's own CNN of the statement (handed to the student's train/evaluate/make_optimizer,
    so those are checked independently of build_cnn); params in layer order."""
    import torch
    from torch import nn

    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(576, 64), nn.ReLU(), nn.Dropout(float(dropout)), nn.Linear(64, 10))
    if params is not None:
        with torch.no_grad():
            for p, value in zip(model.parameters(), params):
                p.copy_(torch.as_tensor(np.asarray(value), dtype=torch.float32))
    return model


def build_cnn(sub, X, dropout=None):
    """build_cnn() (or build_cnn(dropout)): type, parameter count, state_dict, and its outputs on X:
    twice in eval mode, twice in train mode (dropout active)."""
    import torch

    fn = sub.fn("cnn", "build_cnn")
    model = fn() if dropout is None else fn(dropout)
    if not isinstance(model, torch.nn.Module):
        return {"is_module": False, "type": f"{type(model).__module__}.{type(model).__qualname__}"}
    x = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    outs = {}
    with torch.no_grad():
        model.eval()
        outs["eval"] = [model(x), model(x)]
        model.train()
        outs["train"] = [model(x), model(x)]
    return {"is_module": True, "n_params": int(sum(p.numel() for p in model.parameters())),
            "state": plain_state(model), "out": outs}


def make_optimizer(sub, lr, weight_decay, seed=0):
    """make_optimizer(grader's CNN, lr, weight_decay): its type and parameter groups, and the
    parameters before and after one step with all gradients zero."""
    import torch

    torch.manual_seed(int(seed))
    model = grader_cnn()
    opt = sub.fn("cnn", "make_optimizer")(model, lr=lr, weight_decay=weight_decay)
    if not isinstance(opt, torch.optim.Optimizer):
        return {"is_optimizer": False, "type": f"{type(opt).__module__}.{type(opt).__qualname__}"}
    ids = {id(p): i for i, p in enumerate(model.parameters())}
    groups = []
    for g in opt.param_groups:
        groups.append({"params": [ids.get(id(p), -1) for p in g["params"]],
                       "lr": float(g.get("lr", float("nan"))),
                       "weight_decay": float(g.get("weight_decay", 0.0) or 0.0)})
    before = [p.detach().clone() for p in model.parameters()]
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    after = [p.detach().clone() for p in model.parameters()]
    return {"is_optimizer": True, "type": f"{type(opt).__module__}.{type(opt).__qualname__}",
            "groups": groups, "before": before, "after": after}


def load_weights(sub):
    """Load the submitted cnn.pt safely (weights_only=True) here, in the sandbox.

    Returns {"state": ...} or {"problem": what, "detail": text}; never raises for a bad file.
    """
    return load_state_file(sub.folder, WEIGHTS_FILE, MAX_WEIGHTS_MB)


def _loader(X, y, batch_size, shuffle, seed):
    import torch

    ds = torch.utils.data.TensorDataset(torch.as_tensor(np.asarray(X), dtype=torch.float32).reshape(-1, 1, 28, 28),
                                        torch.as_tensor(np.asarray(y), dtype=torch.int64))
    g = torch.Generator().manual_seed(int(seed))
    return torch.utils.data.DataLoader(ds, batch_size=int(batch_size), shuffle=shuffle, generator=g)


def train(sub, x_path, y_path, n, batch_size, epochs, lr, weight_decay, dropout, seed):
    """The student's train() on the grader's CNN with the grader's AdamW(lr, weight_decay) and the
    first n shared images: the parameters before and after (the grader measures the loss itself)
    and what train returned."""
    import torch

    X = np.load(x_path)[:n]
    y = np.load(y_path)[:n]
    torch.manual_seed(int(seed))
    model = grader_cnn(dropout=dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=float(lr), weight_decay=float(weight_decay))
    before = [p.detach().clone() for p in model.parameters()]
    losses = sub.fn("cnn", "train")(model, _loader(X, y, batch_size, True, seed), opt, epochs, "cpu")
    after = [p.detach().cpu().clone() for p in model.parameters()]
    return {"before": before, "after": after, "losses": losses, "training": bool(model.training)}


def evaluate(sub, params, X, y, batch_size, dropout=0.5):
    """The student's evaluate() on the grader's CNN (grader's parameters, dropout layer, left in
    train mode) and the grader's data; also whether the model is back in train mode afterwards."""
    model = grader_cnn(params, dropout=dropout)
    model.train()
    out = sub.fn("cnn", "evaluate")(model, _loader(X, y, batch_size, False, 0))
    return {"result": out, "training_after": bool(model.training)}
