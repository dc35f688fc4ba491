"""A3 public checks: run by students' `grade check` and by instructors.

Tolerances (stated per check, shown in reports; the reasoning is next to each constant in oracle.py):
* GRAD: |got − expected| ≤ 1e-6 + 1e-4·|expected|, against torch autograd / forward passes in float64.
  Accepts float32 arithmetic and any summation order (loops or vectorised).
* Initialisation: statistical bounds of 6 standard deviations (a correct init always passes).
* Training: accuracy and loss measured by the grader on the parameters the student's code returns,
  thresholds set from the reference with margin (docs/fashion_mlp.md).
"""
from __future__ import annotations

from grader.api import CheckList, Limits, Visibility, judge, judge_architecture

from . import oracle
from .oracle import GRAD_TOL

CHECKS = CheckList(Visibility.PUBLIC)

# Every torch check runs with the same limits so that one worker (one `import torch`, ~1.7 s) serves
# them all: the engine starts a fresh worker when the limits change.
TORCH_LIMITS = Limits(timeout=60)

# ---------------------------------------------------------------------------------------------
# 3.1 numpy_mlp.py
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("numpy_mlp", module="numpy_mlp")


@check("init", "init_params(rng): shapes (n_in, n_out), zero biases, weights ~ N(0, 1/max(n_in, n_out))", 4,
       tolerance=oracle.INIT_TOL)
def np_init(ctx):
    oracle.judge_init(ctx, oracle.NP_SIZES, seed=0)


@check("forward", "forward() gives the softmax probabilities for one sample and for a batch", 4,
       tolerance=GRAD_TOL)
def np_forward(ctx):
    weights, biases = oracle.np_random_params(ctx.rng)
    oracle.judge_forward(ctx, weights, biases, oracle.np_inputs(ctx.rng, None), "one sample x of shape (784,)")
    oracle.judge_forward(ctx, weights, biases, oracle.np_inputs(ctx.rng, 6), "a batch X of shape (6, 784)")


@check("sample_grads", "sample_grads() matches torch autograd (float64) for the cross-entropy of one sample", 5,
       tolerance=GRAD_TOL)
def np_sample_grads(ctx):
    weights, biases = oracle.np_random_params(ctx.rng)
    for k, label in enumerate((3, 8)):
        oracle.judge_sample_grads(ctx, weights, biases, oracle.np_inputs(ctx.rng, None), label, f"sample {k + 1}")


@check("train_epoch", "train_epoch() makes one SGD step per sample, in order (12 samples, lr 0.2)", 5,
       tolerance=GRAD_TOL + "; compared with the grader's own float64 per-sample SGD")
def np_train_epoch(ctx):
    oracle.judge_train_epoch(ctx, n=12, lr=0.2)


@check("by_hand", "numpy_mlp.py computes its gradients by hand: no torch autograd, jax or tensorflow", 1,
       tolerance=judge.BY_HAND_TOL)
def np_by_hand(ctx):
    def run():
        weights, biases = oracle.np_random_params(ctx.rng)
        oracle.judge_forward(ctx, weights, biases, oracle.np_inputs(ctx.rng, 2), "a batch X of shape (2, 784)")
        oracle.judge_sample_grads(ctx, weights, biases, oracle.np_inputs(ctx.rng, None), 4, "one sample")
        oracle.judge_train_epoch(ctx, n=3, lr=0.2)

    judge.require_by_hand(ctx, ["numpy_mlp"], "numpy_mlp.py", run)


@check("train_fashion",
       f"{oracle.NP_FASHION_EPOCHS} epochs of train_epoch on FashionMNIST reach the test-accuracy threshold",
       8, limits=Limits(timeout=240, memory_mb=4096), needs_data=True,
       tolerance=f"accuracy measured by the grader on the 10,000 test images: full marks at "
                 f"≥ {oracle.NP_FASHION_FULL:.2f}, linear partial credit from {oracle.NP_FASHION_ZERO:.2f}"
                 + judge.SEED_SPREAD_TOL)
def np_train_fashion(ctx):
    return oracle.judge_np_fashion(ctx)


# ---------------------------------------------------------------------------------------------
# 3.2 torch_mlp.py
# ---------------------------------------------------------------------------------------------
check = CHECKS.task("torch_mlp", module="torch_mlp")


@check("architecture", "build_model(): 784-256-128-64-10 with ReLU, 242,762 parameters, logits out", 4,
       limits=TORCH_LIMITS,
       tolerance="exact parameter count and shapes; logits within 1e-5 + 1e-4·|expected| of the grader's "
                 "forward pass with the model's own weights")
def torch_architecture(ctx):
    X = oracle.f32(ctx.rng.uniform(0, 1, size=(5, 784)))
    got = ctx.probe("build_model", X)
    judge_architecture(
        got, call="build_model()", n_params=oracle.TORCH_N_PARAMS,
        count_note="784·256 + 256 + 256·128 + 128 + 128·64 + 64 + 64·10 + 10", match_state=oracle.match_state,
        logits_name="build_model()(X) for X of shape (5, 784): the logits", got_logits=lambda g: g["out"],
        logits=lambda params: oracle.torch_logits(params, X).numpy(), tolerance=oracle.LOGITS,
        layers_hint="expected Linear → ReLU → Linear → ReLU → Linear → ReLU → Linear with the model's own weights, "
                    "and no softmax at the end: CrossEntropyLoss takes logits")


@check("train", "train() lowers the loss: 2 epochs on 2,000 images, measured by the grader", 5,
       limits=TORCH_LIMITS, needs_data=True,
       tolerance=f"per-epoch losses returned as a list of {oracle.TRAIN_EPOCHS} numbers; the grader's mean "
                 f"cross-entropy on the {oracle.TRAIN_N:,} images must fall to ≤ {oracle.TRAIN_FULL_RATIO:g}× "
                 "its start (linear partial credit from 1×)" + judge.SEED_SPREAD_TOL)
def torch_train(ctx):
    return oracle.judge_train(ctx, oracle.TRAIN_N, oracle.TRAIN_BATCH, oracle.TRAIN_EPOCHS, oracle.TRAIN_LR,
                       oracle.TRAIN_FULL_RATIO)


@check("evaluate", "evaluate() returns the mean cross-entropy and the accuracy (a fraction)", 4,
       limits=TORCH_LIMITS,
       tolerance="loss within 1e-6 + 1e-4·|expected| of the grader's float64 value; accuracy within 1e-6")
def torch_evaluate(ctx):
    oracle.judge_evaluate(ctx, n=600, batch_size=100)


@check("weights", f"the submitted {oracle.WEIGHTS_FILE} reaches the test-accuracy threshold (measured by the grader)",
       10, limits=TORCH_LIMITS, needs_data=True, uses_module=False,
       tolerance=f"accuracy of the grader's own 784-256-128-64-10 network with your weights on the 10,000 test "
                 f"images: full marks at ≥ {oracle.WEIGHTS_FULL:.2f}, linear partial credit from "
                 f"{oracle.WEIGHTS_ZERO:.2f}")
def torch_weights(ctx):
    state = judge.submitted_state(ctx.probe("load_weights"), oracle.WEIGHTS_FILE, oracle.SAVE_HINT,
                                  "the ~1 MB of the network's weights")
    params = oracle.match_state(f"the state_dict in {oracle.WEIGHTS_FILE}", state)
    data = ctx.data()
    _, acc = oracle.torch_loss_acc(params, data.x_test, data.y_test)
    return oracle.require_accuracy(
        acc, oracle.WEIGHTS_ZERO, oracle.WEIGHTS_FULL,
        f"test accuracy of the weights in {oracle.WEIGHTS_FILE}: {acc:.4f} (measured by the grader on the 10,000 "
        f"test images, pixels scaled to [0, 1] and flattened: no other normalisation); full marks at "
        f"≥ {oracle.WEIGHTS_FULL:.2f}, none below {oracle.WEIGHTS_ZERO:.2f}")
