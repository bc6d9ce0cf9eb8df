"""Public tests for bert.py: MLM masking rules and statistics, the MLM loss, input packing, the
encoder against torch layers."""

import pytest
import torch
import torch.nn.functional as F

from autograder.testing import assert_close

PAD, CLS, SEP, MASK, UNK = 0, 1, 2, 3, 4
SPECIAL = [PAD, CLS, SEP, MASK, UNK]
VOCAB = 50


def _batch(rng, B, T):
    """Token ids of regular words with [CLS] first, a [SEP] and padding at the end of every row."""
    tokens = rng.integers(len(SPECIAL), VOCAB, size=(B, T))
    tokens[:, 0] = CLS
    for i in range(B):
        end = int(rng.integers(T // 2, T))
        tokens[i, end] = SEP
        tokens[i, end + 1:] = PAD
        tokens[i, int(rng.integers(1, end))] = SEP
    return torch.from_numpy(tokens)


def _parts(tokens, inputs, labels):
    selected = labels != -100
    return selected, inputs == MASK, inputs == tokens


@pytest.mark.points(2)
def test_mask_tokens_rules(submission, rng):
    """mask_tokens: labels hold the original token only where selected; special tokens are never selected."""
    tokens = _batch(rng, 20, 40)
    inputs, labels = submission.bert.mask_tokens(tokens, MASK, VOCAB, SPECIAL, 0.15, seed=3)
    assert inputs.shape == tokens.shape and labels.shape == tokens.shape, "inputs and labels are (B, T)"
    selected = labels != -100
    special = torch.isin(tokens, torch.tensor(SPECIAL))
    assert not bool((selected & special).any()), "a special token was selected for masking"
    assert bool(selected.any()), "no token was selected"
    assert torch.equal(labels[selected], tokens[selected]), "labels must be the original tokens where selected"
    assert torch.equal(inputs[~selected], tokens[~selected]), "tokens that are not selected must not change"
    changed = inputs[selected]
    ok = (changed == MASK) | ~torch.isin(changed, torch.tensor(SPECIAL))
    assert bool(ok.all()), "a selected token became a special token other than [MASK]"


@pytest.mark.points(2)
def test_mask_tokens_statistics(submission, rng):
    """mask_tokens selects 15% of the ordinary tokens; of those 80% [MASK], 10% random, 10% unchanged."""
    tokens = _batch(rng, 200, 500)
    inputs, labels = submission.bert.mask_tokens(tokens, MASK, VOCAB, SPECIAL, 0.15, seed=11)
    selected, is_mask, same = _parts(tokens, inputs, labels)
    ordinary = ~torch.isin(tokens, torch.tensor(SPECIAL))
    n_sel = int(selected.sum())
    frac = n_sel / int(ordinary.sum())
    assert abs(frac - 0.15) < 0.01, f"{frac:.3f} of the ordinary tokens selected, expected 0.15"
    n_reg = VOCAB - len(SPECIAL)
    for what, part, expected in (
        ("[MASK]", is_mask, 0.8),
        ("unchanged", same, 0.1 + 0.1 / n_reg),
        ("a random other token", ~is_mask & ~same, 0.1 * (1 - 1 / n_reg)),
    ):
        f = int((part & selected).sum()) / n_sel
        assert abs(f - expected) < 0.015, f"{f:.3f} of the selected tokens are {what}, expected {expected:.3f}"


@pytest.mark.points(1)
def test_mlm_loss_matches_cross_entropy(submission, rng):
    """mlm_loss is the mean cross-entropy over the selected positions only."""
    logits = torch.tensor(rng.standard_normal((3, 10, 20)))
    labels = torch.from_numpy(rng.integers(0, 20, size=(3, 10)))
    labels[torch.from_numpy(rng.random((3, 10)) < 0.8)] = -100
    labels[0, 0] = 7
    expected = F.cross_entropy(logits.reshape(-1, 20), labels.reshape(-1), ignore_index=-100)
    assert_close(submission.bert.mlm_loss(logits, labels), expected, rtol=1e-7, name="mlm_loss")


@pytest.mark.points(1)
def test_build_bert_inputs(submission):
    """build_bert_inputs packs [CLS] A [SEP] B [SEP] with segment ids 0 then 1."""
    tokens, segments = submission.bert.build_bert_inputs([10, 11, 12], [20, 21], CLS, SEP)
    assert list(tokens) == [CLS, 10, 11, 12, SEP, 20, 21, SEP], "tokens are not [CLS] A [SEP] B [SEP]"
    assert list(segments) == [0, 0, 0, 0, 0, 1, 1, 1], "segment ids are wrong"


@pytest.mark.points(2)
def test_bert_forward_matches_torch(submission, oracle, weights, rng):
    """BERT's hidden states (padded lines) and MLM logits match post-LN nn.TransformerEncoderLayer
    with the same weights."""
    V, D, H, FF, L, T = VOCAB, 16, 4, 32, 2, 12
    model = submission.bert.BERT(V, d_model=D, num_heads=H, num_layers=L, dim_ff=FF, max_len=T,
                                 pad_id=PAD)
    sd = weights.load(model, oracle.bert_params(V, D, FF, L, T))
    tokens = _batch(rng, 3, 10)
    hidden = model(tokens)
    expected = oracle.bert(sd, H, FF, L, tokens).detach()
    keys = tokens != PAD   # what a padded position computes is not looked at
    assert_close(hidden[keys], expected[keys], rtol=1e-6, atol=1e-8,
                 name="BERT(tokens) at the positions that are not padding")
    logits = expected @ sd["mlm_head.weight"].T + sd["mlm_head.bias"]
    assert_close(model.mlm_logits(expected), logits, rtol=1e-6, atol=1e-8,
                 name="mlm_logits(hidden)")
