"""Assignment 07: the reference solution gets full marks, classic mistakes lose points.

Each mutant is a copy of solutions/07-embeddings/ with exact string replacements
applied to one module; it is graded with the real graders, restricted (``-k``)
to the tests that must catch it, and each of those tests must fail. The first
group are the mistakes the assignment's issue lists; the second group are more
mistakes students make.
"""

from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.mutants import Mutant, grade_mutant, mutant_problems, reference_problems

ASSIGNMENT = load_course(Path(__file__).resolve().parents[1]).assignment("07-embeddings")

# Mutant(id, module, [(old, new), ...], tests that must fail)
MUTANTS = [
    # ---------------------------------------------------------------- the list
    Mutant(
        "vlad-without-intra-normalisation",
        "vlad.py",
        [("    v = power_normalize(intra_normalize(V).reshape(-1))\n",
          "    v = power_normalize(V.reshape(-1))\n")],
        ["test_vlad_encode", "test_vlad_encode_bursty_image", "test_vlad_retrieval_map",
         "test_vlad_retrieval_map_heldout"],
    ),
    Mutant(
        "vlad-residuals-with-the-wrong-sign",
        "vlad.py",
        [("    np.add.at(V, assignment, X - C[assignment])\n",
          "    np.add.at(V, assignment, C[assignment] - X)\n")],
        ["test_residual_sums", "test_vlad_encode", "test_residual_sign_and_empty_clusters"],
    ),
    Mutant(
        "netvlad-residuals-with-the-wrong-sign",
        "netvlad.py",
        [("        V = torch.bmm(a_flat, x_flat.transpose(1, 2)) - a_flat.sum(dim=2)[:, :, None] * self.centroids\n",
          "        V = a_flat.sum(dim=2)[:, :, None] * self.centroids - torch.bmm(a_flat, x_flat.transpose(1, 2))\n")],
        ["test_netvlad_forward", "test_netvlad_centroid_gradients",
         "test_sequential_vlad_forward", "test_netvlad_forward_other_sizes"],
    ),
    Mutant(
        "netvlad-softmax-over-the-wrong-axis",
        "netvlad.py",
        [("        a = torch.softmax(self.conv(x), dim=1)\n",
          "        a = torch.softmax(self.conv(x), dim=-1)\n")],
        ["test_netvlad_soft_assignment", "test_netvlad_forward",
         "test_netvlad_softmax_over_clusters", "test_sequential_vlad_frame_assignments"],
    ),
    Mutant(
        "negative-sampling-distribution-uniform",
        "word2vec.py",
        [("    probs = weights / weights.sum()\n",
          "    probs = np.ones(len(weights)) / len(weights)\n")],
        ["test_negative_sampling_distribution", "test_negative_sampling_distribution_power_and_zeros"],
    ),
    Mutant(
        "negatives-drawn-uniformly",
        "word2vec.py",
        [("    negatives = rng.choice(len(probs), size=shape, p=probs).astype(np.int64)\n",
          "    negatives = rng.choice(len(probs), size=shape).astype(np.int64)\n")],
        ["test_sample_negatives_statistics", "test_sample_negatives_pinned_seed_not_uniform"],
    ),
    Mutant(
        "skipgram-window-includes-the-centre",
        "word2vec.py",
        [("            if j != i:\n", "            if True:\n")],
        ["test_skipgram_pairs", "test_skipgram_pairs_edges"],
    ),
    Mutant(
        "glove-weight-not-capped-at-one",
        "glove.py",
        [("    f = np.minimum((np.asarray(X, dtype=np.float64) / x_max) ** alpha, 1.0)\n",
          "    f = (np.asarray(X, dtype=np.float64) / x_max) ** alpha\n")],
        ["test_glove_weight", "test_glove_weight_capped_at_one", "test_glove_loss_and_grads",
         "test_glove_numerical_gradients_sparse"],
    ),
    Mutant(
        "fasttext-without-boundary-markers",
        "fasttext.py",
        [('    wrapped = "<" + word + ">"\n', "    wrapped = word\n")],
        ["test_char_ngrams", "test_fnv1a_and_buckets", "test_word_vector",
         "test_char_ngrams_boundaries_and_ranges", "test_out_of_vocabulary_word_vector"],
    ),
    Mutant(
        "context-gradients-miss-the-negative-samples",
        "word2vec.py",
        [("    np.add.at(dW_out, negatives, du_s)\n", "")],
        ["test_sgns_gradients", "test_sgns_gradients_repeated_words",
         "test_sgns_negative_output_vectors_get_gradients", "test_sgns_numerical_gradient"],
    ),
    # ---------------------------------------------------------------- more mistakes
    Mutant(
        "vlad-without-power-normalisation",
        "vlad.py",
        [("    v = power_normalize(intra_normalize(V).reshape(-1))\n",
          "    v = intra_normalize(V).reshape(-1)\n")],
        ["test_vlad_encode", "test_vlad_encode_bursty_image", "test_vlad_encode_other_sizes"],
    ),
    Mutant(
        "vlad-assignment-by-dot-product",
        "vlad.py",
        [("    assignment = np.argmin(d2, axis=1).astype(np.int64)\n",
          "    assignment = np.argmax(X @ C.T, axis=1).astype(np.int64)\n")],
        ["test_assign_descriptors", "test_assign_descriptors_ties_and_one_descriptor"],
    ),
    Mutant(
        "vlad-part-written-in-torch",
        "vlad.py",
        [("    out = np.sign(v) * np.sqrt(np.abs(v))\n",
          "    import torch\n\n"
          "    out = torch.sign(torch.from_numpy(v)) * torch.sqrt(torch.from_numpy(np.abs(v)))\n")],
        ["test_power_normalize", "test_vlad_encode"],
    ),
    Mutant(
        "netvlad-without-intra-normalisation",
        "netvlad.py",
        [("        v = F.normalize(V, p=2, dim=2, eps=1e-12).reshape(V.shape[0], -1)\n",
          "        v = V.reshape(V.shape[0], -1)\n")],
        ["test_netvlad_forward", "test_netvlad_intra_and_global_normalisation"],
    ),
    Mutant(
        # The centroids get no gradient: only the 1x1 convolution would learn.
        "netvlad-centroids-detached",
        "netvlad.py",
        [("        V = torch.bmm(a_flat, x_flat.transpose(1, 2)) - a_flat.sum(dim=2)[:, :, None] * self.centroids\n",
          "        V = torch.bmm(a_flat, x_flat.transpose(1, 2)) - a_flat.sum(dim=2)[:, :, None] * self.centroids.detach()\n")],
        ["test_netvlad_centroid_gradients", "test_netvlad_all_gradients_tied",
         "test_sequential_vlad_gradients_and_one_frame"],
    ),
    Mutant(
        "netvlad-init-without-the-factor-two",
        "netvlad.py",
        [("            self.conv.weight.copy_((2.0 * self.alpha * c)[:, :, None, None])\n",
          "            self.conv.weight.copy_((self.alpha * c)[:, :, None, None])\n")],
        ["test_netvlad_init_from_centroids"],
    ),
    Mutant(
        "sequential-vlad-reads-the-last-frame-only",
        "netvlad.py",
        [("        V = self.aggregate(x.transpose(1, 2), a.transpose(1, 2))\n",
          "        V = self.aggregate(x[:, -1], a[:, -1])\n")],
        ["test_sequential_vlad_forward", "test_sequential_vlad_gradients_and_one_frame"],
    ),
    Mutant(
        "noise-distribution-from-raw-counts",
        "word2vec.py",
        [("    weights = np.asarray(counts, dtype=np.float64) ** power\n",
          "    weights = np.asarray(counts, dtype=np.float64)\n")],
        ["test_negative_sampling_distribution", "test_negative_sampling_distribution_power_and_zeros"],
    ),
    Mutant(
        # Fancy-index += is buffered: a word used twice in a batch gets one gradient.
        "sgns-gradients-not-accumulated-for-repeated-words",
        "word2vec.py",
        [("    np.add.at(dW_in, centers, dv)\n", "    dW_in[centers] += dv\n"),
         ("    np.add.at(dW_out, negatives, du_s)\n", "    dW_out[negatives] += du_s\n")],
        ["test_sgns_gradients_repeated_words"],
    ),
    Mutant(
        "sgns-loss-summed-not-averaged",
        "word2vec.py",
        [("    loss = (np.sum(np.logaddexp(0.0, -pos)) + np.sum(np.logaddexp(0.0, neg))) / B\n",
          "    loss = np.sum(np.logaddexp(0.0, -pos)) + np.sum(np.logaddexp(0.0, neg))\n")],
        ["test_sgns_loss", "test_sgns_gradients_repeated_words", "test_sgns_numerical_gradient"],
    ),
    Mutant(
        "cbow-sums-the-context-vectors",
        "word2vec.py",
        [("    h = W_in[contexts].mean(axis=1)\n", "    h = W_in[contexts].sum(axis=1)\n")],
        ["test_cbow_loss", "test_cbow_loss_large_scores_and_repeats"],
    ),
    Mutant(
        "cbow-softmax-without-the-max-shift",
        "word2vec.py",
        [("    shifted = scores - scores.max(axis=1, keepdims=True)\n", "    shifted = scores\n")],
        ["test_cbow_loss_large_scores_and_repeats"],
    ),
    Mutant(
        "nearest-neighbours-by-dot-product-not-cosine",
        "word2vec.py",
        [("    unit = E / np.linalg.norm(E, axis=1, keepdims=True)\n", "    unit = E\n")],
        ["test_cosine_nearest_neighbours"],
    ),
    Mutant(
        "cooccurrence-without-distance-weighting",
        "glove.py",
        [("        np.add.at(X, (left, right), 1.0 / d)\n        np.add.at(X, (right, left), 1.0 / d)\n",
          "        np.add.at(X, (left, right), 1.0)\n        np.add.at(X, (right, left), 1.0)\n")],
        ["test_cooccurrence_matrix", "test_cooccurrence_edges"],
    ),
    Mutant(
        "glove-loss-over-zero-counts",
        "glove.py",
        [("    mask = X > 0\n", "    mask = X >= 0\n")],
        ["test_glove_loss_and_grads", "test_glove_numerical_gradients_sparse"],
    ),
    Mutant(
        "glove-gradient-without-the-factor-two",
        "glove.py",
        [("    g = 2.0 * f * e  # (V, V)\n", "    g = f * e  # (V, V)\n")],
        ["test_glove_loss_and_grads", "test_glove_numerical_gradients_sparse"],
    ),
    Mutant(
        "glove-context-gradient-not-transposed",
        "glove.py",
        [('        "W_ctx": g.T @ W,\n', '        "W_ctx": g @ W,\n')],
        ["test_glove_loss_and_grads", "test_glove_numerical_gradients_sparse"],
    ),
    Mutant(
        # FNV-1 (multiply, then XOR) instead of FNV-1a.
        "fnv1-instead-of-fnv1a",
        "fasttext.py",
        [("        h ^= c\n        h = (h * FNV_PRIME) % 2**32\n",
          "        h = (h * FNV_PRIME) % 2**32\n        h ^= c\n")],
        ["test_fnv1a_and_buckets", "test_fnv1a_known_values"],
    ),
    Mutant(
        "fasttext-vector-without-the-word-itself",
        "fasttext.py",
        [("        vector = vector + word_vectors[vocab[word]]\n", "        pass\n")],
        ["test_word_vector", "test_out_of_vocabulary_word_vector"],
    ),
    Mutant(
        "netvlad-without-global-normalisation",
        "netvlad.py",
        [("        v = F.normalize(v, p=2, dim=1, eps=1e-12)\n", "")],
        ["test_netvlad_forward", "test_netvlad_intra_and_global_normalisation",
         "test_netvlad_forward_other_sizes"],
    ),
    Mutant(
        # Each pair counted in one order only: X is not symmetric.
        "cooccurrence-one-direction-only",
        "glove.py",
        [("        np.add.at(X, (right, left), 1.0 / d)\n", "")],
        ["test_cooccurrence_matrix", "test_cooccurrence_edges"],
    ),
    Mutant(
        "fasttext-vector-averages-the-ngrams",
        "fasttext.py",
        [("ngram_vectors[buckets].sum(axis=0)", "ngram_vectors[buckets].mean(axis=0)")],
        ["test_word_vector", "test_out_of_vocabulary_word_vector"],
    ),
    Mutant(
        "fasttext-ngrams-without-the-whole-word",
        "fasttext.py",
        [("            if start + n <= len(wrapped):\n",
          "            if start + n <= len(wrapped) and n < len(wrapped):\n")],
        ["test_char_ngrams", "test_char_ngrams_boundaries_and_ranges"],
    ),
]


def test_reference_solution_gets_full_marks():
    assert reference_problems(ASSIGNMENT) == []


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_classic_mistake_loses_points(tmp_path, mutant):
    assert mutant_problems(grade_mutant(ASSIGNMENT, mutant, tmp_path), mutant) == []
