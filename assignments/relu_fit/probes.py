"""Worker-side probes for A2: call the student's code on inputs the grader chose; return plain data.

Runs inside the sandbox. Holds no expected values: judging happens in checks.py / hidden.py, where
the grader evaluates fitted parameters with its own forward pass (never the student's predict).
"""
import numpy as np


def call(sub, module, name, *args):
    """The student's module.name(*args)."""
    return sub.fn(module, name)(*args)


def predict_each(sub, p, xs):
    """predict(p, x) for every x in the list `xs` (floats and arrays): a list of results."""
    predict = sub.fn("relu_net", "predict")
    return [predict(np.array(p), x) for x in xs]


def loss_grads(sub, p, points):
    """loss_grad(p, x, y) for every (x, y) in `points`: a list of gradients."""
    loss_grad = sub.fn("relu_net", "loss_grad")
    return [loss_grad(np.array(p), float(x), float(y)) for x, y in points]


def fit(sub, xs, ys, seed):
    """fit(xs, ys, seed=seed): the fitted parameters, evaluated by the grader."""
    return sub.fn("relu_net", "fit")(np.array(xs), np.array(ys), seed=seed)


def fit_twice(sub, xs, ys, seed):
    """fit(xs, ys, seed=seed) twice in a row in the same process (no reseeding in between)."""
    fit_ = sub.fn("relu_net", "fit")
    first = fit_(np.array(xs), np.array(ys), seed=seed)
    first = np.array(first, copy=True) if isinstance(first, np.ndarray) else first
    second = fit_(np.array(xs), np.array(ys), seed=seed)
    return [first, second]
