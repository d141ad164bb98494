"""NetMF global-graph embeddings (Qiu et al., WSDM 2018) by sparse products and a randomized SVD:
MMCAs' global-graph structure (paper 003 §4.2.1 uses NetSMF, the sparsified large-graph variant of
the same factorisation), built from the training window's relations only.

For an undirected weighted graph with adjacency A, degrees D and volume vol(G) = Σ A, window T and
negative-sampling constant b, DeepWalk implicitly factorises
M = vol(G) / (b·T) · (Σ_{r=1..T} P^r) D⁻¹,  P = D⁻¹ A.
The embedding is U_d · sqrt(Σ_d) of the rank-``dim`` truncated SVD of log(max(M, 1)) (entries of M
below 1 — and the structural zeros — map to 0, so the matrix stays sparse). The powers are sparse
products; ``max_nnz`` refuses a window whose powers would fill in beyond it (the reason NetSMF
samples paths instead), with the number that was reached.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import randomized_svd


def netmf_matrix(adj: sp.spmatrix, window: int = 2, negative: float = 1.0,
                 max_nnz: int = 50_000_000) -> sp.csr_matrix:  # fmt: skip
    """log(max(M, 1)) of the module docstring, sparse. Shapes: (N, N) → (N, N)."""
    a = sp.csr_matrix(adj, dtype=np.float64)
    if a.shape[0] != a.shape[1] or (a != a.T).nnz:
        raise ValueError("NetMF needs a square symmetric adjacency (an undirected graph)")
    if window < 1 or negative <= 0:
        raise ValueError(f"window must be >= 1 and negative > 0, got {window}, {negative}")
    deg = np.asarray(a.sum(axis=1)).ravel()
    inv = sp.diags(np.where(deg > 0, 1.0 / np.where(deg > 0, deg, 1.0), 0.0))
    p = inv @ a
    power, total = p, p.copy()
    for r in range(2, window + 1):
        power = power @ p
        total = total + power
        if total.nnz > max_nnz:
            raise ValueError(f"window {window}: Σ P^r has {total.nnz:,} non-zeros after r = {r}, "
                             f"above max_nnz = {max_nnz:,}; use a smaller window")  # fmt: skip
    m = (deg.sum() / (negative * window)) * (total @ inv)
    m = sp.csr_matrix(m)
    m.data = np.log(np.maximum(m.data, 1.0))
    m.eliminate_zeros()
    return m


def netmf_embedding(adj: sp.spmatrix, dim: int = 32, *, window: int = 2, negative: float = 1.0,
                    seed: int = 0, n_iter: int = 10) -> np.ndarray:  # fmt: skip
    """U_d sqrt(Σ_d) of `netmf_matrix` (module docstring), seeded. Shapes: (N, N) → (N, dim)
    float32 (columns beyond the matrix's rank are 0)."""
    m = netmf_matrix(adj, window, negative)
    k = min(dim, min(m.shape) - 1)
    out = np.zeros((m.shape[0], dim), dtype=np.float32)
    if k < 1 or m.nnz == 0:
        return out
    u, s, _ = randomized_svd(m, k, n_iter=n_iter, random_state=seed)
    out[:, :k] = u * np.sqrt(s)
    return out
