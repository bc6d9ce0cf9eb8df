"""Shared helpers of assignment 06's graders, for tests/public/ and tests/hidden/ alike.

pytest loads this conftest for both folders. The graders are collected with
``--import-mode=importlib`` and their folders are not on ``sys.path``, so a test
module cannot import a helper module: the helpers are fixtures.

- ``oracle``: reference results from torch, independent of our reference solution:
  float64 autograd for the numpy RNN, ``torch.nn.RNN/LSTM/GRU`` (and their cells)
  with copied weights for the torch part, ``clip_grad_norm_`` for clipping, and
  the long-range data set;
- ``check``: assertions that several graders make;
- ``student``: builds the student's cells and layers (float64) with given weights.

This file ships with the public tests. Keep it to generic references and checks:
nothing in it may tell what a hidden test looks at.

Shapes: ``N`` batch, ``T`` time steps, ``D`` input size, ``H`` hidden size.
Torch's weights of one direction are a dict ``{"weight_ih": (G*H, D),
"weight_hh": (G*H, H), "bias_ih": (G*H,), "bias_hh": (G*H,)}`` with ``G`` = 1
(RNN), 4 (LSTM: gates i, f, g, o) or 3 (GRU: gates r, z, n).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from autograder.testing import TOLERANCES, CheckBase, Tolerance

Weights = dict[str, torch.Tensor]

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
CELL_CLASSES = {"rnn": "RNNCell", "lstm": "LSTMCell", "gru": "GRUCell"}
LAYER_CLASSES = {"rnn": "RNNLayer", "lstm": "LSTMLayer", "gru": "GRULayer"}
TORCH_CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
TORCH_LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
# torch's parameter names -> the student's, inside one cell (cells.py's layout).
CELL_KEYS = {
    "weight_ih": "ih.weight",
    "weight_hh": "hh.weight",
    "bias_ih": "ih.bias",
    "bias_hh": "hh.bias",
}


def t64(a) -> torch.Tensor:
    """A float64 tensor with the values of ``a`` (a numpy array or a tensor)."""
    return torch.as_tensor(np.asarray(a, dtype=np.float64)).clone()


class Oracle:
    """Reference results for assignment 06, computed without our reference solution."""

    # ------------------------------------------------------------ numpy RNN (autograd)
    @staticmethod
    def rnn_states(x, h0, Wx, Wh, b, requires_grad=False):
        """(leaves, hs): leaves = float64 tensors (x, h0, Wx, Wh, b); hs = list of h_t (N, H).

        h_t = tanh(x[:, t] @ Wx + h_{t-1} @ Wh + b), h_{-1} = h0. Every h_t retains
        its gradient when ``requires_grad``.
        """
        leaves = [t64(a).requires_grad_(requires_grad) for a in (x, h0, Wx, Wh, b)]
        xt, h, Wxt, Wht, bt = leaves
        hs = []
        for t in range(xt.shape[1]):
            h = torch.tanh(xt[:, t] @ Wxt + h @ Wht + bt)
            if requires_grad:
                h.retain_grad()
            hs.append(h)
        return leaves, hs

    def rnn_forward(self, x, h0, Wx, Wh, b) -> np.ndarray:
        """All hidden states (N, T, H) of the tanh RNN, float64."""
        _, hs = self.rnn_states(x, h0, Wx, Wh, b)
        return torch.stack(hs, dim=1).numpy()

    def rnn_backward(self, x, h0, Wx, Wh, b, dh) -> tuple[np.ndarray, ...]:
        """(dx, dh0, dWx, dWh, db) of L = sum(h * dh) over all steps, dh (N, T, H)."""
        leaves, hs = self.rnn_states(x, h0, Wx, Wh, b, requires_grad=True)
        torch.stack(hs, dim=1).backward(t64(dh))
        return tuple(v.grad.numpy() for v in leaves)

    def hidden_grad_norms(self, x, h0, Wx, Wh, b, dh_last) -> np.ndarray:
        """(T,): Frobenius norms of dL/dh_t for L = sum(h_{T-1} * dh_last)."""
        _, hs = self.rnn_states(x, h0, Wx, Wh, b, requires_grad=True)
        hs[-1].backward(t64(dh_last))
        return np.array([float(h.grad.norm()) for h in hs])

    @staticmethod
    def clip_grad_norm(grads: dict, max_norm: float) -> tuple[dict, float]:
        """(clipped, total_norm) of torch.nn.utils.clip_grad_norm_ on copies of ``grads``."""
        params = {k: torch.zeros(np.shape(g), dtype=torch.float64) for k, g in grads.items()}
        for k, p in params.items():
            p.grad = t64(grads[k])
        total = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm)
        return {k: p.grad.numpy() for k, p in params.items()}, float(total)

    # ------------------------------------------------------------ torch recurrent nets
    @staticmethod
    def weights(kind: str, D: int, H: int, rng: np.random.Generator, scale: float = 0.5) -> Weights:
        """Random float64 weights of one direction, N(0, scale**2), biases included."""
        G = GATES[kind]
        return {
            "weight_ih": t64(scale * rng.standard_normal((G * H, D))),
            "weight_hh": t64(scale * rng.standard_normal((G * H, H))),
            "bias_ih": t64(scale * rng.standard_normal(G * H)),
            "bias_hh": t64(scale * rng.standard_normal(G * H)),
        }

    @staticmethod
    def cell(kind: str, D: int, H: int, w: Weights) -> nn.Module:
        """torch.nn.RNNCell / LSTMCell / GRUCell (float64) holding the weights ``w``."""
        module = TORCH_CELLS[kind](D, H).double()
        module.load_state_dict(w)
        return module

    @staticmethod
    def layer(kind: str, D: int, H: int, w: Weights, w_reverse: Weights | None = None) -> nn.Module:
        """torch.nn.RNN / LSTM / GRU (float64, batch_first, one layer) with the weights ``w``;
        bidirectional when ``w_reverse`` (the backward direction's weights) is given."""
        module = TORCH_LAYERS[kind](
            D, H, batch_first=True, bidirectional=w_reverse is not None
        ).double()
        state = {f"{k}_l0": v for k, v in w.items()}
        if w_reverse is not None:
            state.update({f"{k}_l0_reverse": v for k, v in w_reverse.items()})
        module.load_state_dict(state)
        return module

    @staticmethod
    def param_grads(ref: nn.Module, keys=tuple(CELL_KEYS), prefix: str = "",
                    suffix: str = "") -> dict[str, torch.Tensor]:
        """{the student's parameter name: its gradient in ``ref``}, after a backward pass
        through ``ref``: a torch cell, or a torch layer with ``prefix="cell."``, ``suffix="_l0"``.
        ``keys``: torch's names of one direction's weights (``CELL_KEYS``), in this order."""
        return {prefix + CELL_KEYS[k]: getattr(ref, k + suffix).grad for k in keys}

    # ------------------------------------------------------------ the long-range task
    @staticmethod
    def long_range_data(n: int, seed: int, seq_len: int = 50, vocab_size: int = 8):
        """(X int64 (n, seq_len), y int64 (n,)): the handout's long-range task.

        rng = np.random.default_rng(seed); X = rng.integers(2, vocab_size, (n, seq_len));
        X[:, :2] = rng.integers(0, 2, (n, 2)); y = 2 * X[:, 0] + X[:, 1].
        """
        rng = np.random.default_rng(seed)
        X = rng.integers(2, vocab_size, size=(n, seq_len))
        X[:, :2] = rng.integers(0, 2, size=(n, 2))
        y = 2 * X[:, 0] + X[:, 1]
        return torch.from_numpy(X).long(), torch.from_numpy(y).long()


class Checks(CheckBase):
    """Assertions shared by several graders (numpy arrays, tensors and autograd probes from
    ``CheckBase``); failures name what differs."""

    numpy_why = "rnn_numpy.py must use numpy only, no torch"
    # "vanishing": gradient norms that shrink geometrically, compared relative to their size
    tolerances = {**TOLERANCES, "vanishing": Tolerance(1e-6, 1e-12)}

    @staticmethod
    def pair(value, name: str) -> tuple:
        """``value`` is a tuple or list of two items."""
        assert isinstance(value, (tuple, list)) and len(value) == 2, (
            f"{name} must be a tuple of two items, got {type(value).__name__}"
        )
        return tuple(value)


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    """Reference results from torch (see ``Oracle``)."""
    return Oracle()


@pytest.fixture(scope="session")
def check() -> Checks:
    """Shared assertions (see ``Checks``)."""
    return Checks()


class Student:
    """Builds the student's modules in the worker, in float64, with torch's weights copied in."""

    def __init__(self, submission):
        self.submission = submission

    @staticmethod
    def cell_state(w: Weights, prefix: str = "") -> dict:
        """The student's state_dict for one cell holding torch's weights ``w``."""
        return {prefix + CELL_KEYS[k]: v for k, v in w.items()}

    def cell(self, kind: str, D: int, H: int, w: Weights):
        """``cells.<Kind>Cell(D, H)`` in float64 with the weights ``w`` (a handle)."""
        module = getattr(self.submission.cells, CELL_CLASSES[kind])(D, H)
        module.double()
        module.load_state_dict(self.cell_state(w))
        return module

    def layer(self, kind: str, D: int, H: int, w: Weights):
        """``sequence.<Kind>Layer(D, H)`` in float64 with the weights ``w`` (a handle)."""
        module = getattr(self.submission.sequence, LAYER_CLASSES[kind])(D, H)
        module.double()
        module.load_state_dict(self.cell_state(w, "cell."))
        return module

    def bidirectional(self, kind: str, D: int, H: int, w: Weights, w_reverse: Weights):
        """``sequence.Bidirectional(<Kind>Layer(D, H), <Kind>Layer(D, H))`` in float64."""
        layer_class = getattr(self.submission.sequence, LAYER_CLASSES[kind])
        module = self.submission.sequence.Bidirectional(layer_class(D, H), layer_class(D, H))
        module.double()
        state = self.cell_state(w, "forward_layer.cell.")
        state.update(self.cell_state(w_reverse, "backward_layer.cell."))
        module.load_state_dict(state)
        return module


@pytest.fixture
def student(submission) -> Student:
    """Builders of the student's cells and layers (see ``Student``)."""
    return Student(submission)
