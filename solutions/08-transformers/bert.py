"""BERT pre-training: masked-language-model data and loss, next-sentence pairs, a [CLS] head (torch).

BERT (Devlin et al. 2019) is an encoder pre-trained on two tasks:

- **masked language modelling (MLM)**: some input tokens are hidden and the model
  predicts them from both sides; the loss counts only those positions;
- **next-sentence prediction (NSP)**: given two sentences ``[CLS] A [SEP] B [SEP]``,
  predict whether B followed A in the corpus; the prediction is read from the
  [CLS] position, which also serves for fine-tuning on classification tasks.

Here BERT is pre-trained with MLM only (as RoBERTa is), on single lines of a
Shakespeare excerpt, one token per character, then fine-tuned to classify lines:

- ``BERT``: the encoder (embeddings, a stack of transformer.EncoderLayer) and its
  MLM head; ``pretrain_bert`` trains it with ``mask_tokens`` and ``mlm_loss``;
- ``BertClassifier``: a BERT with a ``ClsHead``; ``finetune_bert`` trains both on
  labelled lines.

Labels use the convention of torch's cross-entropy: ``IGNORE = -100`` marks a
position that does not count.
"""

import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from attention import padding_mask
from transformer import EncoderLayer

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
    # BEGIN SOLUTION hint: section 3.1: the targets, then their corruption, reproducibly
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
    # BEGIN SOLUTION hint: section 3.1: the loss of the selected positions
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
    # BEGIN SOLUTION hint: section 3.2: the packed tokens and their segment ids
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
    # BEGIN SOLUTION hint: section 3.2: IsNext and NotNext pairs, reproducibly
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
        # BEGIN SOLUTION hint: section 3.5: the attributes of the docstring
        self.dense = nn.Linear(d_model, d_model)
        self.classifier = nn.Linear(d_model, num_classes)
        # END SOLUTION

    def forward(self, hidden):
        """hidden: tensor (B, T, D), the encoder's output -> logits (B, C)."""
        # BEGIN SOLUTION hint: section 3.5: BERT's pooler and classifier
        logits = self.classifier(torch.tanh(self.dense(hidden[:, 0])))
        # END SOLUTION
        return logits


class BERT(nn.Module):
    """A BERT encoder with its masked-language-model head (handout section 3.3).

        h = emb_norm(tok_emb(tokens) + pos_emb(positions))      # positions 0 .. T - 1
        h = layers[l](h, padding_mask(tokens, pad_id))          # for every layer
        forward(tokens) = h                                     # (B, T, D)
        mlm_logits(h) = mlm_head(h)                             # (B, T, V)

    Inputs:
    - vocab_size: int, V; d_model: int, D; num_heads: int, H; num_layers: int
    - dim_ff: int, feed-forward width; max_len: int, the longest sequence; pad_id: int

    Attributes: tok_emb (nn.Embedding(V, D)), pos_emb (nn.Embedding(max_len, D)),
    emb_norm (nn.LayerNorm(D)), layers (nn.ModuleList of transformer.EncoderLayer),
    mlm_head (nn.Linear(D, V)), pad_id, max_len.
    """

    def __init__(self, vocab_size, d_model=64, num_heads=4, num_layers=2, dim_ff=128, max_len=32,
                 pad_id=0):
        super().__init__()
        # BEGIN SOLUTION hint: section 3.3: the attributes of the docstring
        self.pad_id = pad_id
        self.max_len = max_len
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        self.emb_norm = nn.LayerNorm(d_model)
        self.layers = nn.ModuleList(
            [EncoderLayer(d_model, num_heads, dim_ff) for _ in range(num_layers)])
        self.mlm_head = nn.Linear(d_model, vocab_size)
        # END SOLUTION

    def forward(self, tokens):
        """tokens: int64 (B, T), T <= max_len -> hidden states (B, T, D)."""
        # BEGIN SOLUTION hint: section 3.3: the hidden states of the handout's encoder
        pos = torch.arange(tokens.shape[1], device=tokens.device)
        h = self.emb_norm(self.tok_emb(tokens) + self.pos_emb(pos))
        mask = padding_mask(tokens, self.pad_id)
        for layer in self.layers:
            h = layer(h, mask)
        # END SOLUTION
        return h

    def mlm_logits(self, hidden):
        """hidden: (B, T, D), the output of forward -> logits (B, T, V) over the vocabulary."""
        # BEGIN SOLUTION hint: section 3.3: the MLM head
        logits = self.mlm_head(hidden)
        # END SOLUTION
        return logits


class BertClassifier(nn.Module):
    """A BERT with a classification head on its [CLS] position (handout section 3.5).

        forward(tokens) = head(bert(tokens))                    # (B, C)

    Inputs:
    - bert: a BERT (pre-trained or not), kept as the attribute bert
    - num_classes: int, C

    Attributes: bert, head (ClsHead(D, C), D = bert's d_model).
    """

    def __init__(self, bert, num_classes):
        super().__init__()
        # BEGIN SOLUTION hint: section 3.5: the two attributes of the docstring
        self.bert = bert
        self.head = ClsHead(bert.tok_emb.embedding_dim, num_classes)
        # END SOLUTION

    def forward(self, tokens):
        """tokens: int64 (B, T), [CLS] first -> logits (B, C)."""
        # BEGIN SOLUTION hint: section 3.5: the classifier's logits
        logits = self.head(self.bert(tokens))
        # END SOLUTION
        return logits


def pretrain_bert(model, tokens, mask_id, special_ids, steps=400, batch_size=64, lr=5e-3,
                  mask_prob=0.15, seed=0):
    """Pre-train model, in place, with masked language modelling (handout section 3.4).

    At each step, draw batch_size rows of tokens (a torch.Generator seeded with
    seed), corrupt them with mask_tokens (mask_prob; a fresh seed for every step,
    drawn from that generator), and take one Adam step (learning rate lr) on
    mlm_loss of model.mlm_logits(model(inputs)) against the labels.

    Inputs:
    - model: a BERT, trained in place; its vocabulary size is model.mlm_head.out_features
    - tokens: int64 tensor (N, T), one line per row: [CLS] characters [SEP] then [PAD]
    - mask_id: int, the [MASK] token; special_ids: list of ints, the special tokens
    - steps, batch_size: ints; lr: float; mask_prob: float; seed: int

    Returns:
    - losses: list of floats, the MLM loss of every step
    """
    # BEGIN SOLUTION hint: section 3.4: masked-language-model training, one optimizer step per batch
    g = torch.Generator().manual_seed(seed)
    vocab_size = model.mlm_head.out_features
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        rows = tokens[torch.randint(0, tokens.shape[0], (batch_size,), generator=g)]
        step_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g))
        inputs, labels = mask_tokens(rows, mask_id, vocab_size, special_ids, mask_prob,
                                     seed=step_seed)
        loss = mlm_loss(model.mlm_logits(model(inputs)), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # END SOLUTION
    return losses


def finetune_bert(model, tokens, labels, steps=200, batch_size=64, lr=1e-3, seed=0):
    """Fine-tune model (encoder and head together), in place, on labelled lines
    (handout section 3.5).

    At each step, draw batch_size rows (a torch.Generator seeded with seed) and take
    one Adam step (learning rate lr) on the cross-entropy of model(rows) against
    their labels.

    Inputs:
    - model: a BertClassifier, trained in place
    - tokens: int64 tensor (N, T), one line per row as in pretrain_bert
    - labels: int64 tensor (N,), each in 0 .. C - 1
    - steps, batch_size: ints; lr: float; seed: int

    Returns:
    - losses: list of floats, the training loss of every step
    """
    # BEGIN SOLUTION hint: section 3.5: classification training, one optimizer step per batch
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        idx = torch.randint(0, tokens.shape[0], (batch_size,), generator=g)
        loss = F.cross_entropy(model(tokens[idx]), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # END SOLUTION
    return losses
