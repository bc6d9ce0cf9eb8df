"""Assignment 06: the reference solution gets full marks, classic mistakes lose points.

Each mutant is a copy of solutions/06-rnn/ with exact string replacements
applied to one module; it is graded with the real graders, restricted (``-k``)
to the tests that must catch it, and each of those tests must fail. The first
group are the mistakes the assignment's issue lists; the second group are more
mistakes students make.
"""

from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.mutants import Mutant, grade_mutant, mutant_problems, reference_problems

ASSIGNMENT = load_course(Path(__file__).resolve().parents[1]).assignment("06-rnn")

# Mutant(id, module, [(old, new), ...], tests that must fail)
MUTANTS = [
    # ---------------------------------------------------------------- the list
    Mutant(
        "bptt-recurrent-gradient-not-accumulated",
        "rnn_numpy.py",
        [("        dWh += dWh_t\n", "        dWh = dWh_t\n")],
        ["test_rnn_backward", "test_rnn_backward_loss_on_last_step",
         "test_rnn_backward_all_steps_nonsquare"],
    ),
    Mutant(
        "missing-tanh-derivative",
        "rnn_numpy.py",
        [("    da = dh_next * (1.0 - h_next**2)\n", "    da = dh_next\n")],
        ["test_rnn_step_backward", "test_rnn_backward", "test_hidden_state_grad_norms",
         "test_rnn_step_backward_saturated", "test_rnn_backward_loss_on_last_step"],
    ),
    Mutant(
        "gru-z-and-one-minus-z-swapped",
        "cells.py",
        [("        return (1 - z) * n + z * h\n", "        return z * n + (1 - z) * h\n")],
        ["test_gru_cell_forward", "test_gru_cell_gradients", "test_gru_cell_update_gate_direction",
         "test_gru_layer_matches_torch", "test_bidirectional_gru_time_order"],
    ),
    Mutant(
        "cell-state-not-carried-between-steps",
        "sequence.py",
        [(
            "        state = cell(x[:, t], state)\n",
            "        if isinstance(state, tuple):\n"
            "            state = (state[0], torch.zeros_like(state[1]))\n"
            "        state = cell(x[:, t], state)\n",
        )],
        ["test_lstm_layer_matches_torch", "test_bidirectional_lstm_matches_torch",
         "test_lstm_layer_initial_state_and_chunks", "test_lstm_layer_gradients_through_time"],
    ),
    Mutant(
        "bidirectional-outputs-in-reversed-time-order",
        "sequence.py",
        [("        out_b = torch.flip(out_b, dims=[1])\n", "")],
        ["test_bidirectional_lstm_matches_torch", "test_bidirectional_gru_time_order"],
    ),
    Mutant(
        "clipping-each-element",
        "rnn_numpy.py",
        [(
            "    clipped = {k: np.array(g, dtype=np.float64) * scale for k, g in grads.items()}\n",
            "    clipped = {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}\n",
        )],
        ["test_clip_grad_norm", "test_clip_grad_norm_global_not_per_element",
         "test_clip_grad_norm_many_shapes"],
    ),
    Mutant(
        "forget-gate-uses-input-gate-weights",
        "cells.py",
        [("        f = torch.sigmoid(a[:, H : 2 * H])\n", "        f = torch.sigmoid(a[:, 0:H])\n")],
        ["test_lstm_cell_forward", "test_lstm_cell_gradients", "test_lstm_cell_gate_roles",
         "test_lstm_layer_matches_torch"],
    ),
    # ---------------------------------------------------------------- more mistakes
    Mutant(
        # Truncated BPTT of one step: the gradient from h_{t+1} is dropped.
        "bptt-does-not-carry-dh-back",
        "rnn_numpy.py",
        [(
            "rnn_step_backward(dh[:, t] + dh_prev, caches[t])",
            "rnn_step_backward(dh[:, t], caches[t])",
        )],
        ["test_rnn_backward", "test_rnn_backward_loss_on_last_step"],
    ),
    Mutant(
        "recurrent-gradient-from-h-next",
        "rnn_numpy.py",
        [("    dWh = h_prev.T @ da\n", "    dWh = h_next.T @ da\n")],
        ["test_rnn_step_backward", "test_rnn_backward"],
    ),
    Mutant(
        "grad-norms-in-reversed-time-order",
        "rnn_numpy.py",
        [("        norms[t] = np.sqrt(np.sum(grad**2))\n",
          "        norms[T - 1 - t] = np.sqrt(np.sum(grad**2))\n")],
        ["test_hidden_state_grad_norms", "test_grad_norms_vanish_below_spectral_radius_one"],
    ),
    Mutant(
        "clipping-always-rescales-to-max-norm",
        "rnn_numpy.py",
        [("    scale = min(coef, 1.0)\n", "    scale = coef\n")],
        ["test_clip_grad_norm_below_threshold"],
    ),
    Mutant(
        "clipping-with-sum-of-per-array-norms",
        "rnn_numpy.py",
        [(
            "    total_norm = float(np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values())))\n",
            "    total_norm = float(sum(np.sqrt(np.sum(g.astype(np.float64) ** 2)) for g in grads.values()))\n",
        )],
        ["test_clip_grad_norm", "test_clip_grad_norm_global_not_per_element"],
    ),
    Mutant(
        "numpy-part-written-in-torch",
        "rnn_numpy.py",
        [(
            "    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)\n",
            "    import torch\n\n"
            "    h_next = torch.tanh(torch.from_numpy(x @ Wx + h_prev @ Wh + b))\n",
        )],
        ["test_rnn_step_forward", "test_rnn_forward", "test_rnn_numpy_returns_numpy_arrays"],
    ),
    Mutant(
        "numpy-part-round-trips-through-torch",
        "rnn_numpy.py",
        [(
            "    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)\n",
            "    import torch\n\n"
            "    h_next = torch.tanh(torch.from_numpy(x @ Wx + h_prev @ Wh + b)).numpy()\n",
        )],
        ["test_rnn_step_forward", "test_rnn_forward"],
    ),
    Mutant(
        "lstm-hidden-state-from-old-cell-state",
        "cells.py",
        [("        h_next = o * torch.tanh(c_next)\n", "        h_next = o * torch.tanh(c)\n")],
        ["test_lstm_cell_forward", "test_lstm_cell_other_sizes", "test_lstm_layer_matches_torch"],
    ),
    Mutant(
        "lstm-gates-in-order-i-f-o-g",
        "cells.py",
        [
            ("        g = torch.tanh(a[:, 2 * H : 3 * H])\n", "        g = torch.tanh(a[:, 3 * H : 4 * H])\n"),
            ("        o = torch.sigmoid(a[:, 3 * H : 4 * H])\n", "        o = torch.sigmoid(a[:, 2 * H : 3 * H])\n"),
        ],
        ["test_lstm_cell_forward", "test_lstm_cell_gradients", "test_lstm_layer_matches_torch"],
    ),
    Mutant(
        # The reset gate applied outside b_hn: r * (h @ W_hn.T) + b_hn.
        "gru-reset-gate-misses-the-hidden-bias",
        "cells.py",
        [(
            "        n = torch.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])\n",
            "        b_hn = self.hh.bias[2 * H :]\n"
            "        n = torch.tanh(gi[:, 2 * H :] + r * (gh[:, 2 * H :] - b_hn) + b_hn)\n",
        )],
        ["test_gru_cell_forward", "test_gru_cell_reset_gate_and_sizes"],
    ),
    Mutant(
        "gru-without-reset-gate",
        "cells.py",
        [("        n = torch.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])\n",
          "        n = torch.tanh(gi[:, 2 * H :] + gh[:, 2 * H :])\n")],
        ["test_gru_cell_forward", "test_gru_cell_gradients", "test_gru_cell_reset_gate_and_sizes"],
    ),
    Mutant(
        "lstm-layer-outputs-the-cell-state",
        "sequence.py",
        [("        outputs.append(state[0] if isinstance(state, tuple) else state)\n",
          "        outputs.append(state[1] if isinstance(state, tuple) else state)\n")],
        ["test_lstm_layer_matches_torch", "test_lstm_layer_gradients_through_time"],
    ),
    Mutant(
        "backward-direction-reads-the-sequence-forward",
        "sequence.py",
        [("        out_b, state_b = self.backward_layer(torch.flip(x, dims=[1]))\n",
          "        out_b, state_b = self.backward_layer(x)\n")],
        ["test_bidirectional_lstm_matches_torch", "test_bidirectional_gru_time_order"],
    ),
    Mutant(
        "classifier-reads-the-first-hidden-state",
        "sequence.py",
        [("        return self.head(out[:, -1])\n", "        return self.head(out[:, 0])\n")],
        ["test_sequence_classifier_forward", "test_long_range_lstm_accuracy"],
    ),
    Mutant(
        # A vanilla RNN cannot carry the first tokens over 50 steps: the accuracy tests fail.
        "long-range-task-with-a-vanilla-rnn",
        "sequence.py",
        [('def train_long_range(X, y, cell="lstm", seed=0):\n',
          'def train_long_range(X, y, cell="lstm", seed=0):\n    cell = "rnn"\n')],
        ["test_long_range_lstm_accuracy", "test_long_range_lstm_heldout"],
    ),
]


def test_reference_solution_gets_full_marks():
    assert reference_problems(ASSIGNMENT) == []


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_classic_mistake_loses_points(tmp_path, mutant):
    assert mutant_problems(grade_mutant(ASSIGNMENT, mutant, tmp_path), mutant) == []
