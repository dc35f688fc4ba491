"""A multi-layer perceptron built from the layers in layers.py, trained with minibatch SGD."""
import numpy as np

from layers import CrossEntropyLoss, Linear, MSELoss, ReLU, Sigmoid, Softmax

_ACTIVATIONS = {"sigmoid": Sigmoid, "relu": ReLU, "softmax": Softmax, "identity": None}


class MLP:
    """Fully connected network: Linear -> hidden activation -> ... -> Linear -> output activation.

    - sizes: layer widths [n_in, n_hidden_1, ..., n_out] (at least two entries)
    - hidden: activation after every Linear but the last, "sigmoid" or "relu"
    - output: activation after the last Linear, "softmax", "sigmoid" or "identity" (none)
    - seed: seed of the np.random.default_rng that initialises the weights

    Initialisation: W ~ N(0, 1/fan_in), i.e. standard deviation 1/sqrt(n_in) of each layer, which
    keeps the variance of every pre-activation about that of one input, so the sigmoids start in
    their non-saturated range; biases 0. Each layer's W (out, in) is drawn in layer order.
    """

    def __init__(self, sizes, hidden="sigmoid", output="softmax", seed=0):
        # TODO: Create rng = np.random.default_rng(seed), then for each pair of
        #       consecutive sizes a Linear layer (W drawn as documented above,
        #       b = 0) followed by its activation (`hidden` for all but the
        #       last Linear, `output` for the last; "identity" adds no layer).
        #       Keep the layers in a list, in the order of the forward pass.
        # BEGIN SOLUTION
        if hidden not in ("sigmoid", "relu"):
            raise ValueError(f"hidden must be 'sigmoid' or 'relu', not {hidden!r}")
        if output not in ("softmax", "sigmoid", "identity"):
            raise ValueError(f"output must be 'softmax', 'sigmoid' or 'identity', not {output!r}")
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError("sizes needs at least an input and an output width")
        self.sizes, self.hidden, self.output, self.seed = sizes, hidden, output, seed

        rng = np.random.default_rng(seed)
        self.linears = []  # the Linear layers, in order (they own the parameters)
        self.layers = []   # every layer, in the order of the forward pass
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            W = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
            lin = Linear(W, np.zeros(n_out))
            self.linears.append(lin)
            self.layers.append(lin)
            act = _ACTIVATIONS[hidden if i < len(sizes) - 2 else output]
            if act is not None:
                self.layers.append(act())
        # the same generator goes on to shuffle for `train(seed=None)`: successive calls get
        # different (but reproducible) orders
        self._rng = rng
        # END SOLUTION

    def forward(self, X):
        """X: (N, sizes[0]) -> network output (N, sizes[-1])."""
        # TODO: Run X through every layer.
        # BEGIN SOLUTION
        out = X
        for layer in self.layers:
            out = layer.forward(out)
        return out
        # END SOLUTION

    def backward(self, dLoss):
        """dLoss: gradient of the loss w.r.t. the network output (N, sizes[-1]).

        Stores every layer's parameter gradients (see `grads`) and returns dLoss/dX (N, sizes[0]).
        """
        # TODO: Run the gradient through every layer, in reverse order.
        # BEGIN SOLUTION
        d = dLoss
        for layer in reversed(self.layers):
            d = layer.backward(d)
        return d
        # END SOLUTION

    def params(self):
        """[W1, b1, W2, b2, ...]: the layers' own arrays, so in-place changes update the model."""
        # TODO: Return the Linear layers' W and b arrays (not copies).
        # BEGIN SOLUTION
        return [p for lin in self.linears for p in (lin.W, lin.b)]
        # END SOLUTION

    def grads(self):
        """[dW1, db1, dW2, db2, ...] from the last `backward`, matching `params()`."""
        # TODO: Return the Linear layers' dW and db, in the order of params().
        # BEGIN SOLUTION
        return [g for lin in self.linears for g in (lin.dW, lin.db)]
        # END SOLUTION

    def step(self, lr):
        """Plain SGD, p <- p - lr * dp, in place (params() keeps referring to the live arrays)."""
        # TODO: Update every parameter in place (p -= ..., not p = p - ...).
        # BEGIN SOLUTION
        for p, g in zip(self.params(), self.grads()):
            p -= lr * g
        # END SOLUTION

    # BEGIN SOLUTION
    def _loss_and_targets(self, y):
        """The training loss and the targets it expects, built from labels or target rows `y`.

        Softmax output: cross-entropy on the probabilities (integer labels or one-hot rows).
        Otherwise: MSE; integer labels become one-hot rows when there is more than one output.
        """
        y = np.asarray(y)
        n_out = self.sizes[-1]
        if self.output == "softmax":
            return CrossEntropyLoss(), y
        if y.ndim == 1 and n_out > 1:
            y = np.eye(n_out)[y.astype(np.int64)]
        return MSELoss(), y.reshape(len(y), n_out)
    # END SOLUTION

    # BEGIN SOLUTION
    @staticmethod
    def _n_correct(out, y):
        """Number of rows whose predicted class matches the target's class.

        Class of a row: argmax when there are several outputs, > 0.5 when there is one; targets given
        as rows are read the same way, integer labels as they are.
        """
        out = out.reshape(len(out), -1)
        pred = out.argmax(axis=1) if out.shape[1] > 1 else (out[:, 0] > 0.5).astype(np.int64)
        y = np.asarray(y)
        if y.ndim == 1:
            true = y.astype(np.int64)
        else:
            y = y.reshape(len(y), -1)
            true = y.argmax(axis=1) if y.shape[1] > 1 else (y[:, 0] > 0.5).astype(np.int64)
        return int(np.sum(pred == true))
    # END SOLUTION

    def train(self, X, y, epochs, lr, batch_size, seed=None):
        """Minibatch SGD on (X, y), reshuffled every epoch.

        Inputs:
        - X: inputs (N, sizes[0])
        - y: integer labels (N,), or target rows (N, sizes[-1]) (one-hot for a softmax output)
        - epochs, lr, batch_size: number of passes, learning rate, samples per update
        - seed: seed of the shuffling rng; None continues the model's own generator (seeded by the
          model's seed, so training stays deterministic)

        Loss: cross-entropy for a softmax output, MSE otherwise.

        Returns a history dict of per-epoch lists on the training set:
        - "loss": mean loss over the epoch's samples (each batch's loss before its update)
        - "accuracy": fraction of the epoch's samples classified correctly (same forward passes)
        """
        # TODO: Pick the loss (CrossEntropyLoss for a softmax output, else
        #       MSELoss; for MSE with several outputs turn integer labels into
        #       one-hot rows). For every epoch: shuffle the indices, then for
        #       every minibatch: forward, loss, backward (starting from
        #       loss.backward()), step. Record the epoch's mean loss and
        #       accuracy (predicted class = argmax of the output; > 0.5 when
        #       there is a single output). Never use an unseeded random
        #       generator.
        # BEGIN SOLUTION
        X = np.asarray(X)
        if not np.issubdtype(X.dtype, np.floating):
            X = X.astype(np.float64)
        loss_fn, targets = self._loss_and_targets(y)
        n = len(X)
        batch_size = max(1, int(batch_size))
        rng = self._rng if seed is None else np.random.default_rng(seed)

        history = {"loss": [], "accuracy": []}
        for _ in range(int(epochs)):
            order = rng.permutation(n)
            total_loss, correct = 0.0, 0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                out = self.forward(X[idx])
                # the loss is a mean over the batch: weight it by the batch size for the epoch mean
                total_loss += loss_fn.forward(out, targets[idx]) * len(idx)
                correct += self._n_correct(out, targets[idx])
                self.backward(loss_fn.backward())
                self.step(lr)
            history["loss"].append(total_loss / n)
            history["accuracy"].append(correct / n)
        return history
        # END SOLUTION
