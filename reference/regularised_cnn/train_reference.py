"""Train the reference regularised CNN on FashionMNIST and write its state_dict.

    python reference/regularised_cnn/train_reference.py [--out PATH] [--epochs N] [--seed S]
                                                        [--threads T] [--log-json PATH]

AdamW (lr 1e-3, weight decay 1e-4), dropout 0.3, batch 64, cross-entropy, inputs (N, 1, 28, 28) in
[0, 1] (exactly what the grader feeds the model), N epochs (default 15) with a cosine learning-rate
schedule stepped once per epoch (1e-3 → 0 over the N epochs). After each epoch it evaluates on the
10,000 test images and prints the test accuracy with the CPU and wall time so far (the benchmark
bench/bench_regularised_cnn.py reads these lines for the time-to-accuracy figures; `--log-json`
also writes them as JSON). Seeded and single-process, so the same settings write the same weights
(on the same torch build and thread count). The committed reference/regularised_cnn/cnn.pt was
written by this script with its defaults; the grader's `cnn.weights` check must give it full marks
(tests/test_regularised_cnn_checks.py).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent.parent))

from cnn import build_cnn, evaluate, make_optimizer, train  # noqa: E402

from grader.data import load_fashion_mnist  # noqa: E402


def loaders(batch_size: int, seed: int, data_dir=None):
    d = load_fashion_mnist(data_dir)
    x_train = torch.from_numpy(np.array(d.x_train)).reshape(-1, 1, 28, 28)
    x_test = torch.from_numpy(np.array(d.x_test)).reshape(-1, 1, 28, 28)
    train_set = torch.utils.data.TensorDataset(x_train, torch.from_numpy(np.array(d.y_train)))
    test_set = torch.utils.data.TensorDataset(x_test, torch.from_numpy(np.array(d.y_test)))
    g = torch.Generator().manual_seed(seed)
    return (torch.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=g),
            torch.utils.data.DataLoader(test_set, batch_size=1000))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "cnn.pt", help="where to write the state_dict")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data-dir", default=None, help="FashionMNIST folder (default: see docs/data.md)")
    ap.add_argument("--log-json", type=Path, default=None, help="also write the per-epoch figures here")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    train_loader, test_loader = loaders(args.batch_size, args.seed, args.data_dir)
    model = build_cnn(args.dropout)
    optimizer = make_optimizer(model, lr=args.lr, weight_decay=args.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters; AdamW lr {args.lr:g}, weight decay "
          f"{args.weight_decay:g}, dropout {args.dropout:g}, batch {args.batch_size}, {args.epochs} epochs "
          f"(cosine schedule), seed {args.seed}, {args.threads} threads", flush=True)
    log = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        lr = optimizer.param_groups[0]["lr"]
        (loss,) = train(model, train_loader, optimizer, 1, "cpu")
        schedule.step()
        train_cpu, train_wall = time.process_time() - cpu0, time.perf_counter() - wall0
        test_loss, acc = evaluate(model, test_loader)
        row = dict(epoch=epoch, lr=lr, train_loss=loss, test_loss=test_loss, test_accuracy=acc,
                   cpu_s=train_cpu, wall_s=train_wall)
        log.append(row)
        print(f"epoch {epoch:2d}: lr {lr:.2e}, train loss {loss:.4f}, test loss {test_loss:.4f}, "
              f"test accuracy {acc:.4f} ({train_cpu:.1f} s CPU, {train_wall:.1f} s wall of training)",
              flush=True)
        # the evaluation time is not training time: leave it out of the time-to-accuracy clock
        cpu0 += time.process_time() - cpu0 - train_cpu
        wall0 += time.perf_counter() - wall0 - train_wall
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} KB)", flush=True)
    if args.log_json:
        args.log_json.write_text(json.dumps(log, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
