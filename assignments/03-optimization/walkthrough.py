# %% [markdown]
# Once `optimizers.py` and `convergence.py` pass their checks, run gradient descent, momentum and
# Adam (and the others) on the two problems of `convergence.py`, with the hyperparameters of
# `HYPERPARAMETERS`, and plot the loss after every step (log scale: a straight line is linear
# convergence). On the right, the paths they take in Rosenbrock's curved valley.

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits, make_moons

import convergence
import optimizers
import regularization


def run(name, problem, steps):
    """Losses and iterates of one optimizer of convergence.OPTIMIZERS over `steps` steps."""
    f = convergence.PROBLEMS[problem]
    params = {"w": convergence.START[problem].astype(np.float64)}  # a copy: START is kept
    opt = convergence.OPTIMIZERS[name](params, **convergence.HYPERPARAMETERS[problem][name])
    losses, path = [], []
    for _ in range(steps):
        value, grad, hessian = f(params["w"])
        losses.append(max(value, 1e-16))
        path.append(params["w"].copy())
        second_order = [{"w": hessian}] if name == "newton" else []  # Newton takes Hessians
        gradients = {"w": grad}
        opt.step(gradients, *second_order)
    return np.array(losses), np.array(path)


names = ["gd", "momentum", "adam", "rmsprop", "lbfgs"]
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for ax, problem, steps in zip(axes[:2], ["quadratic", "rosenbrock"], [600, 2000], strict=True):
    for name in names:
        ax.semilogy(run(name, problem, steps)[0], label=name)
    ax.set_title(f"{problem}: loss per step")
    ax.set_xlabel("step")
    ax.legend()
u, v = np.meshgrid(np.linspace(-1.6, 1.6, 200), np.linspace(-0.6, 1.8, 200))
axes[2].contour(u, v, np.log1p((1 - u) ** 2 + 100 * (v - u**2) ** 2), levels=20, cmap="Greys")
for name in names:
    path = run(name, "rosenbrock", 2000)[1]
    axes[2].plot(path[:, 0], path[:, 1], lw=1, label=name)
axes[2].plot(1, 1, "k*", ms=12)
axes[2].set_xlim(-1.6, 1.6)
axes[2].set_ylim(-0.6, 1.8)
axes[2].set_title("paths on Rosenbrock (minimum: the star)")
axes[2].legend(loc="lower right")
plt.tight_layout()
plt.show()

# %% [markdown]
# Now regularization and normalization, on a small fully connected ReLU network (the layers are
# written out below; yours are the dropout, batch-norm and L2 pieces and the optimizer).

# %%
class Net:
    """A ReLU network for classification: Linear, [BatchNorm], ReLU, [dropout], ..., Linear."""

    def __init__(self, sizes, batchnorm=False, dropout=0.0, seed=0):
        draw = np.random.default_rng(seed)
        self.params, self.norms, self.dropout = {}, [], dropout
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            self.params[f"W{i}"] = draw.normal(0, np.sqrt(2 / fan_in), (fan_in, fan_out))
            self.params[f"b{i}"] = np.zeros(fan_out)
            if batchnorm and i < len(sizes) - 2:
                self.norms.append(regularization.BatchNorm(fan_out))
                self.params[f"gamma{i}"] = self.norms[-1].gamma  # the same arrays: the
                self.params[f"beta{i}"] = self.norms[-1].beta    # optimizer updates them
        self.depth = len(sizes) - 1

    def scores(self, x, train=False, seed=0):
        """Class scores (N, C); keeps each layer's input, pre-activation and dropout cache."""
        self.inputs, self.hidden = [], []
        for i in range(self.depth):
            self.inputs.append(x)
            h = x @ self.params[f"W{i}"] + self.params[f"b{i}"]
            if i == self.depth - 1:
                return h
            if self.norms:
                h = self.norms[i].forward(h, train=train)
            x, drop = np.maximum(h, 0), None
            if self.dropout and train:
                x, drop = regularization.dropout_forward(x, self.dropout, seed=seed * 100 + i)
            self.hidden.append((h, drop))

    def loss_and_grads(self, x, y, seed):
        """Mean cross-entropy of a minibatch and the gradient of every parameter."""
        scores = self.scores(x, train=True, seed=seed)
        probs = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        loss = -np.mean(np.log(probs[rows, y]))
        dh = probs
        dh[rows, y] -= 1
        dh /= len(y)
        grads = {}
        for i in reversed(range(self.depth)):  # dh: gradient of layer i's output
            grads[f"W{i}"], grads[f"b{i}"] = self.inputs[i].T @ dh, dh.sum(axis=0)
            if i == 0:
                return loss, grads
            da = dh @ self.params[f"W{i}"].T
            h, drop = self.hidden[i - 1]
            if drop is not None:
                da = regularization.dropout_backward(da, drop)
            dh = da * (h > 0)
            if self.norms:
                dh, grads[f"gamma{i - 1}"], grads[f"beta{i - 1}"] = self.norms[i - 1].backward(dh)


def train(net, opt, X, y, epochs, batch_size, l2=0.0, seed=0):
    """Minibatch training; returns the loss of every step."""
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            batch = order[start:start + batch_size]
            loss, grads = net.loss_and_grads(X[batch], y[batch], seed=len(losses))
            if l2:
                penalty, penalty_grads = regularization.l2_penalty(net.params, l2)
                loss += penalty
                grads = {k: g + penalty_grads[k] for k, g in grads.items()}
            opt.step(grads)
            losses.append(loss)
    return losses


# %% [markdown]
# **Overfitting.** 30 noisy points of the two moons and a network far bigger than they need (two
# hidden layers of 256 units), trained by your `Adam` until the training loss is near 0, three
# ways: as it is, with an L2 penalty, and with dropout after each hidden layer. Each panel shows
# the boundary it learned and its accuracy on 2,000 fresh points.

# %%
X, y = make_moons(30, noise=0.4, random_state=0)
X_test, y_test = make_moons(2000, noise=0.4, random_state=100)
xx, yy = np.meshgrid(np.linspace(-2, 3, 150), np.linspace(-1.5, 2, 100))
grid = np.column_stack([xx.ravel(), yy.ravel()])
variants = {"no regularization": ({}, 0.0), "L2 penalty (reg=0.03)": ({}, 3e-2),
            "dropout (p=0.5)": ({"dropout": 0.5}, 0.0)}
fig, axes = plt.subplots(1, 3, figsize=(15, 4), sharey=True)
for ax, (name, (options, l2)) in zip(axes, variants.items(), strict=True):
    net = Net([2, 256, 256, 2], seed=0, **options)
    train(net, optimizers.Adam(net.params, lr=3e-3), X, y, epochs=1000, batch_size=30, l2=l2)
    accuracy = np.mean(net.scores(X_test).argmax(axis=1) == y_test)
    ax.contourf(xx, yy, net.scores(grid).argmax(axis=1).reshape(xx.shape), levels=[-0.5, 0.5, 1.5],
                cmap="coolwarm", alpha=0.3)
    ax.scatter(*X.T, c=y, cmap="coolwarm", edgecolors="k")
    ax.set_title(f"{name}: test accuracy {accuracy:.1%}")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Batch normalization.** A deeper network (six hidden layers of 100 units) on the digits, with
# SGD with momentum at a large learning rate, with and without batch normalization before each
# ReLU. The loss of every minibatch:

# %%
digits = load_digits()
X_digits, y_digits = digits.data[:1000] / 16.0, digits.target[:1000]
for batchnorm in (False, True):
    net = Net([64] + [100] * 6 + [10], batchnorm=batchnorm, seed=0)
    opt = optimizers.Momentum(net.params, lr=0.1, momentum=0.9)
    losses = train(net, opt, X_digits, y_digits, epochs=10, batch_size=50)
    plt.semilogy(losses, lw=0.8, label="with batch norm" if batchnorm else "without")
plt.xlabel("step")
plt.ylabel("training loss (minibatch)")
plt.legend()
plt.show()
