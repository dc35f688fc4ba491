"""A4 public checks: run by students' `grade check` and by instructors.

Tolerances (stated per check, shown in reports; the reasoning is next to each constant in oracle.py):
* values and gradients: |got − expected| ≤ 1e-6 + 1e-4·|expected| against closed forms and torch
  autograd in float64 (float32 and any summation order pass);
* optimisers: the trajectory of torch.optim itself (float64) on the same gradients, same tolerance;
* dropout: exact structure (0 or X/(1 − p)), the share dropped within 6 standard deviations of p;
* training: accuracy and loss measured by the grader with the parameters the student's code returns,
  thresholds set from the reference with margin (docs/regularised_cnn.md).
"""
from __future__ import annotations

import numpy as np

from grader.api import CheckFailed, CheckList, Limits, Visibility, judge, judge_architecture

from . import oracle
from .oracle import GRAD_TOL

CHECKS = CheckList(Visibility.PUBLIC)

# One worker (one `import torch`, ~1.7 s) serves every torch check: the engine starts a fresh
# worker when the limits change.
TORCH_LIMITS = Limits(timeout=90, memory_mb=4096)
DATA_LIMITS = Limits(timeout=120, memory_mb=4096)

# ---------------------------------------------------------------------------------------------
# 4.1 metrics.py
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("metrics", module="metrics")


@check("accuracy", "accuracy(labels_onehot, probs) is the percentage of rows whose argmax is right", 3,
       tolerance=oracle.ACC_TOL_TEXT)
def accuracy(ctx):
    labels, probs = oracle.accuracy_inputs(ctx.rng, n=40, c=10, temperature=2.0, right=0.6)
    oracle.judge_accuracy(ctx, labels, probs, "40 rows of 10 classes")
    labels, probs = oracle.accuracy_inputs(ctx.rng, n=8, c=3, temperature=3.0, right=0.5)
    oracle.judge_accuracy(ctx, labels, probs, "8 rows of 3 classes")


# ---------------------------------------------------------------------------------------------
# 4.2 penalties.py
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("penalties", module="penalties")


@check("values", "l1_penalty = lam·Σ|w| and l2_penalty = lam·Σw² (no ½) over a list of arrays", 4,
       tolerance=GRAD_TOL)
def penalty_values(ctx):
    weights = oracle.penalty_weights(ctx.rng)
    problems = oracle.judge_penalties(ctx, weights, 0.03, "arrays of shapes (3, 4), (5,), (2, 3, 3, 2)")
    if problems:
        raise CheckFailed("\n".join(problems), fraction=1 - len(problems) / 2)


@check("grads", "l1_grad = lam·sign(w) with sign(0) = 0, l2_grad = 2·lam·w, against autograd", 4,
       tolerance=GRAD_TOL + "; the weights hold exact zeros, where the L1 gradient must be 0")
def penalty_grads(ctx):
    weights = oracle.penalty_weights(ctx.rng)
    figures: list = []
    problems = oracle.judge_penalty_grads(ctx, weights, 0.05, "arrays of shapes (3, 4), (5,), (2, 3, 3, 2)", figures)
    if problems:
        raise CheckFailed("\n".join(problems), fraction=1 - len(problems) / 2, figures=figures)


@check("regularised_ce", "regularised_cross_entropy: mean −log p[label] plus the L1 or L2 penalty; "
       "ValueError for another kind", 4, tolerance=GRAD_TOL)
def regularised_ce(ctx):
    probs, labels = oracle.ce_inputs(ctx.rng, 12, 5)
    weights = oracle.penalty_weights(ctx.rng, [(4, 5), (6,)], zeros=1)
    problems = []
    for kind, lam in (("l1", 0.04), ("l2", 0.04)):
        try:
            oracle.judge_regularised_ce(ctx, probs, labels, weights, lam, kind, "12 rows of 5 classes")
        except CheckFailed as exc:
            problems.append(exc.message)
    err = oracle.judge_ce_unknown_kind(ctx, probs, labels, weights)
    if err:
        problems.append(err)
    if problems:
        raise CheckFailed("\n".join(problems), fraction=1 - len(problems) / 3)


# ---------------------------------------------------------------------------------------------
# 4.3 linear.py
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("linear", module="linear")


@check("loss_and_grads", "loss_and_grads: Σ(XW + b − Y)²/N + reg·ΣW² and its gradients, against autograd", 5,
       tolerance=GRAD_TOL)
def loss_and_grads(ctx):
    X, Y, W, b = oracle.linear_problem(ctx.rng, n=30, d=7, c=4)
    oracle.judge_loss_and_grads(ctx, X, Y, W, b, 0.2, "N = 30, D = 7, C = 4")


@check("train_steps", "train (full batch): gradient steps with lr·lr_decay^k from the seed's initial W, b; "
       "history of losses and learning rates", 5,
       tolerance=GRAD_TOL + ", against the grader's own float64 gradient descent from the W, b that "
                 "train(..., iterations=0, seed) returns; history['lr'] within 1e-9 (relative)")
def train_steps(ctx):
    X, Y, _, _ = oracle.linear_problem(ctx.rng, n=40, d=6, c=3)
    oracle.judge_train_trajectory(ctx, X, Y, lr=0.1, lr_decay=0.5, reg=0.1, iterations=6)


@check("fashion_full_batch",
       f"train on {oracle.FULL_N:,} FashionMNIST images (full batch) reaches the test-accuracy threshold", 5,
       limits=DATA_LIMITS, needs_data=True,
       tolerance=f"accuracy measured by the grader on the 10,000 test images with the returned W, b: full marks "
                 f"at ≥ {oracle.FULL_FULL:.2f}, linear partial credit from {oracle.FULL_ZERO:.2f}" + judge.SEED_SPREAD_TOL)
def fashion_full_batch(ctx):
    return oracle.judge_linear_fashion(ctx, oracle.FULL_N, oracle.FULL_ITERS, oracle.FULL_LR, oracle.FULL_DECAY,
                                       oracle.FULL_REG, None, oracle.FULL_FULL, oracle.FULL_ZERO)


@check("fashion_minibatch",
       f"train on the 60,000 FashionMNIST images in minibatches of {oracle.MB_BATCH} reaches the threshold", 4,
       limits=DATA_LIMITS, needs_data=True,
       tolerance=f"accuracy measured by the grader on the 10,000 test images with the returned W, b: full marks "
                 f"at ≥ {oracle.MB_FULL:.2f}, linear partial credit from {oracle.MB_ZERO:.2f}" + judge.SEED_SPREAD_TOL)
def fashion_minibatch(ctx):
    return oracle.judge_linear_fashion(ctx, None, oracle.MB_ITERS, oracle.MB_LR, oracle.MB_DECAY, oracle.MB_REG,
                                       oracle.MB_BATCH, oracle.MB_FULL, oracle.MB_ZERO)


@check("reg_shrinks", "reg > 0 gives a smaller ‖W‖ than reg = 0 on the same run", 3,
       limits=DATA_LIMITS, needs_data=True,
       tolerance=f"‖W‖ with reg = {oracle.REG_VALUES[1]:g} at most {oracle.REG_RATIO:g}× the norm with reg = 0 "
                 "(linear partial credit from 1×)" + judge.SEED_SPREAD_TOL)
def reg_shrinks(ctx):
    return oracle.judge_reg_shrinks(ctx)


# ---------------------------------------------------------------------------------------------
# 4.4 dropout.py
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("dropout", module="dropout")


@check("train_mode", "Dropout(0.3) in training: drops ~30 %, scales the kept units by 1/(1 − p); backward "
       "uses the same mask", 5, tolerance=oracle.DROP_TOL)
def dropout_train(ctx):
    X, dY = oracle.dropout_inputs(ctx.rng, (200, 300))
    got = ctx.probe("dropout_pass", 0.3, X, dY, True, int(ctx.rng.integers(1 << 30)))[0]
    problems = oracle.judge_dropout_pass("Dropout(0.3) with train=True on X of shape (200, 300)", 0.3, X, dY, got)
    if problems:
        raise CheckFailed("\n".join(problems), fraction=max(0.0, 1 - len(problems) / 3))


@check("eval_mode", "Dropout is the identity with train=False and with p = 0 (forward and backward)", 3,
       tolerance="forward(X) = X and backward(dY) = dY within 1e-6 (relative)")
def dropout_eval(ctx):
    X, dY = oracle.dropout_inputs(ctx.rng, (50, 40))
    problems = []
    got = ctx.probe("dropout_pass", 0.5, X, dY, False, 1)[0]
    problems += oracle.judge_identity("Dropout(0.5) with train=False", X, dY, got)
    got = ctx.probe("dropout_pass", 0.0, X, dY, True, 2)[0]
    problems += oracle.judge_identity("Dropout(0.0) with train=True", X, dY, got)
    if problems:
        raise CheckFailed("\n".join(problems[:3]), fraction=max(0.0, 1 - len(problems) / 4))


# ---------------------------------------------------------------------------------------------
# 4.5 optim.py
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("optim", module="optim")


def _optim(ctx, name, runs):
    problems, figures = [], []
    for kwargs, label in runs:
        problems += oracle.judge_optimizer(ctx, name, (3, 4), 25, kwargs, label, figures=figures)
    if problems:
        raise CheckFailed("\n".join(problems[:3]), fraction=max(0.0, 1 - len(problems) / len(runs)),
                          figures=figures)


@check("sgd_momentum", "sgd_momentum_step follows torch.optim.SGD(momentum, weight_decay) over 25 steps", 4,
       tolerance=oracle.OPT_TOL)
def sgd_momentum(ctx):
    _optim(ctx, "sgd_momentum_step", [(dict(lr=0.01), "(momentum 0.9 by default)"),
                                      (dict(lr=0.05, momentum=0.5, weight_decay=0.1), "")])


@check("rmsprop", "rmsprop_step follows torch.optim.RMSprop over 25 steps (eps outside the root)", 4,
       tolerance=oracle.OPT_TOL)
def rmsprop(ctx):
    _optim(ctx, "rmsprop_step", [(dict(lr=0.01), "(defaults alpha=0.99, eps=1e-8)"),
                                 (dict(lr=0.01, alpha=0.9, eps=1e-3, weight_decay=0.1), "")])


@check("adam", "adam_step follows torch.optim.Adam over 25 steps (bias correction, coupled weight decay)", 4,
       tolerance=oracle.OPT_TOL)
def adam(ctx):
    _optim(ctx, "adam_step", [(dict(lr=0.01), "(defaults betas=(0.9, 0.999), eps=1e-8)"),
                              (dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.5), "")])


@check("adamw", "adamw_step follows torch.optim.AdamW over 25 steps (decoupled weight decay)", 4,
       tolerance=oracle.OPT_TOL)
def adamw(ctx):
    _optim(ctx, "adamw_step", [(dict(lr=0.05), "(default weight_decay=0.01)"),
                               (dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.5), "")])


# ---------------------------------------------------------------------------------------------
# 4.6 cnn.py
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("cnn", module="cnn")


@check("architecture", f"build_cnn(): the CNN of the statement, {oracle.CNN_N_PARAMS:,} parameters, logits out", 4,
       limits=TORCH_LIMITS,
       tolerance="exact parameter count and shapes; eval-mode logits within 1e-5 + 1e-4·|expected| of the "
                 "grader's forward pass with the model's own weights")
def cnn_architecture(ctx):
    X = oracle.cnn_inputs(ctx.rng, 4).reshape(4, 1, 28, 28)
    got = ctx.probe("build_cnn", X)
    judge_architecture(
        got, call="build_cnn()", n_params=oracle.CNN_N_PARAMS,
        count_note="320 + 18,496 + 36,928 for the convolutions, 36,928 + 650 for the linear layers",
        match_state=oracle.match_cnn_state,
        logits_name="build_cnn()(X) in eval mode for X of shape (4, 1, 28, 28): the logits",
        got_logits=lambda g: g["out"]["eval"][0],
        logits=lambda params: oracle.cnn_logits(params, X).numpy(), tolerance=oracle.LOGITS,
        layers_hint="expected conv → ReLU → max-pool three times, flatten, Linear → ReLU → Dropout → Linear with "
                    "the model's own weights, and no softmax at the end")


@check("dropout", "build_cnn(dropout): dropout active in train mode, off in eval mode, p = the argument", 4,
       limits=TORCH_LIMITS,
       tolerance=f"train mode: two passes on the same input differ (some logit by > {oracle.DIFFER:g}); eval mode: "
                 f"two passes identical (within {oracle.DIFFER:g}); build_cnn(0.0) in train mode = eval mode")
def cnn_dropout(ctx):
    X = oracle.cnn_inputs(ctx.rng, 8).reshape(8, 1, 28, 28)
    problems = []
    got = ctx.probe("build_cnn", X, 0.3)
    if not got.get("is_module"):
        raise CheckFailed(f"build_cnn(0.3) must return a torch.nn.Module, got {got.get('type')}")
    ev = [judge.as_array("build_cnn(0.3) eval-mode logits", o) for o in got["out"]["eval"]]
    tr = [judge.as_array("build_cnn(0.3) train-mode logits", o, ev[0].shape) for o in got["out"]["train"]]
    if np.max(np.abs(ev[0] - ev[1])) > oracle.DIFFER:
        problems.append("build_cnn(0.3) in eval mode: two passes on the same input differ (by up to "
                        f"{np.max(np.abs(ev[0] - ev[1])):.3g}): eval mode must be deterministic (no dropout)")
    if np.max(np.abs(tr[0] - tr[1])) <= oracle.DIFFER:
        problems.append("build_cnn(0.3) in train mode: two passes on the same input give the same logits: "
                        "is there an nn.Dropout(dropout) after the first Linear layer's ReLU?")
    got0 = ctx.probe("build_cnn", X, 0.0)
    if got0.get("is_module"):
        ev0, tr0 = (judge.as_array(f"build_cnn(0.0) {m}-mode logits", got0["out"][m][0]) for m in ("eval", "train"))
        if ev0.shape != tr0.shape or np.max(np.abs(ev0 - tr0)) > oracle.DIFFER:
            problems.append("build_cnn(0.0) in train mode differs from eval mode: the dropout probability must be "
                            "the argument (nn.Dropout(dropout)), and dropout the only difference between the modes")
    if problems:
        raise CheckFailed("\n".join(problems), fraction=max(0.0, 1 - len(problems) / 2))


@check("optimizer", "make_optimizer: a torch.optim optimizer over all parameters that decays the weights", 4,
       limits=TORCH_LIMITS,
       tolerance="every parameter in exactly one group; each group's lr and weight_decay as given (> 0); one step "
                 "with all gradients zero makes every weight tensor's norm smaller")
def cnn_optimizer(ctx):
    oracle.judge_make_optimizer(ctx, oracle.OPT_LR, oracle.OPT_WD)


@check("train", f"train() lowers the loss: {oracle.TRAIN_EPOCHS} epochs on {oracle.TRAIN_N:,} images, "
       "measured by the grader", 5, limits=TORCH_LIMITS, needs_data=True,
       tolerance=f"per-epoch losses returned as a list of {oracle.TRAIN_EPOCHS} numbers; the grader's mean "
                 f"cross-entropy on the {oracle.TRAIN_N:,} images must fall to ≤ {oracle.TRAIN_FULL_RATIO:g}× its "
                 "start (linear partial credit from 1×)" + judge.SEED_SPREAD_TOL)
def cnn_train(ctx):
    return oracle.judge_train(ctx, oracle.TRAIN_N, oracle.TRAIN_BATCH, oracle.TRAIN_EPOCHS, oracle.TRAIN_LR,
                              oracle.TRAIN_WD, 0.3, oracle.TRAIN_FULL_RATIO)


@check("evaluate", "evaluate() in eval mode: the mean cross-entropy and the accuracy (a fraction)", 3,
       limits=TORCH_LIMITS,
       tolerance="loss within 1e-6 + 1e-4·|expected| of the grader's float64 eval-mode value; accuracy within 1e-6")
def cnn_evaluate(ctx):
    oracle.judge_evaluate(ctx, n=300, batch_size=100)


@check("weights", f"the submitted {oracle.WEIGHTS_FILE} reaches the test-accuracy threshold (measured by the grader)",
       10, limits=TORCH_LIMITS, needs_data=True, uses_module=False,
       tolerance=f"accuracy of the grader's own CNN with your weights on the 10,000 test images: full marks at "
                 f"≥ {oracle.WEIGHTS_FULL:.2f}, linear partial credit from {oracle.WEIGHTS_ZERO:.2f}")
def cnn_weights(ctx):
    state = judge.submitted_state(ctx.probe("load_weights"), oracle.WEIGHTS_FILE, oracle.SAVE_HINT,
                                  "the ~0.4 MB of the CNN's weights")
    params = oracle.match_cnn_state(f"the state_dict in {oracle.WEIGHTS_FILE}", state)
    data = ctx.data()
    _, acc = oracle.cnn_loss_acc(params, data.x_test, data.y_test, dtype=oracle.WEIGHTS_DTYPE)
    return oracle.require_at_least(
        acc, oracle.WEIGHTS_ZERO, oracle.WEIGHTS_FULL,
        f"test accuracy of the weights in {oracle.WEIGHTS_FILE}: {acc:.4f} (measured by the grader on the 10,000 "
        f"test images, (N, 1, 28, 28) with pixels scaled to [0, 1]: no other normalisation); full marks at "
        f"≥ {oracle.WEIGHTS_FULL:.2f}, none below {oracle.WEIGHTS_ZERO:.2f}")


# ---------------------------------------------------------------------------------------------
# by hand: the numpy tasks never import or call torch, jax, tensorflow or autograd (recorded at
# run time in the worker: docs/security.md); each reuses a public check's probes and oracles
# ---------------------------------------------------------------------------------------------
def _by_hand(task: str, run_judge) -> None:
    by_hand = CHECKS.task(task, module=task)

    @by_hand("by_hand", f"{task}.py computes by hand, with numpy: no torch, jax, tensorflow or autograd", 1,
             tolerance=judge.BY_HAND_TOL)
    def check_by_hand(ctx):
        judge.require_by_hand(ctx, [task], f"{task}.py", lambda: run_judge(ctx))


for _task, _judge in (("metrics", accuracy), ("penalties", penalty_values), ("linear", loss_and_grads),
                      ("dropout", dropout_train), ("optim", adam)):
    _by_hand(_task, _judge)
