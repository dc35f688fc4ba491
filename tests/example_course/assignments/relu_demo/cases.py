"""relu_demo's cases for `grade selftest` (and tests/test_example_assignment.py)."""
from grader.instructor.selftest.cases import Variant, Wrong

WRONG = [
    Wrong("relu_abs", "relu.py", "np.maximum(x, 0.0)", "np.abs(x)", {"relu.values", "relu.matrix"}),
    Wrong("grad_at_zero", "relu.py", "upstream * (x > 0)", "upstream * (x >= 0)", {"relu.grad"}),
    Wrong("relu_flattens", "relu.py", "np.maximum(x, 0.0)", "np.maximum(x, 0.0).ravel()", {"relu.matrix"}),
]
VARIANTS = [
    Variant("where", edits=[("relu.py", "np.maximum(x, 0.0)", "np.where(x > 0, x, 0.0)")]),
]
