"""A4 regularised_cnn: accuracy, L1/L2 penalties, a regularised linear classifier, dropout,
optimisers (following torch.optim) and a regularised CNN on FashionMNIST."""
from grader.api import Assignment, Task

ASSIGNMENT = Assignment(
    name="regularised_cnn",
    title="A4 Regularisation, optimisers and a CNN",
    package=__name__,
    seed=4_2024,
    tasks=[
        Task("metrics", "4.1 Accuracy in percent from probabilities (argmax, not rounding)", ("metrics",)),
        Task("penalties", "4.2 L1 and L2 penalties, their gradients and a regularised cross-entropy",
             ("penalties",)),
        Task("linear", "4.3 A linear classifier: squared error on one-hot targets plus L2, trained by "
                       "gradient descent", ("linear",)),
        Task("dropout", "4.4 Inverted dropout", ("dropout",)),
        Task("optim", "4.5 SGD with momentum, RMSprop, Adam and AdamW exactly as torch.optim", ("optim",)),
        Task("cnn", "4.6 A regularised CNN in PyTorch and its trained weights", ("cnn",)),
    ],
)
