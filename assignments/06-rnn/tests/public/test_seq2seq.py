"""Public tests for seq2seq.py: attention over padded sequences, the encoder-decoder, training
on the reversal task judged by the grader's own greedy decoding."""

import pytest
import torch


@pytest.mark.points(3)
def test_attention_weights_and_context(rng, oracle, check, student):
    """Attention: weights form a distribution over the real positions, and match torch's attention with W."""
    T, K, Q = 6, 5, 3
    query, keys, W, mask = oracle.attention_inputs(rng, [6, 3, 1, 4], T, K, Q)
    output = student.attention(K, Q, W)(query, keys, mask)
    check.attention_matches(output, oracle.attention(query, keys, mask, W), mask)


@pytest.mark.points(3)
def test_seq2seq_teacher_forcing_matches_reference(rng, oracle, check, student):
    """Seq2Seq under teacher forcing: attention maps and logits of the grader's model with the same weights."""
    V, E, H, T = oracle.VOCAB_SIZE, 4, 5, 7
    w = oracle.seq2seq_weights(rng, V, E, H)
    src, lengths = oracle.padded_sources(rng, [7, 4, 2], T)
    tgt = torch.from_numpy(rng.integers(0, V, size=(3, T + 1)))
    logits, weights = check.pair(student.seq2seq(V, E, H, w)(src, lengths, tgt), "Seq2Seq(src, lengths, tgt)")
    check.attention_weights(weights, oracle.padding_mask(lengths, T), name="attention weights")
    exp_logits, exp_weights = oracle.seq2seq(w)(src, lengths, tgt)
    check.tensors_close(weights, exp_weights, name="attention weights")
    check.tensors_close(logits, exp_logits, name="logits")


@pytest.mark.points(4)
def test_train_reversal_accuracy(submission, oracle):
    """train_reversal: the grader's greedy decoding with your weights reverses at least 90% of new sequences."""
    src, lengths, tgt = oracle.reversal_data(4096, seed=2024)  # the bar was tuned on these seeds
    model = submission.seq2seq.train_reversal(src, lengths, tgt, seed=0)
    reference = oracle.seq2seq(model.state_dict())
    accuracy = oracle.sequence_accuracy(reference, *oracle.reversal_data(1000, seed=2025))
    assert accuracy >= oracle.reversal_bar, (
        f"the grader's greedy decoding with your weights reverses {accuracy:.1%} of 1000 new "
        f"sequences exactly (at least {oracle.reversal_bar:.0%} needed)"
    )
