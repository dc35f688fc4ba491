"""A4 benchmarks: the reference CNN's and linear classifier's time-to-accuracy, and the cost of
grading a cnn.pt.

    python bench/bench_regularised_cnn.py [--log PATH | --retrain] [--skip-linear] [--skip-eval]
                                          [--threads 2] [--repeat 3]

Prints
1. the reference CNN (reference/regularised_cnn/train_reference.py: AdamW 1e-3, wd 1e-4, dropout 0.3,
   batch 128, 12 epochs, cosine schedule, seed 0): test accuracy after every epoch and the training
   time (CPU and wall, evaluation excluded) until it first reaches 0.90 and 0.91. Read from the
   per-epoch log of the run that wrote the committed cnn.pt (reference/regularised_cnn/train_log.json),
   or from a fresh run with --retrain (minutes; it writes its weights to a temporary file);
2. the reference linear classifier with the grader's settings: full batch on 10,000 images (seconds
   to 0.70 and 0.72 test accuracy) and minibatches of 200 on 60,000 (accuracy and time per pass);
3. evaluating a cnn.pt: the grader's own forward pass (float32, as the check; and float64) on the
   10,000 test images alone, and
   the whole `cnn.weights` check through the engine (sandboxed worker start, torch import in it,
   torch.load(..., weights_only=True), 10 arrays back, evaluation), cold and warm.
The figures in docs/regularised_cnn.md come from this script.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "reference" / "regularised_cnn"
sys.path.insert(0, str(ROOT))

from grader.data import load_fashion_mnist  # noqa: E402


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"ref_{name}", REF / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cnn_time_to_accuracy(log: list[dict], targets=(0.90, 0.91)) -> None:
    print("reference CNN, per epoch (training time only, evaluation excluded):")
    for row in log:
        print(f"  epoch {row['epoch']:2d}: lr {row['lr']:.2e}, test accuracy {row['test_accuracy']:.4f}, "
              f"{row['cpu_s']:7.1f} s CPU, {row['wall_s']:7.1f} s wall")
    for target in targets:
        hit = next((r for r in log if r["test_accuracy"] >= target), None)
        if hit is None:
            print(f"  {target:.2f}: not reached in {len(log)} epochs (best {max(r['test_accuracy'] for r in log):.4f})")
        else:
            print(f"  {target:.2f}: first reached after epoch {hit['epoch']}: {hit['cpu_s']:.0f} s CPU, "
                  f"{hit['wall_s']:.0f} s wall")


def bench_linear() -> None:
    from assignments.regularised_cnn import oracle

    lin = _module("linear")
    d = load_fashion_mnist()
    Xt, yt = np.asarray(d.x_test, np.float64), d.y_test
    X, Y = oracle.onehot_train(d, oracle.FULL_N)
    W, b, _ = lin.train(X, Y, oracle.FULL_LR, oracle.FULL_DECAY, oracle.FULL_REG, 0)
    lr, spent, reached = oracle.FULL_LR, 0.0, {}
    for it in range(1, 401):  # the same steps as train(), timed one at a time, evaluated every 10
        t = time.perf_counter()
        _, dW, db = lin.loss_and_grads(X, Y, W, b, oracle.FULL_REG)
        W, b = W - lr * dW, b - lr * db
        lr *= oracle.FULL_DECAY
        spent += time.perf_counter() - t
        if it % 10 == 0:
            acc = oracle.linear_accuracy(W, b, Xt, yt)
            for target in (0.70, 0.72, 0.74):
                if acc >= target and target not in reached:
                    reached[target] = (it, spent)
            if it == oracle.FULL_ITERS:
                print(f"linear, full batch on {oracle.FULL_N:,} images: {acc:.4f} after {it} iterations "
                      f"({spent:.1f} s)")
    for target, (it, s) in sorted(reached.items()):
        print(f"  {target:.2f}: after {it} iterations, {s:.1f} s")
    Xa, Ya = oracle.onehot_train(d)
    for passes in (1, 2, 3):
        t = time.perf_counter()
        W, b, _ = lin.train(Xa, Ya, oracle.MB_LR, oracle.MB_DECAY, oracle.MB_REG, passes, batch_size=oracle.MB_BATCH)
        print(f"linear, {passes} pass(es) of minibatches of {oracle.MB_BATCH} on 60,000 images: "
              f"{oracle.linear_accuracy(W, b, Xt, yt):.4f} ({time.perf_counter() - t:.1f} s)")


def bench_eval(repeat: int) -> None:
    import torch

    from assignments.regularised_cnn import oracle
    from grader.engine import assignment
    from grader.engine.session import GradeOptions, Session

    d = load_fashion_mnist()
    sd = torch.load(REF / "cnn.pt", map_location="cpu", weights_only=True)
    state = {"keys": list(sd), "arrays": [v.numpy() for v in sd.values()]}
    for dtype in (oracle.WEIGHTS_DTYPE, "float64"):
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            params = oracle.match_cnn_state("cnn.pt", state)
            _, acc = oracle.cnn_loss_acc(params, d.x_test, d.y_test, dtype=dtype)
            times.append(time.perf_counter() - t)
        used = " (what cnn.weights uses)" if dtype == oracle.WEIGHTS_DTYPE else ""
        print(f"grader-side evaluation of cnn.pt on 10,000 test images, {dtype}{used}, {torch.get_num_threads()} "
              f"threads: {min(times):.2f} s (best of {repeat}), accuracy {acc:.4f}")
    a4 = assignment.load("regularised_cnn")
    check = next(c for c in a4.checks(hidden=False) if c.id == "cnn.weights")
    session = Session(REF, a4, GradeOptions())
    for label in ("cold (worker start + torch import in the sandbox)", "warm (worker reused)"):
        t = time.perf_counter()
        r = session.run_check(check)
        print(f"the whole cnn.weights check, {label}: {time.perf_counter() - t:.2f} s ({r.status.value}: {r.message})")
    session.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", type=Path, default=REF / "train_log.json", help="per-epoch log of a training run")
    ap.add_argument("--retrain", action="store_true", help="train the reference CNN now (minutes)")
    ap.add_argument("--skip-linear", action="store_true")
    ap.add_argument("--skip-eval", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    log_path = args.log
    if args.retrain:
        tmp = Path(tempfile.mkdtemp())
        log_path = tmp / "log.json"
        subprocess.run([sys.executable, str(REF / "train_reference.py"), "--out", str(tmp / "cnn.pt"),
                        "--threads", str(args.threads), "--log-json", str(log_path)], check=True)
    cnn_time_to_accuracy(json.loads(log_path.read_text()))
    if not args.skip_linear:
        bench_linear()
    if not args.skip_eval:
        bench_eval(args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
