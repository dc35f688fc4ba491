"""relu_demo hidden checks: instructor grading only; never shipped to students."""
from grader.api import CheckList, Visibility, judge

from . import oracle

CHECKS = CheckList(Visibility.HIDDEN)
check = CHECKS.task("relu", module="relu")


@check("matrix", "relu and relu_grad on a random 3×4 matrix keep its shape", 2, tolerance=oracle.TOL_TEXT)
def relu_matrix(ctx):
    x, upstream = ctx.rng.normal(size=(3, 4)), ctx.rng.normal(size=(3, 4))
    judge.close("relu(x) for x of shape (3, 4)", ctx.probe("call", "relu", "relu", x), oracle.relu(x), **oracle.TOL)
    judge.close("relu_grad(x, upstream) for x of shape (3, 4)", ctx.probe("call", "relu", "relu_grad", x, upstream),
                oracle.relu_grad(x, upstream), **oracle.TOL)
