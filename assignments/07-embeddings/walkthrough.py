# %% [markdown]
# Once `word2vec.py` and `glove.py` pass their checks, train both on a corpus built like the
# graders' planted one (handout, "The planted corpus"), with words instead of ids: eight concepts,
# each with two synonyms that are used interchangeably and three topic words, and six fillers.
# A sentence about concept k holds one synonym of k and topic words of k or k + 1.

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA

import glove
import word2vec

SYNONYMS = [("car", "automobile"), ("film", "movie"), ("doctor", "physician"), ("buy", "purchase"),
            ("big", "large"), ("begin", "start"), ("fast", "quick"), ("happy", "glad")]
TOPICS = [("road", "engine", "drive"), ("actor", "scene", "cinema"), ("patient", "hospital", "nurse"),
          ("shop", "price", "money"), ("size", "mountain", "whale"), ("first", "launch", "opening"),
          ("speed", "race", "runner"), ("smile", "joy", "laugh")]
FILLERS = ("the", "a", "of", "and", "to", "in")
vocab = [w for pair in SYNONYMS for w in pair] + [w for t in TOPICS for w in t] + list(FILLERS)
ids = {w: i for i, w in enumerate(vocab)}


def planted_corpus(sentences, seed):
    """Word ids (L,) of `sentences` six-word sentences, as the handout describes them."""
    draw = np.random.default_rng(seed)
    out = []
    for _ in range(sentences):
        k = draw.integers(8)
        words = []
        for _ in range(5):
            if draw.random() < 0.7:
                words.append(TOPICS[(k + draw.integers(2)) % 8][draw.integers(3)])
            else:
                words.append(FILLERS[draw.integers(6)])
        words.insert(draw.integers(6), SYNONYMS[k][draw.integers(2)])
        out += [ids[w] for w in words]
    return np.array(out)


def unit_rows(E):
    """The rows of E scaled to length 1 (cosine similarities are then dot products)."""
    return E / np.sqrt(np.sum(E**2, axis=1, keepdims=True))


tokens = planted_corpus(1500, seed=0)
print(" ".join(vocab[i] for i in tokens[:24]), "...")
vectors = {
    "skip-gram (negative sampling)": word2vec.train_skipgram(tokens, len(vocab), seed=0),
    "GloVe": glove.train_glove(glove.cooccurrence_matrix(planted_corpus(20000, seed=1),
                                                         len(vocab), window=2)),
}

# %% [markdown]
# The vectors projected on their first two principal components (PCA), words labelled: synonyms
# share a colour and are joined by a line, topic words are grey, fillers light grey.

# %%
colors = [plt.cm.tab10(c) for c in range(10) if c != 7]  # tab10's 7 is grey
fig, axes = plt.subplots(1, 2, figsize=(15, 6))
for ax, (name, E) in zip(axes, vectors.items(), strict=True):
    points = PCA(2).fit_transform(unit_rows(E))
    for i, word in enumerate(vocab):
        if i < 16:
            color = colors[i // 2]
        else:
            color = "0.45" if i < 40 else "0.75"
        ax.scatter(*points[i], color=color, s=12)
        ax.annotate(word, points[i], color=color, fontsize=9, xytext=(3, 2),
                    textcoords="offset points")
    for k in range(8):
        ax.plot(*points[2 * k:2 * k + 2].T, color=colors[k], lw=1)
    ax.set_title(f"{name}: first two principal components")
plt.tight_layout()
plt.show()

# %% [markdown]
# Nearest neighbours by cosine similarity (yours, `cosine_nearest_neighbours`), in all the
# dimensions rather than the two above, and the cosine similarity of every pair of words (in the
# order of the vocabulary: the 16 synonyms two by two, the 24 topic words, the 6 fillers).

# %%
queries = np.array([ids[w] for w in ("car", "movie", "physician", "quick", "engine", "the")])
for name, E in vectors.items():
    print(name)
    for q, row in zip(queries, word2vec.cosine_nearest_neighbours(E, queries, 4), strict=True):
        print(f"  {vocab[q]:>10}: " + ", ".join(vocab[j] for j in row))
fig, axes = plt.subplots(1, 2, figsize=(14, 6))
for ax, (name, E) in zip(axes, vectors.items(), strict=True):
    image = ax.imshow(unit_rows(E) @ unit_rows(E).T, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(vocab)), vocab, rotation=90, fontsize=6)
    ax.set_yticks(range(len(vocab)), vocab, fontsize=6)
    ax.set_title(f"{name}: cosine similarity")
fig.colorbar(image, ax=axes, shrink=0.8)
plt.show()
