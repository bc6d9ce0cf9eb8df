"""VLAD (vector of locally aggregated descriptors) in numpy, and retrieval with it.

numpy only: torch is not allowed in this file. Every function takes numpy
arrays and must return numpy float64 arrays (int64 for indices).

Conventions used throughout this file:

- An "image" is a bag of M local descriptors X (M, D); M may differ between images.
- The visual vocabulary is K centroids C (K, D), e.g. from k-means.
- A VLAD vector is K * D long: the K residual sums (K, D), flattened row by row.
- eps = 1e-12 guards every division by a norm: x / max(||x||, eps), so a zero
  vector stays zero.
"""

import numpy as np

EPS = 1e-12


def assign_descriptors(X, C):
    """Hard assignment: the index of the nearest centroid (Euclidean) of every descriptor.

    Ties go to the lowest index.

    Inputs:
    - X: descriptors (M, D)
    - C: centroids (K, D)

    Returns:
    - assignment: int64 (M,), values in 0 .. K-1
    """
    # BEGIN SOLUTION hint: §1.1: the index (M,) of every descriptor's nearest centroid, ties to the lowest index
    d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    assignment = np.argmin(d2, axis=1).astype(np.int64)
    # END SOLUTION
    return assignment


def residual_sums(X, C, assignment):
    """The sum of the residuals of the descriptors assigned to each centroid.

    V[k] = sum over the descriptors x assigned to k of (x - C[k]); V[k] = 0 if
    no descriptor is assigned to k.

    Inputs:
    - X: descriptors (M, D)
    - C: centroids (K, D)
    - assignment: int (M,), from assign_descriptors

    Returns:
    - V: float64 (K, D)
    """
    # BEGIN SOLUTION hint: §1.2: the residual sums V (K, D); a cluster with no descriptor gets a zero row
    V = np.zeros(C.shape, dtype=np.float64)
    np.add.at(V, assignment, X - C[assignment])
    # END SOLUTION
    return V


def intra_normalize(V):
    """Intra-normalisation: L2-normalise every row (one cluster's residual sum) on its own.

    Inputs:
    - V: (K, D)

    Returns:
    - float64 (K, D), row k is V[k] / max(||V[k]||, eps)
    """
    # BEGIN SOLUTION hint: §1.3: V (K, D) with every row rescaled to unit L2 norm on its own (zero rows stay zero)
    norms = np.linalg.norm(V, axis=1, keepdims=True)
    out = V / np.maximum(norms, EPS)
    # END SOLUTION
    return out


def power_normalize(v):
    """Signed square root (power normalisation with exponent 1/2): sign(v) * sqrt(|v|), elementwise.

    Inputs:
    - v: any shape

    Returns:
    - float64 array shaped like v
    """
    # BEGIN SOLUTION hint: §1.3: the signed square root of every entry, shaped like v
    out = np.sign(v) * np.sqrt(np.abs(v))
    # END SOLUTION
    return out


def vlad_encode(X, C):
    """The VLAD vector of one image (handout §1.4).

    1. hard-assign every descriptor to its nearest centroid;
    2. V (K, D): the residual sums per centroid;
    3. intra-normalisation of every row of V;
    4. flatten to K * D (row by row) and apply the signed square root;
    5. global L2 normalisation (of the whole K * D vector).

    Inputs:
    - X: descriptors (M, D)
    - C: centroids (K, D)

    Returns:
    - v: float64 (K * D,), unit norm (unless every residual is zero)
    """
    # BEGIN SOLUTION hint: §1.4: the VLAD vector (K * D,) of one image, unit norm
    V = residual_sums(X, C, assign_descriptors(X, C))
    v = power_normalize(intra_normalize(V).reshape(-1))
    v = v / max(np.linalg.norm(v), EPS)
    # END SOLUTION
    return v


def rank_database(query_codes, database_codes):
    """Retrieval: rank the database by similarity (dot product) to every query.

    The codes are unit-norm VLAD vectors, so the dot product is the cosine
    similarity. Ties keep the database order (a stable sort).

    Inputs:
    - query_codes: (Q, K * D)
    - database_codes: (N, K * D)

    Returns:
    - ranking: int64 (Q, N); ranking[q] lists the database indices, most similar first
    """
    # BEGIN SOLUTION hint: §1.5: the database indices (Q, N) for every query, most similar first, ties in database order
    sims = query_codes @ database_codes.T
    ranking = np.argsort(-sims, axis=1, kind="stable").astype(np.int64)
    # END SOLUTION
    return ranking
