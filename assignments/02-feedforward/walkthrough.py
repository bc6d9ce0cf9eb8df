# %% [markdown]
# Once `mlp.py` and `train.py` pass their checks, look at the task `train_digits` faces: the 8x8
# digits in both polarities. Each image is, at random, kept or contrast-inverted (`1 - x`).

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

import mlp
import train

digits = load_digits()
flip = np.random.default_rng(0).random(len(digits.target)) < 0.5
X = np.where(flip[:, None], 1.0 - digits.data / 16.0, digits.data / 16.0)
y = digits.target
fig, axes = plt.subplots(1, 8, figsize=(8, 1.2))
for k, ax in enumerate(axes):
    ax.imshow(X[k].reshape(8, 8), cmap="gray")
    ax.set_title(str(y[k]))
    ax.axis("off")
plt.show()

# %% [markdown]
# Train softmax regression (no hidden layer) and a network with one hidden layer with your own
# minibatch SGD, and compare their loss curves and held-out accuracies. Why does the first one
# stall, whatever you do to its learning rate?

# %%
models = {}
for sizes in ([64, 10], [64, 64, 10]):
    net = mlp.MLP(sizes, activation="relu", seed=0)
    curve = train.sgd(net, X[:1200], y[:1200], lr=0.1, epochs=30, batch_size=50, seed=0)
    accuracy = (net.forward(X[1200:]).argmax(axis=1) == y[1200:]).mean()
    plt.plot(curve, lw=0.8, label=f"MLP({sizes}): held-out accuracy {accuracy:.1%}")
    models[len(sizes)] = net
plt.xlabel("minibatch")
plt.ylabel("cross-entropy loss")
plt.legend()
plt.show()

# %% [markdown]
# The hidden layer's weights, one 8x8 image per hidden unit: do some units respond to the
# polarity (the overall brightness) rather than to a stroke?

# %%
W1 = models[3].params["W1"]
fig, axes = plt.subplots(4, 8, figsize=(8, 4))
for k, ax in enumerate(axes.flat):
    ax.imshow(W1[:, k].reshape(8, 8), cmap="coolwarm")
    ax.axis("off")
plt.show()
