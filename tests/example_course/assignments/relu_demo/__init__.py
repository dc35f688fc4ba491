"""relu_demo: the example assignment of docs/assignments.md (one task: ReLU and its gradient)."""
from grader.api import Assignment, Task

ASSIGNMENT = Assignment(
    name="relu_demo",
    title="Example: ReLU and its gradient",
    package=__name__,
    seed=1234,
    tasks=[Task("relu", "relu(x) and relu_grad(x, upstream)", ("relu",))],
)
