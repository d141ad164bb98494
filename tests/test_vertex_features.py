"""DeepInf's structural vertex features: each one on a graph small enough to compute by hand (or
by dense linear algebra), then all seven against networkx on a random graph."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cascadekit.data import SocialGraph, Vocabulary
from cascadekit.data.influence import standardise
from cascadekit.errors import CascadeKitError
from cascadekit.features.vertex import (
    FEATURE_NAMES,
    clustering,
    coreness,
    eigenvector_centrality,
    hits,
    pagerank,
    rarity,
    structural_features,
)
from cascadekit.graph.ego import undirected_adjacency
from cascadekit.simulate.synthetic import random_graph


def adjacency(edges: list[tuple[int, int]], n: int) -> sp.csr_matrix:
    src, dst = np.array(edges).T
    graph = SocialGraph.from_edges(src, dst, Vocabulary.range(n), directed=False)
    return undirected_adjacency(graph)


# a triangle 0-1-2, a pendant 3 on 2, a path 4-5-6 hanging off 3, vertex 7 isolated
HAND = adjacency([(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (4, 5), (5, 6)], 8)


def test_rarity_and_clustering_by_hand() -> None:
    np.testing.assert_allclose(rarity(HAND), [1 / 2, 1 / 2, 1 / 3, 1 / 2, 1 / 2, 1 / 2, 1, 1])
    # 2's neighbours 0, 1, 3: one linked pair of three
    np.testing.assert_allclose(clustering(HAND), [1, 1, 1 / 3, 0, 0, 0, 0, 0])


def test_coreness_by_hand() -> None:
    np.testing.assert_array_equal(coreness(HAND), [2, 2, 2, 1, 1, 1, 1, 0])
    k4_tail = adjacency([(a, b) for a in range(4) for b in range(a + 1, 4)] + [(3, 4), (4, 5)], 6)
    np.testing.assert_array_equal(coreness(k4_tail), [3, 3, 3, 3, 1, 1])


def test_pagerank_solves_its_linear_system() -> None:
    a = HAND.toarray()
    n, d = len(a), 0.85
    deg = a.sum(axis=1)
    # x = d (A D⁻¹ x + (dangling · x) / n) + (1 − d) / n, with Σ x = 1
    walk = a / np.where(deg > 0, deg, 1)[None, :] + np.outer(np.ones(n), deg == 0) / n
    exact = np.linalg.solve(np.eye(n) - d * walk, np.full(n, (1 - d) / n))
    np.testing.assert_allclose(pagerank(HAND), exact, atol=1e-10)
    assert np.isclose(pagerank(HAND).sum(), 1.0)


def test_eigenvector_and_hits_are_the_principal_eigenvector() -> None:
    a = HAND.toarray()
    values, vectors = np.linalg.eigh(a)
    top = np.abs(vectors[:, -1])
    np.testing.assert_allclose(eigenvector_centrality(HAND), top, atol=1e-8)
    hub, authority = hits(HAND)
    # undirected: AᵀA = A², whose principal eigenvector is A's; both sum to 1
    np.testing.assert_allclose(authority, top / top.sum(), atol=1e-8)
    np.testing.assert_allclose(hub, authority, atol=1e-8)
    assert values[-1] > abs(values[0])  # not bipartite: the eigenvector is unique


def test_bipartite_graph_converges() -> None:
    star = adjacency([(0, k) for k in range(1, 6)], 6)  # λ = ±√5: plain power iteration cycles
    x = eigenvector_centrality(star)
    np.testing.assert_allclose(x, np.r_[np.sqrt(5), np.ones(5)] / np.sqrt(10), atol=1e-8)


def test_a_repeated_top_eigenvalue_gives_the_power_iteration_limit() -> None:
    # two identical triangles and an edge: power iteration from the uniform vector weighs both
    # triangles equally (networkx, igraph); so must Lanczos from the same start
    two = adjacency([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (6, 7)], 8)
    np.testing.assert_allclose(eigenvector_centrality(two), np.r_[np.full(6, 6**-0.5), 0, 0],
                               atol=1e-9)  # fmt: skip
    np.testing.assert_allclose(hits(two)[1], np.r_[np.full(6, 1 / 6), 0, 0], atol=1e-9)


def test_standardise_columns() -> None:
    x = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    out = standardise(x)
    np.testing.assert_allclose(out[:, 0], [-np.sqrt(1.5), 0, np.sqrt(1.5)])
    np.testing.assert_array_equal(out[:, 1], 0)  # constant column → 0, not NaN


def test_structural_features_stack_and_standardise() -> None:
    feats = structural_features(HAND)
    assert feats.shape == (8, 7) and feats.dtype == np.float32
    assert FEATURE_NAMES[1] == "clustering"
    raw = clustering(HAND)
    np.testing.assert_allclose(feats[:, 1], (raw - raw.mean()) / raw.std(), rtol=1e-6)
    np.testing.assert_allclose(feats.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(feats.std(axis=0), 1, atol=1e-6)
    with pytest.raises(CascadeKitError, match="symmetric"):
        structural_features(sp.csr_matrix(np.triu(HAND.toarray())))


def test_against_networkx_on_a_random_graph() -> None:
    nx = pytest.importorskip("networkx")
    adj = undirected_adjacency(random_graph(300, avg_degree=6, seed=4))
    g = nx.from_scipy_sparse_array(adj)
    values = lambda d: np.array([d[v] for v in range(adj.shape[0])])  # noqa: E731
    np.testing.assert_allclose(clustering(adj), values(nx.clustering(g)), atol=1e-12)
    np.testing.assert_allclose(pagerank(adj), values(nx.pagerank(g, tol=1e-13)), atol=1e-9)
    ev = nx.eigenvector_centrality(g, max_iter=5000, tol=1e-13)
    np.testing.assert_allclose(eigenvector_centrality(adj), values(ev), atol=1e-8)
    nx_hub, nx_auth = nx.hits(g, tol=1e-12, max_iter=10_000)
    hub, authority = hits(adj)
    np.testing.assert_allclose(authority, values(nx_auth), atol=1e-8)
    np.testing.assert_allclose(hub, values(nx_hub), atol=1e-8)
    np.testing.assert_array_equal(coreness(adj), values(nx.core_number(g)))
