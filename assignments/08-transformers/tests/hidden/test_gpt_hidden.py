"""Hidden tests for gpt.py: causality, KV-cache chunks and contents, sampling statistics, seeded generation."""

import pytest
import torch

from autograder.testing import assert_close

V, D, H, FF, L = 20, 16, 4, 32, 2


def _gpt(submission, oracle, weights, num_layers=L):
    """The student's GPT with random weights for the handout's parameters, and those weights."""
    model = submission.gpt.GPT(V, d_model=D, num_heads=H, num_layers=num_layers, dim_ff=FF, max_len=32)
    return model, weights.load(model, oracle.gpt_params(V, D, FF, num_layers, 32))


def _tokens(rng, B, T):
    return torch.from_numpy(rng.integers(0, V, size=(B, T)))


@pytest.mark.points(1)
def test_lm_loss_gradient(submission, oracle, rng):
    """lm_loss's gradient: the last position's logits get none, the others match torch's."""
    logits = torch.tensor(rng.standard_normal((2, 5, V)))
    tokens = _tokens(rng, 2, 5)
    res = submission.autograd_probe(submission.gpt.lm_loss, [logits, tokens])
    lt = logits.clone().requires_grad_()
    oracle.lm_loss(lt, tokens).backward()
    assert_close(res["input_grads"][0], lt.grad, rtol=1e-6, atol=1e-10, name="d logits")


@pytest.mark.points(2)
def test_gpt_is_causal(submission, oracle, weights, rng):
    """GPT's logits at position t do not change when any later token changes."""
    model, sd = _gpt(submission, oracle, weights)
    idx = _tokens(rng, 2, 10)
    base, _ = model(idx)
    # Causality is only worth checking on the right logits: a model of zeros is causal too.
    oracle.assert_reference_gpt(base, sd, H, FF, L, idx)
    for t in (0, 4, 8):
        other = idx.clone()
        other[:, t + 1:] = (other[:, t + 1:] + 1) % V
        logits, _ = model(other)
        assert_close(logits[:, :t + 1], base[:, :t + 1], rtol=1e-9, atol=1e-10,
                     name=f"logits up to position {t} after changing later tokens")


@pytest.mark.points(2)
def test_kv_cache_chunks(submission, oracle, weights, rng):
    """GPT with a KV cache fed several tokens at a time (3, then 4, then 2) matches the full forward."""
    model, sd = _gpt(submission, oracle, weights)
    idx = _tokens(rng, 2, 9)
    full = oracle.gpt(sd, H, FF, L, idx).detach()
    kv = None
    for a, b in ((0, 3), (3, 7), (7, 9)):
        logits, kv = model(idx[:, a:b], kv)
        assert_close(logits, full[:, a:b], rtol=1e-6, atol=1e-8, name=f"cached logits of positions {a}..{b - 1}")


@pytest.mark.points(2)
def test_kv_cache_contents(submission, oracle, weights, rng):
    """The KV cache holds (B, H, T, d_head) keys and values, oldest position first; a step appends at the end."""
    model, sd = _gpt(submission, oracle, weights, num_layers=1)
    idx = _tokens(rng, 2, 6)
    _, kv5 = model(idx[:, :5])
    _, kv6 = model(idx[:, 5:], kv5)
    _, full = model(idx)
    assert len(kv6) == 1 and len(full) == 1, "one (k, v) per block expected"
    # First, what the cache must hold: the block's own keys and values, from its weights.
    for name, cached, expected in zip("kv", full[0], oracle.gpt_keys_values(sd, H, idx), strict=True):
        assert_close(cached, expected, rtol=1e-6, atol=1e-8,
                     name=f"cached {name} vs the keys/values of ln1(embeddings) with the same weights")
    for name, a, b, c in (("k", kv5[0][0], kv6[0][0], full[0][0]), ("v", kv5[0][1], kv6[0][1], full[0][1])):
        assert tuple(b.shape) == (2, H, 6, D // H), f"cached {name} has shape {tuple(b.shape)}"
        assert_close(b[:, :, :5], a, rtol=1e-9, atol=1e-12, name=f"cached {name}: the first 5 positions")
        assert_close(b, c, rtol=1e-6, atol=1e-8, name=f"cached {name} after a step vs without cache")


def _frequencies(tokens, n):
    return torch.bincount(tokens, minlength=n).double() / len(tokens)


@pytest.mark.points(2)
def test_sampling_temperature_statistics(submission, oracle, rng):
    """sample_next_token at temperature 0.5 and 2 draws from softmax(logits / T)."""
    row = torch.tensor(rng.standard_normal(8))
    for temperature in (0.5, 2.0):
        tokens = submission.gpt.sample_next_token(row.expand(40000, 8).clone(), temperature)
        assert tuple(tokens.shape) == (40000,), f"sample_next_token returned shape {tuple(tokens.shape)}"
        expected = oracle.top_k_probs(row[None], temperature, None)[0]
        diff = float((_frequencies(tokens, 8) - expected).abs().max())
        assert diff < 0.015, f"frequencies at temperature {temperature} are off"


@pytest.mark.points(3)
def test_sampling_top_k_statistics(submission, oracle, rng):
    """sample_next_token with top_k draws only the k most likely tokens, with renormalized probabilities."""
    row = torch.tensor(rng.standard_normal(10))
    for k in (1, 2, 4):
        tokens = submission.gpt.sample_next_token(row.expand(40000, 10).clone(), 1.0, k)
        expected = oracle.top_k_probs(row[None], 1.0, k)[0]
        freq = _frequencies(tokens, 10)
        assert bool((freq[expected == 0] == 0).all()), f"top_k={k} sampled a token outside the top {k}"
        assert float((freq - expected).abs().max()) < 0.015, f"frequencies with top_k={k} are off"


@pytest.mark.points(2)
def test_generate_seeded_and_cache_free(submission, oracle, weights, rng):
    """generate: the same seed gives the same tokens, with or without the cache; another seed differs."""
    model, sd = _gpt(submission, oracle, weights)
    prompt = _tokens(rng, 4, 3)
    oracle.assert_reference_gpt(model(prompt)[0], sd, H, FF, L, prompt, "GPT(prompt)")
    gen = submission.gpt.generate
    a = gen(model, prompt, 10, temperature=1.5, top_k=10, seed=7)
    b = gen(model, prompt, 10, temperature=1.5, top_k=10, seed=7)
    c = gen(model, prompt, 10, temperature=1.5, top_k=10, seed=7, use_cache=False)
    d = gen(model, prompt, 10, temperature=1.5, top_k=10, seed=8)
    assert tuple(a.shape) == (4, 13), f"generate returned shape {tuple(a.shape)}"
    assert torch.equal(a[:, :3], prompt), "the output must start with the prompt"
    assert torch.equal(a, b), "the same seed gave different tokens"
    assert torch.equal(a, c), "use_cache=False gave different tokens than use_cache=True"
    assert not torch.equal(a, d), "different seeds gave the same tokens"
    # Every sampled token is one of the 10 most likely under the reference GPT, given the
    # tokens before it (ties with the 10th included).
    logits = oracle.gpt(sd, H, FF, L, a[:, :-1])[:, 2:]
    tenth = logits.topk(10, dim=-1).values[..., -1]
    chosen = logits.gather(-1, a[:, 3:, None])[..., 0]
    assert bool((chosen >= tenth).all()), (
        "generate(top_k=10) sampled a token outside the 10 most likely ones")


@pytest.mark.points(1)
def test_generate_top_1_is_greedy(submission, oracle, weights, rng):
    """generate with top_k=1 at any temperature gives the greedy tokens."""
    model, sd = _gpt(submission, oracle, weights)
    prompt = _tokens(rng, 3, 2)
    greedy = submission.gpt.generate(model, prompt, 8, temperature=0.0)
    assert_close(greedy, oracle.gpt_greedy(sd, H, FF, L, prompt, 8),
                 name="generate(temperature=0) vs greedy decoding of a reference GPT with the same weights")
    top1 = submission.gpt.generate(model, prompt, 8, temperature=3.0, top_k=1, seed=1)
    assert torch.equal(greedy, top1), "top_k=1 differs from greedy decoding"
