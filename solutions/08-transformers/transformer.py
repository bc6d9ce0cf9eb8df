"""The encoder-decoder transformer of Vaswani et al. (2017), and a toy task for it (torch).

- ``sinusoidal_positional_encoding`` and ``PositionalEncoding``: where each token is;
- ``EncoderLayer``: self-attention then a feed-forward block, each followed by
  "add & norm" (post-LN, as in the paper);
- ``DecoderLayer``: masked self-attention, cross-attention to the encoder's
  output, then the feed-forward block, each followed by add & norm;
- ``Seq2SeqTransformer``: embeddings, positional encoding, a stack of encoder
  layers, a stack of decoder layers and a linear output layer;
- ``train_seq2seq`` and ``greedy_decode``: teach it to reverse sequences of digits.

There is no dropout anywhere in this assignment. Masks follow attention.py:
boolean, True = may attend.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from attention import MultiHeadAttention, causal_mask, padding_mask

# Token ids of the toy task: 0 pads, 1 begins and 2 ends a sequence, 3..12 are the digits 0..9.
PAD, BOS, EOS = 0, 1, 2
NUM_SPECIAL = 3
VOCAB_SIZE = NUM_SPECIAL + 10


def make_reversal_data(n, min_len=3, max_len=6, seed=0):
    """Random digit sequences and their reversals (given: nothing to implement).

    Each example draws a length L uniformly in [min_len, max_len] and L digits;
    the source is the digits then EOS, the target is BOS, the digits reversed,
    then EOS; both are right-padded with PAD.

    Inputs:
    - n: int, number of examples
    - min_len, max_len: ints, the range of lengths L
    - seed: int, seed of the torch.Generator that draws them

    Returns a tuple of:
    - src: int64 tensor (n, max_len + 1)
    - tgt: int64 tensor (n, max_len + 2)
    """
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min_len, max_len + 1, (n,), generator=g)
    digits = torch.randint(NUM_SPECIAL, VOCAB_SIZE, (n, max_len), generator=g)
    src = torch.full((n, max_len + 1), PAD, dtype=torch.long)
    tgt = torch.full((n, max_len + 2), PAD, dtype=torch.long)
    for i in range(n):
        L = int(lengths[i])
        src[i, :L] = digits[i, :L]
        src[i, L] = EOS
        tgt[i, 0] = BOS
        tgt[i, 1 : L + 1] = digits[i, :L].flip(0)
        tgt[i, L + 1] = EOS
    return src, tgt


def sinusoidal_positional_encoding(max_len, d_model):
    """The sinusoidal positional encoding table of Vaswani et al.

        PE[pos, 2i]     = sin(pos / 10000 ** (2i / d_model))
        PE[pos, 2i + 1] = cos(pos / 10000 ** (2i / d_model))

    Inputs:
    - max_len: int, number of positions
    - d_model: int, even, the model width

    Returns:
    - pe: float32 tensor (max_len, d_model)
    """
    # BEGIN SOLUTION hint: section 2.1: the table of the handout
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]
    freq = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    pe = pe.float()
    # END SOLUTION
    return pe


class PositionalEncoding(nn.Module):
    """Adds the sinusoidal positional encoding to a batch of embeddings.

    Inputs:
    - d_model: int, the model width
    - max_len: int, the longest sequence supported

    Attributes:
    - pe: buffer (max_len, d_model), sinusoidal_positional_encoding(max_len, d_model)
      (registered with register_buffer, so that .double() converts it)
    """

    def __init__(self, d_model, max_len=512):
        super().__init__()
        # BEGIN SOLUTION hint: section 2.1: keep the table as the buffer pe
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model))
        # END SOLUTION

    def forward(self, x):
        """x: tensor (B, T, D) -> x + pe[:T], shape (B, T, D)."""
        # BEGIN SOLUTION hint: section 2.1: the encoding of each position of x, added
        out = x + self.pe[: x.shape[1]]
        # END SOLUTION
        return out


class EncoderLayer(nn.Module):
    """One post-LN encoder layer (nn.TransformerEncoderLayer with norm_first=False, ReLU, no dropout).

        x = norm1(x + self_attn(x, x, x, mask))
        x = norm2(x + linear2(relu(linear1(x))))

    Inputs:
    - d_model: int, D
    - num_heads: int, H
    - dim_ff: int, width of the feed-forward block

    Attributes: self_attn (MultiHeadAttention), linear1 (D -> dim_ff), linear2 (dim_ff -> D),
    norm1, norm2 (nn.LayerNorm(D), default eps 1e-5).
    """

    def __init__(self, d_model, num_heads, dim_ff):
        super().__init__()
        # BEGIN SOLUTION hint: section 2.2: the attributes of the docstring
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.linear1 = nn.Linear(d_model, dim_ff)
        self.linear2 = nn.Linear(dim_ff, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        # END SOLUTION

    def forward(self, x, mask=None):
        """Inputs: x (B, T, D); mask, optional bool, broadcastable to (B, H, T, T).

        Returns: tensor (B, T, D).
        """
        # BEGIN SOLUTION hint: section 2.2: the encoder layer of the handout
        x = self.norm1(x + self.self_attn(x, x, x, mask))
        x = self.norm2(x + self.linear2(F.relu(self.linear1(x))))
        # END SOLUTION
        return x


class DecoderLayer(nn.Module):
    """One post-LN decoder layer (nn.TransformerDecoderLayer with norm_first=False, ReLU, no dropout).

        x = norm1(x + self_attn(x, x, x, tgt_mask))                # masked self-attention
        x = norm2(x + cross_attn(x, memory, memory, memory_mask))  # attends to the encoder
        x = norm3(x + linear2(relu(linear1(x))))

    Inputs:
    - d_model: int, D
    - num_heads: int, H
    - dim_ff: int, width of the feed-forward block

    Attributes: self_attn, cross_attn (MultiHeadAttention), linear1, linear2,
    norm1, norm2, norm3 (nn.LayerNorm(D)).
    """

    def __init__(self, d_model, num_heads, dim_ff):
        super().__init__()
        # BEGIN SOLUTION hint: section 2.3: the attributes of the docstring
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.cross_attn = MultiHeadAttention(d_model, num_heads)
        self.linear1 = nn.Linear(d_model, dim_ff)
        self.linear2 = nn.Linear(dim_ff, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        # END SOLUTION

    def forward(self, x, memory, tgt_mask=None, memory_mask=None):
        """Decode one layer.

        Inputs:
        - x: tensor (B, T_t, D), the target side
        - memory: tensor (B, T_s, D), the encoder's output
        - tgt_mask: optional bool, broadcastable to (B, H, T_t, T_t) (causal, and padding)
        - memory_mask: optional bool, broadcastable to (B, H, T_t, T_s) (source padding)

        Returns: tensor (B, T_t, D).
        """
        # BEGIN SOLUTION hint: section 2.3: the decoder layer of the handout
        x = self.norm1(x + self.self_attn(x, x, x, tgt_mask))
        x = self.norm2(x + self.cross_attn(x, memory, memory, memory_mask))
        x = self.norm3(x + self.linear2(F.relu(self.linear1(x))))
        # END SOLUTION
        return x


class Seq2SeqTransformer(nn.Module):
    """Encoder-decoder transformer.

        src_mask = padding_mask(src, pad_id)                               (B, 1, 1, T_s)
        tgt_mask = padding_mask(tgt, pad_id) & causal_mask(T_t)           (B, 1, T_t, T_t)
        memory   = encoder layers applied to pos(src_emb(src)), each with src_mask
        h        = decoder layers applied to pos(tgt_emb(tgt)), each with (memory, tgt_mask, src_mask)
        logits   = generator(h)

    The embeddings are NOT scaled by sqrt(D) here (nn.Embedding starts at N(0, 1),
    already as large as the positional encoding). No final LayerNorm after the stacks.

    Inputs:
    - src_vocab, tgt_vocab: ints, vocabulary sizes
    - d_model: int, D; num_heads: int, H; num_layers: int (as many encoder as decoder layers)
    - dim_ff: int, feed-forward width; max_len: int, the longest sequence; pad_id: int

    Attributes: src_emb, tgt_emb (nn.Embedding(vocab, D)), pos (PositionalEncoding(D, max_len)),
    encoder_layers, decoder_layers (nn.ModuleList of EncoderLayer / DecoderLayer),
    generator (nn.Linear(D, tgt_vocab)), pad_id, d_model.
    """

    def __init__(self, src_vocab, tgt_vocab, d_model=32, num_heads=4, num_layers=2, dim_ff=64,
                 max_len=64, pad_id=PAD):
        super().__init__()
        # BEGIN SOLUTION hint: section 2.4: the attributes of the docstring
        self.pad_id = pad_id
        self.d_model = d_model
        self.src_emb = nn.Embedding(src_vocab, d_model)
        self.tgt_emb = nn.Embedding(tgt_vocab, d_model)
        self.pos = PositionalEncoding(d_model, max_len)
        self.encoder_layers = nn.ModuleList(
            [EncoderLayer(d_model, num_heads, dim_ff) for _ in range(num_layers)])
        self.decoder_layers = nn.ModuleList(
            [DecoderLayer(d_model, num_heads, dim_ff) for _ in range(num_layers)])
        self.generator = nn.Linear(d_model, tgt_vocab)
        # END SOLUTION

    def encode(self, src):
        """src: int64 (B, T_s) -> memory (B, T_s, D)."""
        # BEGIN SOLUTION hint: section 2.4: the encoder's output for src
        src_mask = padding_mask(src, self.pad_id)
        x = self.pos(self.src_emb(src))
        for layer in self.encoder_layers:
            x = layer(x, src_mask)
        # END SOLUTION
        return x

    def decode(self, tgt, memory, src):
        """tgt: int64 (B, T_t), memory (B, T_s, D), src: int64 (B, T_s) -> logits (B, T_t, tgt_vocab)."""
        # BEGIN SOLUTION hint: section 2.4: the decoder's logits for tgt, with the masks of the handout
        src_mask = padding_mask(src, self.pad_id)
        tgt_mask = padding_mask(tgt, self.pad_id) & causal_mask(tgt.shape[1]).to(tgt.device)
        x = self.pos(self.tgt_emb(tgt))
        for layer in self.decoder_layers:
            x = layer(x, memory, tgt_mask, src_mask)
        logits = self.generator(x)
        # END SOLUTION
        return logits

    def forward(self, src, tgt):
        """src: int64 (B, T_s), tgt: int64 (B, T_t) -> logits (B, T_t, tgt_vocab).

        logits[:, t] predicts tgt[:, t + 1] (teacher forcing).
        """
        return self.decode(tgt, self.encode(src), src)


def train_seq2seq(model, src, tgt, steps=200, batch_size=64, lr=3e-3, seed=0):
    """Train with teacher forcing, Adam and cross-entropy that ignores padding.

    At each step, draw batch_size examples (with a torch.Generator seeded with
    seed), feed tgt[:, :-1] to the decoder and compare its logits with
    tgt[:, 1:]; PAD targets do not count (ignore_index=model.pad_id).

    Inputs:
    - model: a Seq2SeqTransformer
    - src: int64 (N, T_s); tgt: int64 (N, T_t), starting with BOS
    - steps, batch_size: ints; lr: float, Adam's learning rate; seed: int

    Returns:
    - losses: list of floats, the training loss of every step
    """
    # BEGIN SOLUTION hint: section 2.5: teacher forcing, one optimizer step per batch
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        idx = torch.randint(0, src.shape[0], (batch_size,), generator=g)
        s, t = src[idx], tgt[idx]
        logits = model(s, t[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), t[:, 1:].reshape(-1),
                               ignore_index=model.pad_id)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # END SOLUTION
    return losses


@torch.no_grad()
def greedy_decode(model, src, max_len, bos_id=BOS, eos_id=EOS):
    """Greedy decoding: start from BOS, append the most likely next token, repeat.

    Encode src once. A row that has produced EOS is finished: every later
    position of that row is model.pad_id. Stop after max_len new tokens, or
    earlier when every row is finished (then pad the output to its full width).

    Inputs:
    - model: a Seq2SeqTransformer
    - src: int64 (B, T_s)
    - max_len: int, the most tokens to generate after BOS
    - bos_id, eos_id: ints

    Returns:
    - out: int64 (B, max_len + 1), out[:, 0] == bos_id
    """
    # BEGIN SOLUTION hint: section 2.5: one new token per step until every row is finished
    B = src.shape[0]
    memory = model.encode(src)
    out = torch.full((B, max_len + 1), model.pad_id, dtype=torch.long)
    out[:, 0] = bos_id
    done = torch.zeros(B, dtype=torch.bool)
    for t in range(1, max_len + 1):
        logits = model.decode(out[:, :t], memory, src)
        nxt = logits[:, -1].argmax(dim=-1)
        nxt = torch.where(done, torch.full_like(nxt, model.pad_id), nxt)
        out[:, t] = nxt
        done = done | (nxt == eos_id)
        if bool(done.all()):
            break
    # END SOLUTION
    return out
