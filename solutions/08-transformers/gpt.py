"""GPT: a decoder-only language model, its loss, sampling and KV-cache decoding (torch).

- ``lm_loss``: next-token cross-entropy (targets shifted by one);
- ``CausalSelfAttention``, ``GPTBlock``, ``GPT``: a pre-LN decoder-only
  transformer that can run on a whole sequence or incrementally, reusing the
  keys and values of earlier positions (the "KV cache");
- ``train_char_gpt``: train a GPT on a long stream of token ids (the grader hands
  it the training part of a Shakespeare excerpt, one id per character);
- ``top_k_filter``, ``sample_next_token``, ``generate``: greedy, temperature and
  top-k sampling.

A KV cache is a list with one ``(k, v)`` tuple per block; ``k`` and ``v`` have
shape ``(B, H, T_past, d_head)``, the keys and values of all positions so far,
in order (position 0 first).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from attention import (
    MultiHeadAttention,
    causal_mask,
    merge_heads,
    scaled_dot_product_attention,
    split_heads,
)


def lm_loss(logits, tokens):
    """Causal language-modelling loss: position t predicts token t + 1.

    Inputs:
    - logits: tensor (B, T, V), the model's output for tokens
    - tokens: int64 tensor (B, T)

    Returns:
    - loss: scalar tensor, the mean cross-entropy of logits[:, t] against
      tokens[:, t + 1] over t = 0 .. T - 2 and the batch
    """
    # BEGIN SOLUTION hint: section 4.1: the next-token cross-entropy
    V = logits.shape[-1]
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1))
    # END SOLUTION
    return loss


class CausalSelfAttention(MultiHeadAttention):
    """Masked multi-head self-attention with an optional KV cache.

    Same attributes as MultiHeadAttention (q_proj, k_proj, v_proj, out_proj, num_heads, d_head).
    """

    def forward(self, x, past_kv=None):
        """Self-attention of the new positions x over the cached ones and themselves.

        Inputs:
        - x: tensor (B, T_new, D), the new positions
        - past_kv: None, or a tuple (k, v) of tensors (B, H, T_past, d_head), the keys
          and values of the T_past earlier positions

        Returns a tuple of:
        - out: tensor (B, T_new, D)
        - present_kv: tuple (k, v) of tensors (B, H, T_past + T_new, d_head): the past
          keys/values followed by those of x
        """
        # BEGIN SOLUTION hint: section 4.2: the new positions' attention over the cache and themselves, and the cache they leave
        q = split_heads(self.q_proj(x), self.num_heads)
        k = split_heads(self.k_proj(x), self.num_heads)
        v = split_heads(self.v_proj(x), self.num_heads)
        if past_kv is not None:
            k = torch.cat([past_kv[0], k], dim=2)
            v = torch.cat([past_kv[1], v], dim=2)
        mask = causal_mask(q.shape[2], k.shape[2]).to(x.device)
        out, _ = scaled_dot_product_attention(q, k, v, mask)
        out = self.out_proj(merge_heads(out))
        present_kv = (k, v)
        # END SOLUTION
        return out, present_kv


class GPTBlock(nn.Module):
    """One pre-LN decoder-only block (nn.TransformerEncoderLayer with norm_first=True,
    activation GELU, a causal mask and no dropout):

        a, present_kv = attn(ln1(x), past_kv)
        x = x + a
        x = x + linear2(gelu(linear1(ln2(x))))

    Inputs: d_model (D), num_heads (H), dim_ff.

    Attributes: ln1, ln2 (nn.LayerNorm(D)), attn (CausalSelfAttention(D, H)),
    linear1 (D -> dim_ff), linear2 (dim_ff -> D). GELU is the exact one (F.gelu).
    """

    def __init__(self, d_model, num_heads, dim_ff):
        super().__init__()
        # BEGIN SOLUTION hint: section 4.2: the attributes of the docstring
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, num_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.linear1 = nn.Linear(d_model, dim_ff)
        self.linear2 = nn.Linear(dim_ff, d_model)
        # END SOLUTION

    def forward(self, x, past_kv=None):
        """x: (B, T_new, D); past_kv: None or (k, v) -> (x (B, T_new, D), present_kv)."""
        # BEGIN SOLUTION hint: section 4.2: the block of the handout
        a, present_kv = self.attn(self.ln1(x), past_kv)
        x = x + a
        x = x + self.linear2(F.gelu(self.linear1(self.ln2(x))))
        # END SOLUTION
        return x, present_kv


class GPT(nn.Module):
    """A small GPT.

        h = tok_emb(idx) + pos_emb(positions)      # positions T_past .. T_past + T_new - 1
        h, kv_l = blocks[l](h, past_kv[l])         # for every block
        logits = head(ln_f(h))

    Inputs:
    - vocab_size: int, V; d_model: int, D; num_heads: int, H; num_layers: int
    - dim_ff: int, feed-forward width; max_len: int, the longest sequence (positions)

    Attributes: tok_emb (nn.Embedding(V, D)), pos_emb (nn.Embedding(max_len, D)),
    blocks (nn.ModuleList of GPTBlock), ln_f (nn.LayerNorm(D)),
    head (nn.Linear(D, V, bias=False)), max_len.
    """

    def __init__(self, vocab_size, d_model=32, num_heads=4, num_layers=2, dim_ff=64, max_len=64):
        super().__init__()
        # BEGIN SOLUTION hint: section 4.2: the attributes of the docstring
        self.max_len = max_len
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        self.blocks = nn.ModuleList(
            [GPTBlock(d_model, num_heads, dim_ff) for _ in range(num_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        # END SOLUTION

    def forward(self, idx, past_kv=None):
        """Run the new tokens idx, after the cached positions if any.

        Inputs:
        - idx: int64 tensor (B, T_new)
        - past_kv: None (no earlier positions), or the present_kv list returned by an
          earlier call, one (k, v) per block, each (B, H, T_past, d_head)

        Returns a tuple of:
        - logits: tensor (B, T_new, V), the same as the last T_new positions of a call
          on the whole sequence without a cache
        - present_kv: list of one (k, v) per block, each (B, H, T_past + T_new, d_head)
        """
        # BEGIN SOLUTION hint: section 4.2: the logits of the new tokens, after the cached positions
        T_past = 0 if past_kv is None else past_kv[0][0].shape[2]
        pos = torch.arange(T_past, T_past + idx.shape[1], device=idx.device)
        h = self.tok_emb(idx) + self.pos_emb(pos)
        present_kv = []
        for i, block in enumerate(self.blocks):
            h, kv = block(h, None if past_kv is None else past_kv[i])
            present_kv.append(kv)
        logits = self.head(self.ln_f(h))
        # END SOLUTION
        return logits, present_kv


def train_char_gpt(model, ids, steps=300, batch_size=32, lr=1e-2, seed=0):
    """Train model, in place, to predict every next token of ids (handout section 4.4).

    At each step, draw batch_size windows of model.max_len consecutive tokens of
    ids, starting at positions drawn uniformly (a torch.Generator seeded with
    seed), and take one Adam step (learning rate lr) on lm_loss of the model's
    logits for those windows.

    Inputs:
    - model: a GPT, trained in place
    - ids: int64 tensor (N,), the training text as token ids, N > model.max_len
    - steps, batch_size: ints; lr: float, Adam's learning rate; seed: int

    Returns:
    - losses: list of floats, the training loss of every step
    """
    # BEGIN SOLUTION hint: section 4.4: language-model training, one optimizer step per batch of windows
    g = torch.Generator().manual_seed(seed)
    T = model.max_len
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        starts = torch.randint(0, len(ids) - T + 1, (batch_size,), generator=g)
        x = ids[starts[:, None] + torch.arange(T)]
        logits, _ = model(x)
        loss = lm_loss(logits, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # END SOLUTION
    return losses


def top_k_filter(logits, k):
    """Keep the k largest logits of every row; set the others to -inf.

    Inputs:
    - logits: tensor (B, V)
    - k: int, 1 <= k <= V (None: keep everything)

    Returns:
    - tensor (B, V): logits where logits >= the k-th largest of its row, -inf elsewhere
    """
    # BEGIN SOLUTION hint: section 4.3: the k largest logits of each row, kept
    if k is None:
        return logits
    kth = torch.topk(logits, k, dim=-1).values[:, -1:]
    out = logits.masked_fill(logits < kth, float("-inf"))
    # END SOLUTION
    return out


def sample_next_token(logits, temperature=1.0, top_k=None, generator=None):
    """Draw one token per row.

    temperature == 0 means greedy: the argmax. Otherwise sample from
    softmax(top_k_filter(logits / temperature, top_k)) with torch.multinomial
    (one draw per row, using generator).

    Inputs:
    - logits: tensor (B, V), the logits of the next token
    - temperature: float >= 0
    - top_k: int or None
    - generator: a torch.Generator or None (the global RNG)

    Returns:
    - tokens: int64 tensor (B,)
    """
    # BEGIN SOLUTION hint: section 4.3: one token per row, greedy or sampled
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(top_k_filter(logits / temperature, top_k), dim=-1)
    tokens = torch.multinomial(probs, 1, generator=generator)[:, 0]
    # END SOLUTION
    return tokens


@torch.no_grad()
def generate(model, idx, max_new_tokens, temperature=1.0, top_k=None, seed=None, use_cache=True):
    """Extend idx by max_new_tokens tokens, one at a time.

    With use_cache, run the prompt once, then feed only the newest token with the
    KV cache; without it, rerun the whole sequence at every step. Both must give
    the same tokens. Sampling uses one torch.Generator seeded with seed (the global
    RNG when seed is None), so the same seed gives the same output.

    Inputs:
    - model: a GPT
    - idx: int64 tensor (B, T), the prompt (T >= 1); T + max_new_tokens <= model.max_len
    - max_new_tokens: int
    - temperature, top_k: as in sample_next_token (temperature 0: greedy)
    - seed: int or None
    - use_cache: bool

    Returns:
    - out: int64 tensor (B, T + max_new_tokens), the prompt then the new tokens
    """
    # BEGIN SOLUTION hint: section 4.3: the prompt extended one token at a time
    g = None if seed is None else torch.Generator().manual_seed(seed)
    out = idx
    past = None
    step_input = idx
    for _ in range(max_new_tokens):
        if use_cache:
            logits, past = model(step_input, past)
        else:
            logits, _ = model(out)
        nxt = sample_next_token(logits[:, -1], temperature, top_k, g)
        out = torch.cat([out, nxt[:, None]], dim=1)
        step_input = nxt[:, None]
    # END SOLUTION
    return out
