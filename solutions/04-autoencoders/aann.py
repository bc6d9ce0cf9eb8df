"""Auto-associative neural networks (autoencoders) in torch, and their training loop.

- ``AANN``: the five-layer auto-associative network of the course: a linear
  input layer, a sigmoidal hidden (mapping) layer, a **linear** bottleneck, a
  sigmoidal hidden (demapping) layer and a linear output layer. The decoder
  mirrors the encoder.
- ``LinearAutoencoder``: one linear encoder layer and one linear decoder
  layer; trained on reconstruction error it learns the principal subspace of
  its data (the subspace PCA finds).
- ``momentum_step``: one step of gradient descent with momentum.
- ``train_autoencoder``: minibatch backpropagation on the reconstruction error,
  with optional input noise (a denoising autoencoder). Returns the loss history.

Conventions (the grader relies on them):

- Every tensor is float32 (torch's default), shaped ``(N, D)``: ``N`` examples
  of ``D`` features.
- The layers are ``torch.nn.Linear`` modules stored under the attribute names
  given in each class's docstring, so that the grader can load weights with
  ``load_state_dict`` and compare your network with its own.
- The reconstruction error is ``torch.nn.functional.mse_loss(x_hat, x)``: the
  mean of the squared errors over all ``N * D`` entries.
"""

import torch
import torch.nn.functional as F
from torch import nn


class AANN(nn.Module):
    """Auto-associative neural network (Kramer's nonlinear PCA network; handout §1.1).

    Layers, from input to output (D = n_inputs, H = n_hidden, K = n_bottleneck):

        x (N, D) --Linear(D, H)--> sigmoid --Linear(H, K)--> code (N, K)      encoder
        code     --Linear(K, H)--> sigmoid --Linear(H, D)--> x_hat (N, D)     decoder

    The input layer only passes x on; the bottleneck and the output layer are
    linear (no activation); both hidden layers are sigmoidal. The decoder
    mirrors the encoder.

    Attributes (exactly these names, so that state_dict keys are
    "encoder.0.weight", "encoder.0.bias", "encoder.2.weight", ...):
    - encoder: nn.Sequential(nn.Linear(D, H), nn.Sigmoid(), nn.Linear(H, K))
    - decoder: nn.Sequential(nn.Linear(K, H), nn.Sigmoid(), nn.Linear(H, D))

    Inputs:
    - n_inputs: int D, the number of input (and output) features
    - n_hidden: int H, the size of both sigmoidal hidden layers
    - n_bottleneck: int K, the size of the code (K < D)
    """

    def __init__(self, n_inputs, n_hidden, n_bottleneck):
        super().__init__()
        # BEGIN SOLUTION hint: §1.1: the encoder (D -> H -> K) and the decoder (K -> H -> D), as the nn.Sequential attributes the docstring names
        self.encoder = nn.Sequential(
            nn.Linear(n_inputs, n_hidden), nn.Sigmoid(), nn.Linear(n_hidden, n_bottleneck)
        )
        self.decoder = nn.Sequential(
            nn.Linear(n_bottleneck, n_hidden), nn.Sigmoid(), nn.Linear(n_hidden, n_inputs)
        )
        # END SOLUTION

    def encode(self, x):
        """The bottleneck code of x.

        Inputs:
        - x: tensor (N, D)

        Returns:
        - code: tensor (N, K), the output of the linear bottleneck layer
        """
        # BEGIN SOLUTION hint: §1.1: the code (N, K) of x (N, D)
        return self.encoder(x)
        # END SOLUTION

    def decode(self, code):
        """The reconstruction from a code.

        Inputs:
        - code: tensor (N, K)

        Returns:
        - x_hat: tensor (N, D)
        """
        # BEGIN SOLUTION hint: §1.1: the reconstruction x_hat (N, D) of a code (N, K)
        return self.decoder(code)
        # END SOLUTION

    def forward(self, x):
        """Reconstruct x through the bottleneck.

        Inputs:
        - x: tensor (N, D)

        Returns:
        - x_hat: tensor (N, D), decode(encode(x))
        """
        # BEGIN SOLUTION hint: §1.1: the reconstruction x_hat (N, D) of x (N, D), through the bottleneck
        return self.decode(self.encode(x))
        # END SOLUTION


class LinearAutoencoder(nn.Module):
    """A linear autoencoder: code = encoder(x), x_hat = decoder(code), no activations (§1.2).

    Attributes (exactly these names):
    - encoder: nn.Linear(D, K)
    - decoder: nn.Linear(K, D)

    Trained to minimize the reconstruction error, the columns of
    decoder.weight (D, K) span the same subspace as the K leading principal
    components of the data.

    Inputs:
    - n_inputs: int D
    - n_bottleneck: int K
    """

    def __init__(self, n_inputs, n_bottleneck):
        super().__init__()
        # BEGIN SOLUTION hint: §1.2: the encoder (D -> K) and the decoder (K -> D) attributes the docstring names
        self.encoder = nn.Linear(n_inputs, n_bottleneck)
        self.decoder = nn.Linear(n_bottleneck, n_inputs)
        # END SOLUTION

    def encode(self, x):
        """The code of x: tensor (N, D) -> tensor (N, K)."""
        # BEGIN SOLUTION hint: §1.2: the code (N, K) of x (N, D)
        return self.encoder(x)
        # END SOLUTION

    def forward(self, x):
        """The reconstruction of x: tensor (N, D) -> tensor (N, D)."""
        # BEGIN SOLUTION hint: §1.2: the reconstruction (N, D) of x (N, D)
        return self.decoder(self.encoder(x))
        # END SOLUTION


def reconstruction_loss(model, X):
    """The reconstruction error of model on X, without gradients (handout §1.3).

    Inputs:
    - model: an nn.Module mapping (N, D) to (N, D)
    - X: tensor (N, D)

    Returns:
    - loss: float, F.mse_loss(model(X), X) (the mean over all N * D entries)
    """
    # BEGIN SOLUTION hint: §1.3: the reconstruction error of model on X (N, D), a float computed without gradients
    with torch.no_grad():
        return float(F.mse_loss(model(X), X))
    # END SOLUTION


def momentum_step(params, grads, velocities, lr, momentum):
    """One step of gradient descent with momentum, in place (handout §1.4).

    The convention is torch.optim.SGD's (no dampening, no Nesterov): the
    velocity accumulates the gradients, and the step follows the velocity.
    Change every p and its v in place (under torch.no_grad()), so that the model that
    owns p sees the new values.

    Inputs:
    - params: list of tensors (the model's parameters, requires_grad=True)
    - grads: list of tensors shaped like params, d loss / d p
    - velocities: list of tensors shaped like params (zeros before the first step)
    - lr: float, learning rate
    - momentum: float in [0, 1), 0 for plain gradient descent

    Returns nothing.
    """
    # BEGIN SOLUTION hint: §1.4: one step of gradient descent with momentum for every parameter; params and velocities change in place, nothing is returned
    with torch.no_grad():
        for p, g, v in zip(params, grads, velocities, strict=True):
            v.mul_(momentum).add_(g)
            p.sub_(lr * v)
    # END SOLUTION


def train_autoencoder(model, X, epochs, lr, batch_size, momentum=0.9, noise_std=0.0, seed=0):
    """Train an autoencoder by backpropagation on its reconstruction error (handout §1.5).

    Minibatch gradient descent with momentum (momentum_step) on all of model's
    parameters, in a shuffled order that the seed fixes. Exactly this (the
    grader repeats it and compares):

        g = torch.Generator().manual_seed(seed)
        params = list(model.parameters()); velocities = zeros like params
        for each epoch:
            perm = torch.randperm(N, generator=g)
            for start in range(0, N, batch_size):
                target = X[perm[start:start + batch_size]]
                inputs = target                                  # noise_std == 0
                inputs = target + noise_std * torch.randn(target.shape, generator=g)
                                                                 # noise_std > 0
                loss = F.mse_loss(model(inputs), target)         # the clean target
                grads = d loss / d params (backpropagation: torch.autograd.grad
                        or loss.backward(); fresh gradients every step)
                momentum_step(params, grads, velocities, lr, momentum)
            history.append(reconstruction_loss(model, X))        # after the epoch

    With noise_std > 0 this trains a denoising autoencoder: the network sees a
    corrupted input and must reconstruct the clean one.

    Do not use torch.optim here: building a torch.optim optimizer costs
    seconds the first time in every grading process.

    Inputs:
    - model: an nn.Module mapping (N, D) to (N, D), e.g. AANN; trained in place
    - X: tensor (N, D), the training data
    - epochs: int, passes over the data
    - lr: float, learning rate
    - batch_size: int, examples per step (the last batch of an epoch may be smaller)
    - momentum: float, momentum of momentum_step
    - noise_std: float >= 0, standard deviation of the Gaussian input noise
    - seed: int, seeds the generator of the shuffling and of the noise

    Returns:
    - history: list of `epochs` floats, the reconstruction error on all of X
      after each epoch (clean inputs, no noise)
    """
    # BEGIN SOLUTION hint: §1.5: `epochs` epochs of seeded minibatch training (denoising when noise_std > 0); the reconstruction error on all of X after each epoch, a list of `epochs` floats
    g = torch.Generator().manual_seed(seed)
    params = list(model.parameters())
    velocities = [torch.zeros_like(p) for p in params]
    n = X.shape[0]
    history = []
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for start in range(0, n, batch_size):
            target = X[perm[start:start + batch_size]]
            inputs = target
            if noise_std > 0:
                inputs = target + noise_std * torch.randn(target.shape, generator=g)
            loss = F.mse_loss(model(inputs), target)
            grads = torch.autograd.grad(loss, params)
            momentum_step(params, grads, velocities, lr, momentum)
        history.append(reconstruction_loss(model, X))
    return history
    # END SOLUTION
