"""Assignment 08: the reference solution gets full marks, classic mistakes lose points.

Each mutant is a copy of solutions/08-transformers/ with exact string replacements
applied to one module; it is graded with the real graders, and the listed tests
must fail. To keep this file fast, each mutant is graded only on the tests that
must catch it (``-k`` selection). The first group are the mistakes the
assignment's issue lists; the second group are more mistakes students make.
"""

from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.mutants import Mutant, grade_mutant, mutant_problems, reference_problems

ASSIGNMENT = load_course(Path(__file__).resolve().parents[1]).assignment("08-transformers")

# Mutant(id, module, [(old, new), ...], tests that must fail)
MUTANTS = [
    # ---------------------------------------------------------------- the list
    Mutant(
        "no-sqrt-dk-scaling",
        "attention.py",
        [("    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)\n",
          "    scores = q @ k.transpose(-2, -1)\n")],
        ["test_sdpa_matches_torch", "test_sdpa_scaling_large_dk", "test_mha_self_attention_matches_torch"],
    ),
    Mutant(
        "mask-applied-after-softmax",
        "attention.py",
        [(
            "    if mask is not None:\n"
            "        scores = scores.masked_fill(~mask, float(\"-inf\"))\n"
            "    weights = torch.softmax(scores, dim=-1)\n",
            "    weights = torch.softmax(scores, dim=-1)\n"
            "    if mask is not None:\n"
            "        weights = weights.masked_fill(~mask, 0.0)\n",
        )],
        ["test_sdpa_padding_mask", "test_sdpa_causal_matches_torch",
         "test_sdpa_general_mask_and_batch_axes", "test_gpt_forward_matches_torch"],
    ),
    Mutant(
        "softmax-over-the-query-axis",
        "attention.py",
        [("    weights = torch.softmax(scores, dim=-1)\n", "    weights = torch.softmax(scores, dim=-2)\n")],
        ["test_sdpa_matches_torch", "test_sdpa_general_mask_and_batch_axes",
         "test_mha_self_attention_matches_torch"],
    ),
    Mutant(
        "split-heads-mixes-batch-and-head",
        "attention.py",
        [("    out = x.reshape(B, T, num_heads, D // num_heads).transpose(1, 2)\n",
          "    out = x.reshape(num_heads, B, T, D // num_heads).transpose(0, 1)\n")],
        ["test_split_and_merge_heads", "test_mha_self_attention_matches_torch",
         "test_mha_cross_attention_with_mask"],
    ),
    Mutant(
        "split-heads-reshape-without-transpose",
        "attention.py",
        [("    out = x.reshape(B, T, num_heads, D // num_heads).transpose(1, 2)\n",
          "    out = x.reshape(B, num_heads, T, D // num_heads)\n")],
        ["test_split_and_merge_heads", "test_mha_self_attention_matches_torch"],
    ),
    Mutant(
        "merge-heads-reshape-without-transpose",
        "attention.py",
        [("    out = x.transpose(1, 2).reshape(B, T, H * d_head)\n", "    out = x.reshape(B, T, H * d_head)\n")],
        ["test_split_and_merge_heads", "test_mha_self_attention_matches_torch",
         "test_mha_gradients_match_torch"],
    ),
    Mutant(
        "sin-and-cos-in-two-halves",
        "transformer.py",
        [(
            "    pe[:, 0::2] = torch.sin(pos * freq)\n    pe[:, 1::2] = torch.cos(pos * freq)\n",
            "    pe = torch.cat([torch.sin(pos * freq), torch.cos(pos * freq)], dim=1)\n",
        )],
        ["test_positional_encoding_table", "test_positional_encoding_other_sizes",
         "test_seq2seq_forward_matches_torch"],
    ),
    Mutant(
        "cos-in-even-columns",
        "transformer.py",
        [(
            "    pe[:, 0::2] = torch.sin(pos * freq)\n    pe[:, 1::2] = torch.cos(pos * freq)\n",
            "    pe[:, 0::2] = torch.cos(pos * freq)\n    pe[:, 1::2] = torch.sin(pos * freq)\n",
        )],
        ["test_positional_encoding_table", "test_positional_encoding_other_sizes",
         "test_positional_encoding_module_adds_table"],
    ),
    Mutant(
        "causal-mask-off-by-one",
        "attention.py",
        [(".tril(diagonal=T_k - T_q)", ".tril(diagonal=T_k - T_q + 1)")],
        ["test_causal_mask_square", "test_causal_mask_rectangular", "test_sdpa_causal_matches_torch",
         "test_gpt_is_causal", "test_gpt_forward_matches_torch", "test_kv_cache_chunks"],
    ),
    Mutant(
        "mlm-loss-over-all-tokens",
        "bert.py",
        [(
            "    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),\n"
            "                           ignore_index=IGNORE)\n",
            "    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1).clamp(min=0))\n",
        )],
        ["test_mlm_loss_matches_cross_entropy", "test_mlm_loss_gradient"],
    ),
    Mutant(
        "lm-targets-not-shifted",
        "gpt.py",
        [("    loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1))\n",
          "    loss = F.cross_entropy(logits.reshape(-1, V), tokens.reshape(-1))\n")],
        ["test_lm_loss", "test_lm_loss_gradient"],
    ),
    Mutant(
        "top-k-keeps-k-plus-1",
        "gpt.py",
        [("    kth = torch.topk(logits, k, dim=-1).values[:, -1:]\n",
          "    kth = torch.topk(logits, k + 1, dim=-1).values[:, -1:]\n")],
        ["test_top_k_filter", "test_sampling_top_k_statistics", "test_generate_top_1_is_greedy"],
    ),
    Mutant(
        "kv-cache-appends-before-the-past",
        "gpt.py",
        [
            ("            k = torch.cat([past_kv[0], k], dim=2)\n", "            k = torch.cat([k, past_kv[0]], dim=2)\n"),
            ("            v = torch.cat([past_kv[1], v], dim=2)\n", "            v = torch.cat([v, past_kv[1]], dim=2)\n"),
        ],
        ["test_kv_cache_chunks", "test_kv_cache_contents"],
    ),
    # ---------------------------------------------------------------- more mistakes
    Mutant(
        "mlm-loss-averaged-over-all-positions",
        "bert.py",
        [("                           ignore_index=IGNORE)\n",
          "                           ignore_index=IGNORE, reduction=\"sum\") / labels.numel()\n")],
        ["test_mlm_loss_matches_cross_entropy", "test_mlm_loss_gradient"],
    ),
    Mutant(
        "encoder-layer-pre-ln",
        "transformer.py",
        [(
            "        x = self.norm1(x + self.self_attn(x, x, x, mask))\n"
            "        x = self.norm2(x + self.linear2(F.relu(self.linear1(x))))\n",
            "        h = self.norm1(x)\n"
            "        x = x + self.self_attn(h, h, h, mask)\n"
            "        x = x + self.linear2(F.relu(self.linear1(self.norm2(x))))\n",
        )],
        ["test_encoder_layer_matches_torch", "test_encoder_layer_padding_mask_and_gradients"],
    ),
    Mutant(
        "cross-attention-attends-to-the-decoder",
        "transformer.py",
        [("        x = self.norm2(x + self.cross_attn(x, memory, memory, memory_mask))\n",
          "        x = self.norm2(x + self.cross_attn(x, x, x, tgt_mask))\n")],
        ["test_decoder_layer_matches_torch", "test_decoder_layer_all_masks_and_gradients"],
    ),
    Mutant(
        "decoder-without-causal-mask",
        "transformer.py",
        [("        tgt_mask = padding_mask(tgt, self.pad_id) & causal_mask(tgt.shape[1]).to(tgt.device)\n",
          "        tgt_mask = padding_mask(tgt, self.pad_id)\n")],
        ["test_seq2seq_forward_matches_torch", "test_seq2seq_learns_to_reverse"],
    ),
    Mutant(
        "encoder-ignores-source-padding",
        "transformer.py",
        [("            x = layer(x, src_mask)\n", "            x = layer(x)\n")],
        ["test_seq2seq_forward_matches_torch"],
    ),
    Mutant(
        "cross-attention-ignores-source-padding",
        "transformer.py",
        [("            x = layer(x, memory, tgt_mask, src_mask)\n", "            x = layer(x, memory, tgt_mask)\n")],
        ["test_seq2seq_forward_matches_torch"],
    ),
    Mutant(
        "padding-mask-on-queries",
        "attention.py",
        [("    mask = (tokens != pad_id)[:, None, None, :]\n", "    mask = (tokens != pad_id)[:, None, :, None]\n")],
        ["test_padding_mask", "test_seq2seq_forward_matches_torch"],
    ),
    Mutant(
        "greedy-decode-keeps-going-after-eos",
        "transformer.py",
        [("        nxt = torch.where(done, torch.full_like(nxt, model.pad_id), nxt)\n", "")],
        ["test_greedy_decode_matches_reference_loop"],
    ),
    Mutant(
        "mlm-selects-special-tokens",
        "bert.py",
        [("    selected = (torch.rand(tokens.shape, generator=g) < mask_prob) & ~special\n",
          "    selected = torch.rand(tokens.shape, generator=g) < mask_prob\n")],
        ["test_mask_tokens_rules", "test_mask_tokens_other_rate_and_random_tokens"],
    ),
    Mutant(
        "mlm-always-mask-token",
        "bert.py",
        [
            ("selected & (r < 0.8)", "selected"),
            ("    inputs = torch.where(selected & (r >= 0.8) & (r < 0.9), random_tokens, inputs)\n", ""),
        ],
        ["test_mask_tokens_statistics", "test_mask_tokens_other_rate_and_random_tokens"],
    ),
    Mutant(
        "mlm-random-token-may-be-special",
        "bert.py",
        [("    random_tokens = regular[torch.randint(len(regular), tokens.shape, generator=g)]\n",
          "    random_tokens = torch.randint(vocab_size, tokens.shape, generator=g)\n")],
        ["test_mask_tokens_other_rate_and_random_tokens"],
    ),
    Mutant(
        "bert-segments-first-sep-in-segment-b",
        "bert.py",
        [("    segments = [0] * (len(sent_a) + 2) + [1] * (len(sent_b) + 1)\n",
          "    segments = [0] * (len(sent_a) + 1) + [1] * (len(sent_b) + 2)\n")],
        ["test_build_bert_inputs"],
    ),
    Mutant(
        "nsp-notnext-may-come-from-the-same-document",
        "bert.py",
        [("            other = rng.choice([e for e in range(len(documents)) if e != d])\n",
          "            other = rng.randrange(len(documents))\n")],
        ["test_nsp_pairs"],
    ),
    Mutant(
        "cls-head-mean-pooling",
        "bert.py",
        [("self.dense(hidden[:, 0])", "self.dense(hidden.mean(dim=1))")],
        ["test_cls_head"],
    ),
    Mutant(
        "temperature-multiplies-the-logits",
        "gpt.py",
        [("torch.softmax(top_k_filter(logits / temperature, top_k)",
          "torch.softmax(top_k_filter(logits * temperature, top_k)")],
        ["test_sampling_temperature_statistics"],
    ),
    Mutant(
        "kv-cache-positions-restart-at-zero",
        "gpt.py",
        [("        T_past = 0 if past_kv is None else past_kv[0][0].shape[2]\n", "        T_past = 0\n")],
        ["test_kv_cache_matches_full_recompute", "test_kv_cache_chunks", "test_generate_seeded_and_cache_free"],
    ),
    Mutant(
        "generate-reads-the-first-position",
        "gpt.py",
        [("        nxt = sample_next_token(logits[:, -1], temperature, top_k, g)\n",
          "        nxt = sample_next_token(logits[:, 0], temperature, top_k, g)\n")],
        ["test_generate_greedy", "test_generate_seeded_and_cache_free"],
    ),
]


def test_reference_solution_gets_full_marks():
    assert reference_problems(ASSIGNMENT) == []


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_classic_mistake_loses_points(tmp_path, mutant):
    assert mutant_problems(grade_mutant(ASSIGNMENT, mutant, tmp_path), mutant) == []
