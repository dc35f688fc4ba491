"""What a check author needs, in one import: `from grader.api import CheckList, Visibility, judge, ...`.

This is the public surface for assignments (`assignments/<name>/` and `__init__.py`, checks.py,
hidden.py, oracle.py); see docs/assignments.md. It names engine pieces, it holds no logic.

Declaring an assignment and its checks
    Assignment, Task       `ASSIGNMENT = Assignment(name, title, tasks, package, seed)` in __init__.py
    CheckList              `CHECKS = CheckList(Visibility.PUBLIC)`; `check = CHECKS.task(task, module=...)`;
                           `@check("id", "title", points, tolerance=..., limits=...)` on each judge
    Visibility             PUBLIC (shipped to students, `grade check`) or HIDDEN (instructors only)
    Limits                 a check's time and memory budget in the worker
    CheckContext           what a judge receives: ctx.probe(name, *args), ctx.rng, ctx.seed, ctx.data(),
                           ctx.share(name, array), ctx.source(module)
Verdicts
    CheckFailed            raise it with a message (and `fraction=` for partial credit)
    Outcome                return it for partial credit with a message, or figures
    judge                  the module of comparisons: close, close_each, equal, as_array, require_keys,
                           require_at_least, require_loss_drop, require_by_hand, submitted_state, f32_exact, ...
    f32_exact, partial_credit, require_at_least   the judge helpers oracles use most, by name
Oracles (float64, on the grader's side)
    torch, t64             torch, imported when first used; an array as a float64 tensor
    autograd               a loss and its gradients by torch autograd
    sgd_step               parameters after one step of torch.optim.SGD
    central_diff           gradients by central differences
Shared torch checks (grader.engine.torch_checks)
    judge_architecture     a model's parameter count, state and logits against the grader's forward pass
    judge_train_lowers_loss  train() on the grader's network lowers the grader's loss
    judge_lr0_contract     train() with lr = 0: nothing moves, one loss per epoch, each the model's loss
    labels_without_ties    inputs and labels for evaluate() with no near-tie predictions
    judge_loss_accuracy    evaluate()'s (loss, accuracy) against the grader's
Figures (the HTML report)
    figures                the module: gradient_error, curve, series, training_curves, ...
    training_curves        a training check's loss/accuracy curves against the reference's
Data
    load_fashion_mnist     FashionMNIST as arrays (ctx.data() gives the same inside a check)
    make_synthetic         the synthetic 2-D data set
"""
from __future__ import annotations

from grader.engine import figures, judge
from grader.engine.assignment import Assignment, CheckList, Task
from grader.engine.context import CheckContext
from grader.data import load_fashion_mnist, make_synthetic
from grader.engine.figures import training_curves
from grader.engine.judge import f32_exact, partial_credit, require_at_least
from grader.engine.model import CheckFailed, Limits, Outcome, Visibility
from grader.engine.oracles import autograd, central_diff, sgd_step, t64, torch
from grader.engine.torch_checks import (judge_architecture, judge_loss_accuracy, judge_lr0_contract,
                                        judge_train_lowers_loss, labels_without_ties)

__all__ = [
    "Assignment", "Task", "CheckList", "Visibility", "Limits", "CheckContext",
    "CheckFailed", "Outcome", "judge", "f32_exact", "partial_credit", "require_at_least",
    "torch", "t64", "autograd", "central_diff", "sgd_step",
    "judge_architecture", "judge_train_lowers_loss", "judge_lr0_contract", "labels_without_ties",
    "judge_loss_accuracy",
    "figures", "training_curves",
    "load_fashion_mnist", "make_synthetic",
]
