"""Attention: scaled dot-product attention, masks and multi-head attention (torch).

Conventions used throughout this assignment:

- Tensors are **batch first**: a batch of sequences of vectors is ``(B, T, D)``.
- A **mask is boolean and True means "may attend"**: ``mask[..., i, j]`` is True
  when query ``i`` may look at key ``j`` (the convention of
  ``torch.nn.functional.scaled_dot_product_attention``; note that
  ``nn.MultiheadAttention`` uses the opposite one). Masks broadcast against the
  attention scores ``(..., T_q, T_k)``.
- Every query may attend to at least one key (no row is fully masked).
"""

import math

import torch
import torch.nn as nn


def scaled_dot_product_attention(q, k, v, mask=None):
    """Scaled dot-product attention: softmax(q k^T / sqrt(d_k)) v.

    Masked-out scores (mask False) are set to -inf BEFORE the softmax, so that
    they get weight exactly 0 and every row of the weights sums to 1.

    Inputs:
    - q: queries, tensor (..., T_q, d_k)
    - k: keys, tensor (..., T_k, d_k)
    - v: values, tensor (..., T_k, d_v)
    - mask: optional bool tensor broadcastable to (..., T_q, T_k); True = may attend

    Returns a tuple of:
    - out: tensor (..., T_q, d_v), the weighted sums of the values
    - weights: tensor (..., T_q, T_k), the attention weights (softmax over the keys)
    """
    # BEGIN SOLUTION hint: section 1.1: the weights of every query over the keys, and the values they weigh
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    out = weights @ v
    # END SOLUTION
    return out, weights


def causal_mask(T_q, T_k=None):
    """Causal (look-ahead) mask: query i may attend to key j only if j <= i + (T_k - T_q).

    With T_k == T_q (the default) this is the lower-triangular matrix: position i
    sees positions 0..i and never a later one. With T_k > T_q the queries are the
    LAST T_q positions of a sequence of length T_k (decoding with a cache of
    T_k - T_q earlier positions), and query i is position i + T_k - T_q.

    Inputs:
    - T_q: int, number of queries
    - T_k: int >= T_q, number of keys (default T_q)

    Returns:
    - mask: bool tensor (T_q, T_k), True = may attend
    """
    # BEGIN SOLUTION hint: section 1.2: which keys each query may see
    if T_k is None:
        T_k = T_q
    mask = torch.ones(T_q, T_k, dtype=torch.bool).tril(diagonal=T_k - T_q)
    # END SOLUTION
    return mask


def padding_mask(tokens, pad_id):
    """Key padding mask: no query may attend to a padding token.

    Inputs:
    - tokens: integer tensor (B, T)
    - pad_id: int, the padding token

    Returns:
    - mask: bool tensor (B, 1, 1, T), True where tokens != pad_id; it broadcasts
      against scores (B, H, T_q, T)
    """
    # BEGIN SOLUTION hint: section 1.2: which keys are real tokens, shaped to broadcast against the scores
    mask = (tokens != pad_id)[:, None, None, :]
    # END SOLUTION
    return mask


def split_heads(x, num_heads):
    """Split the last axis into heads: (B, T, D) -> (B, H, T, D // H).

    Head h takes the features h * d_head .. (h + 1) * d_head - 1 (contiguous
    slices, as in nn.MultiheadAttention), where d_head = D // H.

    Inputs:
    - x: tensor (B, T, D), D divisible by num_heads
    - num_heads: int, H

    Returns:
    - tensor (B, H, T, D // H)
    """
    # BEGIN SOLUTION hint: section 1.3: each head's slice of the features
    B, T, D = x.shape
    out = x.reshape(B, T, num_heads, D // num_heads).transpose(1, 2)
    # END SOLUTION
    return out


def merge_heads(x):
    """Inverse of split_heads: (B, H, T, d_head) -> (B, T, H * d_head).

    Inputs:
    - x: tensor (B, H, T, d_head)

    Returns:
    - tensor (B, T, H * d_head); merge_heads(split_heads(x, H)) == x
    """
    # BEGIN SOLUTION hint: section 1.3: the inverse of split_heads
    B, H, T, d_head = x.shape
    out = x.transpose(1, 2).reshape(B, T, H * d_head)
    # END SOLUTION
    return out


class MultiHeadAttention(nn.Module):
    """Multi-head attention (Vaswani et al. 2017), for self- and cross-attention.

        Q = split_heads(q_proj(query)), K = split_heads(k_proj(key)), V = split_heads(v_proj(value))
        out = out_proj(merge_heads(scaled_dot_product_attention(Q, K, V, mask)))

    The same computation as nn.MultiheadAttention(d_model, num_heads, batch_first=True)
    with in_proj_weight = cat(q_proj.weight, k_proj.weight, v_proj.weight).

    Inputs:
    - d_model: int, D, the model width
    - num_heads: int, H; D must be divisible by H (d_head = D // H)

    Attributes (the grader loads weights into them by name):
    - q_proj, k_proj, v_proj, out_proj: nn.Linear(d_model, d_model) with bias
    - num_heads: H
    - d_head: D // H
    """

    def __init__(self, d_model, num_heads):
        super().__init__()
        assert d_model % num_heads == 0, "d_model must be divisible by num_heads"
        # BEGIN SOLUTION hint: section 1.4: the attributes of the docstring
        self.num_heads = num_heads
        self.d_head = d_model // num_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        # END SOLUTION

    def forward(self, query, key, value, mask=None):
        """Attend from query to key/value.

        Inputs:
        - query: tensor (B, T_q, D)
        - key: tensor (B, T_k, D)
        - value: tensor (B, T_k, D)
        - mask: optional bool tensor broadcastable to (B, H, T_q, T_k); True = may attend
          (e.g. causal_mask(T_q) of shape (T_q, T_k), or padding_mask(...) of shape (B, 1, 1, T_k))

        Returns:
        - out: tensor (B, T_q, D)
        """
        # BEGIN SOLUTION hint: section 1.4: multi-head attention from query to key and value
        q = split_heads(self.q_proj(query), self.num_heads)
        k = split_heads(self.k_proj(key), self.num_heads)
        v = split_heads(self.v_proj(value), self.num_heads)
        out, _ = scaled_dot_product_attention(q, k, v, mask)
        out = self.out_proj(merge_heads(out))
        # END SOLUTION
        return out
