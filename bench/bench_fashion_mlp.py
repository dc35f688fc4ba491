"""A3 benchmarks: reference training time-to-accuracy and the cost of grading a checkpoint.

    python bench/bench_fashion_mlp.py [--skip-torch] [--skip-numpy] [--skip-eval] [--threads 2]

Prints
1. the reference torch MLP (784-256-128-64-10, Adam 1e-3, batch 128, seed 0): CPU seconds of training
   (evaluation excluded) until the test accuracy first reaches 0.88, epoch by epoch;
2. the reference numpy MLP (784-32-32-10, per-sample SGD, lr 0.01): seconds per epoch and test
   accuracy after each of 3 epochs, in the given order and in the grader's shuffled order;
3. evaluating a submitted checkpoint on the 10,000 test images: the grader's own measurement alone,
   and the whole `torch_mlp.weights` check through the engine (sandboxed worker, torch import in it).
The figures in docs/fashion_mlp.md come from this script.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "reference" / "fashion_mlp"
sys.path.insert(0, str(ROOT))

from grader.data import load_fashion_mnist  # noqa: E402


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"ref_{name}", REF / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(REF))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(REF))
    return mod


def bench_torch(threads: int, target: float, max_epochs: int, seed: int) -> None:
    import torch

    ref = _module("torch_mlp")
    train_ref = _module("train_reference")
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    train_loader, test_loader = train_ref.loaders(128, seed)
    model = ref.build_model()
    print(f"torch MLP, Adam 1e-3, batch 128, seed {seed}, {threads} thread(s): target test accuracy {target}")
    state = {"eval_cpu": 0.0, "reached": None}
    cpu0, wall0 = time.process_time(), time.perf_counter()

    def on_epoch(epoch, loss):
        c = time.process_time()
        _, acc = ref.evaluate(model, test_loader)
        state["eval_cpu"] += time.process_time() - c
        train_cpu = time.process_time() - cpu0 - state["eval_cpu"]
        print(f"  epoch {epoch:2d}: train loss {loss:.4f}  test accuracy {acc:.4f}  "
              f"training CPU {train_cpu:6.1f} s  wall {time.perf_counter() - wall0:6.1f} s", flush=True)
        if acc >= target and state["reached"] is None:
            state["reached"] = (epoch, train_cpu)
            raise StopIteration  # stop training: the target is reached

    try:
        ref.train(model, train_loader, max_epochs, 1e-3, "cpu", on_epoch=on_epoch)
    except StopIteration:
        pass
    if state["reached"]:
        e, c = state["reached"]
        print(f"  -> {target} reached after {e} epochs, {c:.1f} s of training CPU ({c / e:.1f} s CPU per epoch)")
    else:
        print(f"  -> {target} not reached in {max_epochs} epochs")


def bench_numpy(epochs: int) -> None:
    ref = _module("numpy_mlp")
    d = load_fashion_mnist()
    for shuffled in (False, True):
        weights, biases = ref.init_params(np.random.default_rng(0))
        rng = np.random.default_rng(0)
        how = "reshuffled each epoch (as the grader)" if shuffled else "in the given order"
        print(f"numpy MLP 784-32-32-10, per-sample SGD, lr 0.01, {how}:")
        for epoch in range(1, epochs + 1):
            X, y = d.x_train, d.y_train
            if shuffled:
                order = rng.permutation(len(X))
                X, y = X[order], y[order]
            c, w = time.process_time(), time.perf_counter()
            weights, biases = ref.train_epoch(weights, biases, X, y, 0.01)
            c, w = time.process_time() - c, time.perf_counter() - w
            acc = float(np.mean(ref.forward(weights, biases, d.x_test).argmax(1) == d.y_test))
            print(f"  epoch {epoch}: {c:5.2f} s CPU ({w:5.2f} s wall), test accuracy {acc:.4f}", flush=True)


def bench_eval(repeat: int) -> None:
    import torch

    from assignments.fashion_mlp import oracle
    from grader.engine import assignment
    from grader.engine.session import GradeOptions, Session

    d = load_fashion_mnist()
    sd = torch.load(REF / "fashion_mlp.pt", map_location="cpu", weights_only=True)
    state = {"keys": list(sd), "arrays": [v.numpy() for v in sd.values()]}
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        params = oracle.match_state("fashion_mlp.pt", state)
        _, acc = oracle.torch_loss_acc(params, d.x_test, d.y_test)
        times.append(time.perf_counter() - t)
    print(f"grader-side evaluation of a checkpoint on 10,000 test images (float64): "
          f"{1000 * min(times):.0f} ms (best of {repeat}), accuracy {acc:.4f}")
    a3 = assignment.load("fashion_mlp")
    check = next(c for c in a3.checks(hidden=False) if c.id == "torch_mlp.weights")
    for label in ("cold (worker start + import torch_mlp/torch in the sandbox)", "warm (worker reused)"):
        if label.startswith("cold"):
            session = Session(REF, a3, GradeOptions())
        t = time.perf_counter()
        r = session.run_check(check)
        print(f"the whole torch_mlp.weights check, {label}: {time.perf_counter() - t:.2f} s "
              f"({r.status.value}: {r.message})")
    session.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--skip-numpy", action="store_true")
    ap.add_argument("--skip-eval", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--target", type=float, default=0.88)
    ap.add_argument("--max-epochs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--numpy-epochs", type=int, default=3)
    args = ap.parse_args(argv)
    if not args.skip_torch:
        bench_torch(args.threads, args.target, args.max_epochs, args.seed)
    if not args.skip_numpy:
        bench_numpy(args.numpy_epochs)
    if not args.skip_eval:
        bench_eval(5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
