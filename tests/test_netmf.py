"""NetMF (`graph.netmf`) against the dense formula on a small graph."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cascadekit.graph.ego import undirected_adjacency
from cascadekit.graph.netmf import netmf_embedding, netmf_matrix
from cascadekit.simulate.synthetic import random_graph


@pytest.fixture(scope="module")
def adj() -> sp.csr_matrix:
    return undirected_adjacency(random_graph(60, kind="communities", avg_degree=4, seed=0))


def dense_netmf(a: np.ndarray, window: int, b: float) -> np.ndarray:
    deg = a.sum(1)
    p = a / np.where(deg > 0, deg, 1.0)[:, None]
    s = sum(np.linalg.matrix_power(p, r) for r in range(1, window + 1))
    m = a.sum() / (b * window) * s / np.where(deg > 0, deg, np.inf)[None, :]
    return np.log(np.maximum(m, 1.0))


@pytest.mark.parametrize("window, b", [(1, 1.0), (3, 2.0)])
def test_the_sparse_matrix_is_the_dense_formula(adj: sp.csr_matrix, window: int, b: float) -> None:
    np.testing.assert_allclose(netmf_matrix(adj, window, b).toarray(),
                               dense_netmf(adj.toarray(), window, b), atol=1e-10)  # fmt: skip


def test_the_embedding_is_the_truncated_svd(adj: sp.csr_matrix) -> None:
    m = dense_netmf(adj.toarray(), 2, 1.0)
    u, s, _ = np.linalg.svd(m)
    e = netmf_embedding(adj, 8, window=2, n_iter=30)
    # E Eᵀ = U_d Σ_d U_dᵀ whatever the signs of the singular vectors
    np.testing.assert_allclose(e @ e.T, (u[:, :8] * s[:8]) @ u[:, :8].T, atol=1e-3)
    np.testing.assert_array_equal(e, netmf_embedding(adj, 8, window=2, n_iter=30))  # seeded


def test_bad_input_and_fill_in_are_refused(adj: sp.csr_matrix) -> None:
    with pytest.raises(ValueError, match="symmetric"):
        netmf_matrix(sp.csr_matrix(np.triu(np.ones((3, 3)), 1)))
    with pytest.raises(ValueError, match="max_nnz"):
        netmf_matrix(adj, window=6, max_nnz=100)
