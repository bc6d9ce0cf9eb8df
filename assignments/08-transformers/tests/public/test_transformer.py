"""Public tests for transformer.py: positional encoding, encoder and decoder layers, the toy task."""

import pytest
import torch

from autograder.testing import assert_close


def _t(rng, *shape):
    return torch.tensor(rng.standard_normal(shape))


@pytest.mark.points(2)
def test_positional_encoding_table(submission, oracle):
    """sinusoidal_positional_encoding(50, 16) equals the exact sin/cos table (float32)."""
    pe = submission.transformer.sinusoidal_positional_encoding(50, 16)
    expected = torch.from_numpy(oracle.positional_encoding(50, 16)).float()
    assert_close(pe, expected, rtol=1e-5, atol=1e-6, name="sinusoidal_positional_encoding(50, 16)")


@pytest.mark.points(2)
def test_encoder_layer_matches_torch(submission, oracle, weights, rng):
    """EncoderLayer matches nn.TransformerEncoderLayer (post-LN, ReLU, no dropout) with the same weights."""
    D, H, F = 16, 4, 32
    layer = submission.transformer.EncoderLayer(D, H, F)
    sd = weights.load(layer, oracle.encoder_layer_params(D, F))
    x = _t(rng, 2, 6, D)
    assert_close(layer(x), oracle.encoder_layer(sd, H, F, x).detach(), rtol=1e-6, atol=1e-8,
                 name="EncoderLayer(x)")


@pytest.mark.points(2)
def test_decoder_layer_matches_torch(submission, oracle, weights, rng):
    """DecoderLayer (causal self-attention, then cross-attention) matches nn.TransformerDecoderLayer."""
    D, H, F = 16, 4, 32
    layer = submission.transformer.DecoderLayer(D, H, F)
    sd = weights.load(layer, oracle.decoder_layer_params(D, F))
    x, memory = _t(rng, 2, 5, D), _t(rng, 2, 7, D)
    causal = oracle.causal_mask(5)
    expected = oracle.decoder_layer(sd, H, F, x, memory, tgt_mask=causal).detach()
    assert_close(layer(x, memory, causal), expected, rtol=1e-6, atol=1e-8,
                 name="DecoderLayer(x, memory, causal_mask)")


@pytest.mark.points(4)
def test_seq2seq_learns_to_reverse(submission, oracle, reversal_data):
    """Seq2SeqTransformer (d_model 32, 2 layers) trained with train_seq2seq: the grader's greedy decoding with its weights reverses >= 90% of held-out sequences."""
    tr = submission.transformer
    src, tgt = reversal_data(4000, 3, 6, seed=1)
    model = tr.Seq2SeqTransformer(13, 13, d_model=32, num_heads=4, num_layers=2, dim_ff=64, max_len=16)
    losses = tr.train_seq2seq(model, src, tgt, steps=200, batch_size=64, lr=3e-3, seed=0)
    assert len(losses) == 200, f"train_seq2seq returned {len(losses)} losses for 200 steps"
    sd = oracle.trained_weights(model, oracle.seq2seq_params(13, 13, 32, 64, 2))
    test_src, test_tgt = reversal_data(500, 3, 6, seed=12345)
    exact = oracle.reversed_exactly(sd, 4, 64, 2, test_src, test_tgt)
    assert exact >= 0.9, f"exact match on held-out sequences {exact:.3f} < 0.90"
