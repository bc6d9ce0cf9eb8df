# %% [markdown]
# Once `models.py` passes its checks, train your LeNet-5 on the digits and look at what it
# learned: the six 5x5 filters of C1, and its feature maps for one digit.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

import models

digits = load_digits()
X = models.digits_to_lenet_input(digits.images[:1200])
y = torch.as_tensor(digits.target[:1200])
net = models.train_lenet(X, y, seed=0)
held_out = models.digits_to_lenet_input(digits.images[1200:])
with torch.no_grad():
    accuracy = (net(held_out).argmax(1).numpy() == digits.target[1200:]).mean()
print(f"held-out accuracy: {accuracy:.1%}")

filters = net.c1.weight.detach()[:, 0]
with torch.no_grad():
    maps = torch.tanh(net.c1(held_out[:1]))[0]
fig, axes = plt.subplots(2, 6, figsize=(10, 3.5))
for k in range(6):
    axes[0, k].imshow(filters[k], cmap="coolwarm")
    axes[1, k].imshow(maps[k], cmap="gray")
    axes[0, k].axis("off")
    axes[1, k].axis("off")
axes[0, 0].set_title("C1 filters", loc="left")
axes[1, 0].set_title("feature maps", loc="left")
plt.show()

# %% [markdown]
# Convolution commutes with translation. Left: one C1 feature map of a held-out digit, of the same
# digit moved 4 pixels right and down, and their difference once the second is moved back (zero
# but at the borders, where `torch.roll` wraps the image around). Right:
# the held-out accuracy of your LeNet-5 and of a logistic regression on the same 32x32 pixels
# when every digit is moved by the same offset (both were trained on centred digits only).

# %%
shifted = torch.roll(held_out[:1], shifts=(4, 4), dims=(2, 3))
with torch.no_grad():
    original_map, shifted_map = torch.tanh(net.c1(torch.cat([held_out[:1], shifted])))[:, 0]
moved_back = torch.roll(shifted_map, shifts=(-4, -4), dims=(0, 1))
fig, axes = plt.subplots(1, 4, figsize=(15, 3.5), gridspec_kw={"width_ratios": [1, 1, 1, 1.6]})
for ax, image, title in zip(axes, [original_map, shifted_map, moved_back - original_map],
                            ["map of the digit", "map of the moved digit", "difference, moved back"],
                            strict=False):
    ax.imshow(image, cmap="gray", vmin=-1, vmax=1)
    ax.set_title(title)
    ax.axis("off")
logistic = LogisticRegression(max_iter=2000).fit(X.reshape(len(X), -1).numpy(), y.numpy())
offsets = list(range(0, 13, 2))
lenet_accuracy, logistic_accuracy = [], []
for offset in offsets:
    moved = torch.roll(held_out, shifts=(offset, offset), dims=(2, 3))
    with torch.no_grad():
        lenet_accuracy.append(np.mean(net(moved).argmax(1).numpy() == digits.target[1200:]))
    logistic_accuracy.append(np.mean(logistic.predict(moved.reshape(len(moved), -1).numpy())
                                     == digits.target[1200:]))
axes[3].plot(offsets, lenet_accuracy, "o-", label="LeNet-5")
axes[3].plot(offsets, logistic_accuracy, "o-", label="logistic regression")
axes[3].set_xlabel("offset (pixels of the 32x32 input, right and down)")
axes[3].set_ylabel("held-out accuracy")
axes[3].legend()
plt.tight_layout()
plt.show()
