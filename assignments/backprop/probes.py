"""Worker-side probes for A1: call the student's code on inputs the grader chose; return plain data.

Runs inside the sandbox. Holds no expected values: judging happens in checks.py / hidden.py.
"""
import numpy as np


def call(sub, module, name, *args):
    """The student's module.name(*args)."""
    return sub.fn(module, name)(*args)


def call_keeping_args(sub, module, name, *args):
    """module.name(*args), and whether it changed the arguments it was given (compared with a deep
    copy taken before the call): a function that must not modify its inputs can only be caught here,
    on the worker's side, where the caller's objects live."""
    import copy

    before = copy.deepcopy(args)
    result = sub.fn(module, name)(*args)
    return {"result": result, "args_changed": before != args}


# --- 1.3 layers -------------------------------------------------------------------------------
def _layer(sub, cls, init):
    return sub.fn("layers", cls)(*[np.array(a, dtype=np.float64) for a in init])


def layer_pass(sub, cls, init, X, dY):
    """forward(X) then backward(dY); a Linear layer's dW and db too."""
    layer = _layer(sub, cls, init)
    out = {"Y": layer.forward(np.array(X)), "dX": layer.backward(np.array(dY))}
    if cls == "Linear":
        out["dW"], out["db"] = layer.dW, layer.db
    return out


def loss_pass(sub, cls, pred, target):
    loss = sub.fn("layers", cls)()
    value = loss.forward(np.array(pred), np.array(target))
    return {"loss": value, "dpred": loss.backward()}


def layer_line_counts(sub, sizes, n_in, n_out, seed):
    """Per layer class, the lines of layers.py Python executes for forward + backward on a batch of
    each size in `sizes` (same features): a layer vectorised over the batch runs the same lines for
    any batch size; a loop over the rows runs more lines the more rows there are."""
    import sys

    module = sub.module("layers")
    rng = np.random.default_rng(seed)
    counts: dict[str, list[int]] = {}

    def runs(cls, n):
        X = rng.normal(size=(n, n_in))
        if cls == "Linear":
            layer = _layer(sub, cls, [rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)])
            return lambda: layer.backward(layer.forward(X) * 0 + rng.normal(size=(n, n_out)))
        if cls in ("MSELoss", "CrossEntropyLoss"):
            loss = sub.fn("layers", cls)()
            pred = np.exp(X) / np.exp(X).sum(axis=1, keepdims=True)
            target = rng.normal(size=(n, n_in)) if cls == "MSELoss" else rng.integers(0, n_in, size=n)
            return lambda: (loss.forward(pred, target), loss.backward())
        layer = _layer(sub, cls, [])
        return lambda: layer.backward(layer.forward(X) * 0 + rng.normal(size=(n, n_in)))

    for cls in ("Linear", "Sigmoid", "ReLU", "Softmax", "MSELoss", "CrossEntropyLoss"):
        counts[cls] = []
        for n in sizes:
            run, lines = runs(cls, n), [0]

            def tracer(frame, event, arg):
                if frame.f_globals is not module.__dict__:
                    return None  # numpy, the student's other modules: not counted, not traced
                lines[0] += event == "line"
                return tracer

            sys.settrace(tracer)
            try:
                run()
            finally:
                sys.settrace(None)
            counts[cls].append(lines[0])
    return counts


# --- 1.3 mlp ----------------------------------------------------------------------------------
def _mlp(sub, sizes, hidden, output, params=None, seed=0):
    net = sub.fn("mlp", "MLP")(list(sizes), hidden=hidden, output=output, seed=seed)
    if params is not None:
        mine = net.params()
        if len(mine) != len(params):
            raise ValueError(f"params() returned {len(mine)} arrays, expected {len(params)}")
        for p, value in zip(mine, params):
            p[...] = value  # params() must return the model's own arrays (see the statement)
    return net


def mlp_shapes(sub, sizes, hidden, output, seed):
    net = _mlp(sub, sizes, hidden, output, seed=seed)
    return {"params": [np.asarray(p) for p in net.params()]}


def mlp_pass(sub, sizes, hidden, output, params, X, G):
    """Forward, then backward with dLoss/dOutput = G: grads of sum(out * G)."""
    net = _mlp(sub, sizes, hidden, output, params)
    out = net.forward(np.array(X))
    net.backward(np.array(G))
    return {"out": out, "grads": [np.array(g) for g in net.grads()]}


def mlp_loss_pass(sub, sizes, hidden, output, params, X, target, loss):
    """Forward, the student's loss layer, backward through both: loss value and grads."""
    net = _mlp(sub, sizes, hidden, output, params)
    loss_fn = sub.fn("layers", loss)()
    out = net.forward(np.array(X))
    value = loss_fn.forward(out, np.array(target))
    net.backward(loss_fn.backward())
    return {"out": out, "loss": value, "grads": [np.array(g) for g in net.grads()]}


def mlp_step(sub, sizes, hidden, output, params, X, G, lr):
    net = _mlp(sub, sizes, hidden, output, params)
    net.forward(np.array(X))
    net.backward(np.array(G))
    net.step(lr)
    return {"params": [np.array(p) for p in net.params()]}


def mlp_train(sub, sizes, hidden, output, x_path, y_path, epochs, lr, batch_size, seed, n=None, deadline=None):
    """Train on arrays the grader shared; return the trained parameters and the history.

    With `deadline` (seconds), training runs in a thread; when it has not finished by then, the
    parameters reached so far are returned (params() holds the model's own arrays, updated in place
    as it trains) with "finished": False, so a correct but slow implementation is scored on what it
    learned instead of getting a timeout."""
    import threading
    import time

    X = np.load(x_path, mmap_mode="r")
    y = np.load(y_path, mmap_mode="r")
    if n is not None:
        X, y = X[:n], y[:n]
    X, y = np.array(X), np.array(y)
    net = _mlp(sub, sizes, hidden, output, seed=seed)
    if deadline is None:
        history = net.train(X, y, epochs=epochs, lr=lr, batch_size=batch_size)
        return {"params": [np.array(p) for p in net.params()], "history": history, "finished": True}
    done: dict = {}

    def train():
        try:
            done["history"] = net.train(X, y, epochs=epochs, lr=lr, batch_size=batch_size)
        except BaseException as exc:  # re-raised below, as if train() had been called here
            done["error"] = exc

    t0 = time.monotonic()
    worker = threading.Thread(target=train, name="student-train", daemon=True)
    worker.start()
    worker.join(deadline)
    if "error" in done:
        raise done["error"]
    finished = not worker.is_alive()
    return {"params": [np.array(p) for p in net.params()], "history": done.get("history"),
            "finished": finished, "seconds": time.monotonic() - t0}


def mlp_train_given(sub, sizes, hidden, output, params, X, y, epochs, lr, batch_size, model_seed=0):
    """train() on small arrays the grader chose, from its chosen weights (None: the model's own
    initialisation from `model_seed`); return the history and the trained parameters."""
    net = _mlp(sub, sizes, hidden, output, params, seed=model_seed)
    history = net.train(np.array(X), np.array(y), epochs=epochs, lr=lr, batch_size=batch_size)
    return {"params": [np.array(p) for p in net.params()], "history": history}


def mlp_train_twice(sub, *args):
    """mlp_train_given twice in this one process: the worker seeds the global generators once per
    probe, so only two runs in the same process show a shuffle that is not seeded by the model."""
    return [mlp_train_given(sub, *args) for _ in range(2)]


# --- 1.2 scalar backprop ------------------------------------------------------------------------
def scalar_train(sub, x_path, t_path, epochs, lr, seed, n):
    X = np.load(x_path)[:n].tolist()  # plain lists: the student's code is plain Python
    T = np.load(t_path)[:n].tolist()
    params, losses = sub.fn("scalar_backprop", "train_synthetic")(X, T, epochs, lr, seed)
    return {"params": params, "losses": losses}
