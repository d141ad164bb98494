"""GraphWave structural node embeddings (Donnat et al., KDD 2018), for the cascade graphs of the
MMCAs dynamics encoder (paper 003 §4.2.1: edge weight = the time from the retweet to the end of
the observation window).

For a weighted undirected graph with combinatorial Laplacian L = D − W = U Λ Uᵀ, the heat
wavelet of node a at scale s is column a of Ψ_s = U exp(−sΛ) Uᵀ. Node a is embedded by the
empirical characteristic function of its wavelet coefficients, φ_a(t) = (1/N) Σ_m exp(i t Ψ_s[m, a]),
sampled at ``points`` values of t, real and imaginary parts, for each scale: 2 · scales · points
numbers. Nodes with the same structural role (automorphic, e.g. the leaves of a star) get the same
embedding wherever they sit. Exact eigendecomposition: meant for graphs of up to a few hundred
nodes, as observed cascades are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_POINTS = np.linspace(0.0, 100.0, 25)  # the sampling of the GraphWave authors' code


def graphwave(
    weights: np.ndarray,
    scales: Sequence[float] = (1.0, 10.0),
    points: np.ndarray = DEFAULT_POINTS,
) -> np.ndarray:
    """Embeddings of every node of the graph with symmetric non-negative weight matrix
    ``weights`` (module docstring); column order: for each scale, the real parts at every point
    then the imaginary parts.

    Shapes: weights (N, N) → (N, 2 · len(scales) · len(points)) float64."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"weights must be a square matrix, got shape {w.shape}")
    if not np.allclose(w, w.T) or (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be symmetric, finite and non-negative")
    if len(scales) == 0 or min(scales) <= 0:
        raise ValueError(f"scales must be positive, got {list(scales)}")
    w = w - np.diag(np.diag(w))  # a self-loop adds nothing to D − W
    lam, u = np.linalg.eigh(np.diag(w.sum(axis=1)) - w)
    t = np.asarray(points, dtype=np.float64)
    blocks = []
    for s in scales:
        psi = (u * np.exp(-s * np.clip(lam, 0.0, None))) @ u.T  # (N, N), column a = node a
        phase = psi[:, :, None] * t  # (m, a, t)
        blocks += [np.cos(phase).mean(axis=0), np.sin(phase).mean(axis=0)]
    return np.concatenate(blocks, axis=1)
