"""The obvious shortcuts fail the sequence models' training bars, on the graders' own data and
seeds (issue 23).

01-classical's Baum-Welch is judged by how close the fitted HMM comes to a known one (A and B
up to a relabelling of the states, and the held-out log-likelihood per symbol). Here, on the
public test's draw and on draws standing for the hidden test's (per submission, from the course
secret): the graders' own EM reaches every bar; a "model" that keeps the initial parameters
does not, and neither does a unigram emission model that ignores the transitions (a mixture of
categorical distributions fitted by EM to the pooled symbols, whose rows of A are all its
mixing weights).

06-rnn's encoder-decoder is judged by the grader's own greedy decoding, with the weights that
``train_reversal`` returns, on sequences the submission never sees. Here: the reference's
encoder-decoder with the context replaced by zeros (the planted mistake
``decoder-without-attention``), trained by the reference's ``train_reversal`` unchanged (the same
budget: steps, batch, rate), on the public test's data and seeds, then decoded by the grader's
model without attention, reverses far fewer sequences than the bar asks.

06-rnn's long-range classifier is judged by the grader's own LSTM classifier with the weights
that ``train_long_range`` returns. Here: the reference's ``train_long_range`` with a vanilla RNN
(the planted mistake ``long-range-task-with-a-vanilla-rnn``, the same budget), on the public
test's data and seeds, judged by the same reference with ``nn.RNN``, stays far below the bar,
while the reference's LSTM reaches it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.config import load_course
from autograder.mistakes import load_mistakes, write_mistake
from autograder.plugin import test_seed as seed_of_test
from tests.conftest import REPO
from tests.shortcut_support import load_module

CLASSICAL = load_course(REPO).assignment("01-classical")
PUBLIC_RECOVERY_TEST = "public/test_hmm.py::test_baum_welch_recovers_a_known_hmm"
#: the public test's draw, and others standing for the hidden test's
RECOVERY_SEEDS = (seed_of_test(PUBLIC_RECOVERY_TEST), *range(6))

RNN = load_course(REPO).assignment("06-rnn")
#: the public reversal test's training and held-out seeds, and the student seed it passes
REVERSAL_TRAIN_SEED, REVERSAL_HELD_OUT_SEED, REVERSAL_STUDENT_SEED = 2024, 2025, 0
#: the most the encoder-decoder without attention may reach: far below the bar (0.9)
NO_ATTENTION_CEILING = 0.7




@pytest.fixture(scope="module")
def hmm_graders() -> tuple:
    return hmm_oracles()


def hmm_oracles() -> tuple:
    """(Oracle(), HiddenOracle()) of 01-classical."""
    tests = CLASSICAL.root / "tests"
    public = load_module(tests / "conftest.py", "graders_conftest_01")
    hidden = load_module(tests / "hidden" / "conftest.py", "graders_hidden_conftest_01")
    return public.Oracle(), hidden.HiddenOracle()


def _unigram_model(sequences, init, n_iter=100):
    """(pi, A, B) of a mixture of S categorical distributions fitted by EM to every symbol
    of every sequence, from init's pi (as weights) and B: the order of the symbols is
    ignored, so A's rows are all the mixing weights."""
    weights, _, B = (np.array(p, dtype=np.float64) for p in init)
    symbols = np.concatenate(sequences)
    for _ in range(n_iter):
        resp = weights * B[:, symbols].T
        resp /= resp.sum(axis=1, keepdims=True)
        weights = resp.mean(axis=0)
        B = np.stack([np.bincount(symbols, resp[:, i], B.shape[1]) for i in range(len(weights))])
        B /= B.sum(axis=1, keepdims=True)
    return weights, np.tile(weights, (len(weights), 1)), B


def _graders_em(hidden, sequences, params, n_iter):
    for _ in range(n_iter):
        *params, _ = hidden.baum_welch_step(sequences, *params)
    return tuple(params)


def _scores(public, hidden, params, truth, held_out):
    """(error of A, error of B, held-out log-likelihood gap per symbol), as the tests judge."""
    err_A, err_B = public.recovery_errors(params[1], params[2], truth)
    gap = hidden.log_likelihood_per_symbol(held_out, *truth) - (
        hidden.log_likelihood_per_symbol(held_out, *params)
    )
    return err_A, err_B, gap


def baum_welch_scores(public, hidden, seed: int) -> dict[str, tuple[float, float, float]]:
    """(error of A, error of B, held-out gap per symbol) on the recovery task drawn from seed, for
    the graders' own EM, the initial parameters kept, and the unigram emission model."""
    truth, train, held_out, init = public.recovery_task(np.random.default_rng(seed))
    fitted = _graders_em(hidden, train, init, public.recovery_iterations)
    return {"graders' EM": _scores(public, hidden, fitted, truth, held_out),
            "initial parameters": _scores(public, hidden, init, truth, held_out),
            "unigram emissions": _scores(public, hidden, _unigram_model(train, init), truth,
                                         held_out)}


@pytest.mark.parametrize("seed", RECOVERY_SEEDS)
def test_baum_welch_bars_need_the_transitions(hmm_graders, seed):
    public, hidden = hmm_graders
    bars = (public.recovery_max_A_error, public.recovery_max_B_error, public.recovery_max_ll_gap)
    scores = baum_welch_scores(public, hidden, seed)
    assert all(s <= bar for s, bar in zip(scores["graders' EM"], bars, strict=True))

    # keeping the initial parameters: B and the held-out likelihood both far from their bars
    err_A, err_B, gap = scores["initial parameters"]
    assert err_B > 1.5 * public.recovery_max_B_error and gap > 2 * public.recovery_max_ll_gap

    # emissions without transitions: A and the held-out likelihood both far from their bars
    err_A, err_B, gap = scores["unigram emissions"]
    assert err_A > 2 * public.recovery_max_A_error and gap > 1.5 * public.recovery_max_ll_gap


#: run in the mistake's folder: train on the graders' data (data.pt), save the weights
TRAIN_WITHOUT_ATTENTION = f"""
import torch
import seq2seq

torch.set_num_threads(1)
data = torch.load("data.pt", weights_only=True)
model = seq2seq.train_reversal(*data, seed={REVERSAL_STUDENT_SEED})
torch.save(model.state_dict(), "state.pt")
"""


def test_reversal_bar_needs_attention(tmp_path):
    public_test = (RNN.root / "tests" / "public" / "test_seq2seq.py").read_text()
    assert f"reversal_data(4096, seed={REVERSAL_TRAIN_SEED})" in public_test
    with_attention, without = no_attention_accuracies(tmp_path)
    assert without < NO_ATTENTION_CEILING < load_module(RNN.root / "tests" / "conftest.py",
                                                  "graders_conftest_06").Oracle().reversal_bar
    # the grader's decoder attends: with these weights it does worse still
    assert with_attention < NO_ATTENTION_CEILING


def no_attention_accuracies(tmp_path: Path) -> tuple[float, float]:
    """(decoded with attention, without) held-out accuracy of the reference's encoder-decoder
    trained without attention by the reference's train_reversal, on the public test's data and
    seeds (about a minute of training)."""
    import torch

    graders = load_module(RNN.root / "tests" / "conftest.py", "graders_conftest_06")
    oracle = graders.Oracle()
    src, lengths, tgt = oracle.reversal_data(4096, seed=REVERSAL_TRAIN_SEED)
    mistake = next(m for m in load_mistakes(RNN) if m.id == "decoder-without-attention")
    folder = write_mistake(RNN.solutions_dir, mistake, tmp_path / "no_attention")
    torch.save((src, lengths, tgt), folder / "data.pt")
    subprocess.run([sys.executable, "-c", TRAIN_WITHOUT_ATTENTION], cwd=folder, check=True,
                   timeout=300)
    state = torch.load(folder / "state.pt", weights_only=True)
    model = graders.ReferenceSeq2Seq.from_handout_state(state)
    held_out = oracle.reversal_data(1000, seed=REVERSAL_HELD_OUT_SEED)
    return (oracle.sequence_accuracy(model, *held_out),
            oracle.sequence_accuracy(model, *held_out, attention=False))


#: the public long-range test's training and held-out seeds, and the student seed it passes
LONG_RANGE_TRAIN_SEED, LONG_RANGE_HELD_OUT_SEED, LONG_RANGE_STUDENT_SEED = 2024, 2025, 0
#: the most the vanilla RNN may reach on the long-range task: far below the bar (0.9)
VANILLA_RNN_CEILING = 0.6

#: run in the reference's folder: an RNN and an LSTM trained on the graders' data (data.pt)
TRAIN_LONG_RANGE = f"""
import torch
import sequence

torch.set_num_threads(1)
data = torch.load("data.pt", weights_only=True)
states = {{cell: sequence.train_long_range(*data, cell=cell, seed={LONG_RANGE_STUDENT_SEED}).state_dict()
          for cell in ("rnn", "lstm")}}
torch.save(states, "states.pt")
"""


def test_long_range_bar_needs_an_lstm(tmp_path):
    public_test = (RNN.root / "tests" / "public" / "test_sequence.py").read_text()
    assert f"long_range_data(1024, seed={LONG_RANGE_TRAIN_SEED})" in public_test
    assert f"long_range_data(1000, seed={LONG_RANGE_HELD_OUT_SEED})" in public_test
    bar = load_module(RNN.root / "tests" / "conftest.py", "graders_conftest_06").Oracle().long_range_bar
    accuracy = long_range_accuracies(tmp_path)
    assert accuracy["rnn"] < VANILLA_RNN_CEILING < bar
    assert accuracy["lstm"] >= bar


def long_range_accuracies(tmp_path: Path) -> dict[str, float]:
    """{"rnn", "lstm": held-out accuracy} of the reference's train_long_range with either cell,
    on the public test's data and seeds, judged by the reference classifier with nn.RNN and by
    the graders' LSTM classifier."""
    import shutil

    import torch

    graders = load_module(RNN.root / "tests" / "conftest.py", "graders_conftest_06")
    oracle = graders.Oracle()
    folder = shutil.copytree(RNN.solutions_dir, tmp_path / "reference")
    torch.save(oracle.long_range_data(1024, seed=LONG_RANGE_TRAIN_SEED), folder / "data.pt")
    subprocess.run([sys.executable, "-c", TRAIN_LONG_RANGE], cwd=folder, check=True, timeout=300)
    states = torch.load(folder / "states.pt", weights_only=True)
    held_out = oracle.long_range_data(1000, seed=LONG_RANGE_HELD_OUT_SEED)
    rnn = graders.ReferenceClassifier.from_handout_state(states["rnn"], kind="rnn")
    return {"rnn": rnn.accuracy(*held_out), "lstm": oracle.classifier(states["lstm"]).accuracy(*held_out)}
