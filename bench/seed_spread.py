"""The seed spread of every training check (issue 18): what a correct student's figure can be.

    python bench/seed_spread.py [--seeds 10] [--only ID[,ID…]] [--variants NAME,…] [--table]

A correct student's training differs from the reference's by the seed, the initialisation and the
order of the data. Per training check (SPECS below) this runs the check itself, `check.run(ctx)` of
the assignment's registry, with the reference solution and each registered correct variant that
trains (assignments/<name>/cases.py), over `--seeds` seeds; the seed is what the student's code
would vary:

* the seed argument the check passes to the student's code (init and, where the student's code
  shuffles, the order), and every global RNG (random, np.random, torch) seeded with it before each
  probe, as the worker does with the check's seed;
* numpy_mlp.train_fashion gives the student its initial weights and its order (the grader draws
  them): there the grader's init/order seed NP_FASHION_SEED is varied; a student's float32 training
  (BENCH_VARIANTS) is measured beside the reference.

The graded figure is recorded where the check hands it to its judge (require_at_least's value, the
loss before/after of require_loss_drop, partial_credit's ratio, the residuals of a fit against the
grader's own forward pass): nothing is re-implemented. The check runs in this process with a
stand-in for the worker (probes.py called directly, replies converted by the worker's own
protocol.to_plain), one process per (check, variant) with one thread.

Results accumulate in bench/seed_spread.json (per check and variant: the figure per seed; a run
that is interrupted keeps what it measured); --table prints the summary (mean, sd, min, max, the
one-sided normal 0.1 % bound mean − 3.09·sd, or + for a figure where lower is better).
docs/assignments.md "Thresholds from the seed spread" is generated from it (scripts/seed_spread_doc.py).
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Optional

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_v] = "1"

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "seed_spread.json"
Z_0001 = 3.09  # one-sided standard normal quantile at 0.1 %


def _set_arg(index: int):
    """A seed injector: the probe's positional argument `index` becomes the run's seed."""
    def inject(name, args, kwargs, seed, probe):
        if name == probe:
            args = list(args)
            args[index] = seed
        return args, kwargs
    return inject


@dataclass
class Spec:
    assignment: str
    check: str
    figure: str  # "accuracy" (higher is better), "loss_ratio", "norm_ratio", "residual" (lower is better)
    higher_is_better: bool
    inject: Callable  # (probe name, args, kwargs, seed, probe) -> (args, kwargs)
    probe: str = ""
    variants: tuple[str, ...] = ("reference",)
    ctx_seed: bool = False  # the check passes ctx.seed to the student's code: the run's seed becomes ctx.seed
    oracle_seed: str = ""  # an oracle constant that is the grader's own init/order seed
    full: str = ""  # the oracle constant of the full-marks threshold (or a literal, "0.90")
    zero: str = ""
    note: str = ""


# relu_fit's variants that fit differently (their own search, float32 parameters); the others
# return a transformation of the reference's fit, or are not graded on the fit task (float32).
RELU_VARIANTS = ("reference", "loops_plain_fsolve", "fit_float32_parameters")

SPECS: dict[str, Spec] = {s.assignment + "/" + s.check: s for s in [
    Spec("backprop", "scalar.train_synthetic", "accuracy", True, _set_arg(4), "scalar_train",
         full="SCALAR_FULL", zero="SCALAR_ZERO",
         note="train_synthetic(X, T, 1, 0.05, seed) on 60,000 points; validation accuracy (10,000 points)"),
    Spec("backprop", "scalar.train_hidden", "accuracy", True, _set_arg(4), "scalar_train",
         full="SCALAR_FULL", zero="SCALAR_ZERO",
         note="the same on the hidden sample (make_synthetic(seed=3))"),
    Spec("backprop", "mlp.train_history", "accuracy", True, _set_arg(8), "mlp_train",
         full="HISTORY_FULL", zero="HISTORY_ZERO",
         note="MLP([2, 16, 2], seed).train(4000 points, 5 epochs, lr 0.5, batch 16); validation accuracy"),
    Spec("backprop", "mlp.train_fashion", "accuracy", True, _set_arg(8), "mlp_train",
         full="FASHION_FULL", zero="FASHION_ZERO",
         note="MLP([784, 300, 10], seed).train(60,000 images, 3 epochs, lr 0.5, batch 32); test accuracy"),
    Spec("fashion_mlp", "numpy_mlp.train_fashion", "accuracy", True, lambda n, a, k, s, p: (a, k), "",
         ("reference", "float32_numpy", "float32_training"), oracle_seed="NP_FASHION_SEED",
         full="NP_FASHION_FULL", zero="NP_FASHION_ZERO",
         note="3 epochs of per-sample SGD (lr 0.01) from the grader's init in the grader's order, both "
              "drawn from NP_FASHION_SEED (varied); test accuracy"),
    Spec("fashion_mlp", "torch_mlp.train", "loss_ratio", False, lambda n, a, k, s, p: (a, k), "",
         ("reference", "other_style"), ctx_seed=True, full="TRAIN_FULL_RATIO",
         note="train(model, loader, 2 epochs, Adam 1e-3) on 2,000 images; the grader's loss after / before"),
    Spec("regularised_cnn", "linear.fashion_full_batch", "accuracy", True, _set_arg(7), "linear_train",
         ("reference", "other_style"), full="FULL_FULL", zero="FULL_ZERO",
         note="full-batch GD, 150 steps on 10,000 images from W ~ N(0, 1e-3²) of the seed; test accuracy"),
    Spec("regularised_cnn", "linear.fashion_minibatch", "accuracy", True, _set_arg(7), "linear_train",
         ("reference", "other_style"), full="MB_FULL", zero="MB_ZERO",
         note="2 passes over 60,000 images in shuffled batches of 200 (init and order from the seed); test accuracy"),
    Spec("regularised_cnn", "linear.reg_shrinks", "norm_ratio", False, _set_arg(7), "linear_train_pair",
         ("reference", "other_style"), full="REG_RATIO",
         note="‖W‖ with reg 1 / ‖W‖ with reg 0, 60 full-batch steps on 2,000 images"),
    Spec("regularised_cnn", "cnn.train", "loss_ratio", False, lambda n, a, k, s, p: (a, k), "",
         ("reference", "other_style"), ctx_seed=True, full="TRAIN_FULL_RATIO",
         note="train(model, loader, AdamW, 2 epochs) on 1,000 images; the grader's loss after / before"),
    Spec("relu_fit", "fit.d1", "residual", False, _set_arg(2), "fit", RELU_VARIANTS, full="1.0",
         note="max residual of fit(D1, seed) / its tolerance 1e-4·(1 + |y|) (full marks at ≤ 1)"),
    Spec("relu_fit", "fit.d2", "residual", False, _set_arg(2), "fit", RELU_VARIANTS, full="1.0",
         note="the same on D2"),
    Spec("relu_fit", "fit.hidden_sets", "residual", False, _set_arg(2), "fit", RELU_VARIANTS, full="1.0",
         note="the largest over the 4 hidden sets"),
]}

# Wrong submissions a check catches by another part of its verdict than the figure (the form of what
# train returns): their figure may lie on the passing side of the threshold.
CAUGHT_OTHERWISE = {
    ("fashion_mlp/torch_mlp.train", "train_one_epoch"): "returns 1 loss for 2 epochs (the list's length is judged)",
    ("fashion_mlp/torch_mlp.train", "train_returns_float"): "returns a float, not the list of per-epoch losses",
    ("backprop/scalar.train_synthetic", "scalar_train_reports_sum"): "reports the epoch's summed loss, not its mean",
    ("backprop/scalar.train_hidden", "scalar_train_reports_sum"): "reports the epoch's summed loss, not its mean",
}

# Checks measured on fewer than 10 seeds (too slow for the budget), and how many they have.
MIN_SEEDS: dict[str, int] = {}

# Checks whose graded figure does not depend on a seed at grading time: the student's own saved
# weights (trained at home, evaluated deterministically by the grader), or exact trajectories the
# grader replays from the student's own initial point.
NOT_STOCHASTIC = {
    "fashion_mlp/torch_mlp.weights": "evaluates the student's saved fashion_mlp.pt: no training at grading time",
    "regularised_cnn/cnn.weights": "evaluates the student's saved cnn.pt: no training at grading time",
    "regularised_cnn/linear.train_steps": "replays full-batch GD from the student's own initial W, b: exact, any seed",
    "fashion_mlp/numpy_mlp.train_epoch": "compared step by step with the grader's per-sample SGD: exact",
    "fashion_mlp/torch_mlp.train_contract": "lr = 0: nothing may move; exact",
    "regularised_cnn/cnn.train_contract": "lr = 0: nothing may move; exact",
    "relu_fit/fit.deterministic": "the same seed twice must give the same fit: exact",
    "relu_fit/fit.other_seeds": "fit.d1 and fit.d2 with seeds 7 and 11: covered by their spread",
}
# Correct variants measured here only (not registered in cases.py: the checks' tests need not run them),
# as edits of the reference: assignment -> name -> [(file, old, new)].
BENCH_VARIANTS = {
    "fashion_mlp": {
        # cases.py's float32_numpy only changes init_params (which this check does not call: the grader
        # gives the weights) and train_epoch starts with a float64 copy: it trains bit for bit as the
        # reference. This one trains in float32 throughout, a float32 student's train_epoch.
        "float32_training": [("numpy_mlp.py", "weights = [np.array(W, dtype=np.float64) for W in weights]\n"
                              "    biases = [np.array(b, dtype=np.float64) for b in biases]",
                              "weights = [np.array(W, dtype=np.float32) for W in weights]\n"
                              "    biases = [np.array(b, dtype=np.float32) for b in biases]\n"
                              "    X = np.asarray(X, dtype=np.float32)\n    lr = np.float32(lr)")],
    },
}

# Registered correct variants left out of the spread, and why.
VARIANTS_LEFT_OUT = {
    "backprop/float32": "its edit makes layers.py convert integer inputs to float32; floating inputs are kept, "
                        "so every training run is bit for bit the reference's (measured: identical figures)",
    "regularised_cnn/other_seed_1, other_seed_2": "linear's init stream offset by 1 or 2: the reference at other "
                                                  "seeds, which the spread covers",
    "relu_fit/fit_units_permuted, fit_rescaled_printed_8_digits": "transformations of the reference's own fit",
    "relu_fit/float32": "graded on the warm-up and relu_net tasks only, not on fit",
    "fashion_mlp/other_style (numpy_mlp.train_fashion only)": "a loop over the units of every layer for every "
                                                              "sample: too slow for 180,000 SGD steps on purpose "
                                                              "(its docstring; cases.py skips the check for it)",
    "relu_fit/fit_other_seed_stream": "the reference at other seeds (seed + 12345), which the spread covers",
}


# --- one (check, variant): the check run in this process over seeds -----------------------------------
class Sub:
    """What a probe sees of the submission (grader/worker/main.py's Submission, without sandbox)."""

    def __init__(self, folder: Path):
        self.folder = folder
        sys.path.insert(0, str(folder))

    def module(self, name: str):
        return importlib.import_module(name)

    def fn(self, module: str, name: str):
        return getattr(self.module(module), name)


def _global_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


class Ctx:
    """The CheckContext a check's judge receives, with the worker replaced by a direct call."""

    def __init__(self, spec: Spec, check, sub: Sub, probes, asg, seed: int, share_dir: Path):
        import zlib

        from grader.worker.protocol import to_plain

        self._to_plain, self._spec, self._sub, self._probes = to_plain, spec, sub, probes
        self.check, self.run_seed, self._share = check, seed, share_dir
        engine_seed = (asg.seed * 1_000_003 + zlib.crc32(check.id.encode())) % 2**32
        self.seed = seed if spec.ctx_seed else engine_seed
        self.rng = np.random.default_rng(engine_seed)  # the check's own inputs: as graded
        self.last_call, self.last_value = "", None

    def probe(self, name, *args, reply_mb=None, **kwargs):
        args, kwargs = self._spec.inject(name, args, kwargs, self.run_seed, self._spec.probe)
        _global_seed(self.seed if self._spec.ctx_seed else self.run_seed)
        value = getattr(self._probes, name)(self._sub, *args, **kwargs)
        self.last_value = self._to_plain(value)
        return self.last_value

    def share(self, name, array):
        path = self._share / f"{name}.npy"
        if not path.exists():
            np.save(path, np.ascontiguousarray(array))
        return str(path)

    def data(self):
        from grader.data import load_fashion_mnist

        return load_fashion_mnist(None)

    def audit(self, *modules):
        raise NotImplementedError("not a training check")


@contextlib.contextmanager
def recording(spec: Spec, oracle, box: dict):
    """Record the graded figure where the check hands it to its judge."""
    from grader.engine import judge

    saved = []

    def patch(obj, name, wrapper):
        saved.append((obj, name, getattr(obj, name)))
        setattr(obj, name, wrapper(getattr(obj, name)))

    if spec.figure == "accuracy":
        for name in ("require_accuracy", "require_at_least"):
            if hasattr(oracle, name):
                patch(oracle, name, lambda f: (lambda value, zero, full, msg: (box.__setitem__("value", value),
                                                                               f(value, zero, full, msg))[1]))
    elif spec.figure == "loss_ratio":
        def drop(f):
            def wrapped(what, losses, epochs, l0, l1, full_ratio, hint):
                box["value"], box["l0"], box["l1"] = l1 / l0, l0, l1
                return f(what, losses, epochs, l0, l1, full_ratio, hint)
            return wrapped
        patch(judge, "require_loss_drop", drop)
    elif spec.figure == "norm_ratio":
        patch(oracle, "partial_credit", lambda f: (lambda value, zero, full: (box.__setitem__("value", value),
                                                                              f(value, zero, full))[1]))
    elif spec.figure == "residual":
        def report(f):
            def wrapped(p, xs, ys):
                p = np.asarray(p, dtype=np.float64)
                res = np.abs(oracle.predict(p, xs) - ys) / (oracle.FIT_RTOL * (1 + np.abs(ys)))
                box["value"] = max(box.get("value", 0.0), float(np.max(res)))
                return f(p, xs, ys)
            return wrapped
        patch(oracle, "fit_report", report)
    try:
        yield
    finally:
        for obj, name, orig in reversed(saved):
            setattr(obj, name, orig)


def submission_folder(assignment_name: str, variant: str, dest: Path) -> Path:
    from grader.engine import assignment
    from grader.instructor.selftest.cases import load_cases, read_folder, variant_files, write

    reference = read_folder(ROOT / "reference" / assignment_name)
    if variant == "reference":
        return write(reference, dest)
    cases = load_cases(assignment.load(assignment_name))
    if variant in BENCH_VARIANTS.get(assignment_name, {}):
        from grader.instructor.selftest.cases import apply_edits

        return write(apply_edits(reference, BENCH_VARIANTS[assignment_name][variant], variant), dest)
    if variant.startswith("wrong:"):
        from grader.instructor.selftest.cases import wrong_files

        case = next(w for w in cases.wrong if w.name == variant[len("wrong:"):])
        return write(wrong_files(reference, case), dest)
    case = next(v for v in cases.variants if v.name == variant)
    return write(variant_files(reference, case, cases), dest)


def run_one(key: str, variant: str, seeds: list[int]) -> None:
    """Child process: run the check for `seeds`, append each figure to OUT as it comes."""
    import torch

    torch.set_num_threads(1)
    from grader.engine import assignment
    from grader.engine.model import CheckFailed

    import grader.worker

    sys.modules.setdefault("gradeworker", grader.worker)  # the worker package, as the sandbox names it
    spec = SPECS[key]
    asg = assignment.load(spec.assignment)
    check = next(c for c in asg.checks(hidden=True) if c.id == spec.check)
    oracle = importlib.import_module(f"assignments.{spec.assignment}.oracle")
    probes = importlib.import_module(f"assignments.{spec.assignment}.probes")
    with tempfile.TemporaryDirectory(prefix="seed_spread_") as tmp:
        sub = Sub(submission_folder(spec.assignment, variant, Path(tmp) / "submission"))
        share = Path(tmp) / "share"
        share.mkdir()
        for seed in seeds:
            box: dict = {}
            if spec.oracle_seed:
                setattr(oracle, spec.oracle_seed, seed)
            ctx = Ctx(spec, check, sub, probes, asg, seed, share)
            t0 = time.perf_counter()
            with recording(spec, oracle, box):
                try:
                    outcome = check.run(ctx)
                    fraction, message = (1.0, "") if outcome is None else (outcome.fraction, outcome.message)
                except CheckFailed as exc:
                    fraction, message = exc.fraction, exc.message
                except Exception as exc:  # the student's code raised: the check fails, no figure
                    fraction, message = 0.0, f"{type(exc).__name__}: {exc}"
                    box.setdefault("value", None)
                    box["error"] = message[:300]
            seconds = time.perf_counter() - t0
            if "value" not in box:  # failed before the figure (a NaN, a wrong shape): no figure
                if fraction >= 1 or not variant.startswith("wrong:"):
                    raise RuntimeError(f"{key} [{variant}] seed {seed}: no figure recorded: {message[:300]}")
                box["value"], box["error"] = None, message[:300]
            record = {"seed": seed, "value": box["value"], "fraction": fraction, "seconds": round(seconds, 2)}
            record.update({k: v for k, v in box.items() if k != "value"})
            save(key, variant, record)
            print(f"{key} [{variant}] seed {seed}: {box['value']} (fraction {fraction:.3f}, {seconds:.1f} s)",
                  flush=True)


# --- the results file -------------------------------------------------------------------------------
def load() -> dict:
    return json.loads(OUT.read_text()) if OUT.exists() else {"checks": {}}


def wrong_cases(key: str) -> list[str]:
    """The registered wrong submissions that this check must catch (cases.py)."""
    from grader.engine import assignment
    from grader.instructor.selftest.cases import load_cases

    spec = SPECS[key]
    return [w.name for w in load_cases(assignment.load(spec.assignment)).wrong if spec.check in w.catches]


def save(key: str, variant: str, record: dict) -> None:
    data = load()
    entry = data["checks"].setdefault(key, {"variants": {}})
    if variant.startswith("wrong:"):  # a wrong submission's figure: beside the spread, not in it
        runs = entry.setdefault("wrong", {}).setdefault(variant[len("wrong:"):], {"runs": []})["runs"]
    else:
        runs = entry["variants"].setdefault(variant, {"runs": []})["runs"]
    runs[:] = [r for r in runs if r["seed"] != record["seed"]] + [record]
    runs.sort(key=lambda r: r["seed"])
    summarise(data)
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(OUT)


def stats(values: list[float], higher_is_better: bool) -> dict:
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n == 0:
        return {"n": 0, "mean": None, "sd": None, "min": None, "max": None, "bound": None}
    mean = float(v.mean())
    sd = float(v.std(ddof=1)) if n > 1 else float("nan")
    bound = mean - Z_0001 * sd if higher_is_better else mean + Z_0001 * sd
    return {"n": n, "mean": mean, "sd": sd, "min": float(v.min()), "max": float(v.max()), "bound": bound}


def summarise(data: dict) -> None:
    """Per check: per variant and pooled over the variants, mean, sd, min, max and the 0.1 % bound
    (mean − 3.09·sd for a figure where higher is better, + where lower is better); the check's
    bound is the most demanding of the pooled and per-variant ones."""
    for key, entry in data["checks"].items():
        spec = SPECS.get(key)
        if spec is None:
            continue
        entry.update(figure=spec.figure, higher_is_better=spec.higher_is_better, note=spec.note,
                     threshold_constant=spec.full)
        pooled = []
        for variant, v in entry["variants"].items():
            values = [r["value"] for r in v["runs"] if r["value"] is not None]
            v.update(stats(values, spec.higher_is_better))
            v["errors"] = sum(r["value"] is None for r in v["runs"])
            v["not_full"] = sum(r["fraction"] < 1 for r in v["runs"])
            pooled += values
        entry["pooled"] = stats(pooled, spec.higher_is_better)
        bounds = [entry["pooled"]["bound"]] + [v["bound"] for v in entry["variants"].values() if v["n"] > 1]
        bounds = [b for b in bounds if b is not None and not math.isnan(b)]
        entry["bound"] = (min(bounds) if spec.higher_is_better else max(bounds)) if bounds else None


def table() -> str:
    data = load()
    lines = [f"{'check':45s} {'variant':14s} {'n':>3s} {'mean':>8s} {'sd':>8s} {'min':>8s} {'max':>8s} {'bound':>8s}"]
    for key, entry in data["checks"].items():
        for variant, v in list(entry["variants"].items()) + [("(pooled)", entry["pooled"])]:
            lines.append(f"{key:45s} {variant:14s} {v['n']:3d} " + " ".join(
                f"{_g(v[k]):>8s}" for k in ("mean", "sd", "min", "max", "bound")))
        for name, w in entry.get("wrong", {}).items():
            lines.append(f"{key:45s} {'wrong: ' + name:14s} " + ", ".join(_g(r["value"]) for r in w["runs"]))
    return "\n".join(lines)


# The full-marks thresholds before the seed spread was measured (issue 18), for the record.
OLD_THRESHOLDS = {
    "backprop/scalar.train_synthetic": 0.90, "backprop/scalar.train_hidden": 0.90,
    "backprop/mlp.train_history": 0.85, "backprop/mlp.train_fashion": 0.83,
    "fashion_mlp/numpy_mlp.train_fashion": 0.82, "fashion_mlp/torch_mlp.train": 0.6,
    "regularised_cnn/linear.fashion_full_batch": 0.72, "regularised_cnn/linear.fashion_minibatch": 0.76,
    "regularised_cnn/linear.reg_shrinks": 0.9, "regularised_cnn/cnn.train": 0.7,
    "relu_fit/fit.d1": 1.0, "relu_fit/fit.d2": 1.0, "relu_fit/fit.hidden_sets": 1.0,
}
FIGURES = {"accuracy": "accuracy (higher is better)", "loss_ratio": "loss after / before (lower is better)",
           "norm_ratio": "‖W‖ ratio (lower is better)", "residual": "max residual / tolerance (lower is better)"}


def threshold(spec: Spec) -> float:
    """The check's full-marks threshold as the oracle holds it now."""
    try:
        return float(spec.full)
    except ValueError:
        return float(getattr(importlib.import_module(f"assignments.{spec.assignment}.oracle"), spec.full))


def _g(x: Optional[float]) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.2e}" if x != 0 and abs(x) < 1e-3 else f"{x:.4f}"


DOC_BEGIN, DOC_END = "<!-- seed-spread:begin (generated by bench/seed_spread.py --doc) -->", "<!-- seed-spread:end -->"


def doc_tables(data: Optional[dict] = None) -> str:
    """The generated part of docs/assignments.md "Thresholds from the seed spread"."""
    data = data or load()
    out = [DOC_BEGIN, "", "| check | figure | n seeds (all correct) | mean ± sd | worst | 0.1 % bound | full marks |",
           "|---|---|---|---|---|---|---|"]
    for key, spec in SPECS.items():
        entry = data["checks"].get(key)
        if entry:
            p, worst = entry["pooled"], ("min" if spec.higher_is_better else "max")
            sign = "≥" if spec.higher_is_better else "≤"
            out.append(f"| {key} | {spec.figure} | {p['n']} | {_g(p['mean'])} ± {_g(p['sd'])} | {_g(p[worst])} | "
                       f"{_g(entry['bound'])} | {sign} {_g(threshold(spec))} |")
    out.append("")
    for key, spec in SPECS.items():
        entry = data["checks"].get(key)
        if not entry:
            out += [f"**{key}**: not measured.", ""]
            continue
        thr = threshold(spec)
        const = spec.full if not spec.full[:1].isdigit() else "the tolerance"
        sign = "≥" if spec.higher_is_better else "≤"
        out += [f"**{key}** ({FIGURES[spec.figure]}): {spec.note}.", "",
                "| implementation | n seeds | mean ± sd | min | max | 0.1 % bound |", "|---|---|---|---|---|---|"]
        for variant, v in list(entry["variants"].items()) + [("all correct, pooled", entry["pooled"])]:
            failed = f" ({v['errors']} raised)" if v.get("errors") else ""
            out.append(f"| {variant} | {v['n']}{failed} | {_g(v['mean'])} ± {_g(v['sd'])} | {_g(v['min'])} | "
                       f"{_g(v['max'])} | {_g(v['bound'])} |")
        wrong = entry.get("wrong", {})
        reach = "; ".join(
            f"{name}: {', '.join('fails before the figure' if r['value'] is None else _g(r['value']) for r in w['runs'])}"
            + (f" (caught otherwise: {CAUGHT_OTHERWISE[key, name]})" if (key, name) in CAUGHT_OTHERWISE else "")
            for name, w in wrong.items())
        old = OLD_THRESHOLDS.get(key)
        moved = f" (was {_g(old)})" if old is not None and abs(old - thr) > 1e-12 else " (unchanged)"
        out += ["", f"Full marks at {sign} {_g(thr)} ({const}){moved}; the bound the threshold must respect: "
                    f"{_g(entry['bound'])}. Wrong submissions it must catch reach: {reach or 'not measured'}.", ""]
    out.append(DOC_END)
    return "\n".join(out)


def evidence(key: str, data: Optional[dict] = None) -> str:
    """One line for the comment beside a threshold: each implementation's mean ± sd over n seeds, min
    (max where lower is better) and the check's 0.1 % bound."""
    data = data or load()
    spec, entry = SPECS[key], data["checks"][key]
    worst = "min" if spec.higher_is_better else "max"
    parts = [f"{name} {_g(v['mean'])} ± {_g(v['sd'])} (n {v['n']}, {worst} {_g(v[worst])})"
             for name, v in entry["variants"].items()]
    return f"{'; '.join(parts)}; 0.1 % bound {_g(entry['bound'])}"


def write_doc(path: Path = ROOT / "docs" / "assignments.md") -> None:
    text = path.read_text()
    start, end = text.index(DOC_BEGIN), text.index(DOC_END) + len(DOC_END)
    path.write_text(text[:start] + doc_tables() + text[end:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--only", default="", help="comma-separated keys (assignment/check) or prefixes")
    ap.add_argument("--variants", default="", help="comma-separated variant names (default: all of each check)")
    ap.add_argument("--wrong", action="store_true",
                    help="run the registered wrong submissions each check must catch (seeds as given) instead")
    ap.add_argument("--table", action="store_true", help="print the table of bench/seed_spread.json and stop")
    ap.add_argument("--doc", action="store_true", help="regenerate the tables in docs/assignments.md and stop")
    ap.add_argument("--child", nargs=2, metavar=("KEY", "VARIANT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    if args.child:
        run_one(args.child[0], args.child[1], seeds)
        return
    if args.table:
        print(table())
        return
    if args.doc:
        write_doc()
        for key in SPECS:
            if key in load()["checks"]:
                print(f"{key}: {evidence(key)}")
        return
    only = [s for s in args.only.split(",") if s]
    wanted = [s for s in args.variants.split(",") if s]
    for key, spec in SPECS.items():
        if only and not any(key == o or key.startswith(o) for o in only):
            continue
        variants = [f"wrong:{w}" for w in wrong_cases(key)] if args.wrong else spec.variants
        for variant in variants:
            if wanted and variant not in wanted:
                continue
            entry = load()["checks"].get(key, {})
            group = entry.get("wrong", {}).get(variant[6:], {}) if args.wrong else entry.get("variants", {}).get(variant, {})
            done = {r["seed"] for r in group.get("runs", [])}
            todo = [s for s in seeds if s not in done]
            if not todo:
                continue
            cmd = [sys.executable, __file__, "--child", key, variant, "--seeds", str(len(todo)),
                   "--first-seed", str(todo[0])]
            if todo != list(range(todo[0], todo[0] + len(todo))):
                cmd = None
            if cmd is None:  # not a range: one child per seed
                for s in todo:
                    subprocess.run([sys.executable, __file__, "--child", key, variant, "--seeds", "1",
                                    "--first-seed", str(s)], check=False)
            else:
                subprocess.run(cmd, check=False)
    print(table())


if __name__ == "__main__":
    main()
