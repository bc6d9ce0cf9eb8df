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
- ``reversal_data``: the toy task's examples, generated here from a seed;
- ``shakespeare``: the real text (``Shakespeare``): the excerpt of
  ``assignments/corpora/shakespeare``, split into a training part, which the tests hand to
  the submission, and a held-out part, which never leaves the grader; its characters as
  token ids for the GPT and as lines for BERT, the lines' corruption (the fine-tuning
  label), and the bars the trained models must reach, judged by ``Oracle``'s own forward
  pass with the weights the submission trained (``tests/test_shortcuts_text.py`` shows
  that the n-gram and bag-of-characters shortcuts stay on the wrong side of them).

Conventions (the handout's): batch first; boolean masks, True = may attend.

This file ships with the public tests. Keep it to generic references and checks:
nothing in it may tell what a hidden test looks at, and nothing in it may be a
pasteable version of what students write (greedy decoding lives in
``tests/hidden/conftest.py``, which never ships).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from pathlib import Path

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


def _names(keys: list[str]) -> str:
    return ", ".join(keys[:6]) + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")


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

    def bert_params(self, vocab_size: int, d_model: int, dim_ff: int, num_layers: int,
                    max_len: int) -> Shapes:
        """BERT: tok_emb, pos_emb, emb_norm, layers (EncoderLayer), mlm_head."""
        out = {"tok_emb.weight": (vocab_size, d_model), "pos_emb.weight": (max_len, d_model)}
        out |= _norm("emb_norm", d_model)
        for i in range(num_layers):
            out |= self.encoder_layer_params(d_model, dim_ff, f"layers.{i}.")
        return out | _linear("mlm_head", d_model, vocab_size)

    def bert_classifier_params(self, vocab_size: int, d_model: int, dim_ff: int,
                               num_layers: int, max_len: int, num_classes: int) -> Shapes:
        """BertClassifier: bert (BERT) and head (ClsHead)."""
        bert = self.bert_params(vocab_size, d_model, dim_ff, num_layers, max_len)
        head = self.cls_head_params(d_model, num_classes)
        return {f"bert.{k}": v for k, v in bert.items()} | {f"head.{k}": v for k, v in head.items()}

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
    def assert_attention_weights(weights, shape, mask=None, causal=False) -> None:
        """The properties of attention weights, checked before their values: the shape, no
        weight on a key that the mask hides (``causal``: "a later position"), rows that sum
        to 1 over the keys."""
        assert isinstance(weights, torch.Tensor) and tuple(weights.shape) == tuple(shape), (
            f"the attention weights must be a tensor of shape {tuple(shape)}, got "
            f"{tuple(getattr(weights, 'shape', ()))}")
        if mask is not None:
            hidden = ~mask.expand(weights.shape)
            assert not bool((weights[hidden] != 0).any()), (
                "a position attends to a later one (its weight is not 0)" if causal else
                "a query gives weight to a key that its mask hides")
        sums = weights.double().sum(-1)
        assert bool(((sums - 1).abs() < 1e-6).all()), (
            "rows of the attention weights do not sum to 1 over the keys")

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

    # ------------------------------------------------------------ BERT
    def bert(self, sd: State, num_heads, dim_ff, num_layers, tokens, pad_id=0):
        """Hidden states (B, T, D) of the handout's BERT, from post-LN nn.TransformerEncoderLayer
        with a key padding mask."""
        D = sd["tok_emb.weight"].shape[1]
        T = tokens.shape[1]
        h = F.layer_norm(sd["tok_emb.weight"][tokens] + sd["pos_emb.weight"][:T], (D,),
                         sd["emb_norm.weight"], sd["emb_norm.bias"])
        for i in range(num_layers):
            layer = self.encoder_layer_module(sd, D, num_heads, dim_ff, prefix=f"layers.{i}.")
            h = layer(h, src_key_padding_mask=tokens == pad_id)
        return h

    @staticmethod
    def cls_logits(sd: State, hidden, prefix: str = ""):
        """BERT's pooler and classifier on the [CLS] position: (B, T, D) -> (B, C)."""
        pooled = torch.tanh(F.linear(hidden[:, 0], sd[f"{prefix}dense.weight"],
                                     sd[f"{prefix}dense.bias"]))
        return F.linear(pooled, sd[f"{prefix}classifier.weight"], sd[f"{prefix}classifier.bias"])

    # ------------------------------------------------------------ trained models, judged here
    def trained_weights(self, model, params: Shapes) -> State:
        """The weights of a model the submission trained, by value, in float64: exactly the
        handout's parameters (``params``: names and shapes), or a failure that names what
        differs."""
        sd = model.state_dict()
        missing = [k for k in params if k not in sd]
        # the positional table is the module's own buffer: the oracle computes its own
        extra = [k for k in sd if k not in params and k.rsplit(".", 1)[-1] not in Weights.OWN_BUFFERS]
        assert not missing, f"the trained model lacks the handout's parameter(s) {_names(missing)}"
        assert not extra, f"the trained model has parameter(s) the handout does not name: {_names(extra)}"
        wrong = [f"{k} {tuple(sd[k].shape)} (expected {v})" for k, v in params.items()
                 if tuple(sd[k].shape) != tuple(v)]
        assert not wrong, f"parameter shapes differ from the handout's: {_names(wrong)}"
        out = {k: torch.as_tensor(sd[k]).detach().double() for k in params}
        bad = [k for k, v in out.items() if not bool(torch.isfinite(v).all())]
        assert not bad, f"the trained weights are not finite: {_names(bad)}"
        return out

    @torch.no_grad()
    def reversed_exactly(self, sd: State, num_heads, dim_ff, num_layers, src, tgt) -> float:
        """The share of rows of ``tgt`` (B, T_t: BOS, the reversed digits, EOS, PAD...) that
        greedy decoding with the reference Seq2SeqTransformer with ``sd`` reproduces exactly.
        Decoding reproduces a row exactly when, fed the row's own prefix up to each token
        (teacher forcing), the model's argmax is that token, up to EOS; then it pads, as the row
        does. So one causal forward pass over the rows decides it, with no decoding loop here."""
        predicted = self.seq2seq(sd, num_heads, dim_ff, num_layers, src, tgt[:, :-1]).argmax(-1)
        target = tgt[:, 1:]
        right = (predicted == target) | (target == PAD)
        return float(right.all(dim=1).double().mean())

    @torch.no_grad()
    def gpt_held_out_loss(self, sd: State, num_heads, dim_ff, num_layers, windows,
                          batch: int = 512) -> float:
        """Mean next-character cross-entropy (nats) of the reference GPT with ``sd`` on
        ``windows`` (M, T): position t predicts t + 1, as lm_loss."""
        total = 0.0
        for i in range(0, len(windows), batch):
            w = windows[i:i + batch]
            logits = self.gpt(sd, num_heads, dim_ff, num_layers, w)
            total += float(F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                           w[:, 1:].reshape(-1), reduction="sum"))
        return total / (len(windows) * (windows.shape[1] - 1))

    @torch.no_grad()
    def bert_mlm_loss(self, sd: State, num_heads, dim_ff, num_layers, tokens, selected,
                      mask_id) -> float:
        """Mean cross-entropy (nats) of the reference BERT with ``sd`` at the ``selected``
        positions of ``tokens`` (B, T), each replaced by ``mask_id``."""
        hidden = self.bert(sd, num_heads, dim_ff, num_layers, tokens.masked_fill(selected, mask_id))
        logits = F.linear(hidden[selected], sd["mlm_head.weight"], sd["mlm_head.bias"])
        return float(F.cross_entropy(logits, tokens[selected]))

    @torch.no_grad()
    def bert_classifier_accuracy(self, sd: State, num_heads, dim_ff, num_layers, tokens,
                                 labels) -> float:
        """Accuracy of the reference BertClassifier with ``sd`` on ``tokens`` (B, T)."""
        bert = {k[len("bert."):]: v for k, v in sd.items() if k.startswith("bert.")}
        hidden = self.bert(bert, num_heads, dim_ff, num_layers, tokens)
        predicted = self.cls_logits(sd, hidden, "head.").argmax(-1)
        return float((predicted == labels).double().mean())

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

        assert not missing, f"the model lacks the handout's parameter(s) {_names(missing)}"
        assert not extra, f"the model has parameter(s) the handout does not name: {_names(extra)}"
        wrong = [f"{k} {shapes[k]} (expected {tuple(v)})" for k, v in params.items()
                 if shapes[k] != tuple(v)]
        assert not wrong, f"parameter shapes differ from the handout's: {_names(wrong)}"
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


# ---------------------------------------------------------------- real text (Shakespeare)
#: the excerpt, found beside the assignments (in this repository and in every package that
#: copies an assignment with ``corpora = ["shakespeare"]``); workers cannot read it
CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "shakespeare" / "excerpt.txt"
#: the split: the text in blocks of this many characters, every tenth block held out
BLOCK = 10_000
HELD_OUT_EVERY = 10

#: the character-level GPT the tests build and train (handout section 4.4), and how
CHAR_GPT = {"d_model": 64, "num_heads": 4, "num_layers": 2, "dim_ff": 128, "max_len": 32}
CHAR_GPT_TRAINING = {"steps": 300, "batch_size": 32, "lr": 1e-2}
#: held-out cross-entropy (nats per character) the trained GPT must stay below; the best
#: bigram model of the training text reaches 2.49, the reference about 2.13
#: (tests/test_shortcuts_text.py)
CHAR_GPT_BAR = 2.3

#: BERT's special tokens, then one token per character (handout section 3.3)
BERT_PAD, BERT_CLS, BERT_SEP, BERT_MASK = 0, 1, 2, 3
BERT_SPECIAL = [BERT_PAD, BERT_CLS, BERT_SEP, BERT_MASK]
#: lines of at least LINE_MIN characters (stage directions left out), cut to LINE_MAX
LINE_MIN, LINE_MAX = 24, 30
BERT = {"d_model": 64, "num_heads": 4, "num_layers": 2, "dim_ff": 128, "max_len": LINE_MAX + 2}
BERT_PRETRAINING = {"steps": 400, "batch_size": 64, "lr": 5e-3, "mask_prob": 0.15}
BERT_FINETUNING = {"steps": 200, "batch_size": 64, "lr": 1e-3}
#: held-out MLM cross-entropy (nats) the pre-trained BERT must stay below (every masked
#: character predicted by its frequency alone: 3.12; the reference 2.1 to 2.2)
BERT_MLM_BAR = 2.7
#: characters replaced in a corrupted line (the fine-tuning label: 1 corrupted, 0 as written)
CORRUPTED_CHARACTERS = 5
FINETUNE_LINES, TEST_LINES = 2000, 1000
#: held-out accuracy the fine-tuned classifier must reach (the same fine-tuning without
#: pre-training stays at chance, 0.5; the reference 0.68 to 0.80)
BERT_ACCURACY_BAR = 0.6


class Shakespeare:
    """The excerpt, split, and turned into what the tests hand to the submission.

    Attributes:
        alphabet: the excerpt's characters, sorted; the GPT's token of ``alphabet[i]`` is i,
            BERT's is ``len(BERT_SPECIAL) + i``.
        train_blocks, held_out_blocks: the text in blocks of ``BLOCK`` characters, every
            ``HELD_OUT_EVERY``-th held out.
    """

    # what the tests build, how they train it and the bars (the module's constants)
    CHAR_GPT, CHAR_GPT_TRAINING, CHAR_GPT_BAR = CHAR_GPT, CHAR_GPT_TRAINING, CHAR_GPT_BAR
    BERT, BERT_PRETRAINING, BERT_FINETUNING = BERT, BERT_PRETRAINING, BERT_FINETUNING
    BERT_MLM_BAR, BERT_ACCURACY_BAR = BERT_MLM_BAR, BERT_ACCURACY_BAR
    MASK, SPECIAL = BERT_MASK, BERT_SPECIAL

    def __init__(self, text: str):
        self.alphabet = sorted(set(text))
        self._index = {c: i for i, c in enumerate(self.alphabet)}
        blocks = [text[i:i + BLOCK] for i in range(0, len(text), BLOCK)]
        self.held_out_blocks = blocks[HELD_OUT_EVERY - 1::HELD_OUT_EVERY]
        self.train_blocks = [b for i, b in enumerate(blocks)
                             if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
        counts = Counter("".join(self.lines(self.train_blocks)))
        self._line_characters = sorted(counts)
        frequencies = np.array([counts[c] for c in self._line_characters], dtype=np.float64)
        self._line_frequencies = frequencies / frequencies.sum()

    # ------------------------------------------------------------ the GPT's view
    def ids(self, text: str) -> torch.Tensor:
        """int64 (len(text),): one token per character."""
        return torch.tensor([self._index[c] for c in text], dtype=torch.long)

    def gpt_train_ids(self) -> torch.Tensor:
        """The training part as one stream of token ids (blocks joined)."""
        return self.ids("".join(self.train_blocks))

    def gpt_held_out_windows(self, T: int) -> torch.Tensor:
        """(M, T): the held-out blocks cut into windows of T characters (none across blocks)."""
        rows = [self.ids(b[i:i + T]) for b in self.held_out_blocks
                for i in range(0, len(b) - T + 1, T)]
        return torch.stack(rows)

    # ------------------------------------------------------------ BERT's view
    @staticmethod
    def lines(blocks: list[str]) -> list[str]:
        """Lines of at least LINE_MIN characters (spaces around them removed), stage
        directions ("[...") left out, cut to LINE_MAX characters."""
        stripped = (line.strip() for b in blocks for line in b.split("\n"))
        return [line[:LINE_MAX] for line in stripped
                if len(line) >= LINE_MIN and not line.startswith("[")]

    def bert_tokens(self, lines: list[str]) -> torch.Tensor:
        """(N, LINE_MAX + 2): [CLS], the line's characters, [SEP], then [PAD]."""
        out = torch.full((len(lines), LINE_MAX + 2), BERT_PAD, dtype=torch.long)
        for i, line in enumerate(lines):
            ids = [BERT_CLS, *(len(BERT_SPECIAL) + self._index[c] for c in line), BERT_SEP]
            out[i, :len(ids)] = torch.tensor(ids)
        return out

    @property
    def bert_vocab_size(self) -> int:
        return len(BERT_SPECIAL) + len(self.alphabet)

    def corrupt(self, line: str, rng: np.random.Generator) -> str:
        """``line`` with CORRUPTED_CHARACTERS of its characters, at distinct random positions,
        replaced by characters drawn by their frequency in the training lines (possibly the
        same one), so that a corrupted line holds, on average, the characters of a genuine
        one: no bag of characters tells them apart."""
        chars = list(line)
        drawn = rng.choice(len(self._line_characters), CORRUPTED_CHARACTERS,
                           p=self._line_frequencies)
        for i, c in zip(rng.choice(len(chars), CORRUPTED_CHARACTERS, replace=False), drawn,
                        strict=True):
            chars[i] = self._line_characters[c]
        return "".join(chars)

    def finetuning_data(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(tokens (N, T), labels (N,)): FINETUNE_LINES training lines, each corrupted (label
        1) or not (label 0) with probability 1/2."""
        lines = self.lines(self.train_blocks)
        chosen = [lines[i] for i in rng.choice(len(lines), FINETUNE_LINES, replace=False)]
        labels = rng.random(len(chosen)) < 0.5
        text = [self.corrupt(s, rng) if y else s for s, y in zip(chosen, labels, strict=True)]
        return self.bert_tokens(text), torch.from_numpy(labels.astype(np.int64))

    def test_data(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(tokens, labels): TEST_LINES held-out lines, each as written (0) and corrupted (1)."""
        lines = self.lines(self.held_out_blocks)
        chosen = [lines[i] for i in rng.choice(len(lines), TEST_LINES, replace=False)]
        text = [t for s in chosen for t in (s, self.corrupt(s, rng))]
        return self.bert_tokens(text), torch.tensor([0, 1] * len(chosen))

    def mlm_test_data(self, rng: np.random.Generator, mask_prob: float = 0.15):
        """(tokens, selected): every held-out line, and a bool (N, T) choice of the
        characters to mask (each with probability ``mask_prob``; special tokens never)."""
        tokens = self.bert_tokens(self.lines(self.held_out_blocks))
        selected = torch.from_numpy(rng.random(tuple(tokens.shape)) < mask_prob)
        return tokens, selected & (tokens >= len(BERT_SPECIAL))


@functools.cache
def read_shakespeare() -> Shakespeare:
    """The excerpt, read once per grading process."""
    assert CORPUS.is_file(), (
        f"the Shakespeare excerpt is not at {CORPUS}: grade with dlgrade in the course "
        "folder, or with a package that copies it (assignment.toml: corpora)")
    return Shakespeare(CORPUS.read_text(encoding="ascii"))


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    """Reference results from torch built-ins and closed forms (see ``Oracle``)."""
    return Oracle()


@pytest.fixture
def weights(rng: np.random.Generator) -> Weights:
    """Random weights for student modules, drawn from the test's ``rng``."""
    return Weights(rng)


@pytest.fixture(scope="session")
def shakespeare() -> Shakespeare:
    """The real text, split (see ``Shakespeare``)."""
    return read_shakespeare()


@pytest.fixture(scope="session")
def reversal_data():
    """``reversal_data(n, min_len, max_len, seed)`` -> (src, tgt) int64 tensors."""
    return make_reversal_data
