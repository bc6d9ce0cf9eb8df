"""Shared helpers of assignment 02's graders, for tests/public/ and tests/hidden/ alike.

pytest loads this conftest for both folders. The graders are collected with
``--import-mode=importlib`` and their folders are not on ``sys.path``, so a test
module cannot import a helper module: the helpers are fixtures.

- ``oracle``: reference results, computed in float64 torch (autograd) or numpy;
- ``random_params``: random MLP weights and biases, drawn from the test's ``rng``;
- ``make_model``: the student's ``mlp.MLP`` with given parameters;
- ``check``: assertions that several graders make (scalars, gradient dicts, trajectories);
- ``check_activation_backward``, ``check_linear_layer``, ``check_training``: a whole
  student round trip (call, torch reference, comparison) that several graders share;
- ``check_digits_accuracy``: ``train_digits`` trained, then judged by the grader's own forward
  pass with the parameters it returned, on held-out digits of both polarities.

This file ships with the public tests. Keep it to generic references and checks:
nothing in it may tell what a hidden test looks at.

Shapes: ``N`` examples, ``D`` input features, ``M`` outputs of a linear layer,
``C`` classes; MLP parameters are a dict ``{"W1": (D_0, D_1), "b1": (D_1,), ...,
"WL": (D_L-1, D_L), "bL": (D_L,)}`` for layer sizes ``[D_0, ..., D_L]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.testing import CheckBase, assert_close, sklearn_digits

Params = dict[str, np.ndarray]


class Oracle:
    """Reference implementations of what assignment 02 asks for.

    Inputs are numpy arrays; results are float64 numpy arrays (or python floats
    for losses). Gradients come from torch autograd.
    """

    ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "relu": torch.relu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
    }

    # ------------------------------------------------------------------ layers
    @staticmethod
    def tensor(a, requires_grad: bool = False) -> torch.Tensor:
        """A float64 torch tensor with the values (and shape) of ``a``."""
        return torch.tensor(
            np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=requires_grad
        )

    def activation(self, name: str, x: np.ndarray) -> np.ndarray:
        """``relu``, ``sigmoid`` or ``tanh`` of ``x``, element-wise (any shape)."""
        return self.ACTIVATIONS[name](self.tensor(x)).numpy()

    def activation_and_grad(
        self, name: str, x: np.ndarray, dout: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(out, dx): the activation ``name`` of ``x`` and d sum(out * dout) / dx, both x's shape."""
        xt = self.tensor(x, requires_grad=True)
        out = self.ACTIVATIONS[name](xt)
        out.backward(self.tensor(dout))
        return out.detach().numpy(), xt.grad.numpy()

    def softmax(self, x: np.ndarray) -> np.ndarray:
        """Softmax of ``x`` (any shape) over its last axis."""
        return torch.softmax(self.tensor(x), dim=-1).numpy()

    def linear_grads(
        self, x: np.ndarray, W: np.ndarray, b: np.ndarray, dout: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dx (N, D), dW (D, M), db (M,)) of sum((x @ W + b) * dout), for x (N, D), dout (N, M)."""
        xt, Wt, bt = (self.tensor(a, requires_grad=True) for a in (x, W, b))
        (xt @ Wt + bt).backward(self.tensor(dout))
        return xt.grad.numpy(), Wt.grad.numpy(), bt.grad.numpy()

    def mse_loss(self, pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
        """(loss, dpred): sum((pred - target)**2) / N for pred, target (N, ...), and its gradient."""
        pt = self.tensor(pred, requires_grad=True)
        loss = ((pt - self.tensor(target)) ** 2).sum() / pred.shape[0]
        loss.backward()
        return loss.item(), pt.grad.numpy()

    def cross_entropy(self, scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """(loss, dscores): mean softmax cross-entropy of scores (N, C), labels y (N,), and its gradient."""
        st = self.tensor(scores, requires_grad=True)
        loss = F.cross_entropy(st, torch.from_numpy(y))
        loss.backward()
        return loss.item(), st.grad.numpy()

    # ------------------------------------------------------------------ MLP
    # leak-check: off: this oracle restates the handout's specification, independently written
    @staticmethod
    def mlp_init(
        sizes: Sequence[int], activation: str, weight_scale: float | None, seed: int
    ) -> Params:
        """The documented initialisation of ``MLP(sizes, activation, weight_scale, seed)``.

        ``Wk`` is ``scale * default_rng(seed).standard_normal((D_k-1, D_k))``, drawn in
        layer order, with scale ``weight_scale``, else sqrt(2 / fan_in) for relu and
        sqrt(1 / fan_in) otherwise; every ``bk`` is zeros (D_k,).
        """
        rng = np.random.default_rng(seed)
        params = {}
        for k in range(1, len(sizes)):
            fan_in = sizes[k - 1]
            if weight_scale is not None:
                scale = weight_scale
            elif activation == "relu":
                scale = np.sqrt(2.0 / fan_in)
            else:
                scale = np.sqrt(1.0 / fan_in)
            params[f"W{k}"] = scale * rng.standard_normal((fan_in, sizes[k]))
            params[f"b{k}"] = np.zeros(sizes[k])
        return params
    # leak-check: on

    @staticmethod
    def _leaves(params: Params) -> dict[str, torch.Tensor]:
        return {
            k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()
        }

    def _scores(self, leaves: dict[str, torch.Tensor], X: np.ndarray, activation: str):
        """Scores (N, C) of the MLP with parameters ``leaves``: no activation after the last layer."""
        num_layers = len(leaves) // 2
        h = torch.from_numpy(X)
        for k in range(1, num_layers + 1):
            h = h @ leaves[f"W{k}"] + leaves[f"b{k}"]
            if k < num_layers:
                h = self.ACTIVATIONS[activation](h)
        return h

    def mlp_forward(self, params: Params, X: np.ndarray, activation: str) -> np.ndarray:
        """Scores (N, C) of the MLP with ``params`` on X (N, D_0)."""
        return self._scores(self._leaves(params), X, activation).detach().numpy()

    def mlp_loss_and_grads(
        self, params: Params, X: np.ndarray, y: np.ndarray, activation: str
    ) -> tuple[float, Params]:
        """(loss, grads): mean cross-entropy of the MLP on X (N, D_0), y (N,); grads like params."""
        leaves = self._leaves(params)
        loss = F.cross_entropy(self._scores(leaves, X, activation), torch.from_numpy(y))
        loss.backward()
        return loss.item(), {k: v.grad.numpy() for k, v in leaves.items()}

    def mlp_backward(
        self, params: Params, X: np.ndarray, dscores: np.ndarray, activation: str
    ) -> Params:
        """Gradients of sum(scores * dscores) for X (N, D_0), dscores (N, C); keys like params."""
        leaves = self._leaves(params)
        self._scores(leaves, X, activation).backward(torch.from_numpy(dscores))
        return {k: v.grad.numpy() for k, v in leaves.items()}

    # ------------------------------------------------------------------ training
    def train_on_batches(
        self,
        params: Params,
        X: np.ndarray,
        y: np.ndarray,
        activation: str,
        lr: float,
        batches: Sequence[np.ndarray],
    ) -> tuple[list[float], Params]:
        """Plain gradient steps, one per index array in ``batches``, from ``params``.

        Returns the loss before each step (one per batch) and the final parameters.
        """
        leaves = self._leaves(params)
        losses = []
        for idx in batches:
            scores = self._scores(leaves, X[idx], activation)
            loss = F.cross_entropy(scores, torch.from_numpy(y[idx]))
            losses.append(loss.item())
            grads = torch.autograd.grad(loss, list(leaves.values()))
            with torch.no_grad():
                for p, g in zip(leaves.values(), grads, strict=True):
                    p -= lr * g
        return losses, {k: v.detach().numpy() for k, v in leaves.items()}

    @staticmethod
    def full_batches(n: int, epochs: int) -> list[np.ndarray]:
        """Full-batch gradient descent: all n indices, in order, once per epoch."""
        return [np.arange(n)] * epochs

    @staticmethod
    def sgd_batches(n: int, epochs: int, batch_size: int, seed: int) -> list[np.ndarray]:
        """The documented SGD order: a new rng.permutation(n) every epoch, cut in order.

        ``rng = np.random.default_rng(seed)``; the last batch of an epoch may be smaller.
        """
        rng = np.random.default_rng(seed)
        batches = []
        for _ in range(epochs):
            perm = rng.permutation(n)
            batches += [perm[i : i + batch_size] for i in range(0, n, batch_size)]
        return batches

    # ------------------------------------------------------------------ digits
    #: seed of the polarities of the training and validation digits: fixed, so that every
    #: student trains on the same data and a tuning carries over to grading
    DIGITS_POLARITY_SEED = 0

    @staticmethod
    def mixed_polarity(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """X (N, 64), values in [0, 1], each row contrast-inverted (``1 - x``) with probability
        1/2, independently, by ``rng``: digits drawn dark on light as often as light on dark."""
        inverted = rng.random(X.shape[0]) < 0.5
        return np.where(inverted[:, None], 1.0 - X, X)

    def digits_splits(self) -> tuple[np.ndarray, ...]:
        """(X_train, y_train, X_val, y_val, X_test, y_test) of sklearn's digits, X in [0, 1].

        X_* have 64 features, y_* are labels 0..9; test is 20% of the data, val 20%
        of the rest (``train_test_split(..., random_state=0)`` twice). Train and validation
        come in mixed polarity (``mixed_polarity`` with ``DIGITS_POLARITY_SEED``); the test
        digits come upright, for a grader to draw their polarities.
        """
        from sklearn.model_selection import train_test_split

        X, y = sklearn_digits()
        X = X / 16.0
        X_trval, X_test, y_trval, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
        X_train, X_val, y_train, y_val = train_test_split(
            X_trval, y_trval, test_size=0.2, random_state=0
        )
        rng = np.random.default_rng(self.DIGITS_POLARITY_SEED)
        X_train = self.mixed_polarity(X_train, rng)
        X_val = self.mixed_polarity(X_val, rng)
        return X_train, y_train, X_val, y_val, X_test, y_test


class Checks(CheckBase):
    """Assertions shared by several graders (``scalar`` from ``CheckBase``); failures name
    what differs."""

    ACTIVATIONS = ("relu", "sigmoid", "tanh")

    def trained_mlp(self, model, n_features: int, n_classes: int) -> tuple[Params, str]:
        """``(params, activation)`` read from a trained ``mlp.MLP``, checked to be the documented
        architecture: keys ``W1, b1, ..., WL, bL`` (L >= 1), ``Wl`` (D_l-1, D_l) and ``bl``
        (D_l,) of finite floats with D_0 = ``n_features`` and D_L = ``n_classes``, and an
        activation among relu, sigmoid and tanh. Nothing of the model is called."""
        params = model.params
        activation = model.activation
        assert isinstance(params, dict), (
            f"model.params must be a dict of numpy arrays, got {type(params).__name__}"
        )
        assert activation in self.ACTIVATIONS, (
            f"model.activation must be one of {self.ACTIVATIONS}, got {activation!r}"
        )
        num_layers = len(params) // 2
        expected_keys = sorted(f"{p}{k}" for k in range(1, num_layers + 1) for p in "Wb")
        assert num_layers >= 1 and sorted(params) == expected_keys, (
            f"model.params has keys {sorted(params)}; expected W1, b1, ..., WL, bL"
        )
        fan_in = n_features
        for k in range(1, num_layers + 1):
            W, b = params[f"W{k}"], params[f"b{k}"]
            for name, value in ((f"W{k}", W), (f"b{k}", b)):
                assert isinstance(value, np.ndarray) and value.dtype.kind == "f", (
                    f"model.params[{name!r}] must be a float numpy array, got "
                    f"{getattr(value, 'dtype', type(value).__name__)}"
                )
                assert np.all(np.isfinite(value)), f"model.params[{name!r}] is not finite"
            assert W.ndim == 2 and W.shape[0] == fan_in and b.shape == (W.shape[1],), (
                f"model.params W{k} {W.shape}, b{k} {b.shape}: expected W{k} of shape "
                f"({fan_in}, D_{k}) and b{k} of shape (D_{k},)"
            )
            fan_in = W.shape[1]
        assert fan_in == n_classes, f"the last layer has {fan_in} outputs, expected {n_classes}"
        return params, activation

    @staticmethod
    def rows_sum_to(value, total: float, name: str, why: str) -> None:
        """Property first: every row of ``value`` (its sums over the last axis) sums to ``total``,
        said as such (``why``: what the rows are, e.g. "each row is a probability distribution") before any value is
        compared. A value that is not a finite float array of at least one axis is left to
        ``assert_close``'s type, shape and non-finite messages."""
        if not (isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.ndim >= 1
                and value.size and np.isfinite(value).all()):
            return
        sums = value.sum(axis=-1)
        off = np.abs(sums - total) > 1e-6 * max(1.0, abs(total))
        assert not off.any(), (
            f"{name}: {int(off.sum())} of {off.size} row(s) do not sum to {total:g} over the "
            f"last axis (sums from {sums.min():.3g} to {sums.max():.3g}): {why}"
        )

    @staticmethod
    def gradients(grads: dict, expected: Params, name: str) -> None:
        """``grads`` has exactly the keys of ``expected`` and close values (``name[key]`` on failure)."""
        assert sorted(grads) == sorted(expected), (
            f"grads keys are {sorted(grads)}, expected {sorted(expected)}"
        )
        for k, v in expected.items():
            assert_close(grads[k], v, name=f"{name}[{k!r}]")

    @staticmethod
    def trajectory(
        losses, model, expected_losses: list[float], expected_params: Params, what: str
    ) -> None:
        """A training run returned ``expected_losses`` and left ``model.params`` at ``expected_params``."""
        losses = [float(v) for v in losses]
        assert len(losses) == len(expected_losses), (
            f"{what} returned {len(losses)} losses, expected {len(expected_losses)}"
        )
        assert_close(np.array(losses), np.array(expected_losses), name=f"{what} losses")
        final = model.params
        for k, v in expected_params.items():
            assert_close(final[k], v, name=f"model.params[{k!r}] after {what}")


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    """Reference results in float64 torch / numpy (see ``Oracle``)."""
    return Oracle()


@pytest.fixture(scope="session")
def check() -> Checks:
    """Shared assertions (see ``Checks``)."""
    return Checks()


@pytest.fixture
def random_params(rng: np.random.Generator) -> Callable[..., Params]:
    """``random_params(sizes, scale=1.0)``: random weights AND biases for layer sizes ``sizes``.

    ``Wk`` (D_k-1, D_k) is ``scale * N(0, 1) / sqrt(D_k-1)``, ``bk`` (D_k,) is
    ``0.1 * scale * N(0, 1)`` (non-zero, so that zero biases cannot hide a bug);
    drawn from the test's ``rng`` in the order W1, b1, W2, b2, ...
    """

    def draw(sizes: Sequence[int], scale: float = 1.0) -> Params:
        params = {}
        for k in range(1, len(sizes)):
            params[f"W{k}"] = (
                scale * rng.standard_normal((sizes[k - 1], sizes[k])) / np.sqrt(sizes[k - 1])
            )
            params[f"b{k}"] = 0.1 * scale * rng.standard_normal(sizes[k])
        return params

    return draw


@pytest.fixture
def make_model(submission):
    """``make_model(sizes, activation, params)``: a student ``mlp.MLP(sizes, activation, seed=0)``
    whose parameters are replaced by (copies of) ``params``."""

    def build(sizes: Sequence[int], activation: str, params: Params):
        model = submission.mlp.MLP(sizes, activation=activation, seed=0)
        model.params = {k: v.copy() for k, v in params.items()}
        return model

    return build


@pytest.fixture
def check_training(submission, oracle, check, random_params, make_model, rng):
    """``check_training(algorithm, sizes, activation, n=..., lr=..., epochs=..., **more)``.

    Draws random parameters for layer sizes ``sizes``, then X (n, sizes[0]) and
    y (n,) with labels below sizes[-1], from the test's ``rng``; trains a student
    MLP with those parameters by ``submission.train.<algorithm>(model, X, y, lr=lr,
    epochs=epochs, **more)`` and checks the losses it returns and the final
    ``model.params`` against the same steps in torch. ``algorithm`` is
    ``"batch_gradient_descent"`` (one full batch per epoch) or ``"sgd"`` (``more``
    holds ``batch_size`` and ``seed``; batches in the documented order).
    """

    def run(
        algorithm: str,
        sizes: Sequence[int],
        activation: str,
        *,
        n: int,
        lr: float,
        epochs: int,
        **more,
    ) -> None:
        params = random_params(sizes)
        X = rng.standard_normal((n, sizes[0]))
        y = rng.integers(0, sizes[-1], size=n)
        model = make_model(sizes, activation, params)
        losses = getattr(submission.train, algorithm)(model, X, y, lr=lr, epochs=epochs, **more)
        if algorithm == "sgd":
            batches = oracle.sgd_batches(n, epochs, more["batch_size"], more["seed"])
        else:
            batches = oracle.full_batches(n, epochs)
        expected_losses, expected_params = oracle.train_on_batches(
            params, X, y, activation, lr, batches
        )
        check.trajectory(losses, model, expected_losses, expected_params, algorithm)

    return run


#: the accuracy a trained digits model must reach on held-out digits of both polarities
#: (the reference: 0.94 or more; softmax regression: 0.4 at most; tests/test_shortcuts.py)
DIGITS_BAR = 0.90


@pytest.fixture
def check_digits_accuracy(submission, oracle, check, rng):
    """``check_digits_accuracy()``: ``train_digits`` reaches ``DIGITS_BAR`` on held-out digits.

    Trains with ``submission.train.train_digits(X_train, y_train, X_val, y_val, seed=0)`` on
    ``oracle.digits_splits()``, reads the returned model's ``params`` and ``activation``, and
    computes the scores itself (``oracle.mlp_forward``) on the test digits, which the
    submission never gets, each inverted or not by the test's ``rng``. The model's own
    ``predict`` is never called.
    """

    def run() -> None:
        X_train, y_train, X_val, y_val, X_test, y_test = oracle.digits_splits()
        model = submission.train.train_digits(X_train, y_train, X_val, y_val, seed=0)
        params, activation = check.trained_mlp(model, X_train.shape[1], 10)
        X_eval = oracle.mixed_polarity(X_test, rng)
        pred = oracle.mlp_forward(params, X_eval, activation).argmax(axis=1)
        accuracy = float(np.mean(pred == y_test))
        assert accuracy >= DIGITS_BAR, (
            f"accuracy {accuracy:.3f} < {DIGITS_BAR} on held-out digits of both polarities "
            f"(scores computed from model.params)"
        )

    return run


@pytest.fixture
def check_activation_backward(submission, oracle):
    """``check_activation_backward(name, x, dout)`` for ``name`` in relu, sigmoid, tanh.

    Runs the student's ``<name>_forward(x)``, then ``<name>_backward(dout, cache)``
    with the cache it returned, and checks dx (x's shape) against torch autograd.
    """

    def run(name: str, x: np.ndarray, dout: np.ndarray) -> None:
        _, cache = getattr(submission.layers, f"{name}_forward")(x)
        dx = getattr(submission.layers, f"{name}_backward")(dout, cache)
        _, expected = oracle.activation_and_grad(name, x, dout)
        assert_close(dx, expected, name=f"{name}_backward(dout, cache)")

    return run


@pytest.fixture
def check_linear_layer(submission, oracle, rng):
    """``check_linear_layer(n, d, m, forward=False)``: the linear layer on random data.

    Draws x (n, d), W (d, m), b (m,), dout (n, m) from the test's ``rng``, runs the
    student's ``linear_forward(x, W, b)`` (with ``forward=True``, checks its output
    against x @ W + b), then ``linear_backward(dout, cache)``, and checks
    dx (n, d), dW (d, m), db (m,) against torch autograd.
    """

    def run(n: int, d: int, m: int, forward: bool = False) -> None:
        x = rng.standard_normal((n, d))
        W = rng.standard_normal((d, m))
        b = rng.standard_normal(m)
        dout = rng.standard_normal((n, m))
        out, cache = submission.layers.linear_forward(x, W, b)
        if forward:
            assert_close(out, x @ W + b, name="linear_forward(x, W, b)[0]")
        dx, dW, db = submission.layers.linear_backward(dout, cache)
        expected = oracle.linear_grads(x, W, b, dout)
        for name, actual, want in zip(("dx", "dW", "db"), (dx, dW, db), expected, strict=True):
            assert_close(actual, want, name=name)

    return run
