"""Oracles of assignment 08's hidden tests only; this file never ships to students.

pytest loads it for the tests under tests/hidden/ only (the release and
``dlgrade check`` leave the folder out). It holds the oracles that re-implement,
in torch, something that students must write themselves: published with the
public tests, they would be solutions to copy.

Its ``oracle`` fixture extends the public one of ``tests/conftest.py`` (torch
built-ins with copied weights, the positional-encoding table, the causal mask,
the LM loss, the top-k sampling distribution; all reached through it) with:

- ``greedy_decode``: the handout's greedy decoding loop, run on the student's model.
"""

from __future__ import annotations

import pytest
import torch

from autograder.testing import ExtendedOracle

PAD, BOS, EOS = 0, 1, 2


class Oracle(ExtendedOracle):
    """The public oracle (``tests/conftest.py``) plus the hidden tests' own references.
    Attributes it lacks come from the public oracle."""

    @staticmethod
    def greedy_decode(model, src, max_len, bos_id=BOS, eos_id=EOS, pad_id=PAD,
                      pad_after_eos=True):
        """Greedy decoding as the handout specifies, calling the student's model(src, prefix)
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


@pytest.fixture(scope="session")
def oracle(oracle) -> Oracle:
    """The public ``oracle`` with the hidden tests' own references (see ``Oracle``)."""
    return Oracle(oracle)
