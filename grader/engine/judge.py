"""Comparisons that turn a wrong value into a precise message: which quantity, where, expected vs got.

All run in the grader on plain data returned by the worker.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from .figures import MAX_FIGURES, gradient_error
from .model import CheckFailed, Outcome


def _fmt_index(idx: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]" if idx else "(scalar)"


def as_array(name: str, got: Any, shape: Optional[Sequence[int]] = None, *, finite: bool = True) -> np.ndarray:
    """`got` as a float64 array, or CheckFailed saying why it is not a usable `name`."""
    if got is None:
        raise CheckFailed(f"{name}: returned None (missing `return`?)")
    if isinstance(got, (str, dict)):
        raise CheckFailed(f"{name}: expected numbers, got a {type(got).__name__}")
    if isinstance(got, np.ndarray) and shape is not None and tuple(got.shape) != tuple(shape):
        arr = got  # wrong shape: said below, before converting what may be a large array
    else:
        try:
            arr = np.asarray(got, dtype=np.float64)
        except (ValueError, TypeError, OverflowError, RecursionError):
            raise CheckFailed(f"{name}: expected an array of numbers, got a ragged, non-numeric or "
                              "out-of-range value") from None
    if shape is not None and tuple(arr.shape) != tuple(shape):
        if arr.size == int(np.prod(shape)) and arr.size > 0:
            hint = " (same number of entries: transposed or flattened?)"
        else:
            hint = ""
        raise CheckFailed(f"{name}: expected shape {tuple(shape)}, got {tuple(arr.shape)}{hint}")
    if finite and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise CheckFailed(f"{name}: contains {arr[tuple(bad)]} at index {_fmt_index(tuple(bad))} "
                          "(overflow or division by zero?)")
    return arr


def close(name: str, got: Any, expected: Any, *, rtol: float, atol: float, figure: bool = False) -> np.ndarray:
    """Assert |got - expected| <= atol + rtol·|expected| elementwise; the message names the worst entry.

    figure=True (gradient comparisons): a failure carries the error map of `name` as a
    "gradient_error" figure for the HTML report, so a transposed or mis-scaled gradient shows its
    pattern (grader/engine/figures.py)."""
    exp = np.asarray(expected, dtype=np.float64)
    arr = as_array(name, got, exp.shape)
    err = np.abs(arr - exp)
    allowed = atol + rtol * np.abs(exp)
    bad = err > allowed
    if bad.any():
        worst = np.unravel_index(np.argmax(err - allowed), exp.shape) if exp.ndim else ()
        e, g = exp[worst], arr[worst]
        rel = abs(g - e) / abs(e) if e != 0 else float("inf")
        where = f" at index {_fmt_index(worst)}" if exp.ndim else ""
        figures = [gradient_error(name, arr, exp, rtol=rtol, atol=atol)] if figure else []
        raise CheckFailed(
            f"{name}: {int(bad.sum())} of {exp.size} entries wrong; worst{where}: expected {e:.8g}, "
            f"got {g:.8g} (abs error {abs(g - e):.2e}, rel error {rel:.2e}; "
            f"allowed |got − expected| ≤ {atol:g} + {rtol:g}·|expected|)", figures=figures)
    return arr


def close_each(named: Sequence[tuple[str, Any, Any]], *, rtol: float, atol: float,
               figure: bool | Sequence[bool] = False) -> None:
    """Check several quantities; fail with all their messages (the first few) if any is wrong.

    `figure`: as in `close`, for all quantities or one flag per quantity (the gradients among them)."""
    flags = [figure] * len(named) if isinstance(figure, bool) else list(figure)
    errors, figures = [], []
    for (name, got, expected), fig in zip(named, flags):
        try:
            close(name, got, expected, rtol=rtol, atol=atol, figure=fig)
        except CheckFailed as exc:
            errors.append(exc.message)
            figures += exc.figures
    if errors:
        more = f"\n(+{len(errors) - 3} more)" if len(errors) > 3 else ""
        raise CheckFailed("\n".join(errors[:3]) + more, fraction=1 - len(errors) / len(named),
                          figures=figures[:MAX_FIGURES])


def equal(name: str, got: Any, expected: Any) -> None:
    if got != expected:
        raise CheckFailed(f"{name}: expected {expected!r}, got {got!r}")


def require_keys(name: str, got: Any, keys: Sequence[str]) -> dict:
    if not isinstance(got, dict):
        raise CheckFailed(f"{name}: expected a dict with keys {list(keys)}, got {type(got).__name__}")
    missing = [k for k in keys if k not in got]
    if missing:
        raise CheckFailed(f"{name}: the returned dict lacks key(s) {missing} (has {sorted(got)})")
    return got


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a − b| / max(|a| + |b|, tiny): cs231n's relative error, for gradient checks."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-12, np.abs(a) + np.abs(b))))


def partial_credit(value: float, zero: float, full: float) -> float:
    """Linear credit from 0 at `zero` to 1 at `full` (either direction)."""
    return float(np.clip((value - zero) / (full - zero), 0.0, 1.0))


def require_at_least(value: float, zero: float, full: float, message: str) -> Outcome:
    """Full marks at `full` or beyond (the message still reports the figure); otherwise CheckFailed
    with linear partial credit from `zero`. For accuracies and other figures the grader measured."""
    frac = partial_credit(value, zero, full)
    if frac < 1:
        raise CheckFailed(message, fraction=frac)
    return Outcome(1.0, message)


def with_figures(figures: list[dict], verdict: Callable[[], Outcome]) -> Outcome:
    """`verdict()` (an Outcome, or CheckFailed) with `figures` attached either way: a training
    check shows its curves whether it passed or not."""
    try:
        outcome = verdict()
    except CheckFailed as exc:
        exc.figures += figures
        raise
    outcome.figures += figures
    return outcome


def f32_exact(x: Any) -> np.ndarray:
    """Round inputs to float32 values (kept in float64): a float32 submission then sees exactly the
    grader's input, so large-magnitude checks do not penalise float32 for rounding its inputs."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


# Appended to the tolerance of a check whose figure comes from stochastic training: its threshold was set
# from the figure's spread over seeds of correct implementations (bench/seed_spread.py, docs/assignments.md).
SEED_SPREAD_TOL = ("; set from the spread of correct implementations over seeds: a correct one falls short "
                   "with probability ≤ 0.1 %")


# Frameworks that differentiate or compute for the student: a task "by hand" must not use them.
BY_HAND_FORBIDDEN = ("torch", "jax", "jaxlib", "tensorflow", "keras", "autograd", "functorch")
BY_HAND_TOL = ("no import or call of torch, jax, tensorflow or autograd from the student's code, at "
               "import or in its functions (recorded at run time: exec, importlib and computed "
               "names included); the functions must also return correct values")


def require_by_hand(ctx, modules: Sequence[str], what: str, run: Callable[[], None], *,
                    forbidden: Sequence[str] = BY_HAND_FORBIDDEN, allowed: Sequence[str] = ()) -> None:
    """Run `run()` (probes judged against their oracles) while the worker records what the
    student's code imports and calls; fail on a forbidden module (or, with `allowed`, on any other
    module), naming the file and line, and fail when the values are wrong: the points are for a
    working implementation done by hand, which an empty template or a torch call does not earn."""
    audit = ctx.audit(*modules)
    failure: Optional[CheckFailed] = None
    try:
        run()
    except CheckFailed as exc:
        failure = exc
    bad = audit.using(() if allowed else forbidden, allowed=allowed)
    if bad:
        more = f" (+{len(bad) - 6} more)" if len(bad) > 6 else ""
        if allowed:
            rule = f"{what} may use only {', '.join(sorted(allowed))}"
        else:
            rule = f"{what} must compute by hand, with numpy or plain Python, not {', '.join(forbidden[:5])}"
        raise CheckFailed(f"{rule}: " + "; ".join(bad[:6]) + more)
    if failure is not None:
        raise CheckFailed("the points are for correct values computed by hand: " + failure.message,
                          figures=failure.figures)


def require_loss_drop(what: str, losses: Any, epochs: int, l0: float, l1: float, full_ratio: float,
                      hint: str) -> Outcome:
    """A training check's verdict: `losses` must be `epochs` per-epoch numbers, and the loss the
    grader measured must fall from `l0` to at most `full_ratio`·`l0` (linear credit from no drop);
    `hint` says what to look at when it does not."""
    problems, fraction = [], 1.0
    if not isinstance(losses, list) or len(losses) != epochs:
        n_got = f"{len(losses)} values" if isinstance(losses, list) else f"a {type(losses).__name__}"
        problems.append(f"{what} must return a list of {epochs} per-epoch losses, got {n_got}")
        fraction -= 0.3
    else:
        vals = [as_array(f"the loss of epoch {i + 1} returned by train", v) for i, v in enumerate(losses)]
        if any(v.size != 1 for v in vals):
            problems.append("each per-epoch loss returned by train must be one number")
            fraction -= 0.3
    credit = partial_credit(l0 - l1, 0.0, (1 - full_ratio) * l0)
    if credit < 1:
        problems.append(f"{what}: the mean cross-entropy on those images (measured by the grader) went from "
                        f"{l0:.4f} to {l1:.4f}; full marks when it falls to ≤ {full_ratio:g}× the start "
                        f"({full_ratio * l0:.4f}). {hint}")
        fraction -= 0.7 * (1 - credit)
    if problems:
        raise CheckFailed("\n".join(problems), fraction=max(0.0, fraction))
    return Outcome(1.0, f"{what}: the grader's mean cross-entropy on those images went from {l0:.4f} to "
                        f"{l1:.4f} ({l1 / l0:.2f}× the start; full marks at ≤ {full_ratio:g}×)")


def submitted_state(got: Any, filename: str, save_hint: str, expected: str) -> Any:
    """The state of a weights file as the worker's `gradeworker.weights.load_state_file` reported
    it, or CheckFailed saying what is wrong with the file and how to save it (`save_hint`);
    `expected` describes the right file's size ("the ~1 MB of the network's weights")."""
    got = got if isinstance(got, dict) else {}
    problem, detail = got.get("problem"), got.get("detail", "")
    if problem == "missing":
        other = f" (found {detail}: rename it?)" if detail else ""
        raise CheckFailed(f"{filename} is not in the submission{other}: {save_hint}")
    if problem == "too_big":
        raise CheckFailed(f"{filename} is {detail}, far more than {expected}: {save_hint}")
    if problem == "unloadable":
        raise CheckFailed(f"{filename} could not be loaded as a state_dict with torch.load(..., "
                          f"weights_only=True): {detail}\nSave only the weights, not the model object: {save_hint}")
    if problem == "not_state_dict":
        raise CheckFailed(f"{filename} holds a {detail}, not a state_dict (a dict of tensors): {save_hint}")
    return got.get("state")
