"""Shared helpers of assignment 04's graders, for tests/public/ and tests/hidden/ alike.

pytest loads this conftest for both folders. The graders are collected with
``--import-mode=importlib`` and their folders are not on ``sys.path``, so a test
module cannot import a helper module: the helpers are fixtures.

- ``oracle``: reference networks and training loops written from the handout's
  conventions with torch (independent of our reference solution), the digits
  data of scikit-learn, PCA (scikit-learn) and principal angles (scipy);
- ``check``: assertions that several graders make (state dicts, loss histories).

This file ships with the public tests. Keep it to generic references and checks:
nothing in it may tell what a hidden test looks at.

Shapes: ``N`` examples, ``D`` features; an AANN has sizes ``D -> H -> K -> H -> D``;
a stacked autoencoder or classifier has layer sizes ``[D_0, ..., D_L]``.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from torch import nn

from autograder.testing import assert_close

State = dict[str, torch.Tensor]


# ---------------------------------------------------------------- reference networks
class RefAANN(nn.Module):
    """x -> Linear -> sigmoid -> Linear (code) -> Linear -> sigmoid -> Linear (x_hat)."""

    def __init__(self, d, h, k):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d, h), nn.Sigmoid(), nn.Linear(h, k))
        self.decoder = nn.Sequential(nn.Linear(k, h), nn.Sigmoid(), nn.Linear(h, d))

    def forward(self, x):
        return self.decoder(self.encoder(x))


class RefStack(nn.Module):
    """Encoders then decoders, as the handout orders them (so that seeded inits agree)."""

    # leak-check: off: this oracle restates the handout's specification, independently written
    def __init__(self, sizes):
        super().__init__()
        pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
        self.layer_sizes = list(sizes)
        self.encoders = nn.ModuleList([nn.Linear(a, b) for a, b in pairs])
        self.decoders = nn.ModuleList([nn.Linear(b, a) for a, b in pairs])
    # leak-check: on

    def encode(self, x, depth=None):
        depth = len(self.encoders) if depth is None else depth
        for layer in self.encoders[:depth]:
            x = torch.sigmoid(layer(x))
        return x

    # leak-check: off: this oracle restates the handout's specification, independently written
    def decode(self, z):
        for k in reversed(range(1, len(self.decoders))):
            z = torch.sigmoid(self.decoders[k](z))
        return self.decoders[0](z)
    # leak-check: on

    def forward(self, x):
        return self.decode(self.encode(x))


class RefLayerAE(nn.Module):
    """Layer k's shallow autoencoder: sigmoid hidden layer; sigmoid output for k >= 1."""

    def __init__(self, stack, k):
        super().__init__()
        self.enc, self.dec, self.squash = stack.encoders[k], stack.decoders[k], k > 0

    def forward(self, x):
        out = self.dec(torch.sigmoid(self.enc(x)))
        return torch.sigmoid(out) if self.squash else out


class RefClassifier(nn.Module):
    """Sigmoid hidden layers, then a linear output layer (logits)."""

    # leak-check: off: this oracle restates the handout's specification, independently written
    def __init__(self, sizes, n_classes):
        super().__init__()
        self.hidden = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:],
                                                                         strict=True)])
        self.output = nn.Linear(sizes[-1], n_classes)
    # leak-check: on

    def forward(self, x):
        for layer in self.hidden:
            x = torch.sigmoid(layer(x))
        return self.output(x)


@functools.lru_cache(maxsize=1)
def _digits():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


class Oracle:
    """Reference networks, training loops and data for assignment 04 (torch, float32)."""

    AANN = RefAANN
    Stack = RefStack
    Classifier = RefClassifier
    LayerAE = RefLayerAE

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
    def random_state(model: nn.Module, rng: np.random.Generator, scale: float = 1.0) -> State:
        """Random N(0, scale^2 / fan_in) weights and N(0, 0.25) biases for ``model``'s keys."""
        out = {}
        for name, p in model.state_dict().items():
            if name.endswith("weight"):
                fan_in = p.shape[1]
                v = rng.standard_normal(tuple(p.shape)) * scale / np.sqrt(fan_in)
            else:
                v = 0.5 * rng.standard_normal(tuple(p.shape))
            out[name] = torch.tensor(v, dtype=torch.float32)
        return out

    @staticmethod
    def load(model: nn.Module, state: State) -> nn.Module:
        model.load_state_dict({k: v.clone() for k, v in state.items()})
        return model

    @staticmethod
    def state(model: nn.Module) -> State:
        return {k: v.detach().clone() for k, v in model.state_dict().items()}

    # ------------------------------------------------------------------ training
    # leak-check: off: this oracle restates the handout's specification, independently written
    @staticmethod
    def reconstruction_loss(model, X) -> float:
        with torch.no_grad():
            return float(F.mse_loss(model(X), X))
    # leak-check: on

    @staticmethod
    def sgd_momentum(params, velocities, lr, momentum):
        """torch.optim.SGD(lr, momentum)'s step from each p.grad (written out: building a
        torch.optim optimizer imports torch._dynamo, seconds on a small machine)."""
        with torch.no_grad():
            for p, v in zip(params, velocities, strict=True):
                v.copy_(momentum * v + p.grad)
                p.copy_(p - lr * v)
                p.grad = None

    # leak-check: off: this oracle restates the handout's specification, independently written
    def train_autoencoder(self, model, X, epochs, lr, batch_size, momentum=0.9, noise_std=0.0,
                          seed=0):
        """The handout's loop: seeded shuffles (and noise), MSE to the clean target, momentum."""
        g = torch.Generator().manual_seed(seed)
        params = list(model.parameters())
        velocities = [torch.zeros_like(p) for p in params]
        history = []
        for _ in range(epochs):
            perm = torch.randperm(X.shape[0], generator=g)
            for start in range(0, X.shape[0], batch_size):
                target = X[perm[start:start + batch_size]]
                inputs = target
                if noise_std > 0:
                    inputs = target + noise_std * torch.randn(target.shape, generator=g)
                F.mse_loss(model(inputs), target).backward()
                self.sgd_momentum(params, velocities, lr, momentum)
            history.append(self.reconstruction_loss(model, X))
        return history
    # leak-check: on

    def pretrain_layer(self, stack, k, X, epochs, lr, batch_size, seed=0):
        with torch.no_grad():
            codes = stack.encode(X, k)
        return self.train_autoencoder(RefLayerAE(stack, k), codes, epochs, lr, batch_size,
                                      seed=seed)

    def greedy_pretrain(self, stack, X, epochs, lr, batch_size, seed=0):
        return [self.pretrain_layer(stack, k, X, epochs, lr, batch_size, seed + k)
                for k in range(len(stack.encoders))]

    @staticmethod
    def classifier_from(stack, n_classes, seed=0):
        torch.manual_seed(seed)
        clf = RefClassifier(stack.layer_sizes, n_classes)
        for k, enc in enumerate(stack.encoders):
            clf.hidden[k].load_state_dict(enc.state_dict())
        return clf

    # leak-check: off: this oracle restates the handout's specification, independently written
    def fine_tune(self, clf, X, y, epochs, lr, batch_size, momentum=0.9, seed=0):
        g = torch.Generator().manual_seed(seed)
        params = list(clf.parameters())
        velocities = [torch.zeros_like(p) for p in params]
        history = []
        for _ in range(epochs):
            perm = torch.randperm(X.shape[0], generator=g)
            for start in range(0, X.shape[0], batch_size):
                idx = perm[start:start + batch_size]
                F.cross_entropy(clf(X[idx]), y[idx]).backward()
                self.sgd_momentum(params, velocities, lr, momentum)
            with torch.no_grad():
                history.append(float(F.cross_entropy(clf(X), y)))
        return history
    # leak-check: on

    def pretrain_and_finetune(self, X_u, X_l, y_l, sizes, n_classes, pretrain=True,
                              pretrain_epochs=20, pretrain_lr=1.0, pretrain_batch_size=32,
                              finetune_epochs=60, finetune_lr=0.5, finetune_batch_size=16,
                              seed=0):
        """(classifier, stack or None), as the handout's recipe."""
        stack = None
        torch.manual_seed(seed)
        if pretrain:
            stack = RefStack(sizes)
            self.greedy_pretrain(stack, X_u, pretrain_epochs, pretrain_lr, pretrain_batch_size,
                                 seed)
            clf = self.classifier_from(stack, n_classes, seed)
        else:
            clf = RefClassifier(sizes, n_classes)
        self.fine_tune(clf, X_l, y_l, finetune_epochs, finetune_lr, finetune_batch_size,
                       seed=seed)
        return clf, stack

    @staticmethod
    def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
        return float((logits.argmax(dim=1) == y).float().mean())

    # ------------------------------------------------------------------ PCA
    @staticmethod
    def principal_angles_deg(basis: np.ndarray, X: torch.Tensor, k: int) -> np.ndarray:
        """Principal angles (degrees) between span(basis columns) and PCA's top-k subspace of X."""
        components = PCA(n_components=k).fit(X.numpy().astype(np.float64)).components_
        return np.degrees(scipy.linalg.subspace_angles(np.asarray(basis, dtype=np.float64),
                                                       components.T))


class Checks:
    """Assertions shared by several graders; failures name what differs."""

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
    def same_keys_and_shapes(actual: dict, expected: State, what: str) -> None:
        assert isinstance(actual, dict), f"{what}: state_dict() must be a dict"
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        assert not missing and not extra, (
            f"{what}: parameter names differ; missing {missing}, unexpected {extra}")
        for k, v in expected.items():
            assert tuple(actual[k].shape) == tuple(v.shape), (
                f"{what}: {k} has shape {tuple(actual[k].shape)}, expected {tuple(v.shape)}")

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
    """Reference networks, loops and data (see ``Oracle``)."""
    return Oracle()


@pytest.fixture(scope="session")
def check() -> Checks:
    """Shared assertions (see ``Checks``)."""
    return Checks()
