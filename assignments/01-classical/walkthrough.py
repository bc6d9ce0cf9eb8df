# %% [markdown]
# Once your modules pass their checks, put the classifiers side by side on one 2-D problem, the
# two interleaved moons, and look at the boundaries they draw. Each panel colours the plane by the
# class it predicts; the dots are the training points.

# %%
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse
from sklearn.datasets import make_moons

import gmm
import knn
import svm
import trees

X, y = make_moons(300, noise=0.25, random_state=0)
X_test, y_test = make_moons(1000, noise=0.25, random_state=1)
xx, yy = np.meshgrid(np.linspace(-2, 3, 120), np.linspace(-1.5, 2, 90))
grid = np.column_stack([xx.ravel(), yy.ravel()])

best_k, cv_accuracy = knn.cross_validate_k(X, y, [1, 3, 5, 9, 15, 25, 45], num_folds=5)
tree = trees.build_tree(X, y, max_depth=6)
classifiers = {
    f"k-NN, k={best_k} (cross-validated)": lambda P: knn.knn_predict(X, y, P, best_k),
    "linear SVM": svm.OneVsRestSVM(reg=1e-2, lr=0.1, epochs=300).fit(X, y).predict,
    "decision tree, depth 6": lambda P: trees.tree_predict(tree, P),
    "random forest, 25 trees": trees.RandomForest(n_trees=25, max_depth=6, seed=0).fit(X, y).predict,
}
fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True, sharey=True)
for ax, (name, predict) in zip(axes.flat, classifiers.items(), strict=True):
    accuracy = np.mean(predict(X_test) == y_test)
    ax.contourf(xx, yy, predict(grid).reshape(xx.shape), levels=[-0.5, 0.5, 1.5],
                cmap="coolwarm", alpha=0.3)
    ax.scatter(*X.T, c=y, cmap="coolwarm", s=8, edgecolors="k", linewidths=0.2)
    ax.set_title(f"{name}: test accuracy {accuracy:.1%}")
plt.tight_layout()
plt.show()

# %% [markdown]
# A GMM classifier models each class with a few Gaussians fitted by EM. Below: its boundary, one
# ellipse (two standard deviations) per component, and the log-likelihood of each class's EM run.

# %%
model = gmm.GMMClassifier(K=3, n_iter=60, seed=0).fit(X, y)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.contourf(xx, yy, model.predict(grid).reshape(xx.shape), levels=[-0.5, 0.5, 1.5],
             cmap="coolwarm", alpha=0.3)
ax1.scatter(*X.T, c=y, cmap="coolwarm", s=8, edgecolors="k", linewidths=0.2)
for c, (_, means, covs) in enumerate(model.gmms_):
    for mean, cov in zip(means, covs, strict=True):
        eigenvalues, eigenvectors = np.linalg.eigh(cov)
        angle = np.degrees(np.arctan2(eigenvectors[1, 1], eigenvectors[0, 1]))
        width, height = 4 * np.sqrt(eigenvalues[::-1])
        ax1.add_patch(Ellipse(mean, width, height, angle=angle, fill=False, lw=1.5,
                              color=plt.cm.coolwarm(float(c))))
accuracy = np.mean(model.predict(X_test) == y_test)
ax1.set_title(f"GMM classifier, 3 components per class: test accuracy {accuracy:.1%}")
for c in (0, 1):  # the same EM runs as the classifier's (its seed + c)
    members = X[y == c]
    log_likelihoods = gmm.fit_gmm(members, K=3, n_iter=60, seed=c)[3]
    ax2.plot(log_likelihoods, label=f"class {c}")
ax2.set_xlabel("EM iteration")
ax2.set_ylabel("log-likelihood of the class's points")
ax2.legend()
plt.tight_layout()
plt.show()
