"""Public tests for aann.py: the AANN's architecture, the linear autoencoder and PCA, training."""

import numpy as np
import pytest
import torch

from autograder.testing import assert_close


@pytest.mark.points(2)
def test_aann_layer_sizes(submission, oracle, check):
    """AANN(64, 32, 8) has the layers D -> H -> K -> H -> D under the documented names."""
    model = submission.aann.AANN(64, 32, 8)
    check.same_keys_and_shapes(check.state_of(model), oracle.state(oracle.AANN(64, 32, 8)),
                               "AANN(64, 32, 8)")


@pytest.mark.points(3)
def test_aann_forward_matches_torch(submission, oracle, check, rng):
    """forward, encode and decode match the course's AANN (sigmoid hidden layers, linear bottleneck and output)."""
    ref = oracle.load(oracle.AANN(12, 9, 4), oracle.random_state(oracle.AANN(12, 9, 4), rng, 3.0))
    model = submission.aann.AANN(12, 9, 4)
    model.load_state_dict(oracle.state(ref))
    x = torch.tensor(rng.standard_normal((7, 12)), dtype=torch.float32)
    z = torch.tensor(rng.standard_normal((7, 4)), dtype=torch.float32)
    with torch.no_grad():
        assert_close(model.encode(x), ref.encoder(x), rtol=1e-5, atol=1e-6, name="encode(x)")
        assert_close(model.decode(z), ref.decoder(z), rtol=1e-5, atol=1e-6, name="decode(z)")
        assert_close(model(x), ref(x), rtol=1e-5, atol=1e-6, name="forward(x)")


@pytest.mark.points(2)
def test_aann_bottleneck_is_linear(submission, oracle, rng):
    """encode returns the output of the linear bottleneck: no activation on the code."""
    ref = oracle.load(oracle.AANN(10, 8, 3), oracle.random_state(oracle.AANN(10, 8, 3), rng, 6.0))
    model = submission.aann.AANN(10, 8, 3)
    model.load_state_dict(oracle.state(ref))
    x = torch.tensor(rng.standard_normal((50, 10)), dtype=torch.float32)
    code = model.encode(x)
    assert tuple(code.shape) == (50, 3), f"encode returned shape {tuple(code.shape)}, expected (50, 3)"
    assert bool(((code < 0) | (code > 1)).any()), (
        "every code lies in (0, 1): the bottleneck looks sigmoidal, it must be linear")
    with torch.no_grad():
        assert_close(code, ref.encoder(x), rtol=1e-5, atol=1e-6, name="encode(x)")


@pytest.mark.points(3)
def test_train_autoencoder_loss_falls(submission, oracle):
    """train_autoencoder returns one reconstruction error per epoch, and it falls on digits."""
    X = oracle.digits()[0][:300]
    model = submission.aann.AANN(64, 32, 8)
    history = submission.aann.train_autoencoder(model, X, 30, 1.0, 16, seed=0)
    assert isinstance(history, list) and len(history) == 30, "expected a list of 30 losses"
    assert all(isinstance(v, float) for v in history), "history entries must be floats"
    assert history[-1] < 0.7 * history[0], "the reconstruction error should fall during training"
    mean_only = float(torch.mean((X - X.mean(dim=0)) ** 2))
    assert history[-1] < 0.9 * mean_only, (
        "after training, the AANN should reconstruct better than the mean digit does")
    final = float(torch.mean((model(X) - X) ** 2))
    assert_close(history[-1], final, rtol=1e-4, atol=1e-6,
                 name="history[-1] vs the error of the trained model on X")


@pytest.mark.points(4)
def test_train_autoencoder_matches_reference_loop(submission, oracle, check, rng):
    """train_autoencoder follows the documented loop exactly (seeded shuffling, Adam, MSE)."""
    X = oracle.digits()[0][:150]
    ref = oracle.load(oracle.AANN(64, 16, 5), oracle.random_state(oracle.AANN(64, 16, 5), rng))
    model = submission.aann.AANN(64, 16, 5)
    model.load_state_dict(oracle.state(ref))
    history = submission.aann.train_autoencoder(model, X, 3, 0.5, 32, seed=4)
    expected = oracle.train_autoencoder(ref, X, 3, 0.5, 32, seed=4)
    check.same_history(history, expected, "train_autoencoder")
    check.same_state(check.state_of(model), oracle.state(ref), "AANN after training")


@pytest.mark.points(4)
def test_linear_autoencoder_learns_principal_subspace(submission, oracle, check, rng):
    """A trained LinearAutoencoder's decoder spans PCA's principal subspace (principal angles < 3 degrees)."""
    variances = [9.0, 6.0, 4.0, 0.3, 0.2, 0.1, 0.05, 0.02]
    X = oracle.low_rank_data(rng, 300, variances)
    model = submission.aann.LinearAutoencoder(8, 3)
    state = check.state_of(model)
    assert tuple(state["decoder.weight"].shape) == (8, 3), "decoder.weight must be (D, K) = (8, 3)"
    history = submission.aann.train_autoencoder(model, X, 60, 1e-2, 32, seed=1)
    angles = oracle.principal_angles_deg(check.state_of(model)["decoder.weight"].numpy(), X, 3)
    assert np.max(angles) < 3.0, (
        f"largest principal angle to PCA's subspace is {np.max(angles):.1f} degrees (need < 3)")
    pca_error = float(np.sum(variances[3:])) / len(variances)
    assert history[-1] < 1.2 * pca_error, "the reconstruction error should approach PCA's"
