"""Hidden tests for bert.py: masking at another rate and under a seed, NSP pairs, gradients, the
[CLS] head, and BERT pre-trained on Shakespeare then fine-tuned to find corrupted lines."""

import pytest
import torch
import torch.nn.functional as F

from autograder.testing import assert_close

PAD, CLS, SEP, MASK = 0, 1, 2, 3
SPECIAL = [PAD, CLS, SEP, MASK]
VOCAB = 30


@pytest.mark.points(2)
def test_mask_tokens_other_rate_and_random_tokens(submission, rng):
    """mask_tokens at mask_prob 0.4: the rates hold, and random replacements cover the ordinary tokens uniformly."""
    tokens = torch.from_numpy(rng.integers(len(SPECIAL), VOCAB, size=(300, 300)))
    tokens[:, ::10] = SEP
    inputs, labels = submission.bert.mask_tokens(tokens, MASK, VOCAB, SPECIAL, 0.4, seed=5)
    selected = labels != -100
    assert not bool(selected[:, ::10].any()), "a special token was selected for masking"
    frac = int(selected.sum()) / (300 * 270)
    assert abs(frac - 0.4) < 0.01, "the fraction of selected tokens is off"
    n_sel = int(selected.sum())
    f_mask = int((selected & (inputs == MASK)).sum()) / n_sel
    assert abs(f_mask - 0.8) < 0.015, "the fraction of [MASK] among the selected tokens is off"
    changed = inputs[selected & (inputs != MASK) & (inputs != tokens)]
    assert not bool(torch.isin(changed, torch.tensor(SPECIAL)).any()), "a random replacement is a special token"
    counts = torch.bincount(changed, minlength=VOCAB)[len(SPECIAL):].double()
    expected = len(changed) / (VOCAB - len(SPECIAL))
    assert float(counts.min()) > 0.6 * expected and float(counts.max()) < 1.4 * expected, (
        "random replacements are not uniform over the ordinary tokens")


@pytest.mark.points(1)
def test_mask_tokens_reproducible(submission, rng):
    """mask_tokens gives the same result for the same seed, and another one for another seed."""
    tokens = torch.from_numpy(rng.integers(len(SPECIAL), VOCAB, size=(8, 50)))
    a = submission.bert.mask_tokens(tokens, MASK, VOCAB, SPECIAL, 0.15, seed=1)
    b = submission.bert.mask_tokens(tokens, MASK, VOCAB, SPECIAL, 0.15, seed=1)
    c = submission.bert.mask_tokens(tokens, MASK, VOCAB, SPECIAL, 0.15, seed=2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]), "same seed, different result"
    assert not torch.equal(a[1], c[1]), "different seeds, same selection"


def _documents(rng):
    docs = []
    for d in range(30):
        n = 1 if d == 0 else int(rng.integers(2, 7))
        docs.append([[1000 + d, j, int(rng.integers(5, 50))] for j in range(n)])
    return docs


@pytest.mark.points(2)
def test_nsp_pairs(submission, rng):
    """make_nsp_pairs: about half IsNext; IsNext B follows A; NotNext B comes from another document."""
    docs = _documents(rng)
    pairs = submission.bert.make_nsp_pairs(docs, 2000, seed=4)
    assert len(pairs) == 2000, "make_nsp_pairs returned the wrong number of pairs"
    where = {tuple(s): (d, j) for d, doc in enumerate(docs) for j, s in enumerate(doc)}
    n_next = 0
    for a, b, is_next in pairs:
        (da, ja), (db, jb) = where[tuple(a)], where[tuple(b)]
        assert ja < len(docs[da]) - 1, "sentence A is the last sentence of its document"
        assert int(is_next) in (0, 1), "is_next must be 0 or 1"
        if int(is_next) == 1:
            n_next += 1
            assert (db, jb) == (da, ja + 1), "an IsNext pair whose B does not follow A"
        else:
            assert db != da, "a NotNext pair whose B comes from A's document"
    assert abs(n_next / 2000 - 0.5) < 0.04, "the fraction of IsNext pairs is not about 0.5"


@pytest.mark.points(1)
def test_mlm_loss_gradient(submission, rng):
    """mlm_loss's gradient with respect to the logits is zero at unselected positions and matches torch's."""
    logits = torch.tensor(rng.standard_normal((2, 6, 9)))
    labels = torch.from_numpy(rng.integers(0, 9, size=(2, 6)))
    labels[:, ::2] = -100
    res = submission.autograd_probe(submission.bert.mlm_loss, [logits, labels])
    lt = logits.clone().requires_grad_()
    F.cross_entropy(lt.reshape(-1, 9), labels.reshape(-1), ignore_index=-100).backward()
    assert_close(res["input_grads"][0], lt.grad, rtol=1e-6, atol=1e-10, name="d logits")


@pytest.mark.points(2)
def test_cls_head(submission, oracle, weights, rng):
    """ClsHead reads only the [CLS] position: classifier(tanh(dense(hidden[:, 0])))."""
    head = submission.bert.ClsHead(8, 3)
    sd = weights.load(head, oracle.cls_head_params(8, 3))
    hidden = torch.tensor(rng.standard_normal((4, 6, 8)))
    pooled = torch.tanh(hidden[:, 0] @ sd["dense.weight"].T + sd["dense.bias"])
    expected = pooled @ sd["classifier.weight"].T + sd["classifier.bias"]
    assert_close(head(hidden), expected, rtol=1e-6, atol=1e-10, name="ClsHead(hidden)")
    hidden[:, 1:] = torch.tensor(rng.standard_normal((4, 5, 8)))
    assert_close(head(hidden), expected, rtol=1e-6, atol=1e-10,
                 name="ClsHead(hidden) after changing positions 1..T-1")


@pytest.mark.points(10)
def test_bert_pretrained_then_finetuned_on_shakespeare(submission, oracle, shakespeare, rng, seed):
    """pretrain_bert on the excerpt's lines, then finetune_bert: the grader, from the trained
    weights, finds masked held-out characters predicted from their context, and held-out lines
    told from corrupted ones at the bar."""
    text, cfg = shakespeare, shakespeare.BERT
    V, H, FF, L = text.bert_vocab_size, cfg["num_heads"], cfg["dim_ff"], cfg["num_layers"]
    bert = submission.bert.BERT(V, **cfg)
    steps = text.BERT_PRETRAINING["steps"]
    losses = submission.bert.pretrain_bert(bert, text.bert_tokens(text.lines(text.train_blocks)),
                                           text.MASK, text.SPECIAL, seed=seed,
                                           **text.BERT_PRETRAINING)
    assert len(losses) == steps, f"pretrain_bert returned {len(losses)} losses for {steps} steps"
    params = oracle.bert_params(V, cfg["d_model"], FF, L, cfg["max_len"])
    tokens, selected = text.mlm_test_data(rng)
    mlm = oracle.bert_mlm_loss(oracle.trained_weights(bert, params), H, FF, L, tokens, selected,
                               text.MASK)
    assert mlm < text.BERT_MLM_BAR, (
        "the pre-trained BERT does not predict masked held-out characters from their context: "
        f"{mlm:.2f} nats, not below {text.BERT_MLM_BAR}")

    classifier = submission.bert.BertClassifier(bert, 2)
    tokens, labels = text.finetuning_data(rng)
    submission.bert.finetune_bert(classifier, tokens, labels, seed=seed, **text.BERT_FINETUNING)
    params = oracle.bert_classifier_params(V, cfg["d_model"], FF, L, cfg["max_len"], 2)
    tokens, labels = text.test_data(rng)
    accuracy = oracle.bert_classifier_accuracy(oracle.trained_weights(classifier, params), H, FF,
                                               L, tokens, labels)
    assert accuracy >= text.BERT_ACCURACY_BAR, (
        f"the fine-tuned classifier tells held-out lines from corrupted ones no better than "
        f"{accuracy:.3f} of the time, below {text.BERT_ACCURACY_BAR}")
