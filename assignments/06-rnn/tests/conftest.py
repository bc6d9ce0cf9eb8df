"""Shared helpers of assignment 06's graders, for tests/public/ and tests/hidden/ alike.

pytest loads this conftest for both folders. The graders are collected with
``--import-mode=importlib`` and their folders are not on ``sys.path``, so a test
module cannot import a helper module: the helpers are fixtures.

- ``oracle``: reference results from torch, independent of our reference solution:
  float64 autograd for the numpy RNN, ``torch.nn.RNN/LSTM/GRU`` (and their cells)
  with copied weights for the torch part, ``clip_grad_norm_`` for clipping, the
  long-range data set and a reference classifier (``nn.LSTM`` and a linear head), and
  for the encoder-decoder the reversal data set and a reference model made of torch's
  own modules (``nn.GRU``, ``nn.GRUCell``, ``scaled_dot_product_attention``): the
  grader loads a trained model's weights into its reference, strictly by the handout's
  names, and judges what the reference computes, never the student's own forward;
- ``check``: assertions that several graders make;
- ``student``: builds the student's cells, layers, attention and encoder-decoder (float64)
  with given weights.

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
import torch.nn.functional as F
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


def check_handout_state(state: dict, expected: dict[str, tuple[int, ...]], sizes: str) -> None:
    """A trained model's ``state_dict()`` has exactly the handout's parameter names
    ``expected`` with their shapes: what loading it strictly into the grader's model needs.
    ``sizes`` says which sizes implied the shapes, for the message."""
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    assert not missing and not extra, (
        f"the model's parameters are not the handout's: missing {missing}, unexpected {extra}"
    )
    for name, shape in expected.items():
        assert tuple(state[name].shape) == shape, (
            f"{name} has shape {tuple(state[name].shape)}, expected {shape} ({sizes})"
        )


def handout_to_torch_layer(state: dict, prefix: str, suffix: str = "_l0") -> Weights:
    """torch's names of one recurrent direction (``weight_ih_l0``, ...) -> the tensors that the
    handout's state holds under ``prefix`` + the student's names (``cell.ih.weight``, ...)."""
    return {f"{k}{suffix}": state[prefix + ours] for k, ours in CELL_KEYS.items()}


#: the encoder-decoder's tokens (seq2seq.py): digits 0..9, then PAD, BOS, EOS
PAD, BOS, EOS, VOCAB_SIZE = 10, 11, 12, 13
#: the sequence accuracy that train_reversal's model must reach under the grader's decoding
REVERSAL_BAR = 0.9


def seq2seq_shapes(V: int, E: int, H: int) -> dict[str, tuple[int, ...]]:
    """The handout's parameter names of Seq2Seq(V, E, H) and their shapes."""
    gru = {"ih.weight": (3 * H, E), "ih.bias": (3 * H,), "hh.weight": (3 * H, H), "hh.bias": (3 * H,)}
    return {
        "embed.weight": (V, E),
        **{f"encoder.cell.{k}": v for k, v in gru.items()},
        **{f"decoder.{k}": v for k, v in gru.items()},
        "attention.proj.weight": (H, H),
        "combine.weight": (H, 2 * H),
        "combine.bias": (H,),
        "out.weight": (V, H),
        "out.bias": (V,),
    }


class ReferenceSeq2Seq(nn.Module):
    """The handout's encoder-decoder (§C.2) made of torch's own modules, float64: the
    grader's decoder, into which it loads the student's weights (``load_handout_state``)."""

    def __init__(self, V: int, E: int, H: int):
        super().__init__()
        self.embed = nn.Embedding(V, E)
        self.encoder = nn.GRU(E, H, batch_first=True)
        self.decoder = nn.GRUCell(E, H)
        self.W = nn.Parameter(torch.zeros(H, H))
        self.combine = nn.Linear(2 * H, H)
        self.out = nn.Linear(H, V)
        self.double()

    @classmethod
    def from_handout_state(cls, state: dict) -> ReferenceSeq2Seq:
        """A reference holding ``state`` (the handout's names): exactly those names, with
        the shapes that the sizes read from ``embed.weight`` and ``out.weight`` imply."""
        state = {k: torch.as_tensor(v) for k, v in state.items()}
        assert "embed.weight" in state and "out.weight" in state, (
            "the model has no embed.weight or no out.weight: the handout names its modules "
            "embed, encoder, decoder, attention, combine and out"
        )
        (V, E), H = state["embed.weight"].shape, state["out.weight"].shape[1]
        check_handout_state(state, seq2seq_shapes(V, E, H), f"vocab {V}, embedding {E}, hidden {H}")
        model = cls(V, E, H)
        renamed = {"W": state["attention.proj.weight"]}
        for part, torch_names in (("encoder", handout_to_torch_layer(state, "encoder.cell.")),
                                  ("decoder", handout_to_torch_layer(state, "decoder.", ""))):
            renamed.update({f"{part}.{k}": v for k, v in torch_names.items()})
        for name in ("embed.weight", "combine.weight", "combine.bias", "out.weight", "out.bias"):
            renamed[name] = state[name]
        model.load_state_dict({k: v.double() for k, v in renamed.items()})
        return model

    @staticmethod
    def attend(query, keys, mask, W):
        """(context (N, K), weights (N, T)) by torch's scaled_dot_product_attention with
        scale 1, the query against the keys mapped by W (Q, K); the values are the keys
        followed by an identity, so that the output also carries the weights."""
        N, T, K = keys.shape
        values = torch.cat([keys, torch.eye(T, dtype=keys.dtype).expand(N, T, T)], dim=2)
        out = F.scaled_dot_product_attention(
            query[:, None, :], keys @ W.T, values, attn_mask=mask[:, None, :], scale=1.0
        )[:, 0]
        return out[:, :K], out[:, K:]

    def _start(self, src, lengths):
        enc_out, _ = self.encoder(self.embed(src))
        mask = torch.arange(src.shape[1])[None, :] < lengths[:, None]
        return enc_out, enc_out[torch.arange(src.shape[0]), lengths - 1], mask

    def _step(self, prev, state, enc_out, mask, attention=True):
        state = self.decoder(self.embed(prev), state)
        if attention:
            context, weights = self.attend(state, enc_out, mask, self.W)
        else:  # the same decoder without attention (tests/test_shortcuts_sequences.py)
            context, weights = torch.zeros_like(state), None
        joined = torch.hstack((context, state))
        return self.out(self.combine(joined).tanh()), state, weights

    def forward(self, src, lengths, tgt):
        """Teacher forcing: (logits (N, T_out, V), weights (N, T_out, T))."""
        enc_out, state, mask = self._start(src, lengths)
        inputs = torch.hstack((torch.full_like(tgt[:, :1], BOS), tgt[:, :-1]))
        steps = []
        for token in inputs.T:  # the true previous token of every step
            step_logits, state, step_weights = self._step(token, state, enc_out, mask)
            steps.append((step_logits, step_weights))
        return tuple(torch.stack(parts, dim=1) for parts in zip(*steps, strict=True))

    @torch.no_grad()
    def greedy(self, src, lengths, max_steps, attention=True):
        """Greedy decoding: tokens (N, max_steps), PAD after each row's first EOS."""
        enc_out, state, mask = self._start(src, lengths)
        prev = torch.full((src.shape[0],), BOS)
        tokens = torch.full((src.shape[0], max_steps), PAD)
        done = torch.zeros(src.shape[0], dtype=torch.bool)
        for t in range(max_steps):
            logits, state, _ = self._step(prev, state, enc_out, mask, attention)
            prev = logits.argmax(dim=1)
            tokens[:, t] = torch.where(done, PAD, prev)
            done |= prev == EOS
        return tokens


#: the long-range task's vocabulary and classes, and the accuracy its LSTM must reach
LONG_RANGE_VOCAB, LONG_RANGE_CLASSES, LONG_RANGE_BAR = 8, 4, 0.9


class ReferenceClassifier(nn.Module):
    """The handout's SequenceClassifier (§B.4) made of torch's own modules, float64: one-hot
    tokens, ``nn.LSTM`` (or, for the platform's shortcut test, ``nn.RNN`` / ``nn.GRU``), a
    linear head on the last step. The grader loads the student's trained weights into it
    (``from_handout_state``) and predicts with it."""

    def __init__(self, V: int, H: int, C: int, kind: str = "lstm"):
        super().__init__()
        self.vocab_size = V
        self.rnn = TORCH_LAYERS[kind](V, H, batch_first=True)
        self.head = nn.Linear(H, C)
        self.double()

    @classmethod
    def from_handout_state(cls, state: dict, kind: str = "lstm") -> ReferenceClassifier:
        """A reference holding ``state`` (the handout's names) strictly: a ``kind`` classifier
        of the task's 8 tokens and 4 classes, the hidden size read from ``head.weight``."""
        state = {k: torch.as_tensor(v) for k, v in state.items()}
        assert "head.weight" in state, (
            "the model has no head.weight: the handout names its modules rnn (a layer whose "
            "cell is `cell`) and head"
        )
        V, C, H = LONG_RANGE_VOCAB, LONG_RANGE_CLASSES, state["head.weight"].shape[-1]
        G, name = GATES[kind], {"rnn": "an RNN", "lstm": "an LSTM", "gru": "a GRU"}[kind]
        rows = state.get("rnn.cell.ih.weight", torch.zeros(G * H)).shape[0]
        assert rows == G * H, (
            f"the classifier is not {name}: rnn.cell.ih.weight has {rows} rows for hidden size "
            f"{H}, where {name} cell stacks its {G} gate(s): {G * H} rows"
        )
        cell = {"ih.weight": (G * H, V), "hh.weight": (G * H, H), "ih.bias": (G * H,), "hh.bias": (G * H,)}
        expected = {**{f"rnn.cell.{k}": v for k, v in cell.items()},
                    "head.weight": (C, H), "head.bias": (C,)}
        check_handout_state(state, expected,
                            f"{name} of {V} one-hot tokens, hidden size {H}, {C} classes")
        model = cls(V, H, C, kind)
        renamed = {f"rnn.{k}": v for k, v in handout_to_torch_layer(state, "rnn.cell.").items()}
        renamed.update({"head.weight": state["head.weight"], "head.bias": state["head.bias"]})
        model.load_state_dict({k: v.double() for k, v in renamed.items()})
        return model

    @torch.no_grad()
    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Scores (N, C) of tokens (N, T) int64."""
        out, _ = self.rnn(F.one_hot(tokens, self.vocab_size).double())
        return self.head(out[:, -1])

    def accuracy(self, X: torch.Tensor, y: torch.Tensor) -> float:
        """The fraction of sequences X (N, T) whose argmax class is y (N,)."""
        return float((self(X).argmax(dim=1) == y).double().mean())


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

    classifier = staticmethod(ReferenceClassifier.from_handout_state)
    long_range_bar = LONG_RANGE_BAR

    # ------------------------------------------------------------ the encoder-decoder
    @staticmethod
    def reversal_data(n: int, seed: int, min_len: int = 8, max_len: int = 12):
        """(src (n, max_len), lengths (n,), tgt (n, max_len + 1)), int64: the handout's
        reversal task, drawn as make_reversal_data draws it (rng = default_rng(seed); all
        lengths first, then each sequence's digits in turn)."""
        rng = np.random.default_rng(seed)
        lengths = rng.integers(min_len, max_len + 1, size=n)
        src = np.full((n, max_len), PAD, dtype=np.int64)
        tgt = np.full((n, max_len + 1), PAD, dtype=np.int64)
        for row, length in enumerate(lengths):
            src[row, :length] = rng.integers(0, 10, size=length)
            tgt[row, : length + 1] = np.append(src[row, length - 1 :: -1], EOS)
        return torch.from_numpy(src), torch.from_numpy(lengths.astype(np.int64)), torch.from_numpy(tgt)

    @staticmethod
    def seq2seq_weights(rng: np.random.Generator, V: int, E: int, H: int,
                        scale: float = 0.5) -> Weights:
        """Random float64 weights of Seq2Seq(V, E, H), by the handout's names."""
        return {name: t64(scale * rng.standard_normal(shape))
                for name, shape in seq2seq_shapes(V, E, H).items()}

    attention = staticmethod(ReferenceSeq2Seq.attend)
    seq2seq = staticmethod(ReferenceSeq2Seq.from_handout_state)
    reversal_bar = REVERSAL_BAR
    PAD, BOS, EOS, VOCAB_SIZE = PAD, BOS, EOS, VOCAB_SIZE

    @staticmethod
    def padding_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
        """Bool (N, T): True at the real positions t < lengths[n]."""
        return torch.arange(T)[None, :] < lengths[:, None]

    def attention_inputs(self, rng: np.random.Generator, lengths, T: int, K: int, Q: int,
                         query_scale: float = 1.0, key_scale: float = 1.0):
        """(query (N, Q), keys (N, T, K), W (Q, K), mask (N, T)): normal draws, float64."""
        lengths = torch.tensor(lengths)
        query = torch.from_numpy(query_scale * rng.standard_normal((len(lengths), Q)))
        keys = torch.from_numpy(key_scale * rng.standard_normal((len(lengths), T, K)))
        W = torch.from_numpy(rng.standard_normal((Q, K)))
        return query, keys, W, self.padding_mask(lengths, T)

    def padded_sources(self, rng: np.random.Generator, lengths, T: int):
        """(src (N, T) int64: random digits, PAD after each length; lengths (N,) int64)."""
        lengths = torch.tensor(lengths)
        src = torch.from_numpy(rng.integers(0, 10, size=(len(lengths), T)))
        return src.masked_fill(~self.padding_mask(lengths, T), PAD), lengths

    @staticmethod
    def sequence_accuracy(model: ReferenceSeq2Seq, src, lengths, tgt, attention=True) -> float:
        """The fraction of sequences that the reference's greedy decoding reverses exactly
        (every token up to and including EOS)."""
        tokens = model.greedy(src, lengths, tgt.shape[1], attention)
        return float((tokens == tgt).all(dim=1).double().mean())


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

    def sequence_outputs(self, out, expected, name: str = "out", bidirectional: bool = False) -> None:
        """A layer's outputs (N, T, K) against the oracle's ``expected``: where they differ, the
        property that broke first (a bidirectional layer's backward half not in time order or
        not read backward; outputs right at a direction's first step only, so what one step
        passes to the next is wrong), then the values."""
        if isinstance(out, torch.Tensor) and out.shape == expected.shape and out.dim() == 3:
            rtol, atol = self.tolerance("float64")
            expected = expected.detach().double()

            def close(a, b):
                return torch.allclose(a.detach().double(), b, rtol=rtol, atol=atol)

            directions = [(out, expected, name)]
            if bidirectional:
                H = out.shape[2] // 2
                back, back_ref = out[..., H:], expected[..., H:]
                if close(out[..., :H], expected[..., :H]) and not close(back, back_ref):
                    assert not close(back, back_ref.flip(1)), (
                        f"{name}: the backward half is in reversed time order: out[:, t, H:] must "
                        "be the backward layer's output after reading x[:, T-1..t] (flip it back)"
                    )
                    raise AssertionError(
                        f"{name}: the forward half matches torch, the backward half does not: the "
                        "backward layer must read x[:, T-1], ..., x[:, 0] from a zero state"
                    )
                directions = [(out[..., :H], expected[..., :H], f"{name}'s forward half"),
                              (back.flip(1), back_ref.flip(1), f"{name}'s backward half (in reading order)")]
            for got, ref, label in directions:
                wrong = [t for t in range(got.shape[1]) if not close(got[:, t], ref[:, t])]
                assert not wrong or wrong[0] == 0, (
                    f"{label} is right at the first step read but wrong from step {wrong[0]} on: "
                    "what one step passes to the next (the carried state, and how the recurrent "
                    "weights use it) is not torch's"
                )
        self.tensors_close(out, expected, name=name)

    def attention_matches(self, output, expected, mask, name="Attention(query, keys, mask)"):
        """The student's (context, weights): a distribution over the real positions first
        (``attention_weights``), then the values of ``expected``, the oracle's pair."""
        context, weights = self.pair(output, name)
        self.attention_weights(weights, mask)
        self.tensors_close(weights, expected[1], name="weights")
        self.tensors_close(context, expected[0], name="context")

    @staticmethod
    def attention_weights(weights, mask, name: str = "weights") -> None:
        """Attention weights (..., T) are a distribution over the real positions of each row:
        >= 0, exactly 0 where ``mask`` (N, T) is False, summing to 1."""
        weights = torch.as_tensor(weights).double()
        mask = mask.expand(weights.shape) if weights.dim() == 2 else mask[:, None, :].expand(weights.shape)
        assert torch.all(weights >= 0), f"{name}: negative attention weights"
        leaked = torch.nonzero(~mask & (weights.abs() > 1e-12))
        assert leaked.numel() == 0, (
            f"{name}: padded positions get attention (first at index {leaked[0].tolist()}): "
            "the mask must take them out before the weights are normalised"
        )
        sums = weights.sum(dim=-1)
        off = torch.nonzero((sums - 1).abs() > 1e-9)
        assert off.numel() == 0, (
            f"{name}: the weights at index {off[0].tolist()} sum to {float(sums[tuple(off[0])]):.6g}, "
            "not 1: each query's weights must be a distribution over the positions"
        )


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

    def attention(self, K: int, Q: int, W: torch.Tensor):
        """``seq2seq.Attention(K, Q)`` in float64 holding W (Q, K) as ``proj.weight``."""
        module = self.submission.seq2seq.Attention(K, Q)
        module.double()
        module.load_state_dict({"proj.weight": W})
        return module

    def seq2seq(self, V: int, E: int, H: int, w: Weights):
        """``seq2seq.Seq2Seq(V, E, H)`` in float64 holding the weights ``w`` (handout names)."""
        module = self.submission.seq2seq.Seq2Seq(V, E, H)
        module.double()
        module.load_state_dict(w)
        return module


@pytest.fixture
def student(submission) -> Student:
    """Builders of the student's cells and layers (see ``Student``)."""
    return Student(submission)
