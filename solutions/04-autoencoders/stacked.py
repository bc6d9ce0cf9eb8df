"""Stacked autoencoders, greedy layer-wise pre-training, and fine-tuning with few labels.

For layer sizes ``[D_0, D_1, ..., D_L]`` a stacked autoencoder has L encoder
layers ``D_{k} -> D_{k+1}`` (each followed by a sigmoid) and L decoder layers
``D_{k+1} -> D_{k}``. The code at depth k is what the first k encoders make
of x (depth 0: x itself).

Greedy layer-wise pre-training trains one shallow autoencoder per layer, from
the bottom up, with **no labels**: layer k's autoencoder (``encoders[k]``,
sigmoid, ``decoders[k]``) learns to reconstruct the codes at depth k, which
the already trained (and now fixed) layers 0, ..., k-1 produce. Then a deep
feedforward classifier starts from the pre-trained encoders, and all its
layers are fine-tuned on a small labelled set.

Every tensor is float32, shaped ``(N, D)``. Labels are int64 tensors ``(N,)``.
Training uses ``aann.train_autoencoder`` (for the autoencoders) and the same
minibatch conventions in ``fine_tune`` (for the classifier).
"""

import aann
import torch
import torch.nn.functional as F
from torch import nn


class StackedAutoencoder(nn.Module):
    """A stack of L autoencoder layers for layer sizes [D_0, D_1, ..., D_L] (handout §2.1).

    Attributes (exactly these names, so that state_dict keys are
    "encoders.0.weight", ..., "decoders.0.weight", ...):
    - layer_sizes: list of ints [D_0, ..., D_L]
    - encoders: nn.ModuleList of L nn.Linear; encoders[k] is Linear(D_k, D_{k+1})
    - decoders: nn.ModuleList of L nn.Linear; decoders[k] is Linear(D_{k+1}, D_k)

    Create the layers in this order: encoders[0], ..., encoders[L-1], then
    decoders[0], ..., decoders[L-1] (torch's default initialization draws from
    the global RNG in this order).

    Inputs:
    - layer_sizes: list of L + 1 ints, L >= 1
    """

    def __init__(self, layer_sizes):
        super().__init__()
        # BEGIN SOLUTION hint: §2.1: layer_sizes and the L encoder and L decoder layers the docstring names, in its order
        self.layer_sizes = list(layer_sizes)
        pairs = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True))
        self.encoders = nn.ModuleList([nn.Linear(a, b) for a, b in pairs])
        self.decoders = nn.ModuleList([nn.Linear(b, a) for a, b in pairs])
        # END SOLUTION

    def encode(self, x, depth=None):
        """The code of x at a given depth.

        code_0 = x; code_{k+1} = sigmoid(encoders[k](code_k)).

        Inputs:
        - x: tensor (N, D_0)
        - depth: int in 0..L, or None for L (the top code)

        Returns:
        - code: tensor (N, D_depth)
        """
        # BEGIN SOLUTION hint: §2.1: the code (N, D_depth) of x (N, D_0) at the given depth
        if depth is None:
            depth = len(self.encoders)
        h = x
        for enc in self.encoders[:depth]:
            h = torch.sigmoid(enc(h))
        return h
        # END SOLUTION

    def layer_autoencoder(self, k):
        """The shallow autoencoder of layer k, sharing this stack's modules.

        nn.Sequential(encoders[k], nn.Sigmoid(), decoders[k]) for k = 0: the
        input data is real-valued, so its reconstruction is linear;
        nn.Sequential(encoders[k], nn.Sigmoid(), decoders[k], nn.Sigmoid())
        for k >= 1, whose inputs are sigmoid codes. It maps (N, D_k) to
        (N, D_k); training it trains encoders[k] and decoders[k] of the stack.

        Inputs:
        - k: int in 0..L-1

        Returns:
        - model: nn.Sequential holding this stack's own encoders[k] and
          decoders[k] (not copies)
        """
        # BEGIN SOLUTION hint: §2.2: layer k's shallow autoencoder, (N, D_k) -> (N, D_k), made of this stack's own modules
        layers = [self.encoders[k], nn.Sigmoid(), self.decoders[k]]
        if k > 0:
            layers.append(nn.Sigmoid())
        return nn.Sequential(*layers)
        # END SOLUTION

    def decode(self, code):
        """The reconstruction of x from its top code, mirroring the encoder.

        z_L = code; z_k = sigmoid(decoders[k](z_{k+1})) for k = L-1, ..., 1;
        x_hat = decoders[0](z_1) (linear output).

        Inputs:
        - code: tensor (N, D_L)

        Returns:
        - x_hat: tensor (N, D_0)
        """
        # BEGIN SOLUTION hint: §2.1: the reconstruction (N, D_0) of a top code (N, D_L)
        z = code
        for k in range(len(self.decoders) - 1, 0, -1):
            z = torch.sigmoid(self.decoders[k](z))
        return self.decoders[0](z)
        # END SOLUTION

    def forward(self, x):
        """decode(encode(x)): tensor (N, D_0) -> tensor (N, D_0)."""
        # BEGIN SOLUTION hint: §2.1: the reconstruction (N, D_0) of x (N, D_0)
        return self.decode(self.encode(x))
        # END SOLUTION


def pretrain_layer(sae, k, X, epochs, lr, batch_size, seed=0):
    """Pre-train layer k of the stack (handout §2.2); layers 0..k-1 stay fixed, deeper ones untouched.

    Compute the codes at depth k of all of X once, without gradients
    (sae.encode(X, k) under torch.no_grad()), then train
    sae.layer_autoencoder(k) to reconstruct them with
    aann.train_autoencoder(..., epochs, lr, batch_size, seed=seed).

    Inputs:
    - sae: StackedAutoencoder, changed in place (only encoders[k], decoders[k])
    - k: int in 0..L-1
    - X: tensor (N, D_0), unlabelled data
    - epochs, lr, batch_size, seed: as for aann.train_autoencoder

    Returns:
    - history: list of `epochs` floats, the layer's reconstruction error
    """
    # BEGIN SOLUTION hint: §2.2: layer k trained alone on the codes (N, D_k) of X; its history, `epochs` floats
    with torch.no_grad():
        codes = sae.encode(X, k)
    return aann.train_autoencoder(sae.layer_autoencoder(k), codes, epochs, lr, batch_size, seed=seed)
    # END SOLUTION


def greedy_pretrain(sae, X, epochs, lr, batch_size, seed=0):
    """Greedy layer-wise pre-training of the whole stack, from the bottom up (handout §2.2).

    For k = 0, ..., L-1: pretrain_layer(sae, k, X, epochs, lr, batch_size,
    seed=seed + k). No labels anywhere.

    Inputs:
    - sae: StackedAutoencoder, trained in place
    - X: tensor (N, D_0), unlabelled data
    - epochs, lr, batch_size: for every layer
    - seed: int; layer k uses seed + k

    Returns:
    - histories: list of L lists; histories[k] is layer k's loss history
    """
    # BEGIN SOLUTION hint: §2.2: every layer pre-trained in turn, from the bottom up, without labels; L histories
    return [
        pretrain_layer(sae, k, X, epochs, lr, batch_size, seed=seed + k)
        for k in range(len(sae.encoders))
    ]
    # END SOLUTION


class DeepClassifier(nn.Module):
    """A deep feedforward classifier with sigmoid hidden layers (handout §2.3).

    For layer sizes [D_0, ..., D_L] and C classes:
    h_0 = x; h_{k+1} = sigmoid(hidden[k](h_k)); logits = output(h_L).

    Attributes (exactly these names):
    - hidden: nn.ModuleList of L nn.Linear; hidden[k] is Linear(D_k, D_{k+1})
    - output: nn.Linear(D_L, C)

    Create hidden[0], ..., hidden[L-1] first, then output.

    Inputs:
    - layer_sizes: list of L + 1 ints
    - n_classes: int C
    """

    def __init__(self, layer_sizes, n_classes):
        super().__init__()
        # BEGIN SOLUTION hint: §2.3: the L hidden layers and the output layer the docstring names, in its order
        sizes = list(layer_sizes)
        self.hidden = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)])
        self.output = nn.Linear(sizes[-1], n_classes)
        # END SOLUTION

    def forward(self, x):
        """Class scores: tensor (N, D_0) -> logits tensor (N, C)."""
        # BEGIN SOLUTION hint: §2.3: the logits (N, C) of x (N, D_0)
        h = x
        for layer in self.hidden:
            h = torch.sigmoid(layer(h))
        return self.output(h)
        # END SOLUTION


def classifier_from_encoders(sae, n_classes, seed=0):
    """A DeepClassifier whose hidden layers start from the pre-trained encoders.

    Call torch.manual_seed(seed), build DeepClassifier(sae.layer_sizes,
    n_classes), then copy the weights and biases of sae.encoders[k] into
    hidden[k] for every k. The output layer keeps its random initialization.
    The classifier holds copies: fine-tuning it must not change sae.

    Inputs:
    - sae: StackedAutoencoder (pre-trained)
    - n_classes: int C
    - seed: int, seeds the output layer's initialization

    Returns:
    - classifier: DeepClassifier
    """
    # BEGIN SOLUTION hint: §2.3: a seeded DeepClassifier (C classes) whose hidden layers start from the pre-trained encoders' weights and biases
    torch.manual_seed(seed)
    clf = DeepClassifier(sae.layer_sizes, n_classes)
    with torch.no_grad():
        for layer, enc in zip(clf.hidden, sae.encoders, strict=True):
            layer.weight.copy_(enc.weight)
            layer.bias.copy_(enc.bias)
    return clf
    # END SOLUTION


def fine_tune(classifier, X, y, epochs, lr, batch_size, momentum=0.9, seed=0):
    """Train all layers of the classifier on labelled data (cross-entropy; handout §2.3).

    The loop of aann.train_autoencoder with labels: a torch.Generator seeded
    with seed, one torch.randperm(N, generator=g) per epoch, batches
    idx = perm[start:start + batch_size], the loss
    F.cross_entropy(classifier(X[idx]), y[idx]), aann.momentum_step on all of
    classifier.parameters() (velocities start at zero); after each epoch
    record F.cross_entropy(classifier(X), y) on all of X, without gradients.

    Inputs:
    - classifier: DeepClassifier, trained in place
    - X: tensor (N, D_0)
    - y: int64 tensor (N,), labels in 0..C-1
    - epochs, lr, batch_size, momentum, seed: as for aann.train_autoencoder

    Returns:
    - history: list of `epochs` floats, the training loss after each epoch
    """
    # BEGIN SOLUTION hint: §2.3: `epochs` epochs of seeded minibatch training of every layer on the labels (N,); the training loss after each epoch, `epochs` floats
    g = torch.Generator().manual_seed(seed)
    params = list(classifier.parameters())
    velocities = [torch.zeros_like(p) for p in params]
    n = X.shape[0]
    history = []
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            loss = F.cross_entropy(classifier(X[idx]), y[idx])
            grads = torch.autograd.grad(loss, params)
            aann.momentum_step(params, grads, velocities, lr, momentum)
        with torch.no_grad():
            history.append(float(F.cross_entropy(classifier(X), y)))
    return history
    # END SOLUTION


def pretrain_and_finetune(X_unlabeled, X_labeled, y_labeled, layer_sizes, n_classes,
                          pretrain=True, pretrain_epochs=20, pretrain_lr=1.0,
                          pretrain_batch_size=32, finetune_epochs=60, finetune_lr=0.5,
                          finetune_batch_size=16, seed=0):
    """The whole semi-supervised recipe: pre-train without labels, then fine-tune (§2.4).

    With pretrain=True:
        torch.manual_seed(seed); sae = StackedAutoencoder(layer_sizes)
        greedy_pretrain(sae, X_unlabeled, pretrain_epochs, pretrain_lr,
                        pretrain_batch_size, seed)
        classifier = classifier_from_encoders(sae, n_classes, seed)
    With pretrain=False (the baseline: the same network from random weights):
        sae = None
        torch.manual_seed(seed); classifier = DeepClassifier(layer_sizes, n_classes)
    Then, in both cases:
        fine_tune(classifier, X_labeled, y_labeled, finetune_epochs, finetune_lr,
                  finetune_batch_size, seed=seed)

    Inputs:
    - X_unlabeled: tensor (N_u, D_0), data for pre-training (its labels are not given)
    - X_labeled: tensor (N_l, D_0), the few labelled examples
    - y_labeled: int64 tensor (N_l,)
    - layer_sizes: list [D_0, ..., D_L]
    - n_classes: int C
    - pretrain: bool, whether to pre-train (False: random initialization)
    - pretrain_epochs, pretrain_lr, pretrain_batch_size: for greedy_pretrain
    - finetune_epochs, finetune_lr, finetune_batch_size: for fine_tune
    - seed: int, seeds the initialization, the shuffling, and both phases

    Returns a tuple of:
    - classifier: DeepClassifier, fine-tuned
    - sae: the pre-trained StackedAutoencoder (not changed by fine-tuning), or
      None when pretrain=False
    """
    # BEGIN SOLUTION hint: §2.4: the recipe of the docstring, with or without pre-training; (classifier fine-tuned on the labelled set, sae or None)
    if pretrain:
        torch.manual_seed(seed)
        sae = StackedAutoencoder(layer_sizes)
        greedy_pretrain(sae, X_unlabeled, pretrain_epochs, pretrain_lr, pretrain_batch_size,
                        seed)
        classifier = classifier_from_encoders(sae, n_classes, seed)
    else:
        sae = None
        torch.manual_seed(seed)
        classifier = DeepClassifier(layer_sizes, n_classes)
    fine_tune(classifier, X_labeled, y_labeled, finetune_epochs, finetune_lr, finetune_batch_size,
              seed=seed)
    return classifier, sae
    # END SOLUTION
