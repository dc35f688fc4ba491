"""relu_demo public checks: run by `grade check` for students and by instructors."""
import numpy as np

from grader.api import CheckList, Visibility, judge

from . import oracle

CHECKS = CheckList(Visibility.PUBLIC)
check = CHECKS.task("relu", module="relu")


@check("values", "relu(x) on a small array", 2, tolerance=oracle.TOL_TEXT)
def relu_values(ctx):
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    got = ctx.probe("call", "relu", "relu", x)
    judge.close("relu(x)", got, oracle.relu(x), **oracle.TOL)


@check("grad", "relu_grad(x, upstream) is upstream where x > 0 and 0 elsewhere (also at x = 0)", 2,
       tolerance=oracle.TOL_TEXT)
def relu_grad(ctx):
    x = np.array([-1.0, 0.0, 2.0, 0.25])
    upstream = np.array([0.5, 1.5, -2.0, 3.0])
    got = ctx.probe("call", "relu", "relu_grad", x, upstream)
    judge.close("relu_grad(x, upstream)", got, oracle.relu_grad(x, upstream), **oracle.TOL)
