"""Recurrent cells in torch, built from nn.Linear and element-wise operations.

torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU and their cells (nn.RNNCell,
nn.LSTMCell, nn.GRUCell) are banned in this assignment. nn.Linear,
torch.sigmoid, torch.tanh, torch.zeros, slicing, torch.chunk, torch.cat and
other element-wise operations are allowed.

Conventions used throughout this file (they are those of torch.nn):

- Shapes: N is the batch size, D the input size, H the hidden size.
- Every cell has exactly two linear layers, with these attribute names:
  ``self.ih = nn.Linear(D, G * H)`` (input to hidden) and
  ``self.hh = nn.Linear(H, G * H)`` (hidden to hidden), where G is the number
  of gates: 1 for RNNCell, 4 for LSTMCell, 3 for GRUCell. Their weights and
  biases correspond one to one to torch's weight_ih, bias_ih, weight_hh and
  bias_hh, and the grader copies torch's weights into them.
- The G * H outputs of each linear layer are the gates' pre-activations, one
  block of H after the other, in torch's order:
  LSTM: i, f, g, o (input gate, forget gate, cell candidate, output gate);
  GRU: r, z, n (reset gate, update gate, new-state candidate).
- A missing state (``None``) means zeros.
"""

import torch
from torch import nn


class RNNCell(nn.Module):
    """Vanilla (Elman) recurrent cell with tanh units, like torch.nn.RNNCell.

    h' = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)

    Attributes:
    - ih: nn.Linear(input_size, hidden_size)
    - hh: nn.Linear(hidden_size, hidden_size)
    """

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        # BEGIN SOLUTION hint: §B.1: the cell's two linear layers, with the names and sizes of the module docstring
        self.ih = nn.Linear(input_size, hidden_size)
        self.hh = nn.Linear(hidden_size, hidden_size)
        # END SOLUTION

    def forward(self, x, h=None):
        """One time step.

        Inputs:
        - x: tensor (N, D), the input at this step
        - h: tensor (N, H), the previous hidden state, or None for zeros

        Returns:
        - h_next: tensor (N, H)
        """
        # BEGIN SOLUTION hint: §B.1: the next hidden state (a missing h means zeros)
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)
        return torch.tanh(self.ih(x) + self.hh(h))
        # END SOLUTION


class LSTMCell(nn.Module):
    """Long short-term memory cell, like torch.nn.LSTMCell.

    With a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, of shape (N, 4H), split into
    four blocks of H columns in the order i, f, g, o:

        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
        c' = f * c + i * g
        h' = o * tanh(c')

    Attributes:
    - ih: nn.Linear(input_size, 4 * hidden_size)
    - hh: nn.Linear(hidden_size, 4 * hidden_size)
    """

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        # BEGIN SOLUTION hint: §B.1: the cell's two linear layers, with the names and sizes of the module docstring
        self.ih = nn.Linear(input_size, 4 * hidden_size)
        self.hh = nn.Linear(hidden_size, 4 * hidden_size)
        # END SOLUTION

    def forward(self, x, state=None):
        """One time step.

        Inputs:
        - x: tensor (N, D), the input at this step
        - state: tuple (h, c) of tensors (N, H), the previous hidden and cell
          states, or None for zeros

        Returns a tuple (h_next, c_next) of tensors (N, H).
        """
        # BEGIN SOLUTION hint: §B.1: the next hidden and cell states, the gates in torch's order (a missing state means zeros)
        H = self.hidden_size
        if state is None:
            zeros = x.new_zeros(x.shape[0], H)
            state = (zeros, zeros)
        h, c = state
        a = self.ih(x) + self.hh(h)
        i = torch.sigmoid(a[:, 0:H])
        f = torch.sigmoid(a[:, H : 2 * H])
        g = torch.tanh(a[:, 2 * H : 3 * H])
        o = torch.sigmoid(a[:, 3 * H : 4 * H])
        c_next = f * c + i * g
        h_next = o * torch.tanh(c_next)
        return h_next, c_next
        # END SOLUTION


class GRUCell(nn.Module):
    """Gated recurrent unit, like torch.nn.GRUCell.

    With gi = x @ W_ih.T + b_ih and gh = h @ W_hh.T + b_hh, both (N, 3H), split
    into three blocks of H columns in the order r, z, n:

        r = sigmoid(gi_r + gh_r)
        z = sigmoid(gi_z + gh_z)
        n = tanh(gi_n + r * gh_n)        # r multiplies gh_n, bias b_hn included
        h' = (1 - z) * n + z * h

    Attributes:
    - ih: nn.Linear(input_size, 3 * hidden_size)
    - hh: nn.Linear(hidden_size, 3 * hidden_size)
    """

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        # BEGIN SOLUTION hint: §B.1: the cell's two linear layers, with the names and sizes of the module docstring
        self.ih = nn.Linear(input_size, 3 * hidden_size)
        self.hh = nn.Linear(hidden_size, 3 * hidden_size)
        # END SOLUTION

    def forward(self, x, h=None):
        """One time step.

        Inputs:
        - x: tensor (N, D), the input at this step
        - h: tensor (N, H), the previous hidden state, or None for zeros

        Returns:
        - h_next: tensor (N, H)
        """
        # BEGIN SOLUTION hint: §B.1: the next hidden state, the gates in torch's order (a missing h means zeros)
        H = self.hidden_size
        if h is None:
            h = x.new_zeros(x.shape[0], H)
        gi = self.ih(x)
        gh = self.hh(h)
        r = torch.sigmoid(gi[:, 0:H] + gh[:, 0:H])
        z = torch.sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
        n = torch.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
        return (1 - z) * n + z * h
        # END SOLUTION
