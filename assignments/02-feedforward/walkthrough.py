# %% [markdown]
# Once `mlp.py` and `train.py` pass their checks, train a network on the 8x8 digits with your
# own minibatch SGD and look at the loss curve: it should fall quickly, then flatten, with the
# noise of minibatches on top.

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

import mlp
import train

digits = load_digits()
X = digits.data / 16.0
y = digits.target
model = mlp.MLP([64, 32, 10], activation="tanh", seed=0)
losses = train.sgd(model, X[:1200], y[:1200], lr=0.1, epochs=10, batch_size=32, seed=0)
accuracy = (model.forward(X[1200:]).argmax(axis=1) == y[1200:]).mean()
plt.plot(losses, lw=0.8)
plt.xlabel("minibatch")
plt.ylabel("cross-entropy loss")
plt.title(f"minibatch SGD on digits: held-out accuracy {accuracy:.1%}")
plt.show()

# %% [markdown]
# The first layer's weights, one 8x8 image per hidden unit: what does the network look for?

# %%
W1 = model.params["W1"]
fig, axes = plt.subplots(4, 8, figsize=(8, 4))
for k, ax in enumerate(axes.flat):
    ax.imshow(W1[:, k].reshape(8, 8), cmap="coolwarm")
    ax.axis("off")
plt.show()
