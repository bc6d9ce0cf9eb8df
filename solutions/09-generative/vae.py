"""A variational autoencoder (Kingma & Welling, 2014) with a Bernoulli decoder (torch).

- ``kl_standard_normal``: the analytic KL(N(mu, sigma^2) || N(0, I));
- ``reparameterize``: z = mu + sigma * eps, so that z carries gradient to mu and log sigma^2;
- ``VAE``: an MLP encoder to (mu, logvar) and an MLP decoder to Bernoulli logits;
- ``negative_elbo``: reconstruction plus KL, averaged over the batch;
- ``sample_prior``: decode z ~ N(0, I);
- ``train_vae``: the training loop.

The encoder outputs the LOG-variance ``logvar = log sigma^2``, so sigma = exp(logvar / 2).
Data are in [0, 1] (for example scikit-learn's digits divided by 16), and the decoder's
output are the logits of independent Bernoulli pixels.
No function modifies its inputs.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def kl_standard_normal(mu, logvar):
    """KL divergence from the encoder's diagonal Gaussian to the standard normal prior:

        KL(N(mu, diag(exp(logvar))) || N(0, I)) = 1/2 * sum_j (mu_j^2 + exp(logvar_j) - 1 - logvar_j)

    Inputs:
    - mu: tensor (N, Z)
    - logvar: tensor (N, Z), log sigma^2

    Returns:
    - kl: tensor (N,), one KL per example (summed over the Z latent dimensions)
    """
    # BEGIN SOLUTION hint: handout §1.1 (the KL term)
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)
    # END SOLUTION
    return kl


def reparameterize(mu, logvar, eps=None):
    """The reparameterisation trick: z = mu + sigma * eps with sigma = exp(logvar / 2).

    Inputs:
    - mu: tensor (N, Z)
    - logvar: tensor (N, Z), log sigma^2
    - eps: tensor (N, Z) of standard normal noise, or None to draw it (torch.randn_like(mu))

    Returns:
    - z: tensor (N, Z), differentiable with respect to mu and logvar
    """
    # BEGIN SOLUTION hint: handout §1.2 (the reparameterisation trick)
    if eps is None:
        eps = torch.randn_like(mu)
    z = mu + torch.exp(0.5 * logvar) * eps
    # END SOLUTION
    return z


class VAE(nn.Module):
    """An MLP VAE:

        h = relu(enc_hidden(x));   mu = enc_mu(h);   logvar = enc_logvar(h)
        z = reparameterize(mu, logvar, eps)
        logits = dec_out(relu(dec_hidden(z)))

    Inputs: input_dim (D), hidden_dim (H), latent_dim (Z).

    Attributes: latent_dim, enc_hidden (nn.Linear(D, H)), enc_mu (H -> Z), enc_logvar (H -> Z),
    dec_hidden (Z -> H), dec_out (H -> D).
    """

    def __init__(self, input_dim=64, hidden_dim=128, latent_dim=8):
        super().__init__()
        # BEGIN SOLUTION hint: handout §1.3 (the attributes and their shapes)
        self.latent_dim = latent_dim
        self.enc_hidden = nn.Linear(input_dim, hidden_dim)
        self.enc_mu = nn.Linear(hidden_dim, latent_dim)
        self.enc_logvar = nn.Linear(hidden_dim, latent_dim)
        self.dec_hidden = nn.Linear(latent_dim, hidden_dim)
        self.dec_out = nn.Linear(hidden_dim, input_dim)
        # END SOLUTION

    def encode(self, x):
        """x: tensor (N, D) -> (mu, logvar), tensors (N, Z)."""
        # BEGIN SOLUTION hint: handout §1.3 (the encoder)
        h = F.relu(self.enc_hidden(x))
        mu, logvar = self.enc_mu(h), self.enc_logvar(h)
        # END SOLUTION
        return mu, logvar

    def decode(self, z):
        """z: tensor (N, Z) -> logits, tensor (N, D) (no sigmoid)."""
        # BEGIN SOLUTION hint: handout §1.3 (the decoder)
        logits = self.dec_out(F.relu(self.dec_hidden(z)))
        # END SOLUTION
        return logits

    def forward(self, x, eps=None):
        """x: tensor (N, D); eps: None or tensor (N, Z) -> (logits (N, D), mu (N, Z), logvar (N, Z))."""
        # BEGIN SOLUTION hint: handout §1.3 (the forward pass)
        mu, logvar = self.encode(x)
        logits = self.decode(reparameterize(mu, logvar, eps))
        # END SOLUTION
        return logits, mu, logvar


def negative_elbo(x, logits, mu, logvar):
    """The negative evidence lower bound, averaged over the batch (the loss to minimise):

        -ELBO_i = -log p(x_i | z_i) + KL_i
        -log p(x_i | z_i) = sum_d BCE_with_logits(logits_id, x_id)   (Bernoulli pixels)

    Inputs:
    - x: tensor (N, D), data in [0, 1]
    - logits: tensor (N, D), the decoder's output for z_i
    - mu, logvar: tensors (N, Z), the encoder's output for x_i

    Returns:
    - loss: scalar tensor, mean over the N examples of -ELBO_i (in nats)
    """
    # BEGIN SOLUTION hint: handout §1.1 (the ELBO of a batch)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
    loss = (recon + kl_standard_normal(mu, logvar)).mean()
    # END SOLUTION
    return loss


@torch.no_grad()
def sample_prior(model, num_samples, seed=0):
    """Generate from the model: z ~ N(0, I), then pixel probabilities sigmoid(decode(z)).

    Draw z with torch.randn(num_samples, Z, generator=g) from one torch.Generator seeded with
    seed, in the dtype of model.dec_out.weight.

    Inputs:
    - model: a VAE
    - num_samples: int N
    - seed: int

    Returns:
    - probs: tensor (N, D), values in (0, 1)
    """
    # BEGIN SOLUTION hint: handout §1.4 (sampling)
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(num_samples, model.latent_dim, generator=g).to(model.dec_out.weight.dtype)
    probs = torch.sigmoid(model.decode(z))
    # END SOLUTION
    return probs


def train_vae(model, data, epochs=30, batch_size=64, lr=2e-3, seed=0):
    """Train the VAE on data with Adam, minimising negative_elbo.

    Seed torch with seed first (torch.manual_seed). Each epoch visits the rows of data in the
    order of torch.randperm(len(data)), in minibatches of batch_size (the last one may be
    smaller); each minibatch draws fresh eps inside model(x) and takes one Adam step.

    Inputs:
    - model: a VAE (float32)
    - data: float32 tensor (M, D), values in [0, 1]
    - epochs, batch_size: ints; lr: float, Adam's learning rate
    - seed: int

    Returns:
    - losses: list of floats, the mean loss of every epoch
    """
    # BEGIN SOLUTION hint: handout §1.4 (training); the docstring gives the order of the draws
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for idx in torch.randperm(len(data)).split(batch_size):
            x = data[idx]
            loss = negative_elbo(x, *model(x))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(data))
    # END SOLUTION
    return losses
