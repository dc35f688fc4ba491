"""A1 backprop: backpropagation by hand (softmax, a scalar network, numpy layers, an MLP)."""
from grader.api import Assignment, Task

ASSIGNMENT = Assignment(
    name="backprop",
    title="A1 Backpropagation by hand",
    package=__name__,
    seed=1_2024,
    tasks=[
        Task("softmax", "1.1 Softmax, its Jacobian and cross-entropy", ("softmax",)),
        Task("scalar", "1.2 Backpropagation with scalars (plain Python)", ("scalar_backprop",)),
        Task("layers", "1.3a Vectorised layers and losses", ("layers",)),
        Task("mlp", "1.3b A multi-layer perceptron", ("mlp", "layers")),
    ],
)
