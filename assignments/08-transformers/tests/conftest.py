"""Shared helpers of assignment 08's graders, for tests/public/ and tests/hidden/ alike.

pytest loads this conftest for both folders. The graders are collected with
``--import-mode=importlib`` and their folders are not on ``sys.path``, so a test
module cannot import a helper module: the helpers are fixtures.

- ``oracle``: reference results from torch built-ins with copied weights
  (``F.scaled_dot_product_attention``, ``nn.MultiheadAttention``,
  ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer``, ``F.cross_entropy``)
  and closed forms (the positional-encoding table), independent of our reference;
- ``oracle``'s ``*_params``: the handout's parameter names and shapes of each module, which
  ``weights.load`` requires exactly (a missing or an extra parameter is a failure that names
  it, never ignored), and ``assert_reference_gpt``: the model's logits against the reference
  GPT with the same weights, checked before any property of the model (causality, the KV
  cache, decoding), so that a model that is consistent with itself but wrong, or a model of
  zeros, earns nothing there;
- ``weights``: random weights for the handout's parameters, loaded strictly into a student module;
- ``reversal_data``: the toy task's examples, generated here from a seed.

Conventions (the handout's): batch first; boolean masks, True = may attend.

This file ships with the public tests. Keep it to generic references and checks:
nothing in it may tell what a hidden test looks at, and nothing in it may be a
pasteable version of what students write (greedy decoding lives in
``tests/hidden/conftest.py``, which never ships).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.testing import AssertCloseError, assert_close

State = dict[str, torch.Tensor]
Shapes = dict[str, tuple[int, ...]]

PAD, BOS, EOS = 0, 1, 2
NUM_SPECIAL = 3
VOCAB_SIZE = NUM_SPECIAL + 10


def _mha_to_torch(sd: State, prefix: str, torch_prefix: str) -> State:
    """Our q_proj/k_proj/v_proj/out_proj under ``prefix`` -> nn.MultiheadAttention's names."""
    p, t = prefix, torch_prefix
    return {
        f"{t}in_proj_weight": torch.cat([sd[f"{p}{n}_proj.weight"] for n in "qkv"]),
        f"{t}in_proj_bias": torch.cat([sd[f"{p}{n}_proj.bias"] for n in "qkv"]),
        f"{t}out_proj.weight": sd[f"{p}out_proj.weight"],
        f"{t}out_proj.bias": sd[f"{p}out_proj.bias"],
    }


def _copy(sd: State, prefix: str, names: list[str], torch_prefix: str = "",
          rename: dict[str, str] | None = None) -> State:
    out = {}
    for n in names:
        for suffix in ("weight", "bias"):
            key = f"{prefix}{n}.{suffix}"
            if key in sd:
                out[f"{torch_prefix}{(rename or {}).get(n, n)}.{suffix}"] = sd[key]
    return out


def _linear(name: str, n_in: int, n_out: int, bias: bool = True) -> Shapes:
    """nn.Linear(n_in, n_out)'s parameters under ``name``."""
    return {f"{name}.weight": (n_out, n_in)} | ({f"{name}.bias": (n_out,)} if bias else {})


def _norm(name: str, d: int) -> Shapes:
    return {f"{name}.weight": (d,), f"{name}.bias": (d,)}


def _attn_mask(mask: torch.Tensor | None, B: int, H: int, T_q: int, T_k: int):
    """Our bool mask (True = may attend, broadcastable to (B, H, T_q, T_k)) -> torch's
    (B * H, T_q, T_k) bool mask with True = may NOT attend (nn.MultiheadAttention)."""
    if mask is None:
        return None
    return ~mask.expand(B, H, T_q, T_k).reshape(B * H, T_q, T_k)


class Oracle:
    """Reference results from torch built-ins and closed forms (float64 unless said)."""

    # ------------------------------------------------------------ the handout's parameters
    @staticmethod
    def mha_params(d_model: int, prefix: str = "") -> Shapes:
        """MultiHeadAttention(d_model, H): q_proj, k_proj, v_proj, out_proj, each D -> D."""
        out = {}
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            out |= _linear(f"{prefix}{n}", d_model, d_model)
        return out

    def encoder_layer_params(self, d_model: int, dim_ff: int, prefix: str = "") -> Shapes:
        """EncoderLayer: self_attn, linear1, linear2, norm1, norm2."""
        return (self.mha_params(d_model, f"{prefix}self_attn.")
                | _linear(f"{prefix}linear1", d_model, dim_ff)
                | _linear(f"{prefix}linear2", dim_ff, d_model)
                | _norm(f"{prefix}norm1", d_model) | _norm(f"{prefix}norm2", d_model))

    def decoder_layer_params(self, d_model: int, dim_ff: int, prefix: str = "") -> Shapes:
        """DecoderLayer: self_attn, cross_attn, linear1, linear2, norm1, norm2, norm3."""
        return (self.encoder_layer_params(d_model, dim_ff, prefix)
                | self.mha_params(d_model, f"{prefix}cross_attn.")
                | _norm(f"{prefix}norm3", d_model))

    def seq2seq_params(self, src_vocab: int, tgt_vocab: int, d_model: int, dim_ff: int,
                       num_layers: int) -> Shapes:
        """Seq2SeqTransformer: embeddings, encoder and decoder layers, generator (the
        positional table ``pos.pe`` is a buffer, not a parameter)."""
        out = {"src_emb.weight": (src_vocab, d_model), "tgt_emb.weight": (tgt_vocab, d_model)}
        for i in range(num_layers):
            out |= self.encoder_layer_params(d_model, dim_ff, f"encoder_layers.{i}.")
        for i in range(num_layers):
            out |= self.decoder_layer_params(d_model, dim_ff, f"decoder_layers.{i}.")
        return out | _linear("generator", d_model, tgt_vocab)

    def gpt_params(self, vocab_size: int, d_model: int, dim_ff: int, num_layers: int,
                   max_len: int) -> Shapes:
        """GPT: tok_emb, pos_emb, blocks (ln1, attn, ln2, linear1, linear2), ln_f, head (no bias)."""
        out = {"tok_emb.weight": (vocab_size, d_model), "pos_emb.weight": (max_len, d_model)}
        for i in range(num_layers):
            p = f"blocks.{i}."
            out |= (_norm(f"{p}ln1", d_model) | self.mha_params(d_model, f"{p}attn.")
                    | _norm(f"{p}ln2", d_model) | _linear(f"{p}linear1", d_model, dim_ff)
                    | _linear(f"{p}linear2", dim_ff, d_model))
        return out | _norm("ln_f", d_model) | _linear("head", d_model, vocab_size, bias=False)

    @staticmethod
    def cls_head_params(d_model: int, num_classes: int) -> Shapes:
        """ClsHead: dense (D -> D), classifier (D -> C)."""
        return _linear("dense", d_model, d_model) | _linear("classifier", d_model, num_classes)

    # ------------------------------------------------------------ attention
    @staticmethod
    def sdpa(q, k, v, mask=None):
        """(out, weights) of F.scaled_dot_product_attention; weights = SDPA with identity values."""
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        T_k = k.shape[-2]
        eye = torch.eye(T_k, dtype=q.dtype).expand(*k.shape[:-2], T_k, T_k)
        weights = F.scaled_dot_product_attention(q, k, eye, attn_mask=mask)
        return out, weights

    @staticmethod
    def causal_mask(T_q, T_k=None):
        """mask[i, j] = j <= i + T_k - T_q, from numpy's tri (closed form)."""
        T_k = T_q if T_k is None else T_k
        return torch.from_numpy(np.tri(T_q, T_k, T_k - T_q, dtype=bool))

    @staticmethod
    def mha_module(sd: State, d_model: int, num_heads: int) -> nn.MultiheadAttention:
        """nn.MultiheadAttention (batch first, float64) holding our weights ``sd``."""
        m = nn.MultiheadAttention(d_model, num_heads, batch_first=True, dtype=torch.float64)
        m.load_state_dict(_mha_to_torch(sd, "", ""))
        return m

    def mha(self, sd: State, num_heads: int, query, key, value, mask=None):
        """Output (B, T_q, D) of nn.MultiheadAttention with our weights and mask."""
        B, T_q, D = query.shape
        m = self.mha_module(sd, D, num_heads)
        out, _ = m(query, key, value, need_weights=False,
                   attn_mask=_attn_mask(mask, B, num_heads, T_q, key.shape[1]))
        return out

    # ------------------------------------------------------------ transformer
    @staticmethod
    def positional_encoding(max_len: int, d_model: int) -> np.ndarray:
        """The sinusoidal table in float64: sin in even columns, cos in odd, frequency per pair."""
        pe = np.zeros((max_len, d_model))
        pos = np.arange(max_len)[:, None]
        for i in range(0, d_model, 2):
            angle = pos[:, 0] / 10000 ** (i / d_model)
            pe[:, i] = np.sin(angle)
            if i + 1 < d_model:
                pe[:, i + 1] = np.cos(angle)
        return pe

    @staticmethod
    def encoder_layer_module(sd: State, d_model, num_heads, dim_ff, prefix="",
                             norm_first=False, activation="relu"):
        """nn.TransformerEncoderLayer (post-LN unless norm_first, no dropout) with our weights."""
        m = nn.TransformerEncoderLayer(d_model, num_heads, dim_ff, dropout=0.0,
                                       activation=activation, batch_first=True,
                                       norm_first=norm_first, dtype=torch.float64)
        tsd = _mha_to_torch(sd, f"{prefix}self_attn.", "self_attn.")
        tsd |= _copy(sd, prefix, ["linear1", "linear2", "norm1", "norm2"])
        m.load_state_dict(tsd)
        return m

    @staticmethod
    def decoder_layer_module(sd: State, d_model, num_heads, dim_ff, prefix=""):
        """nn.TransformerDecoderLayer (post-LN, ReLU, no dropout) with our weights."""
        m = nn.TransformerDecoderLayer(d_model, num_heads, dim_ff, dropout=0.0, batch_first=True,
                                       norm_first=False, dtype=torch.float64)
        tsd = _mha_to_torch(sd, f"{prefix}self_attn.", "self_attn.")
        tsd |= _mha_to_torch(sd, f"{prefix}cross_attn.", "multihead_attn.")
        tsd |= _copy(sd, prefix, ["linear1", "linear2", "norm1", "norm2", "norm3"])
        m.load_state_dict(tsd)
        return m

    def encoder_layer(self, sd, num_heads, dim_ff, x, mask=None):
        B, T, D = x.shape
        m = self.encoder_layer_module(sd, D, num_heads, dim_ff)
        return m(x, src_mask=_attn_mask(mask, B, num_heads, T, T))

    def decoder_layer(self, sd, num_heads, dim_ff, x, memory, tgt_mask=None, memory_mask=None):
        B, T_t, D = x.shape
        m = self.decoder_layer_module(sd, D, num_heads, dim_ff)
        return m(x, memory, tgt_mask=_attn_mask(tgt_mask, B, num_heads, T_t, T_t),
                 memory_mask=_attn_mask(memory_mask, B, num_heads, T_t, memory.shape[1]))

    def seq2seq(self, sd: State, num_heads, dim_ff, num_layers, src, tgt, pad_id=PAD):
        """Logits of the handout's Seq2SeqTransformer, built from torch layers with our weights."""
        D = sd["src_emb.weight"].shape[1]
        pe = torch.from_numpy(self.positional_encoding(max(src.shape[1], tgt.shape[1]), D))
        x = sd["src_emb.weight"][src] + pe[: src.shape[1]]
        src_pad = src == pad_id
        for i in range(num_layers):
            layer = self.encoder_layer_module(sd, D, num_heads, dim_ff, prefix=f"encoder_layers.{i}.")
            x = layer(x, src_key_padding_mask=src_pad)
        memory = x
        T_t = tgt.shape[1]
        causal = ~self.causal_mask(T_t)
        y = sd["tgt_emb.weight"][tgt] + pe[:T_t]
        for i in range(num_layers):
            layer = self.decoder_layer_module(sd, D, num_heads, dim_ff, prefix=f"decoder_layers.{i}.")
            y = layer(y, memory, tgt_mask=causal, tgt_key_padding_mask=tgt == pad_id,
                      memory_key_padding_mask=src_pad)
        return y @ sd["generator.weight"].T + sd["generator.bias"]

    # ------------------------------------------------------------ GPT
    def gpt(self, sd: State, num_heads, dim_ff, num_layers, idx):
        """Logits (B, T, V) of the handout's GPT from pre-LN nn.TransformerEncoderLayer (GELU)."""
        D = sd["tok_emb.weight"].shape[1]
        T = idx.shape[1]
        h = sd["tok_emb.weight"][idx] + sd["pos_emb.weight"][:T]
        causal = ~self.causal_mask(T)
        for i in range(num_layers):
            p = f"blocks.{i}."
            m = nn.TransformerEncoderLayer(D, num_heads, dim_ff, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True, dtype=torch.float64)
            tsd = _mha_to_torch(sd, f"{p}attn.", "self_attn.")
            tsd |= _copy(sd, p, ["linear1", "linear2", "ln1", "ln2"],
                         rename={"ln1": "norm1", "ln2": "norm2"})
            m.load_state_dict(tsd)
            h = m(h, src_mask=causal)
        h = F.layer_norm(h, (D,), sd["ln_f.weight"], sd["ln_f.bias"])
        return h @ sd["head.weight"].T

    @staticmethod
    def assert_reference_logits(logits, expected, reference: str, what: str, rtol=1e-6,
                                atol=1e-8) -> None:
        """Assert that ``logits``, the student's model's, are ``expected``, a ``reference``
        model's with the same weights; the message says which model differs."""
        try:
            assert_close(logits, expected, rtol=rtol, atol=atol, name=what)
        except AssertCloseError as e:
            raise AssertCloseError(f"the model's logits differ from a {reference} with the same "
                                   f"weights: {e.summary}", e.details) from None

    def assert_reference_gpt(self, logits, sd: State, num_heads, dim_ff, num_layers, idx,
                             what: str = "GPT(idx)") -> torch.Tensor:
        """Assert that ``logits`` (B, T, V), the student's for ``idx``, are the reference GPT's
        with the weights ``sd`` (test_gpt_forward_matches_torch); return the reference's."""
        expected = self.gpt(sd, num_heads, dim_ff, num_layers, idx).detach()
        self.assert_reference_logits(logits, expected, "reference GPT", what)
        return expected

    # leak-check: off: this oracle restates the handout's specification, independently written
    @staticmethod
    def lm_loss(logits, tokens):
        V = logits.shape[-1]
        return F.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1))
    # leak-check: on

    @staticmethod
    def top_k_probs(logits, temperature, top_k):
        """Sampling distribution softmax(logits / T) over the logits >= the top_k-th largest
        of their row (ties with it included, as the handout says), in float64."""
        z = logits.double() / temperature
        if top_k is not None:
            V = z.shape[-1]
            kth_largest = torch.kthvalue(z, V - top_k + 1, dim=-1, keepdim=True).values
            z = torch.where(z >= kth_largest, z, torch.full_like(z, float("-inf")))
        return torch.softmax(z, dim=-1)



class Weights:
    """Random weights for the handout's parameters, loaded strictly into a student module."""

    # Buffers that a module computes itself (the positional table): kept as the module has them.
    OWN_BUFFERS = ("pe",)

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def draw(self, params: Shapes, dtype=torch.float64) -> State:
        """Random values for ``params`` ({name: shape}); LayerNorm-like weights (names with
        "norm" or "ln") near 1."""
        out = {}
        for k, shape in params.items():
            if ("norm" in k or "ln" in k) and k.endswith("weight"):
                a = 1.0 + 0.2 * self.rng.standard_normal(shape)
            elif k.endswith("bias"):
                a = 0.2 * self.rng.standard_normal(shape)
            elif "emb" in k:
                a = self.rng.standard_normal(shape)
            else:
                fan_in = shape[-1] if len(shape) > 1 else 1
                a = self.rng.standard_normal(shape) / math.sqrt(fan_in)
            out[k] = torch.tensor(a, dtype=dtype)
        return out

    def load(self, module, params: Shapes, dtype=torch.float64) -> State:
        """Require ``module``'s parameters to be exactly ``params`` (the handout's names and
        shapes), convert it to ``dtype``, load random values strictly, and return them."""
        own = module.state_dict()  # a handle: fetched name by name
        shapes = {k: tuple(own[k].shape) for k in list(own)}
        buffers = [k for k in shapes if k.rsplit(".", 1)[-1] in self.OWN_BUFFERS]
        missing = [k for k in params if k not in shapes]
        extra = [k for k in shapes if k not in params and k not in buffers]

        def names(keys):
            return ", ".join(keys[:6]) + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")

        assert not missing, f"the model lacks the handout's parameter(s) {names(missing)}"
        assert not extra, f"the model has parameter(s) the handout does not name: {names(extra)}"
        wrong = [f"{k} {shapes[k]} (expected {tuple(v)})" for k, v in params.items()
                 if shapes[k] != tuple(v)]
        assert not wrong, f"parameter shapes differ from the handout's: {names(wrong)}"
        if dtype == torch.float64:
            module.double()
        sd = self.draw(params, dtype)
        own = module.state_dict()
        module.load_state_dict({k: own[k] for k in buffers} | sd, strict=True)
        return sd


def make_reversal_data(n, min_len=3, max_len=6, seed=0):
    """The toy task's examples: src = digits, EOS, PAD...; tgt = BOS, reversed digits, EOS, PAD..."""
    g = np.random.default_rng(seed)
    src = np.full((n, max_len + 1), PAD, dtype=np.int64)
    tgt = np.full((n, max_len + 2), PAD, dtype=np.int64)
    for i in range(n):
        L = int(g.integers(min_len, max_len + 1))
        d = g.integers(NUM_SPECIAL, VOCAB_SIZE, size=L)
        src[i, :L] = d
        src[i, L] = EOS
        tgt[i, 0] = BOS
        tgt[i, 1 : L + 1] = d[::-1]
        tgt[i, L + 1] = EOS
    return torch.from_numpy(src), torch.from_numpy(tgt)


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    """Reference results from torch built-ins and closed forms (see ``Oracle``)."""
    return Oracle()


@pytest.fixture
def weights(rng: np.random.Generator) -> Weights:
    """Random weights for student modules, drawn from the test's ``rng``."""
    return Weights(rng)


@pytest.fixture(scope="session")
def reversal_data():
    """``reversal_data(n, min_len, max_len, seed)`` -> (src, tgt) int64 tensors."""
    return make_reversal_data
