"""The one import of an assignment author: `from grader.api import ...` (docs/assignments.md).

Defining an assignment (`assignments/<name>/__init__.py`):
  Assignment, Task        title, tasks (the student modules each asks for), seed

Registering checks (`checks.py` public, `hidden.py` hidden):
  CheckList, Visibility   `CHECKS = CheckList(Visibility.PUBLIC)`; `check = CHECKS.task(task, module=...)`
  Limits                  a check's time, memory and reply limits
  CheckContext            what a judge receives as `ctx`: probe, share, data, source, rng, seed

Judging (in the grader, never in the worker):
  CheckFailed, Outcome    (partial) failure with a message; a score with figures
  judge                   close, close_each, equal, as_array, require_keys, require_at_least,
                          require_by_hand, require_loss_drop, submitted_state, with_figures, f32_exact
  autograd, central_diff, torch, t64
                          oracles: torch autograd in float64, central differences
  figures                 gradient error maps, training curves
  torch_checks            judges shared by torch tasks: training contract at lr = 0, architecture,
                          evaluate()'s (loss, accuracy)

Data:
  FashionMNIST, load_fashion_mnist, DatasetMissing   (in a check, `ctx.data()` loads it)
"""
from grader.engine import figures, judge, torch_checks
from grader.engine.assignment import Assignment, CheckList, Task
from grader.engine.context import CheckContext
from grader.engine.data import DatasetMissing, FashionMNIST, load_fashion_mnist
from grader.engine.model import CheckFailed, Limits, Outcome, Visibility
from grader.engine.oracles import autograd, central_diff, t64, torch

__all__ = [
    "Assignment", "Task", "CheckList", "Visibility", "Limits", "CheckContext",
    "CheckFailed", "Outcome", "judge", "autograd", "central_diff", "torch", "t64", "figures", "torch_checks",
    "FashionMNIST", "load_fashion_mnist", "DatasetMissing",
]
