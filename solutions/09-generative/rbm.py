"""A binary restricted Boltzmann machine trained with contrastive divergence (torch).

The RBM has V binary visible units v, H binary hidden units h, weights W (V, H),
visible biases b (V,) and hidden biases c (H,), and the energy

    E(v, h) = -v^T W h - b^T v - c^T h,     p(v, h) = exp(-E(v, h)) / Z.

- ``free_energy``: F(v) = -log sum_h exp(-E(v, h)), so that p(v) = exp(-F(v)) / Z;
- ``log_partition``: log Z by enumerating every visible state (tiny RBMs only);
- ``hidden_probs``, ``visible_probs``: the factorised conditionals;
- ``gibbs_step``: one block-Gibbs step v -> h -> v';
- ``cd1_gradients``, ``train_rbm``: CD-1 (Hinton, 2002).

Random draws are reproducible: a function that takes ``seed`` makes one
``torch.Generator().manual_seed(seed)`` and draws uniforms from it in the order
its docstring gives. Everything is computed in the dtype of ``W``.
No function modifies its inputs.
"""

import itertools

import torch
import torch.nn.functional as F


def free_energy(v, W, b, c):
    """The free energy of visible vectors:

        F(v) = -b^T v - sum_j softplus(c_j + (v^T W)_j)

    Inputs:
    - v: tensor (N, V), binary (0./1.) visible vectors
    - W: tensor (V, H); b: tensor (V,); c: tensor (H,)

    Returns:
    - F: tensor (N,)
    """
    # BEGIN SOLUTION hint: handout §5.1 (the free energy)
    fe = -(v @ b) - F.softplus(v @ W + c).sum(dim=1)
    # END SOLUTION
    return fe


def log_partition(W, b, c):
    """log Z, exactly, by enumerating all 2^V visible vectors (only for tiny RBMs):

        log Z = logsumexp over v in {0, 1}^V of -F(v)

    Inputs:
    - W: tensor (V, H); b: tensor (V,); c: tensor (H,)

    Returns:
    - log_z: scalar tensor
    """
    # BEGIN SOLUTION hint: handout §5.1 (the partition function)
    states = torch.tensor(list(itertools.product([0.0, 1.0], repeat=W.shape[0])), dtype=W.dtype)
    log_z = torch.logsumexp(-free_energy(states, W, b, c), dim=0)
    # END SOLUTION
    return log_z


def hidden_probs(v, W, c):
    """p(h_j = 1 | v) = sigmoid(c_j + (v^T W)_j).

    Inputs:
    - v: tensor (N, V); W: tensor (V, H); c: tensor (H,)

    Returns:
    - p_h: tensor (N, H)
    """
    # BEGIN SOLUTION hint: handout §5.2 (the conditionals)
    p_h = torch.sigmoid(v @ W + c)
    # END SOLUTION
    return p_h


def visible_probs(h, W, b):
    """p(v_i = 1 | h) = sigmoid(b_i + (W h)_i).

    Inputs:
    - h: tensor (N, H); W: tensor (V, H); b: tensor (V,)

    Returns:
    - p_v: tensor (N, V)
    """
    # BEGIN SOLUTION hint: handout §5.2 (the conditionals)
    p_v = torch.sigmoid(h @ W.T + b)
    # END SOLUTION
    return p_v


def gibbs_step(v, W, b, c, seed):
    """One block-Gibbs step: h ~ p(h | v), then v_new ~ p(v | h).

    With g = torch.Generator().manual_seed(seed), in this order:
        h     = (torch.rand(N, H, generator=g, dtype=W.dtype) < hidden_probs(v, W, c))
        v_new = (torch.rand(N, V, generator=g, dtype=W.dtype) < visible_probs(h, W, b))
    both converted to W's dtype (0. and 1.).

    Inputs:
    - v: tensor (N, V), binary
    - W: tensor (V, H); b: tensor (V,); c: tensor (H,)
    - seed: int

    Returns a tuple of:
    - v_new: tensor (N, V), binary
    - h: tensor (N, H), binary, the hidden sample in between
    """
    # BEGIN SOLUTION hint: handout §5.2; the docstring gives the order of the draws
    g = torch.Generator().manual_seed(seed)
    p_h = hidden_probs(v, W, c)
    h = (torch.rand(p_h.shape, generator=g, dtype=W.dtype) < p_h).to(W.dtype)
    p_v = visible_probs(h, W, b)
    v_new = (torch.rand(p_v.shape, generator=g, dtype=W.dtype) < p_v).to(W.dtype)
    # END SOLUTION
    return v_new, h


def cd1_gradients(v0, W, b, c, seed):
    """The CD-1 estimate of the gradient of the mean log-likelihood (an ASCENT direction).

    Positive phase on the data v0, negative phase on the reconstruction v1:
        v1, _ = gibbs_step(v0, W, b, c, seed)
        dW = (v0^T p(h | v0) - v1^T p(h | v1)) / N
        db = mean over N of (v0 - v1)
        dc = mean over N of (p(h | v0) - p(h | v1))
    with the hidden probabilities in both phases (handout §5.3).

    Inputs:
    - v0: tensor (N, V), binary data
    - W: tensor (V, H); b: tensor (V,); c: tensor (H,)
    - seed: int, passed to gibbs_step

    Returns a tuple of:
    - dW: tensor (V, H); db: tensor (V,); dc: tensor (H,)
    """
    # BEGIN SOLUTION hint: handout §5.3 (CD-1)
    N = v0.shape[0]
    v1, _ = gibbs_step(v0, W, b, c, seed)
    ph0, ph1 = hidden_probs(v0, W, c), hidden_probs(v1, W, c)
    dW = (v0.T @ ph0 - v1.T @ ph1) / N
    db = (v0 - v1).mean(dim=0)
    dc = (ph0 - ph1).mean(dim=0)
    # END SOLUTION
    return dW, db, dc


def train_rbm(data, num_hidden, epochs=50, batch_size=20, lr=0.1, seed=0):
    """Train an RBM with CD-1 and plain gradient ascent.

    With g = torch.Generator().manual_seed(seed): W = 0.01 * torch.randn(V, num_hidden,
    generator=g, dtype=data.dtype), b = 0, c = 0. Then for each epoch, the rows of data in
    the order torch.randperm(M, generator=g), in minibatches of batch_size; the k-th
    minibatch overall (k = 0, 1, ...) uses cd1_gradients(batch, W, b, c, seed=seed + k), and
    W += lr * dW, b += lr * db, c += lr * dc.

    Inputs:
    - data: tensor (M, V), binary
    - num_hidden: int H
    - epochs, batch_size: ints; lr: float
    - seed: int

    Returns a tuple of:
    - W: tensor (V, H); b: tensor (V,); c: tensor (H,)
    """
    # BEGIN SOLUTION hint: handout §5.3 (training)
    g = torch.Generator().manual_seed(seed)
    V = data.shape[1]
    W = 0.01 * torch.randn(V, num_hidden, generator=g, dtype=data.dtype)
    b = torch.zeros(V, dtype=data.dtype)
    c = torch.zeros(num_hidden, dtype=data.dtype)
    k = 0
    for _ in range(epochs):
        for idx in torch.randperm(len(data), generator=g).split(batch_size):
            dW, db, dc = cd1_gradients(data[idx], W, b, c, seed + k)
            W, b, c = W + lr * dW, b + lr * db, c + lr * dc
            k += 1
    # END SOLUTION
    return W, b, c
