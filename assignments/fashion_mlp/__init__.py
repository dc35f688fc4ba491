"""A3 fashion_mlp: an MLP on FashionMNIST, by hand in numpy and in PyTorch."""
from grader.api import Assignment, Task

ASSIGNMENT = Assignment(
    name="fashion_mlp",
    title="A3 An MLP on FashionMNIST, by hand and in PyTorch",
    package=__name__,
    seed=3_2024,
    tasks=[
        Task("numpy_mlp", "3.1 A 784-32-32-10 MLP in numpy with per-sample SGD", ("numpy_mlp",)),
        Task("torch_mlp", "3.2 The 784-256-128-64-10 MLP in PyTorch and its trained weights", ("torch_mlp",)),
    ],
)
