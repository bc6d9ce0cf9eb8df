"""Public tests for attention.py: attention and masks against torch's built-ins."""

import pytest
import torch

from autograder.testing import assert_close


def _qkv(rng, *batch, T_q=5, T_k=6, d_k=8, d_v=7):
    t = lambda *s: torch.tensor(rng.standard_normal(s))  # noqa: E731
    return t(*batch, T_q, d_k), t(*batch, T_k, d_k), t(*batch, T_k, d_v)


@pytest.mark.points(2)
def test_sdpa_matches_torch(submission, oracle, rng):
    """scaled_dot_product_attention matches F.scaled_dot_product_attention (outputs and weights)."""
    q, k, v = _qkv(rng, 2, 3)
    out, weights = submission.attention.scaled_dot_product_attention(q, k, v)
    exp_out, exp_w = oracle.sdpa(q, k, v)
    oracle.assert_attention_weights(weights, exp_w.shape)
    assert_close(weights, exp_w, rtol=1e-6, atol=1e-9, name="weights")
    assert_close(out, exp_out, rtol=1e-6, atol=1e-9, name="out")


@pytest.mark.points(2)
def test_sdpa_padding_mask(submission, oracle, rng):
    """scaled_dot_product_attention with a key padding mask: masked keys get weight 0, rows sum to 1."""
    q, k, v = _qkv(rng, 3)
    lengths = torch.tensor([6, 2, 4])
    mask = (torch.arange(6)[None, :] < lengths[:, None])[:, None, :]   # (B, 1, T_k)
    out, weights = submission.attention.scaled_dot_product_attention(q, k, v, mask)
    exp_out, exp_w = oracle.sdpa(q, k, v, mask)
    oracle.assert_attention_weights(weights, exp_w.shape, mask)
    assert_close(weights, exp_w, rtol=1e-6, atol=1e-9, name="weights")
    assert_close(out, exp_out, rtol=1e-6, atol=1e-9, name="out")


@pytest.mark.points(1)
def test_causal_mask_square(submission, oracle):
    """causal_mask(T) is the lower-triangular bool matrix: position i sees 0..i only."""
    for T in (1, 4, 7):
        assert_close(submission.attention.causal_mask(T), oracle.causal_mask(T),
                     name=f"causal_mask({T})")


@pytest.mark.points(2)
def test_mha_self_attention_matches_torch(submission, oracle, weights, rng):
    """MultiHeadAttention (self-attention, 4 heads) matches nn.MultiheadAttention with the same weights."""
    D, H = 16, 4
    mha = submission.attention.MultiHeadAttention(D, H)
    sd = weights.load(mha, oracle.mha_params(D))
    x = torch.tensor(rng.standard_normal((3, 5, D)))
    assert_close(mha(x, x, x), oracle.mha(sd, H, x, x, x).detach(), rtol=1e-6, atol=1e-9,
                 name="MultiHeadAttention(x, x, x)")
