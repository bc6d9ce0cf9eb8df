"""Hidden tests for transformer.py: more sizes, masks and gradients, the whole model, greedy decoding."""

import pytest
import torch

from autograder.testing import ProbeLabels, assert_close, assert_probe_matches

# the names of a layer's probed values in the messages: "output", "dx", "d linear1.weight"
LAYER_LABELS = ProbeLabels(inputs=("dx", "d memory"), param="d {param}")


def _t(rng, *shape):
    return torch.tensor(rng.standard_normal(shape))


@pytest.mark.points(2)
def test_positional_encoding_other_sizes(submission, oracle):
    """sinusoidal_positional_encoding for other sizes (one position, a wide model, long sequences)."""
    for max_len, d in ((1, 2), (7, 64), (300, 10)):
        pe = submission.transformer.sinusoidal_positional_encoding(max_len, d)
        expected = torch.from_numpy(oracle.positional_encoding(max_len, d)).float()
        assert_close(pe, expected, rtol=1e-5, atol=2e-5,
                     name=f"sinusoidal_positional_encoding({max_len}, {d})")


@pytest.mark.points(1)
def test_positional_encoding_module_adds_table(submission, oracle, rng):
    """PositionalEncoding adds the first T rows of the table to every sequence of the batch."""
    x = torch.tensor(rng.standard_normal((3, 5, 8)), dtype=torch.float32)
    out = submission.transformer.PositionalEncoding(8, max_len=20)(x)
    expected = x + torch.from_numpy(oracle.positional_encoding(5, 8)).float()
    assert_close(out, expected, rtol=1e-5, atol=1e-6, name="PositionalEncoding(8)(x)")


def _probe_layer(submission, layer, inputs, g):
    return submission.autograd_probe(layer, inputs, g, params=True)


@pytest.mark.points(3)
def test_encoder_layer_padding_mask_and_gradients(submission, oracle, weights, rng):
    """EncoderLayer with a key padding mask: output and gradients match nn.TransformerEncoderLayer."""
    D, H, F = 12, 3, 20
    layer = submission.transformer.EncoderLayer(D, H, F)
    sd = weights.load(layer, oracle.encoder_layer_params(D, F))
    x = _t(rng, 3, 5, D)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], dtype=torch.bool)
    mask = mask[:, None, None, :]
    g = _t(rng, 3, 5, D)
    res = _probe_layer(submission, layer, [x, mask], g)
    m = oracle.encoder_layer_module(sd, D, H, F)
    xt = x.clone().requires_grad_()
    out = m(xt, src_key_padding_mask=~mask[:, 0, 0])
    out.backward(g)
    grads = {"linear1.weight": m.linear1.weight.grad, "norm1.weight": m.norm1.weight.grad}
    expected = {"output": out.detach(), "input_grads": [xt.grad], "param_grads": grads}
    assert_probe_matches(res, expected, name="output", labels=LAYER_LABELS, rtol=1e-6, atol=1e-8)


@pytest.mark.points(3)
def test_decoder_layer_all_masks_and_gradients(submission, oracle, weights, rng):
    """DecoderLayer with causal + padding target mask and a memory padding mask: outputs and gradients."""
    D, H, F = 8, 2, 16
    layer = submission.transformer.DecoderLayer(D, H, F)
    sd = weights.load(layer, oracle.decoder_layer_params(D, F))
    x, memory = _t(rng, 2, 4, D), _t(rng, 2, 6, D)
    tgt_pad = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.bool)
    mem_pad = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    tgt_mask = tgt_pad[:, None, None, :] & oracle.causal_mask(4)
    mem_mask = mem_pad[:, None, None, :]
    g = _t(rng, 2, 4, D)
    res = _probe_layer(submission, layer, [x, memory, tgt_mask, mem_mask], g)
    m = oracle.decoder_layer_module(sd, D, H, F)
    xt, mt = x.clone().requires_grad_(), memory.clone().requires_grad_()
    out = m(xt, mt, tgt_mask=~oracle.causal_mask(4), tgt_key_padding_mask=~tgt_pad,
            memory_key_padding_mask=~mem_pad)
    out.backward(g)
    grads = {"cross_attn.q_proj.weight": m.multihead_attn.in_proj_weight.grad[:D]}
    expected = {"output": out.detach(), "input_grads": [xt.grad, mt.grad], "param_grads": grads}
    assert_probe_matches(res, expected, name="output", labels=LAYER_LABELS, rtol=1e-6, atol=1e-8)


def _random_seq2seq(submission, oracle, weights, num_layers=2):
    model = submission.transformer.Seq2SeqTransformer(13, 13, d_model=16, num_heads=4,
                                                      num_layers=num_layers, dim_ff=24, max_len=16)
    return model, weights.load(model, oracle.seq2seq_params(13, 13, 16, 24, num_layers))


@pytest.mark.points(3)
def test_seq2seq_forward_matches_torch(submission, oracle, weights, reversal_data):
    """Seq2SeqTransformer's logits (padded source and target) match a model built from torch layers."""
    model, sd = _random_seq2seq(submission, oracle, weights)
    src, tgt = reversal_data(4, 2, 6, seed=7)
    expected = oracle.seq2seq(sd, 4, 24, 2, src, tgt[:, :-1]).detach()
    assert_close(model(src, tgt[:, :-1]), expected, rtol=1e-5, atol=1e-5, name="model(src, tgt)")


@pytest.mark.points(2)
def test_greedy_decode_matches_reference_loop(submission, oracle, weights, reversal_data):
    """greedy_decode takes the argmax at every step and pads after EOS (random untrained model)."""
    model, sd = _random_seq2seq(submission, oracle, weights, num_layers=1)
    src, _ = reversal_data(12, 3, 6, seed=8)

    def reference(state):
        """The reference model with ``state``'s weights, called as model(src, prefix)."""
        return lambda s, prefix: oracle.seq2seq(state, 4, 24, 1, s, prefix).detach()

    # The expected tokens come from the reference model with the same weights, so first the
    # student's model must be that model (test_seq2seq_forward_matches_torch).
    bos = torch.ones((src.shape[0], 1), dtype=torch.long)
    first = reference(sd)(src, bos)[:, -1]
    oracle.assert_reference_logits(model(src, bos)[:, -1], first, "reference Seq2SeqTransformer",
                                   "model(src, [BOS])", rtol=1e-5, atol=1e-5)
    # The EOS logit (token 2) is raised so that some rows finish at the first step and others
    # go on, and decoding on after EOS would give other tokens than padding. The weights are
    # random per submission, so the raise is chosen from the first step's logits: between two
    # rows' margins of EOS to their best other token, the middle ones first.
    others = first.clone()
    others[:, 2] = -float("inf")
    margins = sorted(set((others.max(1).values - first[:, 2]).tolist()))
    cuts = [(a + b) / 2 for a, b in zip(margins, margins[1:], strict=False)] or [2.0]
    cuts.sort(key=lambda c: abs(c - margins[len(margins) // 2]))
    for boost in cuts:
        boosted = dict(sd)
        boosted["generator.bias"] = sd["generator.bias"].clone()
        boosted["generator.bias"][2] += boost
        expected = oracle.greedy_decode(reference(boosted), src, 8)
        if not torch.equal(expected, oracle.greedy_decode(reference(boosted), src, 8,
                                                          pad_after_eos=False)):
            break
    # every key was checked by weights.load; the positional table stays the model's own
    model.load_state_dict(boosted, strict=False)
    out = submission.transformer.greedy_decode(model, src, 8)
    assert_close(out, expected, name="greedy_decode(model, src, 8)")
