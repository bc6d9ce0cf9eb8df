# %% [markdown]
# Once `aann.py` passes its checks, train two autoencoders with a 2-unit bottleneck on the digits
# (pixels / 16): a `LinearAutoencoder`, which finds PCA's subspace, and your `AANN`, whose
# sigmoidal layers let it bend that plane. First their reconstruction error per epoch, then the
# 2-D code of every digit (each point is drawn as its label). The dashed line is the error of
# PCA with two components (scikit-learn's, for reference).

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

import aann
import stacked

digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
labels = digits.target
torch.manual_seed(0)
models = {"linear autoencoder (PCA's subspace)": aann.LinearAutoencoder(64, 2),
          "AANN 64-32-2-32-64": aann.AANN(64, 32, 2)}
histories = {"linear autoencoder (PCA's subspace)": aann.train_autoencoder(
                 models["linear autoencoder (PCA's subspace)"], X, 30, 0.5, 32, seed=0),
             "AANN 64-32-2-32-64": aann.train_autoencoder(
                 models["AANN 64-32-2-32-64"], X, 100, 0.5, 32, seed=0)}
pca = PCA(2).fit(X.numpy())
pca_error = np.mean((pca.inverse_transform(pca.transform(X.numpy())) - X.numpy()) ** 2)
fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
for name, history in histories.items():
    axes[0].plot(history, label=name)
axes[0].axhline(pca_error, color="k", ls="--", label="PCA, 2 components")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("reconstruction error (MSE)")
axes[0].legend()
for ax, (name, model) in zip(axes[1:], models.items(), strict=True):
    with torch.no_grad():
        code = model.encode(X).numpy()
    for digit in range(10):
        ax.scatter(*code[labels == digit].T, s=0, label=str(digit))
        for x, y in code[labels == digit][:80]:
            ax.text(x, y, str(digit), color=plt.cm.tab10(digit), fontsize=7, ha="center")
    ax.set_xlim(code[:, 0].min(), code[:, 0].max())
    ax.set_ylim(code[:, 1].min(), code[:, 1].max())
    ax.set_title(f"2-D code: {name}")
plt.tight_layout()
plt.show()

# %% [markdown]
# What a 2-number code keeps of a digit: inputs (top row) beside their reconstructions by the
# linear autoencoder and by the AANN, and by an AANN with an 8-unit bottleneck.

# %%
models["AANN 64-32-8-32-64"] = aann.AANN(64, 32, 8)
aann.train_autoencoder(models["AANN 64-32-8-32-64"], X, 100, 0.5, 32, seed=0)
shown = X[:10]
fig, axes = plt.subplots(4, 10, figsize=(10, 4.5))
rows = [("input", shown)]
with torch.no_grad():
    rows += [(name.split(" (")[0], model(shown)) for name, model in models.items()]
for r, (name, images) in enumerate(rows):
    for c in range(10):
        axes[r, c].imshow(images[c].reshape(8, 8).clamp(0, 1), cmap="gray_r")
        axes[r, c].axis("off")
    axes[r, 0].set_title(name, loc="left", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# Once `stacked.py` passes its checks: pre-training pays off when labels are scarce. Greedy
# pre-training of a `[64, 32, 16]` stack on all 1,347 training images (no labels), then, for a few
# sizes of labelled set, the held-out accuracy of the classifier fine-tuned from those encoders
# and of the same network fine-tuned from random weights (the handout's hyperparameters).

# %%
X_train, X_test, y_train, y_test = train_test_split(
    X, torch.tensor(labels), test_size=450, random_state=0, stratify=labels)
torch.manual_seed(0)
sae = stacked.StackedAutoencoder([64, 32, 16])
stacked.greedy_pretrain(sae, X_train, epochs=20, lr=1.0, batch_size=32)
sizes, accuracy = [30, 70, 140, 280], {"pre-trained": [], "random initialization": []}
for size in sizes:
    idx, _ = train_test_split(np.arange(len(y_train)), train_size=size, random_state=0,
                              stratify=y_train)
    torch.manual_seed(0)
    starts = {"pre-trained": stacked.classifier_from_encoders(sae, 10),
              "random initialization": stacked.DeepClassifier([64, 32, 16], 10)}
    for name, classifier in starts.items():
        stacked.fine_tune(classifier, X_train[idx], y_train[idx], epochs=60, lr=0.5, batch_size=16)
        with torch.no_grad():
            predicted = classifier(X_test).argmax(dim=1)
        accuracy[name].append(float((predicted == y_test).float().mean()))
for name, values in accuracy.items():
    plt.plot(sizes, values, "o-", label=name)
plt.xlabel("labelled training images")
plt.ylabel("held-out accuracy")
plt.legend()
plt.show()
