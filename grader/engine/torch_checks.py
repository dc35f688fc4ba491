"""Judges shared by the torch tasks of several assignments (A3 fashion_mlp, A4 regularised_cnn).

Each assignment keeps its own check ids, points, titles, tolerances and the wording of its messages
(passed in here); what lives here is the procedure that was the same in both: the lr = 0 training
contract, the architecture of a built model, and the verdict on evaluate()'s (loss, accuracy).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from . import judge
from .judge import f32_exact
from .model import CheckFailed

# (parameters, X, y) -> (mean cross-entropy, accuracy), computed by the grader in float64
LossAcc = Callable[[Sequence[np.ndarray], np.ndarray, np.ndarray], tuple[float, float]]


def judge_train_contract(ctx: Any, *, n: int, batch: int, epochs: int, zero_args: Sequence[float], what: str,
                         moved_hint: str, loss_acc: LossAcc) -> None:
    """train() with an optimizer at lr = 0 on `n` hidden FashionMNIST images: the parameters must not
    move, and it must return one loss per epoch, each the grader's mean cross-entropy on the images.

    `zero_args` are the probe's optimiser arguments between `epochs` and the seed (lr and whatever
    else the assignment's `train` probe takes, all 0); `what` names the call in messages.
    """
    data = ctx.data()
    idx = np.sort(ctx.rng.choice(len(data.x_train), size=n, replace=False))
    x_path = ctx.share(f"fashion_x_hidden{n}", data.x_train[idx])
    y_path = ctx.share(f"fashion_y_hidden{n}", data.y_train[idx])
    got = judge.require_keys("train", ctx.probe("train", x_path, y_path, n, batch, epochs, *zero_args, ctx.seed),
                             ["before", "after", "losses"])
    before = [f32_exact(a) for a in got["before"]]
    problems = []
    try:
        judge.close_each([(f"{what}: parameter {i} (must not move with lr = 0)", a, b)
                          for i, (a, b) in enumerate(zip(got["after"], before))], rtol=0, atol=1e-6)
    except CheckFailed as exc:
        problems.append(exc.message + "\n" + moved_hint)
    losses = got["losses"]
    if not isinstance(losses, list) or len(losses) != epochs:
        n_got = f"{len(losses)} values" if isinstance(losses, list) else f"a {type(losses).__name__}"
        problems.append(f"{what} must return one loss per epoch ({epochs}), got {n_got}")
    else:
        loss, _ = loss_acc(before, data.x_train[idx], data.y_train[idx])
        try:
            judge.close(f"{what}: the returned per-epoch losses (the model does not change, so each is the mean "
                        f"cross-entropy over the {n} images)", np.ravel(np.array(losses, dtype=float)),
                        np.full(epochs, loss), rtol=1e-4, atol=1e-6)
        except (CheckFailed, ValueError, TypeError) as exc:
            problems.append(getattr(exc, "message", str(exc)))
    if problems:
        raise CheckFailed("\n".join(problems), fraction=1 - len(problems) / 2)


def judge_architecture(got: Any, *, builder: str, n_params: int, count_hint: str,
                       match_state: Callable[[str, Any], list], out: Callable[[Any], Any], out_name: str,
                       expected_logits: Callable[[list], np.ndarray], tol: dict[str, float],
                       layers_hint: str) -> None:
    """The reply of a `build_*` probe: a torch Module with `n_params` parameters whose state matches the
    grader's layout and whose logits (`out(got["out"])`) match, within `tol` (rtol, atol), the grader's
    forward pass with the model's own weights. Half marks when exactly one of count and logits is wrong."""
    if not got.get("is_module"):
        raise CheckFailed(f"{builder}() must return a torch.nn.Module, got {got.get('type')}")
    problems = []
    if got["n_params"] != n_params:
        problems.append(f"{builder}() has {got['n_params']:,} parameters, expected {n_params:,} {count_hint}")
    try:
        params = match_state(f"{builder}().state_dict()", got["state"])
    except CheckFailed as exc:
        problems.append(exc.message)
        raise CheckFailed("\n".join(problems)) from None
    try:
        judge.close(out_name, out(got["out"]), expected_logits(params), **tol)
    except CheckFailed as exc:
        problems.append(exc.message + "\n" + layers_hint)
    if problems:
        raise CheckFailed("\n".join(problems), fraction=0.5 if len(problems) == 1 else 0.0)


def hardest_last(X: np.ndarray, y: np.ndarray, per_sample_loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Samples sorted by loss (stable): a short last batch then holds the hardest ones, so that the
    mean of batch means differs from the mean over samples."""
    order = np.argsort(per_sample_loss, kind="stable")
    return X[order], y[order]


def judge_loss_accuracy(name: str, n: int, batch_size: int, got_loss: Any, got_acc: float, loss: float,
                        acc: float, *, loss_what: str, loss_hint: str = "", percent_tol: float) -> None:
    """evaluate()'s (loss, accuracy) against the grader's: loss within 1e-6 + 1e-4·|loss|, accuracy
    within 1e-6 (float32 rounding of a fraction; one sample more or less is ≥ 1/n ≥ 1e-3).
    Half marks for one of the two wrong."""
    errors = []
    try:
        judge.close(f"{name}: loss ({loss_what})", got_loss, loss, rtol=1e-4, atol=1e-6)
    except CheckFailed as exc:
        msg = exc.message + loss_hint
        if n % batch_size:
            msg += (f"\n(the last batch holds only {n % batch_size} samples: average over samples, "
                    "not over batches)")
        errors.append(msg)
    if abs(got_acc - acc) > 1e-6:
        hint = " (a fraction in [0, 1], not a percentage)" if abs(got_acc - 100 * acc) < percent_tol else ""
        errors.append(f"{name}: accuracy: expected {acc:.6g} ({int(round(acc * n))} of {n} correct), "
                      f"got {got_acc:.6g}{hint}")
    if errors:
        raise CheckFailed("\n".join(errors), fraction=1 - len(errors) / 2)
