"""Judges shared by the torch assignments: a model's architecture, train() (it lowers the loss; with
lr = 0 nothing moves), evaluate().

Each takes what differs between assignments (the call, the grader's forward pass, the counts, the
hints) as arguments, so every assignment keeps its own check ids, points, titles and messages; the
logic of the verdict lives here once.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import judge
from .model import CheckFailed, Outcome
from .oracles import t64, torch


def judge_architecture(got: dict, *, call: str, n_params: int, count_note: str,
                       match_state: Callable[[str, Any], list], logits_name: str, got_logits: Callable[[dict], Any],
                       logits: Callable[[list], np.ndarray], tolerance: dict, layers_hint: str) -> None:
    """`call` (e.g. "build_model()") must build a module with `n_params` parameters whose state matches
    the grader's and whose logits (`got_logits(got)`) equal the grader's forward pass with the model's own
    weights.

    Half credit for one problem (wrong count or wrong logits), none for two or an unusable state.
    """
    if not got.get("is_module"):
        raise CheckFailed(f"{call} must return a torch.nn.Module, got {got.get('type')}")
    problems = []
    if got["n_params"] != n_params:
        problems.append(f"{call} has {got['n_params']:,} parameters, expected {n_params:,} ({count_note})")
    try:
        params = match_state(f"{call}.state_dict()", got["state"])
    except CheckFailed as exc:
        problems.append(exc.message)
        raise CheckFailed("\n".join(problems)) from None
    try:
        judge.close(logits_name, got_logits(got), logits(params), **tolerance)
    except CheckFailed as exc:
        problems.append(exc.message + f"\n({layers_hint})")
    if problems:
        raise CheckFailed("\n".join(problems), fraction=0.5 if len(problems) == 1 else 0.0)


def judge_train_lowers_loss(got: dict, *, what: str, epochs: int, loss: Callable[[list], float],
                            full_ratio: float, hint: str) -> Outcome:
    """train() on the grader's network: the grader measures the loss (`loss(params)`, its own) of the
    parameters "before" and "after" in `got`; credit as `judge.require_loss_drop` gives it."""
    before = [judge.f32_exact(a) for a in got["before"]]
    after = [judge.as_array(f"parameter {i} after train", a, np.shape(b)) for i, (a, b) in
             enumerate(zip(got["after"], before))]
    return judge.require_loss_drop(what, got["losses"], epochs, loss(before), loss(after), full_ratio, hint)


def judge_lr0_contract(got: dict, *, what: str, epochs: int, n: int, loss: Callable[[list], float],
                       step_hint: str) -> None:
    """train() with a learning rate of 0: no parameter may move, and it returns one loss per epoch, each
    the mean cross-entropy of the unchanged model over the `n` images (`loss(before)`, the grader's).

    `got` holds the model's parameters "before" and "after" and the returned "losses"; half credit per
    part that holds.
    """
    before = [judge.f32_exact(a) for a in got["before"]]
    problems = []
    try:
        judge.close_each([(f"{what}: parameter {i} (must not move with lr = 0)", a, b)
                          for i, (a, b) in enumerate(zip(got["after"], before))], rtol=0, atol=1e-6)
    except CheckFailed as exc:
        problems.append(exc.message + f"\n({step_hint})")
    losses = got["losses"]
    if not isinstance(losses, list) or len(losses) != epochs:
        n_got = f"{len(losses)} values" if isinstance(losses, list) else f"a {type(losses).__name__}"
        problems.append(f"{what} must return one loss per epoch ({epochs}), got {n_got}")
    else:
        expected = loss(before)
        try:
            judge.close(f"{what}: the returned per-epoch losses (the model does not change, so each is the mean "
                        f"cross-entropy over the {n} images)", np.ravel(np.array(losses, dtype=float)),
                        np.full(epochs, expected), rtol=1e-4, atol=1e-6)
        except (CheckFailed, ValueError, TypeError) as exc:
            problems.append(getattr(exc, "message", str(exc)))
    if problems:
        raise CheckFailed("\n".join(problems), fraction=1 - len(problems) / 2)


def labels_without_ties(rng: np.random.Generator, X: np.ndarray, logits: np.ndarray, n: int,
                        hard_last: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` of the candidate inputs `X` (with the grader's `logits` for them) and labels the network gets
    ~70 % right (argmax of its logits, 30 % random).

    Candidates whose two top logits are within 1e-3 are dropped, so float32 cannot flip a prediction.
    With hard_last > 0 the samples are sorted by loss, the highest last (a small last batch full of them
    makes the mean of batch means differ from the mean over samples).
    """
    top2 = np.sort(logits, axis=1)[:, -2:]
    ok = top2[:, 1] - top2[:, 0] > 1e-3
    if ok.sum() < n:
        raise RuntimeError("too few inputs without near-ties")  # the grader's own defect, never the student's
    X, logits = X[ok][:n], logits[ok][:n]
    y = np.where(rng.uniform(size=n) < 0.7, logits.argmax(1), rng.integers(0, 10, size=n))
    if hard_last:
        # each sample's cross-entropy by torch (A1's task: never written out in the student edition)
        per_sample = torch().nn.functional.cross_entropy(t64(logits), torch().as_tensor(y), reduction="none")
        order = np.argsort(per_sample.numpy(), kind="stable")
        X, y = X[order], y[order]
    return X, y.astype(np.int64)


def judge_loss_accuracy(name: str, got_loss: Any, got_acc: float, loss: float, acc: float, *, n: int,
                        batch_size: int, loss_what: str, loss_hint: str = "", percent_tol: float = 1e-6) -> None:
    """evaluate()'s (loss, accuracy) against the grader's: the mean cross-entropy over all `n` samples
    (not the mean of batch means) and the fraction classified correctly (not a percentage).

    `loss_what` describes the expected loss; `loss_hint` is added when the loss is wrong. Half credit
    for one of the two right.
    """
    errors = []
    try:
        judge.close(f"{name}: loss ({loss_what})", got_loss, loss, rtol=1e-4, atol=1e-6)
    except CheckFailed as exc:
        msg = exc.message + loss_hint
        if n % batch_size:
            msg += (f"\n(the last batch holds only {n % batch_size} samples: average over samples, "
                    "not over batches)")
        errors.append(msg)
    if abs(got_acc - acc) > 1e-6:  # float32 rounding of a fraction; one sample more or less is ≥ 1/n ≥ 1e-3
        hint = " (a fraction in [0, 1], not a percentage)" if abs(got_acc - 100 * acc) < percent_tol else ""
        errors.append(f"{name}: accuracy: expected {acc:.6g} ({int(round(acc * n))} of {n} correct), "
                      f"got {got_acc:.6g}{hint}")
    if errors:
        raise CheckFailed("\n".join(errors), fraction=1 - len(errors) / 2)

