"""Assignment 04: the reference solution gets full marks, classic mistakes lose points.

Each mutant is a copy of solutions/04-autoencoders/ with exact string replacements
applied to one module; it is graded with the real graders, only on the tests that
must catch it (``-k``), and each of those must fail. The first group are the
mistakes the assignment's issue lists; the second group are more mistakes students
make.
"""

from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.mutants import Mutant, grade_mutant, mutant_problems, reference_problems

ASSIGNMENT = load_course(Path(__file__).resolve().parents[1]).assignment("04-autoencoders")

ENCODER = "            nn.Linear(n_inputs, n_hidden), nn.Sigmoid(), nn.Linear(n_hidden, n_bottleneck)\n"
DECODER = "            nn.Linear(n_bottleneck, n_hidden), nn.Sigmoid(), nn.Linear(n_hidden, n_inputs)\n"
PRETRAINED_CLASSIFIER = "        classifier = classifier_from_encoders(sae, n_classes, seed)\n    else:\n"

# Mutant(id, module, [(old, new), ...], tests that must fail)
MUTANTS = [
    # ---------------------------------------------------------------- the list
    Mutant(
        "sigmoid-bottleneck",
        "aann.py",
        [(ENCODER, ENCODER.replace("n_bottleneck)\n", "n_bottleneck), nn.Sigmoid()\n"))],
        [
            "test_aann_forward_matches_torch",
            "test_aann_bottleneck_is_linear",
            "test_aann_other_sizes",
            "test_aann_gradients_match_torch",
        ],
    ),
    Mutant(
        # The decoder's hidden layer without its sigmoid: not the encoder's mirror image.
        "decoder-hidden-layer-linear",
        "aann.py",
        [(DECODER, DECODER.replace("nn.Sigmoid()", "nn.Identity()"))],
        [
            "test_aann_forward_matches_torch",
            "test_aann_decoder_mirrors_encoder",
            "test_aann_gradients_match_torch",
        ],
    ),
    Mutant(
        # A single linear layer from the code back to the input.
        "decoder-single-layer",
        "aann.py",
        [(DECODER, "            nn.Linear(n_bottleneck, n_inputs)\n")],
        ["test_aann_layer_sizes", "test_aann_other_sizes", "test_aann_decoder_mirrors_encoder"],
    ),
    Mutant(
        # The whole stack trained at once as one deep autoencoder on x.
        "pretraining-all-layers-jointly",
        "stacked.py",
        [
            (
                "        pretrain_layer(sae, k, X, epochs, lr, batch_size, seed=seed + k)\n"
                "        for k in range(len(sae.encoders))\n",
                "        aann.train_autoencoder(sae, X, epochs, lr, batch_size, seed=seed)\n"
                "        for k in range(1)\n",
            )
        ],
        [
            "test_greedy_pretrain_matches_reference",
            "test_greedy_pretrain_keeps_lower_layers_fixed",
            "test_pipeline_matches_reference",
        ],
    ),
    Mutant(
        # Layer k's autoencoder trained end to end from x: the lower encoders move too.
        "pretrain-layer-also-trains-lower-layers",
        "stacked.py",
        [
            (
                "    with torch.no_grad():\n        codes = sae.encode(X, k)\n"
                "    return aann.train_autoencoder(sae.layer_autoencoder(k), codes, epochs, lr, "
                "batch_size, seed=seed)\n",
                "    lower = [m for j in range(k) for m in (sae.encoders[j], nn.Sigmoid())]\n"
                "    model = nn.Sequential(*lower, *sae.layer_autoencoder(k))\n"
                "    with torch.no_grad():\n        codes = sae.encode(X, k)\n\n"
                "    class FromX(nn.Module):\n"
                "        def __init__(self):\n"
                "            super().__init__()\n"
                "            self.model = model\n\n"
                "        def forward(self, c):\n"
                "            return self.model(X[: c.shape[0]]) if k else self.model(c)\n\n"
                "    return aann.train_autoencoder(FromX(), codes, epochs, lr, batch_size, "
                "seed=seed)\n",
            )
        ],
        ["test_pretrain_layer_freezes_earlier_layers", "test_pretrain_layer_matches_reference"],
    ),
    Mutant(
        "finetuning-from-random-weights",
        "stacked.py",
        [
            (
                PRETRAINED_CLASSIFIER,
                "        torch.manual_seed(seed)\n"
                "        classifier = DeepClassifier(layer_sizes, n_classes)\n    else:\n",
            )
        ],
        [
            "test_pipeline_matches_reference",
            "test_few_label_accuracy",
            "test_pretraining_beats_random_init",
        ],
    ),
    Mutant(
        "classifier-from-encoders-does-not-copy",
        "stacked.py",
        [
            (
                "            layer.weight.copy_(enc.weight)\n            layer.bias.copy_(enc.bias)\n",
                "            pass\n",
            )
        ],
        [
            "test_classifier_from_encoders_copies_weights",
            "test_classifier_holds_copies",
            "test_pipeline_matches_reference",
        ],
    ),
    Mutant(
        # Supervised pre-training: the encoders also learn to predict the labels.
        "labels-used-during-pretraining",
        "stacked.py",
        [
            (
                PRETRAINED_CLASSIFIER,
                "        head = nn.Linear(layer_sizes[-1], n_classes)\n"
                "        params = list(sae.encoders.parameters()) + list(head.parameters())\n"
                "        velocities = [torch.zeros_like(p) for p in params]\n"
                "        for _ in range(pretrain_epochs):\n"
                "            loss = F.cross_entropy(head(sae.encode(X_labeled)), y_labeled)\n"
                "            grads = torch.autograd.grad(loss, params)\n"
                "            aann.momentum_step(params, grads, velocities, pretrain_lr, 0.9)\n"
                + PRETRAINED_CLASSIFIER,
            )
        ],
        ["test_pretraining_uses_no_labels", "test_pipeline_matches_reference"],
    ),
    Mutant(
        # AANN.encode returns the sigmoidal mapping layer instead of the bottleneck.
        "aann-code-from-hidden-layer",
        "aann.py",
        [
            (
                "        return self.encoder(x)\n        # END SOLUTION\n\n    def decode",
                "        return self.encoder[:2](x)\n        # END SOLUTION\n\n    def decode",
            ),
            (
                "        return self.decode(self.encode(x))\n",
                "        return self.decode(self.encoder(x))\n",
            ),
        ],
        ["test_aann_forward_matches_torch", "test_aann_bottleneck_is_linear"],
    ),
    Mutant(
        # The stack's code taken before the last sigmoid (the pre-activation).
        "stack-code-before-sigmoid",
        "stacked.py",
        [
            (
                "        for enc in self.encoders[:depth]:\n            h = torch.sigmoid(enc(h))\n",
                "        for j, enc in enumerate(self.encoders[:depth]):\n"
                "            h = enc(h) if j == depth - 1 else torch.sigmoid(enc(h))\n",
            )
        ],
        [
            "test_stacked_encode_depths",
            "test_pretrain_layer_matches_reference",
            "test_greedy_pretrain_matches_reference",
        ],
    ),
    Mutant(
        # Every layer pre-trained on the raw pixels (it only works where the sizes allow).
        "pretrain-layer-on-raw-input",
        "stacked.py",
        [("        codes = sae.encode(X, k)\n", "        codes = X\n")],
        ["test_pretrain_layer_freezes_earlier_layers", "test_pretrain_layer_matches_reference"],
    ),
    # ---------------------------------------------------------------- more mistakes
    Mutant(
        "aann-sigmoid-output-layer",
        "aann.py",
        [(DECODER, DECODER.replace("n_inputs)\n", "n_inputs), nn.Sigmoid()\n"))],
        ["test_aann_forward_matches_torch", "test_aann_decoder_mirrors_encoder"],
    ),
    Mutant(
        "denoising-target-is-the-noisy-input",
        "aann.py",
        [(
            "            loss = F.mse_loss(model(inputs), target)\n",
            "            loss = F.mse_loss(model(inputs), inputs)\n",
        )],
        ["test_denoising_autoencoder_matches_reference"],
    ),
    Mutant(
        "history-records-last-batch-loss",
        "aann.py",
        [(
            "        history.append(reconstruction_loss(model, X))\n",
            "        history.append(float(loss))\n",
        )],
        [
            "test_train_autoencoder_loss_falls",
            "test_train_autoencoder_matches_reference_loop",
            "test_denoising_history_on_clean_data",
        ],
    ),
    Mutant(
        "momentum-ignored",
        "aann.py",
        [("            p.sub_(lr * v)\n", "            p.sub_(lr * g)\n")],
        [
            "test_train_autoencoder_matches_reference_loop",
            "test_train_autoencoder_uneven_batches_and_momentum",
            "test_fine_tune_matches_reference",
        ],
    ),
    Mutant(
        "no-shuffling",
        "aann.py",
        [("        perm = torch.randperm(n, generator=g)\n", "        perm = torch.arange(n)\n")],
        [
            "test_train_autoencoder_matches_reference_loop",
            "test_train_autoencoder_uneven_batches_and_momentum",
            "test_greedy_pretrain_matches_reference",
        ],
    ),
    Mutant(
        # The classifier shares the stack's encoder modules: fine-tuning changes the stack.
        "classifier-shares-encoders",
        "stacked.py",
        [(
            "        for layer, enc in zip(clf.hidden, sae.encoders, strict=True):\n"
            "            layer.weight.copy_(enc.weight)\n            layer.bias.copy_(enc.bias)\n",
            "        clf.hidden = sae.encoders\n",
        )],
        ["test_classifier_holds_copies"],
    ),
    Mutant(
        # Only the new output layer is trained: not fine-tuning.
        "fine-tune-freezes-hidden-layers",
        "stacked.py",
        [(
            "    params = list(classifier.parameters())\n",
            "    params = list(classifier.output.parameters())\n",
        )],
        ["test_fine_tune_matches_reference", "test_pipeline_matches_reference"],
    ),
    Mutant(
        "deeper-layer-autoencoder-linear-output",
        "stacked.py",
        [("        if k > 0:\n            layers.append(nn.Sigmoid())\n", "")],
        ["test_layer_autoencoder", "test_pretrain_layer_matches_reference"],
    ),
    Mutant(
        "same-seed-for-every-layer",
        "stacked.py",
        [(
            "        pretrain_layer(sae, k, X, epochs, lr, batch_size, seed=seed + k)\n",
            "        pretrain_layer(sae, k, X, epochs, lr, batch_size, seed=seed)\n",
        )],
        ["test_greedy_pretrain_matches_reference"],
    ),
    Mutant(
        # Decoders created before the encoders: seeded initializations differ.
        "stack-layers-created-in-another-order",
        "stacked.py",
        [(
            "        self.encoders = nn.ModuleList([nn.Linear(a, b) for a, b in pairs])\n"
            "        self.decoders = nn.ModuleList([nn.Linear(b, a) for a, b in pairs])\n",
            "        self.decoders = nn.ModuleList([nn.Linear(b, a) for a, b in pairs])\n"
            "        self.encoders = nn.ModuleList([nn.Linear(a, b) for a, b in pairs])\n",
        )],
        ["test_initialization_order", "test_pipeline_matches_reference"],
    ),
    Mutant(
        # Shuffles drawn from the global generator: the seed no longer fixes the order.
        "shuffle-with-global-generator",
        "aann.py",
        [("        perm = torch.randperm(n, generator=g)\n", "        perm = torch.randperm(n)\n")],
        [
            "test_train_autoencoder_matches_reference_loop",
            "test_train_autoencoder_uneven_batches_and_momentum",
        ],
    ),
    Mutant(
        # The output layer drawn before seeding: not the documented initialization.
        "classifier-seeded-after-building",
        "stacked.py",
        [(
            "    torch.manual_seed(seed)\n    clf = DeepClassifier(sae.layer_sizes, n_classes)\n",
            "    clf = DeepClassifier(sae.layer_sizes, n_classes)\n    torch.manual_seed(seed)\n",
        )],
        ["test_classifier_from_encoders_copies_weights", "test_classifier_holds_copies"],
    ),
    Mutant(
        # Probabilities instead of logits: cross-entropy expects logits.
        "classifier-sigmoid-logits",
        "stacked.py",
        [("        return self.output(h)\n", "        return torch.sigmoid(self.output(h))\n")],
        ["test_deep_classifier_forward", "test_fine_tune_matches_reference"],
    ),
]


def test_reference_solution_gets_full_marks():
    assert reference_problems(ASSIGNMENT) == []


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_classic_mistake_loses_points(tmp_path, mutant):
    assert mutant_problems(grade_mutant(ASSIGNMENT, mutant, tmp_path), mutant) == []
