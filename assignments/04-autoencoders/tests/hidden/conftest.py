"""Reference networks and training loops of assignment 04's hidden graders.

pytest loads this conftest for tests/hidden/ only, and it never ships to students:
it re-implements the modules and loops that students write, so it must stay out of
the public material.

Its ``oracle`` fixture extends the public one of ``tests/conftest.py`` (digits,
labels, data, random weights, accuracy, PCA's principal angles, all reached through
it) with reference networks and training loops written from the handout's
conventions with torch (independent of our reference solution).

Shapes: ``N`` examples, ``D`` features; an AANN has sizes ``D -> H -> K -> H -> D``;
a stacked autoencoder or classifier has layer sizes ``[D_0, ..., D_L]``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder.testing import ExtendedOracle

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

    def __init__(self, sizes):
        super().__init__()
        pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
        self.layer_sizes = list(sizes)
        self.encoders = nn.ModuleList([nn.Linear(a, b) for a, b in pairs])
        self.decoders = nn.ModuleList([nn.Linear(b, a) for a, b in pairs])

    def encode(self, x, depth=None):
        depth = len(self.encoders) if depth is None else depth
        for layer in self.encoders[:depth]:
            x = torch.sigmoid(layer(x))
        return x

    def decode(self, z):
        for k in reversed(range(1, len(self.decoders))):
            z = torch.sigmoid(self.decoders[k](z))
        return self.decoders[0](z)

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

    def __init__(self, sizes, n_classes):
        super().__init__()
        self.hidden = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:],
                                                                         strict=True)])
        self.output = nn.Linear(sizes[-1], n_classes)

    def forward(self, x):
        for layer in self.hidden:
            x = torch.sigmoid(layer(x))
        return self.output(x)


class Oracle(ExtendedOracle):
    """The public oracle (``tests/conftest.py``) plus reference networks and training loops
    for assignment 04 (torch, float32). Attributes it lacks come from the public oracle."""

    AANN = RefAANN
    Stack = RefStack
    Classifier = RefClassifier
    LayerAE = RefLayerAE

    # ------------------------------------------------------------------ weights
    def random_state(self, model: nn.Module, rng: np.random.Generator, scale: float = 1.0) -> State:
        """Random N(0, scale^2 / fan_in) weights and N(0, 0.25) biases for ``model``'s keys."""
        shapes = {name: tuple(p.shape) for name, p in model.state_dict().items()}
        return self._public.random_weights(shapes, rng, scale)

    @staticmethod
    def load(model: nn.Module, state: State) -> nn.Module:
        model.load_state_dict({k: v.clone() for k, v in state.items()})
        return model

    @staticmethod
    def state(model: nn.Module) -> State:
        return {k: v.detach().clone() for k, v in model.state_dict().items()}

    # ------------------------------------------------------------------ training
    @staticmethod
    def reconstruction_loss(model, X) -> float:
        with torch.no_grad():
            return float(F.mse_loss(model(X), X))

    @staticmethod
    def sgd_momentum(params, velocities, lr, momentum):
        """torch.optim.SGD(lr, momentum)'s step from each p.grad (written out: building a
        torch.optim optimizer imports torch._dynamo, seconds on a small machine)."""
        with torch.no_grad():
            for p, v in zip(params, velocities, strict=True):
                v.copy_(momentum * v + p.grad)
                p.copy_(p - lr * v)
                p.grad = None

    def _momentum_epochs(self, model, n, epochs, lr, batch_size, momentum, seed, batch_loss,
                         epoch_loss):
        """The handout's loop: a seeded shuffle per epoch, one momentum step per mini-batch
        (``batch_loss(indices, generator)``), then ``epoch_loss()`` recorded."""
        g = torch.Generator().manual_seed(seed)
        params = list(model.parameters())
        velocities = [torch.zeros_like(p) for p in params]
        history = []
        for _ in range(epochs):
            perm = torch.randperm(n, generator=g)
            for start in range(0, n, batch_size):
                batch_loss(perm[start:start + batch_size], g).backward()
                self.sgd_momentum(params, velocities, lr, momentum)
            history.append(epoch_loss())
        return history

    def train_autoencoder(self, model, X, epochs, lr, batch_size, momentum=0.9, noise_std=0.0,
                          seed=0):
        """The handout's loop: seeded shuffles (and noise), MSE to the clean target, momentum."""

        def batch_loss(idx, g):
            target = X[idx]
            inputs = target
            if noise_std > 0:
                inputs = target + noise_std * torch.randn(target.shape, generator=g)
            return F.mse_loss(model(inputs), target)

        return self._momentum_epochs(model, X.shape[0], epochs, lr, batch_size, momentum, seed,
                                     batch_loss, lambda: self.reconstruction_loss(model, X))

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

    def fine_tune(self, clf, X, y, epochs, lr, batch_size, momentum=0.9, seed=0):
        def epoch_loss():
            with torch.no_grad():
                return float(F.cross_entropy(clf(X), y))

        return self._momentum_epochs(clf, X.shape[0], epochs, lr, batch_size, momentum, seed,
                                     lambda idx, g: F.cross_entropy(clf(X[idx]), y[idx]),
                                     epoch_loss)

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


@pytest.fixture(scope="session")
def oracle(oracle) -> Oracle:
    """The public ``oracle`` with the reference networks and loops (see ``Oracle``)."""
    return Oracle(oracle)
