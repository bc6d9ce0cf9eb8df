"""07-embeddings' planted-corpus bars against the count-based shortcut (issue 23).

Three tests train word vectors on the handout's planted corpus (ids 2k and 2k+1 are synonyms,
used interchangeably) and ask that every planted word have its synonym as nearest cosine
neighbour, judged by the graders' ``planted_pairs_are_neighbours``: the public
``test_skipgram_planted_neighbours`` and hidden ``test_skipgram_planted_neighbours_heldout``
(``train_skipgram``, 16 dimensions) and the hidden ``test_glove_planted_neighbours``
(``train_glove``, 10 dimensions, given the co-occurrence matrix). No training is needed to pass
them: the truncated SVD of the log co-occurrence counts (latent semantic analysis) puts every
synonym nearest its pair, at the tests' own sizes, corpora and window. That SVD is a legitimate
embedding, close to what SGNS and GloVe optimise (Levy and Goldberg 2014), so no neighbour bar
can tell the two apart: those three tests check the vectors' quality, not how they were made.
What checks the method is an exact replay of the training: the hidden
``test_train_skipgram_replays_the_recipe`` and ``test_train_glove_replays_adagrad`` compare
what ``train_skipgram`` and ``train_glove`` return after a few steps of their docstrings'
recipes with the hidden oracles' replays. Here the reference with both trainers replaced by
that SVD is graded: it earns the neighbour tests and nothing on the replays. (The CBOW and
fastText bars on real text are in test_shortcuts_embeddings.py.)
"""

from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest

from autograder.config import load_course
from autograder.grading import grade_submission
from tests.conftest import REPO
from tests.test_shortcuts import _graders_conftest

EMBEDDINGS = load_course(REPO).assignment("07-embeddings")
#: per graded test: (planted_corpus's seed, its sentences, the vectors' dimension)
PLANTED_TESTS = {"public/test_word2vec.py::test_skipgram_planted_neighbours": (0, 1500, 16),
                 "hidden/test_word2vec_hidden.py::test_skipgram_planted_neighbours_heldout": (7, 1500, 16),
                 "hidden/test_glove_fasttext_hidden.py::test_glove_planted_neighbours": (1, 20000, 10)}
WINDOW = 2  # the glove test's co-occurrence window
#: the hidden tests that replay a few steps of train_skipgram's and train_glove's recipes
REPLAY_TESTS = ("test_train_skipgram_replays_the_recipe", "test_train_glove_replays_adagrad")

#: appended to the reference's modules: the trainers replaced by the rank-``embed_dim`` SVD
#: of log(1 + co-occurrences) (window 2, counts weighted 1 / distance), no training
SVD_TRAINERS = {"word2vec.py": '''


def train_skipgram(token_ids, vocab_size, embed_dim=16, window=2, num_negatives=5, epochs=5,
                   lr=0.05, batch_size=64, seed=0):
    t = np.asarray(token_ids)
    X = np.zeros((vocab_size, vocab_size))
    for d in (1, 2):
        np.add.at(X, (t[:-d], t[d:]), 1.0 / d)
        np.add.at(X, (t[d:], t[:-d]), 1.0 / d)
    U, S, _ = np.linalg.svd(np.log1p(X))
    return U[:, :embed_dim] * S[:embed_dim]
''', "glove.py": '''


def train_glove(X, embed_dim=10, epochs=2000, lr=0.05, x_max=100.0, alpha=0.75, seed=0):
    U, S, _ = np.linalg.svd(np.log1p(X))
    return U[:, :embed_dim] * S[:embed_dim]
'''}


def graders_oracle():
    """07's hidden ``Oracle`` (its planted corpus, co-occurrences and nearest neighbours)."""
    hidden_path = EMBEDDINGS.root / "tests" / "hidden" / "conftest.py"
    spec = importlib.util.spec_from_file_location("graders_hidden_conftest_07", hidden_path)
    hidden = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hidden)
    return hidden.Oracle(_graders_conftest(EMBEDDINGS).Oracle())


@pytest.fixture(scope="module")
def oracle():
    return graders_oracle()


def svd_synonyms_found(oracle, seed: int, sentences: int, dim: int) -> int:
    """How many of the 16 planted words have their synonym as nearest cosine neighbour among
    the rows of the rank-``dim`` SVD of log(1 + co-occurrences) (window 2, the graders' own)."""
    tokens, V = oracle.planted_corpus(seed=seed, sentences=sentences)
    U, S, _ = np.linalg.svd(np.log1p(oracle.cooccurrence(tokens, V, WINDOW)))
    queries = np.arange(16)
    nearest = oracle.nearest(U[:, :dim] * S[:dim], queries, 1)[:, 0]
    return int(np.sum(nearest == (queries ^ 1)))


def test_the_corpora_are_the_tests_own():
    for test, (seed, sentences, dim) in PLANTED_TESTS.items():
        path, name = test.split("::")
        source = (EMBEDDINGS.root / "tests" / path).read_text(encoding="utf-8")
        body = source[source.index(f"def {name}("):]
        assert f"planted_corpus(seed={seed}, sentences={sentences})" in body, test
        assert "planted_pairs_are_neighbours(E, 8," in body and f"embed_dim={dim}" in body, test


def test_counts_without_training_find_the_planted_synonyms(oracle):
    """What the neighbour bars cannot tell apart: the SVD finds 16 of 16 on every corpus."""
    for test, args in PLANTED_TESTS.items():
        assert svd_synonyms_found(oracle, *args) == 16, test


@pytest.fixture(scope="module")
def svd_results(tmp_path_factory, warm_parent) -> dict:
    """The graded planted-corpus and replay tests of the reference with ``SVD_TRAINERS``
    appended to its word2vec.py and glove.py, by test name."""
    submission = tmp_path_factory.mktemp("svd") / "svd"
    shutil.copytree(EMBEDDINGS.solutions_dir, submission, ignore=shutil.ignore_patterns("__pycache__"))
    for module, trainer in SVD_TRAINERS.items():
        path = submission / module
        path.write_text(path.read_text(encoding="utf-8") + trainer, encoding="utf-8")
    result = grade_submission(EMBEDDINGS, submission, parent=warm_parent,
                              pytest_args=("-k", "planted_neighbours or replays"))
    return {t.name.rsplit("::", 1)[-1]: t for t in result.tests}


def test_svd_vectors_earn_nothing_on_the_training_replays(svd_results):
    assert set(svd_results) == set(REPLAY_TESTS) | {t.split("::")[1] for t in PLANTED_TESTS}
    for name in REPLAY_TESTS:
        assert (svd_results[name].status, svd_results[name].score) == ("failed", 0), name


def test_svd_vectors_pass_the_neighbour_tests_which_check_quality(svd_results):
    for test in PLANTED_TESTS:
        name = test.split("::")[1]
        assert svd_results[name].status == "passed", name
