"""A3 hidden checks: instructor grading only (`grade check --hidden`, `grade batch`).

Never shipped to students. Inputs come from the check's RNG (seeded by the assignment seed and the
check id); expected values are computed here by oracles, never stored.
"""
from __future__ import annotations

import numpy as np

from grader.api import CheckFailed, CheckList, Visibility, central_diff, judge, judge_lr0_contract

from . import oracle
from .checks import TORCH_LIMITS
from .oracle import GRAD_TOL

CHECKS = CheckList(Visibility.HIDDEN)

# --- 3.1 numpy_mlp ----------------------------------------------------------------------------------
check = CHECKS.task("numpy_mlp", module="numpy_mlp")


@check("init_sizes", "init_params(rng, sizes=...) for other layer sizes (1/max(n_in, n_out) ≠ 1/n_in, 1/n_out)", 3,
       tolerance=oracle.INIT_TOL)
def np_init_sizes(ctx):
    # 20→50: max is n_out (1/n_in is 2.5× too large); 50→5: max is n_in (1/n_out is 10× too large)
    oracle.judge_init(ctx, (20, 50, 50, 5), seed=int(ctx.rng.integers(1 << 30)))
    oracle.judge_init(ctx, (300, 100, 40, 10), seed=int(ctx.rng.integers(1 << 30)))


@check("forward_hidden", "forward() on a batch of one and with large logits (a stable softmax)", 3,
       tolerance=GRAD_TOL)
def np_forward_hidden(ctx):
    weights, biases = oracle.np_random_params(ctx.rng)
    oracle.judge_forward(ctx, weights, biases, oracle.np_inputs(ctx.rng, 1), "a batch of one, X of shape (1, 784)")
    # logits spread over ±50 around 1000 (or −1000): np.exp overflows (or underflows to 0/0) unless shifted
    big_w = [w.copy() for w in weights]
    big_w[-1] = big_w[-1] * 40.0
    for shift in (1000.0, -1000.0):
        big_b = [b.copy() for b in biases]
        big_b[-1] = big_b[-1] + shift
        oracle.judge_forward(ctx, big_w, big_b, oracle.np_inputs(ctx.rng, 4),
                             f"a batch of 4 with logits around {shift:+g} (softmax stable?)")
    # logits 800 apart within each row: only a shift by the row's max keeps every exp finite
    spread_b = [b.copy() for b in biases]
    spread_b[-1] = spread_b[-1] + np.linspace(-400.0, 400.0, spread_b[-1].shape[0])
    oracle.judge_forward(ctx, weights, spread_b, oracle.np_inputs(ctx.rng, 4),
                         "a batch of 4 whose logits spread over 800 within a row (softmax shifted by the row's max?)")


@check("sample_grads_hidden", "sample_grads() on 4 hidden samples (autograd) and against central differences", 4,
       tolerance=GRAD_TOL + "; against central differences (h = 1e-5, float64, accurate to ~1e-10): "
                 "|got − fd| ≤ 1e-7 + 1e-4·|fd|")
def np_sample_grads_hidden(ctx):
    weights, biases = oracle.np_random_params(ctx.rng, scale=4.0)
    wrong = []
    labels = ctx.rng.permutation(10)[:4]
    for k, label in enumerate(labels):
        try:
            oracle.judge_sample_grads(ctx, weights, biases, oracle.np_inputs(ctx.rng, None), int(label),
                                      f"hidden sample {k + 1}")
        except CheckFailed as exc:
            wrong.append(exc.message)
    # an oracle independent of torch: central differences of the grader's own numpy loss, 5 entries a layer
    x, label = oracle.np_inputs(ctx.rng, None), int(ctx.rng.integers(10))
    got = oracle.parse_params("sample_grads", ctx.probe("sample_grads", weights, biases, x, label))
    for layer in range(len(weights)):
        flat = ctx.rng.choice(weights[layer].size, size=5, replace=False)  # 5 distinct entries
        picks = [tuple(int(i) for i in np.unravel_index(f, weights[layer].shape)) for f in flat]

        def loss(p, layer=layer, picks=picks):
            ws = [w.copy() for w in weights]
            for idx, v in zip(picks, p[0]):
                ws[layer][idx] = v
            return oracle.np_loss(ws, biases, x, label)

        (fd,) = central_diff(loss, [np.array([weights[layer][idx] for idx in picks])])
        mine = np.array([got[0][layer][idx] for idx in picks])
        try:
            judge.close(f"sample_grads(...): weight_grads[{layer}] at entries {picks}, against central differences",
                        mine, fd, rtol=1e-4, atol=1e-7)
        except CheckFailed as exc:
            wrong.append(exc.message)
    if wrong:
        raise CheckFailed(f"{len(wrong)} of {len(labels) + len(weights)} gradient cases wrong; first: {wrong[0]}",
                          fraction=1 - len(wrong) / (len(labels) + len(weights)))


@check("train_epoch_hidden", "train_epoch() on one sample and on 30 hidden samples (lr 0.05)", 3,
       tolerance=GRAD_TOL + "; compared with the grader's own float64 per-sample SGD")
def np_train_epoch_hidden(ctx):
    oracle.judge_train_epoch(ctx, n=1, lr=0.5)
    oracle.judge_train_epoch(ctx, n=30, lr=0.05)


# --- 3.2 torch_mlp ------------------------------------------------------------------------------------
check = CHECKS.task("torch_mlp", module="torch_mlp")


@check("train_contract", "train() uses the lr and epochs it is given and returns the mean loss of each epoch", 3,
       limits=TORCH_LIMITS, needs_data=True,
       tolerance="with lr = 0 the parameters stay within 1e-6; each returned epoch loss within 1e-4 (relative) of "
                 "the grader's mean cross-entropy on the images; one loss per epoch")
def torch_train_contract(ctx):
    data = ctx.data()
    n, batch, epochs = 500, 50, 3
    idx = np.sort(ctx.rng.choice(len(data.x_train), size=n, replace=False))
    x_path = ctx.share("fashion_x_hidden500", data.x_train[idx])
    y_path = ctx.share("fashion_y_hidden500", data.y_train[idx])
    got = judge.require_keys("train", ctx.probe("train", x_path, y_path, n, batch, epochs, 0.0, ctx.seed),
                             ["before", "after", "losses"])
    what = f"train(model, loader, epochs={epochs}, lr=0.0, device='cpu') on {n} images in batches of {batch}"
    judge_lr0_contract(got, what=what, epochs=epochs, n=n,
                       loss=lambda before: oracle.torch_loss_acc(before, data.x_train[idx], data.y_train[idx])[0],
                       step_hint="is the optimizer built with lr=lr?")


@check("evaluate_hidden", "evaluate() with a short last batch: the mean over samples, not over batches", 3,
       limits=TORCH_LIMITS,
       tolerance="loss within 1e-6 + 1e-4·|expected| of the grader's float64 value; accuracy within 1e-6")
def torch_evaluate_hidden(ctx):
    oracle.judge_evaluate(ctx, n=1000, batch_size=300, hard_last=True)
