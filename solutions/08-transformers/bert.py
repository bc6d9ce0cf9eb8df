"""BERT pre-training: masked-language-model data and loss, next-sentence pairs, a [CLS] head (torch).

BERT (Devlin et al. 2019) is an encoder pre-trained on two tasks:

- **masked language modelling (MLM)**: some input tokens are hidden and the model
  predicts them from both sides; the loss counts only those positions;
- **next-sentence prediction (NSP)**: given two sentences ``[CLS] A [SEP] B [SEP]``,
  predict whether B followed A in the corpus; the prediction is read from the
  [CLS] position, which also serves for fine-tuning on classification tasks.

Labels use the convention of torch's cross-entropy: ``IGNORE = -100`` marks a
position that does not count.
"""

import random

import torch
import torch.nn as nn
import torch.nn.functional as F

IGNORE = -100


def mask_tokens(tokens, mask_id, vocab_size, special_ids, mask_prob=0.15, seed=None):
    """Choose MLM targets and corrupt the input, as in BERT.

    Every token that is not special is selected independently with probability
    mask_prob (special tokens, e.g. [CLS], [SEP], [PAD], are never selected). Of
    the selected tokens, independently:
    - 80% are replaced by mask_id,
    - 10% are replaced by a random token, drawn uniformly from the non-special ids
      of range(vocab_size),
    - 10% are left unchanged.

    Random numbers come from a torch.Generator seeded with seed (the global torch
    RNG when seed is None): the same seed gives the same result.

    Inputs:
    - tokens: int64 tensor (B, T)
    - mask_id: int, the [MASK] token (it is one of special_ids)
    - vocab_size: int, ids are 0 .. vocab_size - 1
    - special_ids: list of ints, the special tokens
    - mask_prob: float, the probability of selecting a token
    - seed: int or None

    Returns a tuple of:
    - inputs: int64 tensor (B, T), the corrupted tokens (unchanged where not selected)
    - labels: int64 tensor (B, T), the original token where selected, IGNORE elsewhere
    """
    # BEGIN SOLUTION hint: select with rand < mask_prob (never a special token); a second uniform draw picks mask/random/keep
    g = None
    if seed is not None:
        g = torch.Generator().manual_seed(seed)
    special = torch.isin(tokens, torch.as_tensor(list(special_ids), dtype=tokens.dtype))
    selected = (torch.rand(tokens.shape, generator=g) < mask_prob) & ~special
    labels = torch.where(selected, tokens, torch.full_like(tokens, IGNORE))
    r = torch.rand(tokens.shape, generator=g)
    regular = torch.tensor([i for i in range(vocab_size) if i not in set(special_ids)],
                           dtype=tokens.dtype)
    random_tokens = regular[torch.randint(len(regular), tokens.shape, generator=g)]
    inputs = tokens.clone()
    inputs = torch.where(selected & (r < 0.8), torch.full_like(tokens, mask_id), inputs)
    inputs = torch.where(selected & (r >= 0.8) & (r < 0.9), random_tokens, inputs)
    # END SOLUTION
    return inputs, labels


def mlm_loss(logits, labels):
    """Masked-language-model loss: mean cross-entropy over the selected positions only.

    Inputs:
    - logits: tensor (B, T, V)
    - labels: int64 tensor (B, T), a token id where the position was selected, IGNORE elsewhere

    Returns:
    - loss: scalar tensor, the mean over the positions with labels != IGNORE
      (differentiable with respect to logits)
    """
    # BEGIN SOLUTION hint: average only where labels != IGNORE
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                           ignore_index=IGNORE)
    # END SOLUTION
    return loss


def build_bert_inputs(sent_a, sent_b, cls_id, sep_id):
    """Pack a sentence pair as BERT reads it: [CLS] A [SEP] B [SEP].

    Inputs:
    - sent_a, sent_b: lists of ints (token ids)
    - cls_id, sep_id: ints

    Returns a tuple of:
    - tokens: list of ints, length len(sent_a) + len(sent_b) + 3
    - segments: list of ints of the same length: 0 for [CLS], A and the first [SEP];
      1 for B and the last [SEP]
    """
    # BEGIN SOLUTION hint: segment 0 covers [CLS] A [SEP]
    tokens = [cls_id, *sent_a, sep_id, *sent_b, sep_id]
    segments = [0] * (len(sent_a) + 2) + [1] * (len(sent_b) + 1)
    # END SOLUTION
    return tokens, segments


def make_nsp_pairs(documents, num_pairs, seed=0):
    """Sentence pairs for next-sentence prediction, half of them IsNext.

    For each pair: pick a document that has at least two sentences and a sentence
    A in it that is not its last one. With probability 0.5 (IsNext, label 1), B is
    the sentence right after A; otherwise (NotNext, label 0), B is a random
    sentence of a DIFFERENT document. Draw with random.Random(seed).

    Inputs:
    - documents: list of documents; a document is a list of sentences; a sentence
      is a list of ints. At least two documents, one with two sentences or more.
    - num_pairs: int
    - seed: int

    Returns:
    - pairs: list of num_pairs tuples (sent_a, sent_b, is_next), is_next 1 or 0
    """
    # BEGIN SOLUTION hint: random.Random(seed); NotNext takes B from another document
    rng = random.Random(seed)
    usable = [d for d, doc in enumerate(documents) if len(doc) >= 2]
    pairs = []
    for _ in range(num_pairs):
        d = rng.choice(usable)
        i = rng.randrange(len(documents[d]) - 1)
        a = documents[d][i]
        if rng.random() < 0.5:
            pairs.append((a, documents[d][i + 1], 1))
        else:
            other = rng.choice([e for e in range(len(documents)) if e != d])
            pairs.append((a, rng.choice(documents[other]), 0))
    # END SOLUTION
    return pairs


class ClsHead(nn.Module):
    """Classification head on the [CLS] position (NSP, or fine-tuning on a sentence task).

        pooled = tanh(dense(hidden[:, 0]))        # BERT's "pooler"
        logits = classifier(pooled)

    Inputs:
    - d_model: int, D
    - num_classes: int, C

    Attributes: dense (nn.Linear(D, D)), classifier (nn.Linear(D, C)).
    """

    def __init__(self, d_model, num_classes):
        super().__init__()
        # BEGIN SOLUTION hint: dense and classifier
        self.dense = nn.Linear(d_model, d_model)
        self.classifier = nn.Linear(d_model, num_classes)
        # END SOLUTION

    def forward(self, hidden):
        """hidden: tensor (B, T, D), the encoder's output -> logits (B, C)."""
        # BEGIN SOLUTION hint: only position 0 ([CLS]) is used
        logits = self.classifier(torch.tanh(self.dense(hidden[:, 0])))
        # END SOLUTION
        return logits
