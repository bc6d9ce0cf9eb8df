"""Oracles of assignment 08's hidden tests only; this file never ships to students.

pytest loads it for the tests under tests/hidden/ only (the release and
``dlgrade check`` leave the folder out). It holds the oracles that re-implement,
in torch, something that students must write themselves: published with the
public tests, they would be solutions to copy.

Its ``oracle`` fixture extends the public one of ``tests/conftest.py`` (torch
built-ins with copied weights, the positional-encoding table, the causal mask,
the LM loss, the top-k sampling distribution; all reached through it) with:

- ``greedy_decode``: the handout's greedy decoding loop, on a model called as model(src, prefix);
- ``gpt_greedy``: greedy generation with the reference GPT (the public ``gpt``) and given weights;
- ``gpt_keys_values``: the keys and values that a GPT's first block computes, from its weights.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from autograder.testing import ExtendedOracle

PAD, BOS, EOS = 0, 1, 2


class Oracle(ExtendedOracle):
    """The public oracle (``tests/conftest.py``) plus the hidden tests' own references.
    Attributes it lacks come from the public oracle."""

    @staticmethod
    def greedy_decode(model, src, max_len, bos_id=BOS, eos_id=EOS, pad_id=PAD,
                      pad_after_eos=True):
        """Greedy decoding as the handout specifies, calling model(src, prefix) for the logits
        (``pad_after_eos=False``: the classic mistake of decoding on after EOS)."""
        B = src.shape[0]
        out = torch.full((B, max_len + 1), pad_id, dtype=torch.long)
        out[:, 0] = bos_id
        done = torch.zeros(B, dtype=torch.bool)
        for t in range(1, max_len + 1):
            logits = model(src, out[:, :t])
            nxt = logits[:, -1].argmax(-1)
            if pad_after_eos:
                nxt[done] = pad_id
            out[:, t] = nxt
            done |= nxt == eos_id
            if bool(done.all()):
                break
        return out

    def gpt_greedy(self, sd, num_heads, dim_ff, num_layers, prompt, steps):
        """``prompt`` (B, T) followed by ``steps`` argmax tokens of the reference GPT with ``sd``."""
        out = prompt
        for _ in range(steps):
            nxt = self.gpt(sd, num_heads, dim_ff, num_layers, out)[:, -1].argmax(-1, keepdim=True)
            out = torch.cat([out, nxt], dim=1)
        return out

    @staticmethod
    def gpt_keys_values(sd, num_heads, idx):
        """(k, v), each (B, H, T, d_head): the first block's keys and values of ``idx`` (B, T),
        ln1 of the embeddings projected by k_proj and v_proj, heads split, position 0 first."""
        B, T = idx.shape
        h = sd["tok_emb.weight"][idx] + sd["pos_emb.weight"][:T]
        x = F.layer_norm(h, h.shape[-1:], sd["blocks.0.ln1.weight"], sd["blocks.0.ln1.bias"])

        def heads(name):
            y = F.linear(x, sd[f"blocks.0.attn.{name}.weight"], sd[f"blocks.0.attn.{name}.bias"])
            return y.reshape(B, T, num_heads, -1).permute(0, 2, 1, 3)

        return heads("k_proj"), heads("v_proj")


@pytest.fixture(scope="session")
def oracle(oracle) -> Oracle:
    """The public ``oracle`` with the hidden tests' own references (see ``Oracle``)."""
    return Oracle(oracle)
