"""A3 oracles and shared judges: the grader's own float64 computations.

Runs in the grader only. Expected values come from torch autograd in float64, the grader's own
forward passes and its own per-sample SGD, never from the reference solution or the student.
Thresholds and the measurements behind them: docs/fashion_mlp.md.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from grader.api import (CheckFailed, Outcome, autograd, f32_exact as f32, judge, judge_loss_accuracy,
                        judge_train_lowers_loss, labels_without_ties, require_at_least as require_accuracy, t64,
                        torch, training_curves)

t = t64

# |got − expected| ≤ atol + rtol·|expected|. float32 arithmetic is off by ~1e-7 relative per operation
# and ~1e-6 after the few hundred multiply-adds of a 784-input layer; summation order changes the
# same low bits. Every wrong formula in assignments/fashion_mlp/cases.py misses by more than 1e-3.
GRAD = dict(rtol=1e-4, atol=1e-6)
GRAD_TOL = "|got − expected| ≤ 1e-6 + 1e-4·|expected| (float32 and any summation order pass)"

# ---------------------------------------------------------------------------------------------------
# 3.1 the numpy 784-32-32-10 network
# ---------------------------------------------------------------------------------------------------
NP_SIZES = (784, 32, 32, 10)

# init_params: a sample variance of n independent N(0, σ²) entries (mean known to be 0) has relative
# standard deviation sqrt(2/n); the sample mean has standard deviation σ/sqrt(n). Both must lie within
# INIT_SIGMAS of those: a correct initialisation fails with probability < 1e-8 per layer, for any seed.
# For 784-32-32-10 the bounds are ±5.4 % (784×32), ±27 % (32×32) and ±47 % (32×10) of 1/max(n_in, n_out);
# N(0, 1), 1/n_out (32× and 3.2× off), 2/(n_in + n_out) (Glorot: 1.9× off in the first layer) and
# std = 1/max (the variance confused with the standard deviation) all fall far outside.
INIT_SIGMAS = 6.0
INIT_TOL = (f"biases exactly 0; per layer, sample variance of the weights within {INIT_SIGMAS:g}·sqrt(2/n) "
            f"(relative) of 1/max(n_in, n_out) and their mean within {INIT_SIGMAS:g}·σ/sqrt(n) of 0 "
            "(n entries): a correct random init fails with probability < 1e-8")

# train_epoch on FashionMNIST: the grader's initial parameters (N(0, 1/max) from NP_FASHION_SEED),
# NP_FASHION_EPOCHS calls of the student's train_epoch with lr NP_FASHION_LR on the 60,000 training
# images in a fresh random order each epoch, then test accuracy measured by the grader.
# With these settings the reference reaches 0.849 (0.833–0.854 over other init and order seeds, 0.843
# in the given order: docs/fashion_mlp.md); full marks sit below the worst of them, with margin for
# float32 and other summation orders. Seed spread over the grader's init/order seed 0–9
# (bench/seed_spread.json): the reference 0.8474 ± 0.0050 (n 10, min 0.8402), float32_numpy and a
# float32 train_epoch (float32_training) the same to 4 digits at every seed; the 0.1 % bound
# mean − 3.09·sd is 0.8321 ≥ NP_FASHION_FULL. No epoch at all stays at 0.10.
NP_FASHION_EPOCHS = 3
NP_FASHION_LR = 0.01
NP_FASHION_SEED = 0
NP_FASHION_FULL = 0.82
NP_FASHION_ZERO = 0.70


def sigmoid_t(z):
    return torch().sigmoid(z)


def np_logits_t(weights, biases, x):
    """Torch float64 forward of the numpy network up to the logits: a @ W + b, sigmoid between."""
    a = x
    for i, (W, b) in enumerate(zip(weights, biases)):
        z = a @ W + b
        a = z if i == len(weights) - 1 else sigmoid_t(z)
    return a


def np_forward(weights, biases, x) -> np.ndarray:
    with torch().no_grad():
        return torch().softmax(np_logits_t([t(W) for W in weights], [t(b) for b in biases], t(x)), -1).numpy()


def np_loss(weights, biases, x, label) -> float:
    """−log softmax(logits)[label] of one sample, torch float64 (for central differences)."""
    with torch().no_grad():
        z = np_logits_t([t(W) for W in weights], [t(b) for b in biases], t(x))
        return float(-torch().log_softmax(z, -1)[int(label)])


def np_sample_grads(weights, biases, x, label) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Autograd gradients of −log softmax(logits)[label] for one sample."""
    L = len(weights)

    def loss(*ps):
        z = np_logits_t(list(ps[:L]), list(ps[L:]), t(x))
        return -torch().log_softmax(z, -1)[int(label)]

    _, grads = autograd(loss, *weights, *biases)
    return grads[:L], grads[L:]


def np_sgd_epoch(weights, biases, X, y, lr) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The grader's per-sample SGD: one step per sample, in the given order, torch float64 autograd."""
    th = torch()
    L = len(weights)
    params = [t(a).requires_grad_(True) for a in [*weights, *biases]]
    for k in range(len(X)):
        z = np_logits_t(params[:L], params[L:], t(X[k]))
        grads = th.autograd.grad(-th.log_softmax(z, -1)[int(y[k])], params)
        with th.no_grad():
            params = [(q - lr * g).requires_grad_(True) for q, g in zip(params, grads)]
    out = [q.detach().numpy() for q in params]
    return out[:L], out[L:]


def np_accuracy(weights, biases, X, y) -> float:
    """Test accuracy with the grader's own forward pass (argmax of the logits), torch float64."""
    with torch().no_grad():
        z = np_logits_t([t(W) for W in weights], [t(b) for b in biases], t(X))
    return float(np.mean(z.argmax(1).numpy() == np.asarray(y)))


def np_random_params(rng: np.random.Generator, sizes=NP_SIZES, scale: float = 2.0):
    """Weights N(0, scale/max(n_in, n_out)), biases N(0, 0.3²): every unit away from saturation and
    from zero, so wrong formulas show."""
    weights = [rng.normal(0, math.sqrt(scale / max(a, b)), size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0, 0.3, size=b) for b in sizes[1:]]
    return weights, biases


def np_inputs(rng: np.random.Generator, n: Optional[int]) -> np.ndarray:
    """Images-like inputs: pixels uniform in [0, 1], exactly representable in float32."""
    shape = (NP_SIZES[0],) if n is None else (n, NP_SIZES[0])
    return rng.uniform(0, 1, size=shape).astype(np.float32).astype(np.float64)


def parse_params(name: str, got: Any, sizes: Sequence[int] = NP_SIZES) -> tuple[list, list]:
    """(weights, biases) as float64 arrays of the right shapes, or CheckFailed saying what is wrong."""
    if not isinstance(got, list) or len(got) != 2:
        what = f"a {type(got).__name__}" + (f" of length {len(got)}" if isinstance(got, list) else "")
        raise CheckFailed(f"{name} must return (weights, biases), a pair of lists; got {what}")
    pairs = list(zip(sizes[:-1], sizes[1:]))
    for part, value in zip(("weights", "biases"), got):
        if not isinstance(value, list) or len(value) != len(pairs):
            n = f"{len(value)} items" if isinstance(value, list) else f"a {type(value).__name__}"
            raise CheckFailed(f"{name}: {part} must be a list of {len(pairs)} arrays (one per layer), got {n}")
    weights = [judge.as_array(f"{name}: weights[{i}] (n_in, n_out)", W, (a, b))
               for i, (W, (a, b)) in enumerate(zip(got[0], pairs))]
    biases = [judge.as_array(f"{name}: biases[{i}]", v, (b,)) for i, (v, (_, b)) in enumerate(zip(got[1], pairs))]
    return weights, biases


def _variance_hint(var: float, n_in: int, n_out: int) -> str:
    candidates = {"1/n_in": 1 / n_in, "1/n_out": 1 / n_out, "2/(n_in + n_out)": 2 / (n_in + n_out),
                  "1": 1.0, "1/max(n_in, n_out)² (a standard deviation of 1/max?)": 1 / max(n_in, n_out) ** 2}
    name, value = min(candidates.items(), key=lambda kv: abs(math.log(var / kv[1])))
    if abs(math.log(var / value)) < 0.15 and value != 1 / max(n_in, n_out):
        return f"; that is about {name}"
    return ""


def judge_init(ctx, sizes: Sequence[int] = NP_SIZES, seed: int = 0) -> None:
    sizes = tuple(int(s) for s in sizes)
    custom = sizes != NP_SIZES
    label = f"init_params(rng{', sizes=' + str(sizes) if custom else ''})"
    got = ctx.probe("init_params", seed, list(sizes) if custom else None)
    weights, biases = parse_params(label, got, sizes)
    problems, items = [], 0
    for i, (W, b, (n_in, n_out)) in enumerate(zip(weights, biases, zip(sizes[:-1], sizes[1:]))):
        items += 2
        if np.any(b != 0):
            problems.append(f"biases[{i}] must be all 0, got max |b| = {np.max(np.abs(b)):.3g}")
        n, var_expected = W.size, 1.0 / max(n_in, n_out)
        var = float(np.mean(W ** 2))
        allowed = INIT_SIGMAS * math.sqrt(2.0 / n)
        mean_bound = INIT_SIGMAS * math.sqrt(var_expected / n)
        if abs(var / var_expected - 1) > allowed:
            hint = _variance_hint(var, n_in, n_out) if var > 0 else " (all zero?)"
            problems.append(
                f"weights[{i}] ({n_in}×{n_out}): sample variance {var:.4g}, expected 1/max(n_in, n_out) = "
                f"1/{max(n_in, n_out)} = {var_expected:.4g} (allowed ±{100 * allowed:.1f}% for {n} entries){hint}")
        elif abs(float(W.mean())) > mean_bound:
            problems.append(f"weights[{i}] ({n_in}×{n_out}): mean {W.mean():.3g}, expected 0 "
                            f"(allowed ±{mean_bound:.2g})")
    if problems:
        raise CheckFailed(f"{label}: " + "\n".join(problems), fraction=1 - len(problems) / items)


def judge_forward(ctx, weights, biases, X, label: str) -> None:
    got = ctx.probe("forward", weights, biases, X)
    judge.close(f"forward(weights, biases, x) for {label}", got, np_forward(weights, biases, X), **GRAD)


def judge_sample_grads(ctx, weights, biases, x, lab: int, label: str) -> None:
    got = ctx.probe("sample_grads", weights, biases, x, lab)
    name = f"sample_grads(weights, biases, x, {lab}) for {label}"
    gw, gb = parse_params(name, got)
    ew, eb = np_sample_grads(weights, biases, x, lab)
    judge.close_each([(f"{name}: weight_grads[{i}]", g, e) for i, (g, e) in enumerate(zip(gw, ew))] +
                     [(f"{name}: bias_grads[{i}]", g, e) for i, (g, e) in enumerate(zip(gb, eb))], **GRAD)


def judge_train_epoch(ctx, n: int, lr: float) -> None:
    weights, biases = np_random_params(ctx.rng)
    X = np_inputs(ctx.rng, n)
    y = ctx.rng.integers(0, 10, size=n)
    name = f"train_epoch(weights, biases, X, y, lr={lr}) on {n} sample{'s' if n > 1 else ''}"
    got = parse_params(name, ctx.probe("train_epoch", weights, biases, X, y, lr))
    ew, eb = np_sgd_epoch(weights, biases, X, y, lr)
    try:
        judge.close_each([(f"{name}: weights[{i}]", g, e) for i, (g, e) in enumerate(zip(got[0], ew))] +
                         [(f"{name}: biases[{i}]", g, e) for i, (g, e) in enumerate(zip(got[1], eb))], **GRAD)
    except CheckFailed as exc:
        raise CheckFailed(exc.message + "\n(train_epoch makes one SGD step per sample, p ← p − lr·∇p loss(sample), "
                          "in the order given: no shuffling and no averaging over the samples)",
                          exc.fraction) from None


def judge_np_fashion(ctx) -> Outcome:
    data = ctx.data()
    weights, biases = [], []
    rng = np.random.default_rng(NP_FASHION_SEED)
    for a, b in zip(NP_SIZES[:-1], NP_SIZES[1:]):
        # the grader's own N(0, 1/max(n_in, n_out)) init, init_params's answer: so it is scaled in
        # torch; the draws are numpy's standard normals (rng.normal(0, s) is s·standard_normal bit
        # for bit: the initial weights docs/fashion_mlp.md measured with)
        weights.append((t(rng.standard_normal((a, b))) * math.sqrt(1 / max(a, b))).numpy())
        biases.append(np.zeros(b))
    x_path = ctx.share("fashion_x_train", data.x_train)
    y_path = ctx.share("fashion_y_train", data.y_train)
    got = ctx.probe("train_epoch", weights, biases, x_path, y_path, NP_FASHION_LR,
                    epochs=NP_FASHION_EPOCHS, order_seed=NP_FASHION_SEED, every_epoch=True)
    what = f"after {NP_FASHION_EPOCHS} epochs of train_epoch(..., lr={NP_FASHION_LR})"
    got = got if isinstance(got, dict) else {}
    weights, biases = parse_params(f"the parameters {what}", got.get("final"))
    acc = np_accuracy(weights, biases, data.x_test, data.y_test)
    curves = training_curves("fashion_mlp", ctx.check.id, np_test_history(got.get("epochs"), data),
                             NP_FASHION_EPOCHS, source="measured by the grader on the test set",
                             thresholds=[(NP_FASHION_FULL, f"full marks: {NP_FASHION_FULL:.2f}"),
                                         (NP_FASHION_ZERO, f"no points below {NP_FASHION_ZERO:.2f}")])
    return judge.with_figures(curves, lambda: require_accuracy(
        acc, NP_FASHION_ZERO, NP_FASHION_FULL,
        f"test accuracy {acc:.4f} {what} on the 60,000 training images (measured by the grader "
        f"on the 10,000 test images); full marks at ≥ {NP_FASHION_FULL:.2f}, none below "
        f"{NP_FASHION_ZERO:.2f}"))


def np_test_history(epochs: Any, data) -> dict:
    """{"loss": [...], "accuracy": [...]}: the grader's own test loss and accuracy of the parameters
    after each epoch (for the curve); empty when they are not usable (the score never depends on it)."""
    history: dict = {"loss": [], "accuracy": []}
    for params in epochs if isinstance(epochs, list) else []:
        try:
            weights, biases = parse_params("the parameters after an epoch", params)
        except CheckFailed:
            return {}
        with torch().no_grad():
            z = np_logits_t([t(W) for W in weights], [t(b) for b in biases], t(data.x_test))
            loss = torch().nn.functional.cross_entropy(z, torch().as_tensor(np.array(data.y_test, np.int64)))
        history["loss"].append(float(loss))
        history["accuracy"].append(float(np.mean(z.argmax(1).numpy() == np.asarray(data.y_test))))
    return history


# ---------------------------------------------------------------------------------------------------
# 3.2 the torch 784-256-128-64-10 network
# ---------------------------------------------------------------------------------------------------
TORCH_SIZES = (784, 256, 128, 64, 10)
TORCH_SHAPES = [s for a, b in zip(TORCH_SIZES[:-1], TORCH_SIZES[1:]) for s in ((b, a), (b,))]
TORCH_N_PARAMS = 242_762
# logits of a float32 model against the grader's float64 forward of the same (float32) weights:
# ~1e-6 relative after 4 layers; a wrong activation or a softmax at the end changes them by > 0.1.
LOGITS = dict(rtol=1e-4, atol=1e-5)

# The submitted fashion_mlp.pt, evaluated by the grader on the 10,000 test images. The reference
# (reference/fashion_mlp/train_reference.py: Adam 1e-3, batch 128, 10 epochs, then 2 at 1e-4) reaches
# 0.891–0.895 over seeds 0–2, 0.873–0.882 without the last two epochs (docs/fashion_mlp.md); full
# marks at 0.87, linear partial credit down to 0.80 (plain SGD at 0.01 for 10 epochs reaches ~0.84
# and gets about half).
WEIGHTS_FULL = 0.87
WEIGHTS_ZERO = 0.80
WEIGHTS_FILE = "fashion_mlp.pt"
SAVE_HINT = ("train your model (see the README), then save its weights next to torch_mlp.py with "
             f"torch.save(model.state_dict(), \"{WEIGHTS_FILE}\")")

# The student's train() on the first TRAIN_N training images, grader's network and initialisation:
# the grader measures the mean cross-entropy on those images before and after. Adam at 1e-3 brings it
# from 2.30 to 0.70–0.81, 0.30–0.35× (docs/fashion_mlp.md), plain SGD at that lr to 0.999×; full marks
# when it falls to TRAIN_FULL_RATIO of the start, linear credit from 1×. Seed spread (the check's seed
# 0–9, which seeds the grader's init and the loader's order; bench/seed_spread.json): the reference and
# the other_style variant both 0.3264 ± 0.0162 (n 10 each, max 0.3501); 0.1 % bound mean + 3.09·sd =
# 0.3764 ≤ 0.6. One epoch instead of two reaches 0.40 (caught by the number of losses it returns).
TRAIN_N, TRAIN_BATCH, TRAIN_EPOCHS, TRAIN_LR = 2000, 50, 2, 1e-3
TRAIN_FULL_RATIO = 0.6





def _shape_list(shapes) -> str:
    return ", ".join(str(tuple(s)) for s in shapes)


def match_state(name: str, state: Any) -> list[np.ndarray]:
    """The 8 arrays of a 784-256-128-64-10 state_dict in layer order (W1, b1, …, W4, b4), as float64.

    Keys are free (Sequential indices, fc1, …): every expected shape occurs exactly once, so the
    arrays are matched by shape. Anything more, less or of another shape is an architecture error.
    """
    state = judge.require_keys(name, state, ["keys", "arrays"])
    keys, arrays = list(state["keys"]), list(state["arrays"])
    shapes = [tuple(np.shape(a)) for a in arrays]
    expected = [tuple(s) for s in TORCH_SHAPES]
    by_shape = {}
    extra = []
    for k, s, a in zip(keys, shapes, arrays):
        if s in expected and s not in by_shape:
            by_shape[s] = (k, a)
        else:
            extra.append(f"{k} {s}")
    missing = [s for s in expected if s not in by_shape]
    if missing or extra:
        have = ", ".join(f"{k} {s}" for k, s in zip(keys, shapes)) or "nothing"
        hint = ""
        if any(s[::-1] in shapes for s in missing if len(s) == 2):
            hint = "\n(a transposed shape: nn.Linear stores its weight as (out_features, in_features))"
        raise CheckFailed(
            f"{name} does not hold the 784-256-128-64-10 network: expected exactly the tensors "
            f"{_shape_list(expected)} (any names), got {have}" +
            (f"\nmissing: {_shape_list(missing)}" if missing else "") +
            (f"\nnot expected: {', '.join(extra)}" if extra else "") + hint)
    return [judge.as_array(f"{name}['{by_shape[s][0]}']", by_shape[s][1], s) for s in expected]


def torch_logits(params: Sequence[np.ndarray], X: np.ndarray):
    """The grader's forward pass, float64: x @ W.T + b per layer, ReLU between (a torch tensor)."""
    th = torch()
    h = t(np.array(X).reshape(len(X), -1))
    with th.no_grad():
        for i in range(0, len(params), 2):
            h = h @ t(params[i]).T + t(params[i + 1])
            if i < len(params) - 2:
                h = th.relu(h)
    return h


def torch_loss_acc(params, X, y) -> tuple[float, float]:
    """Mean cross-entropy over the samples and the fraction classified correctly, float64."""
    th = torch()
    logits = torch_logits(params, X)
    labels = th.as_tensor(np.array(y), dtype=th.long)
    loss = float(th.nn.functional.cross_entropy(logits, labels))
    return loss, float((logits.argmax(1) == labels).double().mean())


def random_torch_params(rng: np.random.Generator) -> list[np.ndarray]:
    """He-scaled weights (logits of order 1) and small biases, rounded to float32."""
    params = []
    for a, b in zip(TORCH_SIZES[:-1], TORCH_SIZES[1:]):
        params += [f32(rng.normal(0, math.sqrt(2 / a), size=(b, a))), f32(rng.normal(0, 0.1, size=b))]
    return params


def judge_evaluate(ctx, n: int, batch_size: int, hard_last: bool = False) -> None:
    params = random_torch_params(ctx.rng)
    X = f32(ctx.rng.uniform(0, 1, size=(2 * n, TORCH_SIZES[0])))
    X, y = labels_without_ties(ctx.rng, X, torch_logits(params, X).numpy(), n,
                               hard_last=n % batch_size if hard_last else 0)
    loss, acc = torch_loss_acc(params, X, y)
    got = ctx.probe("evaluate", params, X, y, batch_size)
    name = f"evaluate(model, loader) with {n} samples in batches of {batch_size}"
    if not isinstance(got, list) or len(got) != 2:
        raise CheckFailed(f"{name} must return (loss, accuracy), got {type(got).__name__}")
    g_loss = judge.as_array(f"{name}: loss", got[0])
    g_acc = judge.as_array(f"{name}: accuracy", got[1])
    if g_loss.size != 1 or g_acc.size != 1:
        raise CheckFailed(f"{name} must return two numbers (loss, accuracy), got shapes "
                          f"{g_loss.shape} and {g_acc.shape}")
    judge_loss_accuracy(name, g_loss.reshape(()), float(g_acc.reshape(())), loss, acc, n=n, batch_size=batch_size,
                        loss_what=f"mean cross-entropy over all {n} samples")


def judge_train(ctx, n: int, batch_size: int, epochs: int, lr: float, full_ratio: float) -> Outcome:
    """Run the student's train on the grader's network; the grader measures the loss before and after."""
    data = ctx.data()
    idx = np.arange(n)
    x_path = ctx.share(f"fashion_x_first{n}", data.x_train[idx])
    y_path = ctx.share(f"fashion_y_first{n}", data.y_train[idx])
    got = judge.require_keys("train", ctx.probe("train", x_path, y_path, n, batch_size, epochs, lr, ctx.seed),
                             ["before", "after", "losses"])
    X, y = data.x_train[idx], data.y_train[idx]
    what = (f"train(model, loader, epochs={epochs}, lr={lr}, device='cpu') on {n} training images "
            f"in batches of {batch_size}")
    return judge_train_lowers_loss(got, what=what, epochs=epochs, loss=lambda p: torch_loss_acc(p, X, y)[0],
                                   full_ratio=full_ratio,
                                   hint="Does train call optimizer.step() every batch, with the lr given?")
