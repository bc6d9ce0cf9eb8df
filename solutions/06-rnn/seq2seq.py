"""An encoder-decoder RNN with attention, trained to reverse sequences of digits (torch, built
on the cells of cells.py and the layers of sequence.py; handout §C).

torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU and their cells are banned, as in sequence.py.

Conventions used throughout this file:

- Tokens are integers: the digits 0 .. 9 are themselves, then PAD = 10, BOS = 11 (begin of
  sequence) and EOS = 12 (end of sequence), VOCAB_SIZE = 13 in all.
- A batch of sources is padded on the right: src (N, T) holds sequence n's lengths[n] tokens
  first, then PAD. ``mask`` (N, T) is True at the real positions and False at the padding.
- A target is the reversed source followed by EOS, then PAD: tgt (N, T + 1).
- Sequences are batch first, as in sequence.py; H is the hidden size of the encoder and of
  the decoder, E the size of the token embeddings.
"""

import cells
import numpy as np
import sequence
import torch
import torch.nn.functional as F
from torch import nn

PAD, BOS, EOS = 10, 11, 12
VOCAB_SIZE = 13


def make_reversal_data(n, min_len=8, max_len=12, seed=0):
    """The reversal task: digit sequences of random lengths and their reversals.

    Sequence k has a length drawn uniformly from min_len .. max_len and digits drawn
    uniformly from 0 .. 9. The grader draws its data exactly like this (with seeds you do
    not know).

    Inputs:
    - n: number of sequences
    - min_len, max_len: the shortest and the longest length
    - seed: seed of np.random.default_rng

    Returns a tuple of:
    - src: int64 tensor (n, max_len), the digits then PAD
    - lengths: int64 tensor (n,), the number of digits of every sequence
    - tgt: int64 tensor (n, max_len + 1), the digits reversed, then EOS, then PAD
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, size=n)
    src = np.full((n, max_len), PAD)
    tgt = np.full((n, max_len + 1), PAD)
    for k, length in enumerate(lengths):
        digits = rng.integers(0, 10, size=length)
        src[k, :length] = digits
        tgt[k, :length] = digits[::-1]
        tgt[k, length] = EOS
    return torch.from_numpy(src).long(), torch.from_numpy(lengths).long(), torch.from_numpy(tgt).long()


def padding_mask(lengths, T):
    """Bool tensor (N, T): True at positions t < lengths[n] (the real tokens)."""
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]


class Attention(nn.Module):
    """Multiplicative ("general", Luong) attention of one query over a sequence of keys.

    The score of key j for the query s is s . (W k_j), with W of shape
    (query_size, key_size); the weights are the softmax of the scores over the real
    positions, and the context is the weighted sum of the keys (handout §C.1).

    Attributes:
    - proj: nn.Linear(key_size, query_size, bias=False), holding W
    """

    def __init__(self, key_size, query_size):
        super().__init__()
        # BEGIN SOLUTION hint: §C.1: the one linear map the scores use, named proj
        self.proj = nn.Linear(key_size, query_size, bias=False)
        # END SOLUTION

    def forward(self, query, keys, mask):
        """Inputs:
        - query: tensor (N, Q), the decoder's state
        - keys: tensor (N, T, K), the encoder's outputs
        - mask: bool tensor (N, T), True at the real positions (at least one per row)

        Returns a tuple of:
        - context: tensor (N, K)
        - weights: tensor (N, T); every row is >= 0, sums to 1, and is exactly 0 where mask
          is False
        """
        # BEGIN SOLUTION hint: §C.1: the context and the weights, a distribution over the real positions only
        scores = torch.einsum("nq,ntq->nt", query, self.proj(keys))
        scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)
        context = torch.einsum("nt,ntk->nk", weights, keys)
        return context, weights
        # END SOLUTION


class Seq2Seq(nn.Module):
    """A GRU encoder, a GRU decoder with attention over the encoder's outputs (handout §C.2).

    Attributes (exactly these; the grader loads weights by these names):
    - embed: nn.Embedding(vocab_size, embed_size), shared by the encoder and the decoder
    - encoder: sequence.GRULayer(embed_size, hidden_size)
    - decoder: cells.GRUCell(embed_size, hidden_size)
    - attention: Attention(hidden_size, hidden_size)
    - combine: nn.Linear(2 * hidden_size, hidden_size), applied to [context, state]
    - out: nn.Linear(hidden_size, vocab_size)
    """

    def __init__(self, vocab_size, embed_size, hidden_size):
        super().__init__()
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        # BEGIN SOLUTION hint: §C.2: the six modules of the class docstring, with those names
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.encoder = sequence.GRULayer(embed_size, hidden_size)
        self.decoder = cells.GRUCell(embed_size, hidden_size)
        self.attention = Attention(hidden_size, hidden_size)
        self.combine = nn.Linear(2 * hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)
        # END SOLUTION

    def encode(self, src, lengths):
        """Run the encoder over the embedded sources.

        Inputs:
        - src: int64 tensor (N, T), padded on the right
        - lengths: int64 tensor (N,)

        Returns a tuple of:
        - enc_out: tensor (N, T, H), the encoder's output at every position
        - state: tensor (N, H), the encoder's output at each sequence's LAST REAL token
          (position lengths[n] - 1): the decoder's initial state
        """
        # BEGIN SOLUTION hint: §C.2: the encoder's outputs, and each sequence's output at its own last real token
        enc_out, _ = self.encoder(self.embed(src))
        state = enc_out[torch.arange(src.shape[0]), lengths - 1]
        return enc_out, state
        # END SOLUTION

    def decode_step(self, prev, state, enc_out, mask):
        """One step of the decoder.

        Inputs:
        - prev: int64 tensor (N,), the previous output token (BOS at the first step)
        - state: tensor (N, H), the decoder's previous state
        - enc_out: tensor (N, T, H)
        - mask: bool tensor (N, T)

        Returns a tuple of:
        - logits: tensor (N, V), the scores of the next token
        - state: tensor (N, H), the decoder's new state
        - weights: tensor (N, T), the attention weights of this step
        """
        # BEGIN SOLUTION hint: §C.2: the decoder's next state, its attention over the encoder's outputs, the next token's scores
        state = self.decoder(self.embed(prev), state)
        context, weights = self.attention(state, enc_out, mask)
        hidden = torch.tanh(self.combine(torch.cat([context, state], dim=1)))
        return self.out(hidden), state, weights
        # END SOLUTION

    def forward(self, src, lengths, tgt):
        """Teacher forcing: the decoder reads BOS, then tgt[:, 0], ..., tgt[:, -2].

        Inputs:
        - src: int64 tensor (N, T); lengths: int64 tensor (N,)
        - tgt: int64 tensor (N, T_out)

        Returns a tuple of:
        - logits: tensor (N, T_out, V); logits[:, t] scores the token tgt[:, t]
        - weights: tensor (N, T_out, T), the attention weights of every step
        """
        # BEGIN SOLUTION hint: §C.2: encode, then one decoder step per target position, each fed the true previous token
        enc_out, state = self.encode(src, lengths)
        mask = padding_mask(lengths, src.shape[1])
        prev = torch.full_like(tgt[:, 0], BOS)
        logits, weights = [], []
        for t in range(tgt.shape[1]):
            step_logits, state, step_weights = self.decode_step(prev, state, enc_out, mask)
            logits.append(step_logits)
            weights.append(step_weights)
            prev = tgt[:, t]
        return torch.stack(logits, dim=1), torch.stack(weights, dim=1)
        # END SOLUTION

    def greedy_decode(self, src, lengths, max_steps):
        """Greedy decoding: each step's most probable token is the next step's input.

        Inputs:
        - src: int64 tensor (N, T); lengths: int64 tensor (N,)
        - max_steps: int, the number of steps

        Returns:
        - tokens: int64 tensor (N, max_steps), the argmax token of every step (EOS included);
          after a row's first EOS, the rest of that row is PAD
        """
        # BEGIN SOLUTION hint: §C.3: max_steps decoder steps, each fed the previous step's most probable token; PAD after EOS
        with torch.no_grad():
            enc_out, state = self.encode(src, lengths)
            mask = padding_mask(lengths, src.shape[1])
            prev = torch.full_like(lengths, BOS)
            tokens = []
            for _ in range(max_steps):
                logits, state, _ = self.decode_step(prev, state, enc_out, mask)
                prev = logits.argmax(dim=1)
                tokens.append(prev)
            tokens = torch.stack(tokens, dim=1)
            ended = torch.cumsum((tokens == EOS).long(), dim=1)
            after_eos = (ended - (tokens == EOS).long()) > 0
            return tokens.masked_fill(after_eos, PAD)
        # END SOLUTION


def train_reversal(src, lengths, tgt, seed=0):
    """Train a Seq2Seq on the reversal task and return it.

    You choose the sizes and the training; the grader decodes held-out sequences greedily
    with your weights (its own decoder, your state_dict) and needs at least 90% of them
    reversed exactly. Training must take at most about 20 s on one CPU core (the grader
    stops a call after 60 s). Seed everything with `seed`.

    Inputs:
    - src, lengths, tgt: the training data, as make_reversal_data returns it
    - seed: int

    Returns: the trained Seq2Seq (vocab_size = VOCAB_SIZE), in float32.
    """
    # BEGIN SOLUTION hint: §C.4: train a Seq2Seq that reaches the bar under the grader's decoding, within the time limit
    torch.manual_seed(seed)
    model = Seq2Seq(VOCAB_SIZE, 16, 64)
    params = list(model.parameters())
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    steps, batch_size, lr, beta1, beta2, eps, max_norm = 300, 64, 0.02, 0.9, 0.999, 1e-8, 1.0
    n = src.shape[0]
    step = 0
    while step < steps:
        perm = torch.randperm(n)
        for i in range(0, n - batch_size + 1, batch_size):
            idx = perm[i : i + batch_size]
            logits, _ = model(src[idx], lengths[idx], tgt[idx])
            loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), tgt[idx].reshape(-1), ignore_index=PAD)
            grads = torch.autograd.grad(loss, params)
            step += 1
            with torch.no_grad():
                # clip by the global norm, then one Adam step with a linearly decaying rate
                total = torch.sqrt(sum((g * g).sum() for g in grads))
                scale = min(1.0, max_norm / (float(total) + 1e-6))
                rate = lr * (1 - step / steps)
                for p, g, m_p, v_p in zip(params, grads, m, v, strict=True):
                    g = g * scale
                    m_p.mul_(beta1).add_(g, alpha=1 - beta1)
                    v_p.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                    m_hat = m_p / (1 - beta1**step)
                    v_hat = v_p / (1 - beta2**step)
                    p.sub_(rate * m_hat / (v_hat.sqrt() + eps))
            if step == steps:
                break
    return model
    # END SOLUTION
