"""Train the reference 784-256-128-64-10 MLP on FashionMNIST and write its state_dict.

    python reference/fashion_mlp/train_reference.py [--out PATH] [--epochs N] [--finetune-epochs M]
                                                    [--seed S] [--threads T]

Adam (lr 1e-3), batch 128, cross-entropy, inputs scaled to [0, 1] and flattened, exactly what the
grader feeds the model: N epochs (default 10), then M epochs (default 2) with a fresh Adam at lr/10,
which settles the epoch-to-epoch wobble of the test accuracy (±0.005 at lr 1e-3) above 0.88.
Seeded and single-process, so the same settings write the same weights (on the same torch build and
thread count). The committed reference/fashion_mlp/fashion_mlp.pt was
written by this script with its defaults; the grader's `torch_mlp.weights` check must give it full
marks (tests/test_fashion_mlp_checks.py).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from torch_mlp import build_model, evaluate, train  # noqa: E402

from grader.data import load_fashion_mnist  # noqa: E402


def loaders(batch_size: int, seed: int, data_dir=None):
    d = load_fashion_mnist(data_dir)
    train_set = torch.utils.data.TensorDataset(torch.from_numpy(np.array(d.x_train)),
                                               torch.from_numpy(np.array(d.y_train)))
    test_set = torch.utils.data.TensorDataset(torch.from_numpy(np.array(d.x_test)),
                                              torch.from_numpy(np.array(d.y_test)))
    g = torch.Generator().manual_seed(seed)
    return (torch.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=g),
            torch.utils.data.DataLoader(test_set, batch_size=1000))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "fashion_mlp.pt", help="where to write the state_dict")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--finetune-epochs", type=int, default=2, help="extra epochs at lr/10 (0: none)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data-dir", default=None, help="FashionMNIST folder (default: see docs/data.md)")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    train_loader, test_loader = loaders(args.batch_size, args.seed, args.data_dir)
    model = build_model()
    cpu0, wall0 = time.process_time(), time.perf_counter()

    def report(epoch, loss):
        test_loss, acc = evaluate(model, test_loader)
        print(f"epoch {epoch:2d}: train loss {loss:.4f}, test loss {test_loss:.4f}, test accuracy {acc:.4f} "
              f"({time.process_time() - cpu0:.1f} s CPU, {time.perf_counter() - wall0:.1f} s wall)", flush=True)

    train(model, train_loader, args.epochs, args.lr, "cpu", on_epoch=report)
    if args.finetune_epochs > 0:
        print(f"finishing with {args.finetune_epochs} epoch(s) at lr {args.lr / 10:g}")
        train(model, train_loader, args.finetune_epochs, args.lr / 10, "cpu",
              on_epoch=lambda epoch, loss: report(args.epochs + epoch, loss))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
