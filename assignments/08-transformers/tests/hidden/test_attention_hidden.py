"""Hidden tests for attention.py: masks, scaling, heads, cross-attention and gradients."""

import math

import pytest
import torch

from autograder.testing import ProbeLabels, assert_close, assert_probe_matches


def _t(rng, *shape):
    return torch.tensor(rng.standard_normal(shape))


@pytest.mark.points(2)
def test_sdpa_causal_matches_torch(submission, oracle, rng):
    """scaled_dot_product_attention with causal_mask matches F.scaled_dot_product_attention(is_causal)."""
    q, k, v = _t(rng, 2, 7, 4), _t(rng, 2, 7, 4), _t(rng, 2, 7, 3)
    mask = submission.attention.causal_mask(7)
    out, weights = submission.attention.scaled_dot_product_attention(q, k, v, mask)
    exp_out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    _, exp_w = oracle.sdpa(q, k, v, oracle.causal_mask(7))
    oracle.assert_attention_weights(weights, exp_w.shape, oracle.causal_mask(7), causal=True)
    assert_close(weights, exp_w, rtol=1e-6, atol=1e-9, name="weights")
    assert_close(out, exp_out, rtol=1e-6, atol=1e-9, name="out")


@pytest.mark.points(2)
def test_sdpa_scaling_large_dk(submission, oracle, rng):
    """scaled_dot_product_attention divides the scores by sqrt(d_k) (d_k = 64, one query)."""
    q, k, v = _t(rng, 1, 64), _t(rng, 9, 64), _t(rng, 9, 2)
    out, weights = submission.attention.scaled_dot_product_attention(q, k, v)
    exp_out, exp_w = oracle.sdpa(q, k, v)
    oracle.assert_attention_weights(weights, exp_w.shape)
    assert_close(weights, exp_w, rtol=1e-6, atol=1e-9, name="weights")
    assert_close(out, exp_out, rtol=1e-6, atol=1e-9, name="out")


@pytest.mark.points(2)
def test_sdpa_general_mask_and_batch_axes(submission, oracle, rng):
    """scaled_dot_product_attention with extra batch axes and a random mask: weights sum to 1 over the keys."""
    q, k, v = _t(rng, 2, 3, 4, 5), _t(rng, 2, 3, 6, 5), _t(rng, 2, 3, 6, 2)
    mask = torch.tensor(rng.random((2, 1, 4, 6)) < 0.6)
    mask[..., 0] = True            # every query sees at least one key
    out, weights = submission.attention.scaled_dot_product_attention(q, k, v, mask)
    exp_out, exp_w = oracle.sdpa(q, k, v, mask)
    oracle.assert_attention_weights(weights, exp_w.shape, mask)
    assert_close(weights, exp_w, rtol=1e-6, atol=1e-9, name="weights")
    assert_close(out, exp_out, rtol=1e-6, atol=1e-9, name="out")


@pytest.mark.points(1)
def test_causal_mask_rectangular(submission, oracle):
    """causal_mask(T_q, T_k) with a cache of T_k - T_q earlier positions."""
    for T_q, T_k in ((1, 1), (1, 5), (3, 7), (4, 4)):
        assert_close(submission.attention.causal_mask(T_q, T_k), oracle.causal_mask(T_q, T_k),
                     name=f"causal_mask({T_q}, {T_k})")


@pytest.mark.points(1)
def test_padding_mask(submission):
    """padding_mask(tokens, pad_id) is (B, 1, 1, T), True on the non-padding keys."""
    tokens = torch.tensor([[5, 6, 7, 0, 0], [3, 0, 4, 9, 0]])
    expected = torch.tensor([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0]], dtype=torch.bool)[:, None, None, :]
    assert_close(submission.attention.padding_mask(tokens, 0), expected, name="padding_mask")


@pytest.mark.points(1)
def test_split_and_merge_heads(submission, rng):
    """split_heads gives head h the features h*d_head..(h+1)*d_head-1; merge_heads undoes it."""
    x = _t(rng, 2, 3, 12)
    heads = submission.attention.split_heads(x, 4)
    assert_close(heads, x.reshape(2, 3, 4, 3).permute(0, 2, 1, 3), name="split_heads(x, 4)")
    assert_close(submission.attention.merge_heads(heads), x, name="merge_heads(split_heads(x, 4))")


@pytest.mark.points(2)
def test_mha_cross_attention_with_mask(submission, oracle, weights, rng):
    """MultiHeadAttention cross-attention (T_q != T_k, key padding) matches nn.MultiheadAttention."""
    D, H = 12, 3
    mha = submission.attention.MultiHeadAttention(D, H)
    sd = weights.load(mha, oracle.mha_params(D))
    query, memory = _t(rng, 2, 4, D), _t(rng, 2, 6, D)
    mask = torch.tensor([[1, 1, 1, 1, 1, 0], [1, 1, 0, 0, 0, 0]], dtype=torch.bool)[:, None, None, :]
    expected = oracle.mha(sd, H, query, memory, memory, mask).detach()
    assert_close(mha(query, memory, memory, mask), expected, rtol=1e-6, atol=1e-9,
                 name="MultiHeadAttention(query, memory, memory, mask)")


@pytest.mark.points(2)
def test_mha_gradients_match_torch(submission, oracle, weights, rng):
    """MultiHeadAttention's gradients (inputs and weights, causal mask) match nn.MultiheadAttention's."""
    D, H = 8, 2
    mha = submission.attention.MultiHeadAttention(D, H)
    sd = weights.load(mha, oracle.mha_params(D))
    q, kv = _t(rng, 2, 5, D), _t(rng, 2, 5, D)
    mask = oracle.causal_mask(5)
    g = _t(rng, 2, 5, D)
    res = submission.autograd_probe(mha, [q, kv, kv, mask], g, params=True)
    m = oracle.mha_module(sd, D, H)
    qt, kt = q.clone().requires_grad_(), kv.clone().requires_grad_()
    out, _ = m(qt, kt, kt, need_weights=False, attn_mask=~mask)
    out.backward(g)
    labels, tol = ProbeLabels(inputs=("d query",), param="d {param}"), {"rtol": 1e-6, "atol": 1e-9}
    assert_probe_matches(res, {"output": out.detach(), "input_grads": [qt.grad]}, name="output",
                         labels=labels, **tol)
    assert_close(res["input_grads"][1] + res["input_grads"][2], kt.grad, name="d key + d value", **tol)
    W_in = m.in_proj_weight.grad
    grads = {f"{n}_proj.weight": W_in[i * D:(i + 1) * D] for i, n in enumerate("qkv")}
    grads["out_proj.weight"] = m.out_proj.weight.grad
    assert_probe_matches(res, {"param_grads": grads}, labels=labels, **tol)
    assert math.isfinite(float(res["output"].sum()))
