"""Shared helpers of assignment 04's graders, for tests/public/ and tests/hidden/ alike.

pytest loads this conftest for both folders. The graders are collected with
``--import-mode=importlib`` and their folders are not on ``sys.path``, so a test
module cannot import a helper module: the helpers are fixtures.

- ``oracle``: data and library oracles: the digits of scikit-learn, a stratified
  subset of labels, low-rank Gaussian data, random weights for given parameter
  shapes, accuracy, and PCA's subspace (scikit-learn) measured with principal
  angles (scipy); and the grader's own forward passes from a state dict (the
  handout's formulas), which judge the weights your training returns, so that
  only weights that really reconstruct or classify earn the points;
- ``check``: assertions that several graders make (parameter names and shapes,
  state dicts, loss histories).

This file ships with the public tests. It holds no network and no training loop
of the assignment: the public graders check your code with literal values for
small hand-made inputs, with invariants, and with these library oracles.

Shapes: ``N`` examples, ``D`` features.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.linalg
import torch
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from autograder.testing import CheckBase, ProbeLabels, assert_close, sklearn_digits

State = dict[str, torch.Tensor]
Shapes = dict[str, tuple[int, ...]]


@functools.lru_cache(maxsize=1)
def _digits():
    X, y = sklearn_digits()
    X = (X / 16.0).astype(np.float32)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


class Oracle:
    """Data and library oracles for assignment 04 (torch tensors, float32)."""

    # ------------------------------------------------------------------ data
    @staticmethod
    def digits():
        """(X_train (1347, 64), y_train, X_test (450, 64), y_test): scikit-learn's digits / 16."""
        X_tr, X_te, y_tr, y_te = _digits()
        return (torch.tensor(X_tr), torch.tensor(y_tr, dtype=torch.int64),
                torch.tensor(X_te), torch.tensor(y_te, dtype=torch.int64))

    @staticmethod
    def few_labels(y: torch.Tensor, fraction: float, seed: int) -> torch.Tensor:
        """Indices of a class-stratified subset: ``round(fraction * n_c)`` examples per class c."""
        rng = np.random.default_rng(seed)
        labels = y.numpy()
        idx = [rng.choice(np.flatnonzero(labels == c), max(1, round(fraction * np.sum(labels == c))),
                          replace=False) for c in np.unique(labels)]
        return torch.tensor(np.sort(np.concatenate(idx)))

    @staticmethod
    def low_rank_data(rng: np.random.Generator, n: int, variances, offset: float = 1.0):
        """(N, D) float32 data: a random rotation of N(0, diag(variances)), plus a random mean."""
        d = len(variances)
        q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        z = rng.standard_normal((n, d)) * np.sqrt(np.asarray(variances, dtype=np.float64))
        x = z @ q.T + offset * rng.standard_normal(d)
        return torch.tensor(x, dtype=torch.float32)

    # ------------------------------------------------------------------ weights
    @staticmethod
    def random_weights(shapes: Shapes, rng: np.random.Generator, scale: float = 1.0) -> State:
        """Random N(0, scale^2 / fan_in) weights and N(0, 0.25) biases for the given
        ``{name: shape}`` (names ending in "weight" are matrices ``(out, in)``)."""
        out = {}
        for name, shape in shapes.items():
            if name.endswith("weight"):
                v = rng.standard_normal(tuple(shape)) * scale / np.sqrt(shape[1])
            else:
                v = 0.5 * rng.standard_normal(tuple(shape))
            out[name] = torch.tensor(v, dtype=torch.float32)
        return out

    # ------------------------------------------------------------------ forward passes
    # Written from the handout's formulas with the weights of a state dict (a student's
    # ``state_dict()``): what a trained network is worth is computed here, not by its own
    # forward, so that a history or a forward that only looks right earns nothing.
    @staticmethod
    def _affine(state: dict, layer: str, x: torch.Tensor) -> torch.Tensor:
        """``x @ W.T + b`` for the parameters ``{layer}.weight`` and ``{layer}.bias``."""
        missing = [f"{layer}.{p}" for p in ("weight", "bias") if f"{layer}.{p}" not in state]
        assert not missing, f"the model has no parameter {missing[0]}"
        return x @ state[f"{layer}.weight"].T + state[f"{layer}.bias"]

    def aann_reconstruction_error(self, state: dict, X: torch.Tensor) -> float:
        """MSE over all entries of the handout's AANN with ``state``'s weights, on X (N, D)."""
        with torch.no_grad():
            code = self._affine(state, "encoder.2", torch.sigmoid(self._affine(state, "encoder.0", X)))
            x_hat = self._affine(state, "decoder.2", torch.sigmoid(self._affine(state, "decoder.0", code)))
            return float(torch.mean((x_hat - X) ** 2))

    def stack_codes(self, state: dict, X: torch.Tensor, depth: int) -> torch.Tensor:
        """The depth-``depth`` codes of X (N, D_0) under a stacked autoencoder's ``state``."""
        with torch.no_grad():
            for k in range(depth):
                X = torch.sigmoid(self._affine(state, f"encoders.{k}", X))
            return X

    def layer_error(self, state: dict, k: int, X: torch.Tensor) -> float:
        """MSE of layer k's shallow autoencoder (``state``'s encoders.k and decoders.k) on the
        depth-k codes of X: a linear reconstruction for k = 0, a sigmoid one above."""
        codes = self.stack_codes(state, X, k)
        with torch.no_grad():
            out = self._affine(state, f"decoders.{k}", torch.sigmoid(self._affine(state, f"encoders.{k}", codes)))
            if k > 0:
                out = torch.sigmoid(out)
            return float(torch.mean((out - codes) ** 2))

    @staticmethod
    def classifier_shapes(sizes: list[int], n_classes: int) -> Shapes:
        """The parameter shapes of DeepClassifier(sizes, n_classes), as the handout lists them."""
        shapes = {}
        for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            shapes |= {f"hidden.{k}.weight": (b, a), f"hidden.{k}.bias": (b,)}
        return shapes | {"output.weight": (n_classes, sizes[-1]), "output.bias": (n_classes,)}

    def classifier_logits(self, state: dict, X: torch.Tensor, sizes: list[int],
                          n_classes: int) -> torch.Tensor:
        """Logits (N, C) of the handout's DeepClassifier(sizes, n_classes) with ``state``'s
        weights, which must have exactly that network's parameter names and shapes: only
        that network is judged, not another model (a linear one, say) handed in its place."""
        Checks.same_keys_and_shapes(state, self.classifier_shapes(sizes, n_classes),
                                    f"the classifier's state_dict (DeepClassifier({sizes}, {n_classes}))")
        with torch.no_grad():
            for k in range(len(sizes) - 1):
                X = torch.sigmoid(self._affine(state, f"hidden.{k}", X))
            return self._affine(state, "output", X)

    # ------------------------------------------------------------------ metrics
    @staticmethod
    def mean_error(X: torch.Tensor) -> float:
        """MSE over all entries of X (N, D) reconstructed by its mean row: the least error of any
        reconstruction that ignores its input (the mean digit, or the mean code)."""
        return float(torch.mean((X - X.mean(dim=0)) ** 2))

    @staticmethod
    def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
        return float((logits.argmax(dim=1) == y).float().mean())

    @staticmethod
    def principal_angles_deg(basis: np.ndarray, X: torch.Tensor, k: int) -> np.ndarray:
        """Principal angles (degrees) between span(basis columns) and PCA's top-k subspace of X."""
        components = PCA(n_components=k).fit(X.numpy().astype(np.float64)).components_
        return np.degrees(scipy.linalg.subspace_angles(np.asarray(basis, dtype=np.float64),
                                                       components.T))


class Checks(CheckBase):
    """Assertions shared by several graders; failures name what differs."""

    probe_labels = ProbeLabels(inputs=("d out / d x",), param="d / d {param}",
                               missing_param="the model has no parameter {param}")

    @staticmethod
    def state_of(model) -> State:
        """A student's ``model.state_dict()`` as a plain dict of tensor copies.

        ``state_dict()`` is an ``OrderedDict``, which comes back as a handle rather than
        by value; its keys and tensors are fetched one by one.
        """
        sd = model.state_dict()
        if isinstance(sd, dict):
            return dict(sd)
        return {k: sd[k] for k in list(sd)}

    @staticmethod
    def same_keys_and_shapes(actual: dict, expected: dict, what: str) -> None:
        """``actual``'s keys and shapes are ``expected``'s (tensors, or shapes as tuples)."""
        assert isinstance(actual, dict), f"{what}: state_dict() must be a dict"
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        assert not missing and not extra, (
            f"{what}: parameter names differ; missing {missing}, unexpected {extra}")
        for k, v in expected.items():
            shape = tuple(v.shape) if isinstance(v, torch.Tensor) else tuple(v)
            assert tuple(actual[k].shape) == shape, (
                f"{what}: {k} has shape {tuple(actual[k].shape)}, expected {shape}")

    def same_state(self, actual: dict, expected: State, what: str, rtol=1e-4, atol=1e-5,
                   keys=None) -> None:
        """``actual`` (a student's state_dict) equals ``expected`` on ``keys`` (default: all)."""
        self.same_keys_and_shapes(actual, expected, what)
        for k in keys or expected:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, name=f"{what}: {k}")

    @staticmethod
    def same_history(actual, expected, what: str, rtol=1e-4, atol=1e-6) -> None:
        assert isinstance(actual, list), f"{what}: the loss history must be a list"
        assert len(actual) == len(expected), (
            f"{what}: the history has {len(actual)} entries, expected one per epoch")
        assert all(isinstance(v, float) for v in actual), f"{what}: history entries must be floats"
        assert_close(np.array(actual), np.array(expected), rtol=rtol, atol=atol,
                     name=f"{what}: loss history")


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    """Data and library oracles (see ``Oracle``)."""
    return Oracle()


@pytest.fixture(scope="session")
def check() -> Checks:
    """Shared assertions (see ``Checks``)."""
    return Checks()
