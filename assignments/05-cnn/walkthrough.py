# %% [markdown]
# Once `models.py` passes its checks, train your LeNet-5 on the digits and look at what it
# learned: the six 5x5 filters of C1, and its feature maps for one digit.

# %%
import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits

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
