"""Assignment 09: the reference solution gets full marks, classic mistakes lose points.

Each mutant is a copy of solutions/09-generative/ with exact string replacements
applied to one module; it is graded with the real graders, and the listed tests
must fail. To keep this file fast, each mutant is graded only on the tests that
must catch it (``-k`` selection). The first group are the mistakes the
assignment's issue lists; the second group are more mistakes students make.
"""

from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.mutants import Mutant, grade_mutant, mutant_problems, reference_problems

ASSIGNMENT = load_course(Path(__file__).resolve().parents[1]).assignment("09-generative")

KL = "    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)\n"
REPARAM = "    z = mu + torch.exp(0.5 * logvar) * eps\n"
D_FAKE = "    fake = _call(G, z, fake_labels).detach()\n"
G_LOSS = "    loss = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))\n"
CD1 = (
    "    dW = (v0.T @ ph0 - v1.T @ ph1) / N\n"
    "    db = (v0 - v1).mean(dim=0)\n"
    "    dc = (ph0 - ph1).mean(dim=0)\n"
)

# Mutant(id, module, [(old, new), ...], tests that must fail)
MUTANTS = [
    # ---------------------------------------------------------------- the list
    Mutant("kl-wrong-sign", "vae.py", [(KL, KL.replace("kl = 0.5 *", "kl = -0.5 *"))],
           ["test_kl_matches_torch_distributions", "test_negative_elbo_matches_distributions",
            "test_kl_gradient_closed_form"]),
    Mutant("kl-missing-the-half", "vae.py", [(KL, KL.replace("kl = 0.5 *", "kl ="))],
           ["test_kl_matches_torch_distributions", "test_kl_gradient_closed_form", "test_kl_reads_a_log_variance"]),
    Mutant("kl-treats-logvar-as-sigma", "vae.py",
           [(KL, "    kl = 0.5 * (mu.pow(2) + logvar.pow(2) - 1 - torch.log(logvar.pow(2))).sum(dim=1)\n")],
           ["test_kl_matches_torch_distributions", "test_kl_reads_a_log_variance", "test_kl_gradient_closed_form"]),
    Mutant("reparameterize-treats-logvar-as-sigma", "vae.py", [(REPARAM, "    z = mu + logvar * eps\n")],
           ["test_reparameterize_value_and_gradient", "test_vae_forward_matches_oracle",
            "test_reparameterize_draws_with_gradient"]),
    Mutant("sampling-without-the-reparameterisation-trick", "vae.py",
           [(REPARAM, "    z = torch.normal(mu, torch.exp(0.5 * logvar))\n")],
           ["test_reparameterize_value_and_gradient", "test_reparameterize_draws_with_gradient"]),
    Mutant("discriminator-step-without-detach", "gan.py",
           [(D_FAKE, "    fake = _call(G, z, fake_labels)\n")],
           ["test_discriminator_step_does_not_touch_the_generator"]),
    Mutant("no-detach-and-one-optimizer-for-both-networks", "gan.py", [
        (D_FAKE, "    fake = _call(G, z, fake_labels)\n"),
        ("    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))\n",
         "    opt_D = torch.optim.Adam(list(D.parameters()) + list(G.parameters()), lr=lr, betas=(0.5, 0.999))\n"),
    ], ["test_discriminator_step_does_not_touch_the_generator", "test_discriminator_step_with_several_steps",
        "test_conditional_discriminator_step"]),
    Mutant("saturating-generator-loss", "gan.py",
           [(G_LOSS, "    loss = -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n")],
           ["test_losses_match_log_sigmoid", "test_generator_loss_does_not_saturate", "test_generator_step"]),
    Mutant("alpha-bar-as-a-sum", "diffusion.py",
           [("    alpha_bars = torch.cumprod(1 - betas, dim=0)\n", "    alpha_bars = 1 - torch.cumsum(betas, dim=0)\n")],
           ["test_linear_schedule_and_alpha_bars", "test_alpha_bars_of_any_schedule", "test_posterior_mean_and_variance",
            "test_p_sample_step"]),
    Mutant("q-sample-t-off-by-one", "diffusion.py",
           [("    ab = _expand(alpha_bars, t, x0)\n", "    ab = _expand(alpha_bars, t - 1, x0)\n")],
           ["test_q_sample_closed_form", "test_q_sample_statistics_and_ends", "test_diffusion_loss_and_gradient"]),
    Mutant("sampling-loop-skips-t-0", "diffusion.py",
           [("    for t in range(len(betas) - 1, -1, -1):\n", "    for t in range(len(betas) - 1, 0, -1):\n")],
           ["test_sample_loop_with_pinned_draws"]),
    Mutant("model-sees-t-plus-1-when-sampling", "diffusion.py",
           [("torch.full((num_samples,), t, dtype=torch.long)", "torch.full((num_samples,), t + 1, dtype=torch.long)")],
           ["test_sample_loop_with_pinned_draws"]),
    Mutant("posterior-variance-is-beta", "diffusion.py",
           [("    var = (1 - ab_prev_t) / (1 - ab_t) * beta_t\n", "    var = beta_t\n")],
           ["test_posterior_mean_and_variance", "test_posterior_at_the_ends"]),
    Mutant("reverse-step-variance-is-beta", "diffusion.py",
           [("    var = (1 - ab_prev) / (1 - ab_t) * beta_t\n", "    var = beta_t\n")],
           ["test_p_sample_step", "test_p_sample_step_last_step_is_deterministic", "test_sample_loop_with_pinned_draws"]),
    Mutant("posterior-alpha-bar-prev-not-shifted", "diffusion.py",
           [("    ab_prev = torch.cat([torch.ones(1, dtype=ab.dtype), ab[:-1]])\n", "    ab_prev = ab\n")],
           ["test_posterior_mean_and_variance", "test_posterior_at_the_ends"]),
    Mutant("cd1-phases-swapped", "rbm.py",
           [(CD1, "    dW = (v1.T @ ph1 - v0.T @ ph0) / N\n"
                  "    db = (v1 - v0).mean(dim=0)\n"
                  "    dc = (ph1 - ph0).mean(dim=0)\n")],
           ["test_cd1_gradients", "test_cd1_gradients_other_sizes", "test_train_rbm_raises_the_exact_likelihood"]),
    # ---------------------------------------------------------------- more mistakes
    Mutant("elbo-reconstruction-averaged-over-pixels", "vae.py",
           [('reduction="none").sum(dim=1)', 'reduction="none").mean(dim=1)')],
           ["test_negative_elbo_matches_distributions", "test_negative_elbo_gradient"]),
    Mutant("decoder-returns-probabilities", "vae.py",
           [("        logits = self.dec_out(F.relu(self.dec_hidden(z)))\n",
             "        logits = torch.sigmoid(self.dec_out(F.relu(self.dec_hidden(z))))\n")],
           ["test_vae_forward_matches_oracle", "test_sample_prior_decodes_standard_normal_codes"]),
    Mutant("sample-prior-ignores-the-seed", "vae.py",
           [("    z = torch.randn(num_samples, model.latent_dim, generator=g)",
             "    z = torch.randn(num_samples, model.latent_dim)")],
           ["test_sample_prior_decodes_standard_normal_codes"]),
    Mutant("discriminator-labels-swapped", "gan.py", [
        ("F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))",
         "F.binary_cross_entropy_with_logits(real_logits, torch.zeros_like(real_logits))"),
        ("F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))",
         "F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))"),
    ], ["test_losses_match_log_sigmoid", "test_discriminator_loss_gradient",
        "test_discriminator_step_does_not_touch_the_generator"]),
    Mutant("discriminator-step-without-zero-grad", "gan.py",
           [("    opt_D.zero_grad()\n    loss.backward()\n    opt_D.step()\n", "    loss.backward()\n    opt_D.step()\n")],
           ["test_alternating_steps_zero_the_gradients", "test_discriminator_step_with_several_steps"]),
    Mutant("conditional-discriminator-ignores-the-label", "gan.py",
           [("        logits = super().forward(torch.cat([x, y], dim=1))\n",
             "        logits = super().forward(torch.cat([x, torch.zeros_like(y)], dim=1))\n")],
           ["test_conditional_networks_match_oracle", "test_conditional_discriminator_step"]),
    Mutant("cosine-schedule-not-clipped", "diffusion.py",
           [("    betas = (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=max_beta)\n",
             "    betas = 1 - alpha_bar[1:] / alpha_bar[:-1]\n")],
           ["test_cosine_schedule"]),
    Mutant("diffusion-loss-predicts-x0", "diffusion.py",
           [("    loss = F.mse_loss(model(xt, t), noise)\n", "    loss = F.mse_loss(model(xt, t), x0)\n")],
           ["test_diffusion_loss_and_gradient"]),
    Mutant("free-energy-without-visible-bias", "rbm.py",
           [("    fe = -(v @ b) - F.softplus(v @ W + c).sum(dim=1)\n", "    fe = -F.softplus(v @ W + c).sum(dim=1)\n")],
           ["test_free_energy_by_enumeration", "test_log_partition_by_brute_force"]),
    Mutant("gibbs-step-passes-probabilities", "rbm.py",
           [("    h = (torch.rand(p_h.shape, generator=g, dtype=W.dtype) < p_h).to(W.dtype)\n",
             "    h = p_h + 0 * torch.rand(p_h.shape, generator=g, dtype=W.dtype)\n")],
           ["test_gibbs_step_with_pinned_draws"]),
    Mutant("cd1-positive-phase-with-hidden-samples", "rbm.py", [
        ("    N = v0.shape[0]\n    v1, _ = gibbs_step(v0, W, b, c, seed)\n",
         "    N = v0.shape[0]\n    v1, h0 = gibbs_step(v0, W, b, c, seed)\n"),
        ("    dW = (v0.T @ ph0 - v1.T @ ph1) / N\n", "    dW = (v0.T @ h0 - v1.T @ ph1) / N\n"),
    ], ["test_cd1_gradients", "test_cd1_gradients_other_sizes"]),
]


def test_reference_solution_gets_full_marks():
    assert reference_problems(ASSIGNMENT) == []


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_classic_mistake_loses_points(tmp_path, mutant):
    assert mutant_problems(grade_mutant(ASSIGNMENT, mutant, tmp_path), mutant) == []
