"""A2 relu_fit: gradients by hand (warm-up), a 1-4-1 ReLU network and an exact fit with fsolve."""
from grader.api import Assignment, Task

ASSIGNMENT = Assignment(
    name="relu_fit",
    title="A2 Gradients and fitting a ReLU network exactly",
    package=__name__,
    seed=2_2024,
    tasks=[
        Task("warmup", "2.1 Warm-up gradients: squared norm, mean, L1 loss", ("warmup",)),
        Task("relu_net", "2.2a The 1-4-1 ReLU network: predict and loss_grad", ("relu_net",)),
        Task("fit", "2.2b Fitting the network exactly with fsolve", ("relu_net",)),
    ],
)
