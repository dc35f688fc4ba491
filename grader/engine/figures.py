"""Plot data for the HTML report, attached to a check's result (`CheckResult.figures`).

A figure is a plain dict of small lists, built in the grader from values the worker returned (and
the grader's own expected values), so it travels through the JSON report and the gradebook and is
drawn later by grader/reports/html.py; no student object ever reaches it. Two kinds:

* "gradient_error": one parameter array's error map, the relative error |got − expected| /
  (|expected| + floor) with a floor small against the array's scale (≤ atol/rtol), shown at most
  rtol where the check accepts the entry, so "> rtol" is exactly "wrong"; max-pooled to at most
  MAX_CELLS × MAX_CELLS blocks so a 300×784 gradient stays a few kB.
* "curve": per-epoch series (the student's training history, the reference's on the same
  settings) with the thresholds the grader applies.

Reference curves are recorded at build time (`python -m grader.instructor.curves`) in
assignments/<name>/reference_curves.json: data, not secret.
"""
from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any, Optional, Sequence

import numpy as np

MAX_CELLS = 64  # a heatmap has at most 64 × 64 cells (max-pooled blocks)
MAX_FIGURES = 8  # per check: enough for every parameter of an MLP, bounded for a report
CURVES_FILE = "reference_curves.json"


def _sig(x: float) -> float:
    """Three significant digits: plenty for a colour, and a small JSON."""
    return float(f"{x:.3g}") if math.isfinite(x) else 0.0


def _as_2d(a: np.ndarray) -> np.ndarray:
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    return a.reshape(a.shape[0], -1)


def max_pool(a: np.ndarray, cells: int = MAX_CELLS) -> tuple[np.ndarray, tuple[int, int]]:
    """`a` (2-D, ≥ 0) max-pooled into at most `cells` × `cells` blocks; returns it and the block size."""
    r, c = a.shape
    br, bc = max(1, math.ceil(r / cells)), max(1, math.ceil(c / cells))
    if br == bc == 1:
        return a, (1, 1)
    padded = np.zeros((math.ceil(r / br) * br, math.ceil(c / bc) * bc))
    padded[:r, :c] = a
    pooled = padded.reshape(padded.shape[0] // br, br, padded.shape[1] // bc, bc).max(axis=(1, 3))
    return pooled, (br, bc)


def gradient_error(name: str, got: np.ndarray, expected: np.ndarray, *, rtol: float, atol: float) -> dict:
    """The "gradient_error" figure of one compared array (same shapes; called on a failed comparison)."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    diff, size = np.abs(got - expected), np.abs(expected)
    bad = diff > atol + rtol * size
    if rtol > 0:
        # relative to the entry, with a floor small against the array's own scale, so that a wrong
        # factor shows as one even colour also for small gradients (lam·w); the floor is at most
        # atol/rtol, so every wrong entry is above rtol, and accepted ones are shown at most rtol:
        # red (> tolerance) is exactly "wrong"
        big = float(size.max()) if size.size else 0.0
        floor = min(atol / rtol, 1e-3 * big) if big > 0 else atol / rtol
        err = diff / (size + floor) if floor > 0 else np.where(bad, np.inf, 0.0)
        err, tol = np.where(bad, err, np.minimum(err, rtol)), rtol
        measure = f"|got − expected| / (|expected| + {floor:.2g})"
    else:  # an absolute tolerance only
        err, tol, measure = diff, atol, "|got − expected|"
    err = np.nan_to_num(err, posinf=1e6)
    grid, block = max_pool(_as_2d(err))
    worst = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
    return {
        "kind": "gradient_error",
        "name": name,
        "shape": list(expected.shape),
        "values": [[_sig(v) for v in row] for row in grid],
        "block": list(block),  # each cell is the max over block[0] × block[1] entries
        "max_error": _sig(float(err.max()) if err.size else 0.0),
        "worst_index": [int(i) for i in worst],
        "wrong_entries": int(bad.sum()),
        "entries": int(err.size),
        "tolerance": tol,
        "measure": measure,
    }


def series(label: str, values: Sequence[float], role: str, x: Optional[Sequence[float]] = None) -> dict:
    """One line of a curve: `role` is "student", "reference" or "measured" (a point the grader measured)."""
    ys = [_sig(float(v)) for v in values]
    xs = [float(v) for v in x] if x is not None else [float(i + 1) for i in range(len(ys))]
    return {"label": label, "role": role, "x": xs, "y": ys}


def curve(title: str, y_label: str, lines: list[dict], thresholds: Sequence[tuple[float, str]] = (),
          x_label: str = "epoch") -> dict:
    """A "curve" figure: `lines` from `series`, `thresholds` as (value, label) horizontal lines."""
    return {"kind": "curve", "title": title, "x_label": x_label, "y_label": y_label, "series": lines,
            "thresholds": [{"value": float(v), "label": lab} for v, lab in thresholds]}


def history_values(history: Any, key: str, epochs: int) -> Optional[list[float]]:
    """history[key] as `epochs` finite floats, or None when the student's history is not that: a
    figure is drawn only from values that make sense (the score never depends on them)."""
    vals = history.get(key) if isinstance(history, dict) else None
    if not isinstance(vals, list) or not 0 < len(vals) <= max(epochs, 1) * 4:
        return None
    try:
        out = [float(np.asarray(v, np.float64).reshape(())) for v in vals]
    except (TypeError, ValueError, OverflowError):
        return None
    return out if all(math.isfinite(v) for v in out) else None


def reference_curves(assignment: str) -> dict:
    """assignments/<assignment>/reference_curves.json ({check_id: {series name: values}}), or {}."""
    try:
        text = resources.files("assignments").joinpath(assignment, CURVES_FILE).read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        return {}
    return json.loads(text).get("curves", {})


def training_curves(assignment: str, check_id: str, history: Any, epochs: int, *,
                    measured: Optional[tuple[str, float]] = None,
                    thresholds: Sequence[tuple[float, str]] = (),
                    source: str = "as your train() reported it") -> list[dict]:
    """The "curve" figures of a training check: the student's per-epoch loss (and accuracy, where
    their history has one) against the reference's on the same settings (reference_curves.json),
    with the grader's measured figure as a point at the last epoch and the thresholds marked.

    `source` says where the student's numbers come from: their own history (drawn, never scored)
    or the grader's measurement of the parameters after each epoch.
    """
    ref = reference_curves(assignment).get(check_id, {})
    figures = []
    for key, what in (("loss", "loss"), ("accuracy", "accuracy")):
        mine, theirs = history_values(history, key, epochs), ref.get(key)
        lines = []
        if mine:
            lines.append(series(f"your {what} ({source})", mine, "student"))
        if theirs:
            lines.append(series(f"reference {what}, same settings", theirs, "reference"))
        marks: Sequence[tuple[float, str]] = ()
        if key == "accuracy":
            if measured is not None:
                lines.append(series(measured[0], [measured[1]], "measured", x=[float(epochs)]))
                if ref.get("measured") is not None:
                    lines.append(series("reference, measured the same way", [ref["measured"]], "reference",
                                        x=[float(epochs)]))
            marks = thresholds
        if any(line["role"] == "student" for line in lines) or (key == "accuracy" and measured is not None):
            title = (f"{what.capitalize()} per epoch" if key == "loss" or measured is None else
                     "Accuracy: on the training epochs (lines), on the test set (star, scored)")
            figures.append(curve(title, what, lines, marks))
    return figures
