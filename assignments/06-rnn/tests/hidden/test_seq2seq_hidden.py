"""Hidden tests for seq2seq.py: masking under extreme scores, attention gradients, padding and
the decoder's initial state, the parameter names, greedy decoding, held-out reversal."""

import numpy as np
import pytest
import torch


@pytest.mark.points(2)
def test_attention_masks_extreme_scores(rng, oracle, check, student):
    """Attention with scores around 1000: padded keys with the largest scores get no weight; one real position gets all."""
    T, K, Q = 5, 4, 4
    query, keys, W, mask = oracle.attention_inputs(rng, [1, 3, 5], T, K, Q, query_scale=30, key_scale=10)
    # the padded positions hold the keys that score highest (along query @ W): a mask applied
    # after the softmax, or not at all, shows
    direction = query @ W
    best = 40 * direction / direction.norm(dim=1, keepdim=True)
    keys = torch.where(mask[:, :, None], keys, best[:, None, :])
    output = student.attention(K, Q, W)(query, keys, mask)
    check.attention_matches(output, oracle.attention(query, keys, mask, W), mask)


@pytest.mark.points(2)
def test_attention_gradients(submission, rng, oracle, check, student):
    """Attention: gradients of the query, the keys and W match torch's attention's."""
    N, T, K, Q = 3, 6, 5, 4
    query, keys, W, mask = oracle.attention_inputs(rng, [6, 2, 4], T, K, Q)
    d_context = torch.from_numpy(rng.standard_normal((N, K)))
    d_weights = torch.from_numpy(rng.standard_normal((N, T)))
    probe = submission.autograd_probe(
        student.attention(K, Q, W), [query, keys, mask], (d_context, d_weights), params=True
    )
    q, k, w = (v.clone().requires_grad_() for v in (query, keys, W))
    context, weights = oracle.attention(q, k, mask, w)
    ((context * d_context).sum() + (weights * d_weights).sum()).backward()
    check.attention_matches(probe["output"], (context, weights), mask)
    check.probe_matches(
        probe,
        {"input_grads": [q.grad, k.grad], "param_grads": {"proj.weight": w.grad}},
        name="Attention(query, keys, mask)",
    )


@pytest.mark.points(2)
def test_seq2seq_ignores_padding_and_starts_from_the_last_real_token(rng, oracle, check, student):
    """Seq2Seq: encode's state is the output at each last real token; what the padding holds changes nothing."""
    V, E, H, T = oracle.VOCAB_SIZE, 3, 6, 8
    w = oracle.seq2seq_weights(rng, V, E, H)
    src, lengths = oracle.padded_sources(rng, [3, 8, 5, 1], T)
    tgt = torch.from_numpy(rng.integers(0, V, size=(4, 6)))
    model = student.seq2seq(V, E, H, w)
    reference = oracle.seq2seq(w)
    enc_out, state = check.pair(model.encode(src, lengths), "encode(src, lengths)")
    exp_enc_out, _ = reference.encoder(reference.embed(src))
    check.tensors_close(enc_out, exp_enc_out, name="encoder outputs")
    check.tensors_close(state, exp_enc_out[torch.arange(4), lengths - 1], name="the decoder's initial state")
    noisy = torch.where(oracle.padding_mask(lengths, T), src, torch.from_numpy(rng.integers(0, 10, size=(4, T))))
    logits, _ = check.pair(model(noisy, lengths, tgt), "Seq2Seq(src, lengths, tgt)")
    check.tensors_close(logits, reference(src, lengths, tgt)[0], name="logits with other tokens in the padding")


@pytest.mark.points(1)
def test_seq2seq_parameter_names_and_shapes(submission, oracle):
    """Seq2Seq(V, E, H) has exactly the handout's parameters, with their shapes."""
    state = submission.seq2seq.Seq2Seq(11, 7, 9).state_dict()
    oracle.seq2seq(state)  # checks the names and the shapes, and loads them


def _greedy_matches(student_model, reference, src, lengths, max_steps, oracle, what):
    tokens = student_model.greedy_decode(src, lengths, max_steps)
    expected = reference.greedy(src, lengths, max_steps)
    assert isinstance(tokens, torch.Tensor) and tuple(tokens.shape) == tuple(expected.shape), (
        f"greedy_decode must return an int64 tensor of shape {tuple(expected.shape)}"
    )
    is_eos = (tokens == oracle.EOS).long()
    after_eos = (torch.cumsum(is_eos, dim=1) - is_eos) > 0
    assert bool((tokens[after_eos] == oracle.PAD).all()), (
        "greedy_decode: the tokens after a row's first EOS must all be PAD"
    )
    wrong = int((tokens != expected).sum())
    assert wrong == 0, (
        f"greedy_decode ({what}): {wrong} of {expected.numel()} tokens differ from greedy decoding"
    )


@pytest.mark.points(2)
def test_greedy_decode_matches_reference(rng, oracle, check, student):
    """greedy_decode returns the grader's greedy tokens, with PAD after each row's first EOS."""
    V, E, H, T = oracle.VOCAB_SIZE, 4, 8, 9
    w = oracle.seq2seq_weights(rng, V, E, H)
    w["embed.weight"] *= 6  # the token fed back steers the decoder
    src, lengths = oracle.padded_sources(rng, [9, 4, 6, 2, 7, 9, 3, 8], T)
    eos_bias = float(w["out.bias"][oracle.EOS])
    w["out.bias"][oracle.EOS] = -30.0  # no row ends: every step's token is compared
    _greedy_matches(student.seq2seq(V, E, H, w), oracle.seq2seq(w), src, lengths, T + 2, oracle,
                    "rows without EOS")
    for extra in np.arange(0.25, 30.0, 0.25):  # the smallest EOS bias that ends 2 rows early
        w["out.bias"][oracle.EOS] = eos_bias + extra
        ended = (oracle.seq2seq(w).greedy(src, lengths, T + 2)[:, :-1] == oracle.EOS).any(dim=1)
        if int(ended.sum()) >= 2:
            break
    _greedy_matches(student.seq2seq(V, E, H, w), oracle.seq2seq(w), src, lengths, T + 2, oracle,
                    "rows that end early")


@pytest.mark.points(5)
def test_train_reversal_heldout(submission, rng, oracle):
    """train_reversal: the grader's greedy decoding with your weights reverses at least 90% of held-out sequences."""
    seed = int(rng.integers(2**31))
    model = submission.seq2seq.train_reversal(*oracle.reversal_data(4096, seed=seed), seed=3)
    reference = oracle.seq2seq(model.state_dict())
    accuracy = oracle.sequence_accuracy(reference, *oracle.reversal_data(2000, seed=seed + 1))
    assert accuracy >= oracle.reversal_bar, (
        f"the grader's greedy decoding with your weights reverses {accuracy:.1%} of held-out "
        f"sequences exactly (at least {oracle.reversal_bar:.0%} needed)"
    )
