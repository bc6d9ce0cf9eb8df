"""Public tests for gpt.py: the LM loss, top-k, the model against torch layers, the KV cache,
greedy generation, the sampling distribution, and a character-level GPT trained on Shakespeare."""

import math

import pytest
import torch

from autograder.testing import assert_close

V, D, H, FF, L = 20, 16, 4, 32, 2


def _gpt(submission, oracle, weights):
    """The student's GPT with random weights for the handout's parameters, and those weights."""
    model = submission.gpt.GPT(V, d_model=D, num_heads=H, num_layers=L, dim_ff=FF, max_len=32)
    return model, weights.load(model, oracle.gpt_params(V, D, FF, L, 32))


def _tokens(rng, B, T):
    return torch.from_numpy(rng.integers(0, V, size=(B, T)))


@pytest.mark.points(1)
def test_lm_loss(submission, oracle, rng):
    """lm_loss is the mean cross-entropy of logits[:, t] against tokens[:, t + 1]."""
    logits = torch.tensor(rng.standard_normal((3, 7, V)))
    tokens = _tokens(rng, 3, 7)
    assert_close(submission.gpt.lm_loss(logits, tokens), oracle.lm_loss(logits, tokens), rtol=1e-7,
                 name="lm_loss")


@pytest.mark.points(1)
def test_top_k_filter(submission, rng):
    """top_k_filter keeps exactly the k largest logits of every row and sets the rest to -inf."""
    logits = torch.tensor(rng.standard_normal((4, 10)))
    for k in (1, 3):
        out = submission.gpt.top_k_filter(logits, k)
        keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, logits.topk(k, -1).indices, True)
        assert tuple(out.shape) == (4, 10), f"top_k_filter returned shape {tuple(out.shape)}"
        assert torch.equal(torch.isfinite(out), keep), f"top_k_filter(logits, {k}) keeps the wrong entries"
        assert bool((out[~keep] == float("-inf")).all()), "filtered logits must be -inf"
        assert_close(out[keep], logits[keep], name=f"kept logits (k={k})")


@pytest.mark.points(2)
def test_gpt_forward_matches_torch(submission, oracle, weights, rng):
    """GPT's logits match a model built from pre-LN nn.TransformerEncoderLayer (GELU, causal mask)."""
    model, sd = _gpt(submission, oracle, weights)
    idx = _tokens(rng, 2, 9)
    logits, _ = model(idx)
    oracle.assert_reference_gpt(logits, sd, H, FF, L, idx, "GPT(idx) logits")


@pytest.mark.points(2)
def test_kv_cache_matches_full_recompute(submission, oracle, weights, rng):
    """GPT with a KV cache, one token at a time, gives the logits of recomputing the whole prefix."""
    model, sd = _gpt(submission, oracle, weights)
    idx = _tokens(rng, 2, 8)
    full, _ = model(idx)
    # A cache is only worth checking on a model that computes the right logits without one.
    oracle.assert_reference_gpt(full, sd, H, FF, L, idx, "GPT(idx) without a cache")
    logits, kv = model(idx[:, :3])
    assert_close(logits, full[:, :3], rtol=1e-6, atol=1e-8,
                 name="the logits of the prompt vs those of the whole sequence")
    for t in range(3, 8):
        step, kv = model(idx[:, t:t + 1], kv)
        assert_close(step, full[:, t:t + 1], rtol=1e-6, atol=1e-8,
                     name=f"the cached logits at position {t} vs the uncached ones")


@pytest.mark.points(1)
def test_generate_greedy(submission, oracle, weights, rng):
    """generate with temperature 0 appends the argmax of the last position's logits, step after step."""
    model, sd = _gpt(submission, oracle, weights)
    prompt = _tokens(rng, 3, 4)
    # The expected tokens are the reference GPT's with the same weights: first, the model's
    # logits must be that GPT's.
    oracle.assert_reference_gpt(model(prompt)[0], sd, H, FF, L, prompt, "GPT(prompt)")
    expected = prompt
    for _ in range(6):
        logits = oracle.gpt(sd, H, FF, L, expected)
        expected = torch.cat([expected, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    out = submission.gpt.generate(model, prompt, 6, temperature=0.0)
    assert_close(out, expected, name="generate(model, prompt, 6, temperature=0)")


@pytest.mark.points(2)
def test_sample_next_token_distribution(submission, oracle, rng):
    """sample_next_token: only the k most likely tokens appear, their frequencies are those of
    softmax(logits / temperature) over them, and a temperature near 0 gives the argmax."""
    # logits at least 0.5 apart, in a random order: the argmax is clear at a low temperature
    row = torch.from_numpy(rng.permutation(12) * 0.5 + 0.1 * rng.random(12))
    n = 20000
    for temperature, k in ((1.0, None), (1.0, 3), (0.7, 5)):
        tokens = submission.gpt.sample_next_token(row.expand(n, 12).clone(), temperature, k)
        assert tuple(tokens.shape) == (n,), f"sample_next_token returned shape {tuple(tokens.shape)}"
        expected = oracle.top_k_probs(row[None], temperature, k)[0]
        freq = torch.bincount(tokens, minlength=12).double() / n
        what = f"temperature {temperature}" + (f", top_k={k}" if k else "")
        assert bool((freq[expected == 0] == 0).all()), f"{what}: a token outside the top {k} was drawn"
        # a generous bound: five standard errors of a frequency, plus a little
        bound = 5 * (expected * (1 - expected) / n).sqrt() + 1e-3
        assert bool(((freq - expected).abs() <= bound).all()), (
            f"{what}: the frequencies of the drawn tokens are not softmax(logits / temperature)")
    cold = submission.gpt.sample_next_token(row.expand(200, 12).clone(), 0.01)
    assert bool((cold == row.argmax()).all()), "temperature 0.01 drew a token other than the argmax"


@pytest.mark.points(6)
def test_char_gpt_learns_shakespeare(submission, oracle, shakespeare, rng, seed):
    """train_char_gpt on the excerpt's training text: the GPT's cross-entropy on held-out text,
    computed by the grader from the trained weights, is below 2.3 nats per character (the best
    bigram model: 2.49)."""
    text, cfg = shakespeare, shakespeare.CHAR_GPT
    V, T = len(text.alphabet), cfg["max_len"]
    model = submission.gpt.GPT(V, **cfg)
    steps = text.CHAR_GPT_TRAINING["steps"]
    losses = submission.gpt.train_char_gpt(model, text.gpt_train_ids(), seed=seed,
                                           **text.CHAR_GPT_TRAINING)
    assert len(losses) == steps, f"train_char_gpt returned {len(losses)} losses for {steps} steps"
    # The model is judged by the reference GPT's forward pass with the trained weights, on
    # held-out windows that the submission never sees.
    sd = oracle.trained_weights(model, oracle.gpt_params(V, cfg["d_model"], cfg["dim_ff"],
                                                         cfg["num_layers"], T))
    windows = text.gpt_held_out_windows(T)
    windows = windows[torch.from_numpy(rng.choice(len(windows), 1024, replace=False))]
    loss = oracle.gpt_held_out_loss(sd, cfg["num_heads"], cfg["dim_ff"], cfg["num_layers"], windows)
    bar = text.CHAR_GPT_BAR
    assert loss < bar, (
        f"the trained GPT predicts held-out text no better than a bigram model: {loss:.3f} nats "
        f"per character, not below {bar} (untrained: about {math.log(V):.2f})")
