"""DeepWalk: walks follow arcs, embeddings are deterministic and reflect community structure."""

from __future__ import annotations

import numpy as np
import pytest

from cascadekit.data import SocialGraph, Vocabulary
from cascadekit.graph.deepwalk import DeepWalkConfig, deepwalk, random_walks


def two_cliques(k: int = 8) -> SocialGraph:
    src, dst = [], []
    for base in (0, k):
        for i in range(k):
            for j in range(k):
                if i != j:
                    src.append(base + i)
                    dst.append(base + j)
    src.append(0)  # one bridge
    dst.append(k)
    return SocialGraph.from_edges(
        np.array(src), np.array(dst), Vocabulary.range(2 * k + 1), directed=False
    )


def test_walks_only_follow_arcs_and_stay_on_sinks() -> None:
    g = two_cliques()
    walks = random_walks(g, walk_length=12, walks_per_node=3, seed=1)
    assert walks.shape == (3 * g.n_nodes, 12)
    adj = g.to_scipy().toarray() > 0
    a, b = walks[:, :-1].ravel(), walks[:, 1:].ravel()
    isolated = g.degree()[a] == 0
    assert np.all(adj[a[~isolated], b[~isolated]])
    assert np.all(a[isolated] == b[isolated])  # node 16 is isolated: its walks stand still
    assert np.array_equal(walks, random_walks(g, walk_length=12, walks_per_node=3, seed=1))


def test_embeddings_are_seeded_and_separate_communities() -> None:
    pytest.importorskip("gensim")  # skip-gram (the `graph` extra)
    g = two_cliques()
    cfg = DeepWalkConfig(dim=16, walk_length=20, walks_per_node=20, window=3, epochs=2, seed=3)
    emb = deepwalk(g, cfg)
    assert emb.shape == (17, 16)
    assert np.array_equal(emb, deepwalk(g, cfg))
    centred = emb[:16] - emb[:16].mean(axis=0)  # skip-gram vectors share a common direction
    unit = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    sim = unit @ unit.T
    within = np.mean([sim[i, j] for i in range(1, 8) for j in range(1, 8) if i != j])
    across = np.mean([sim[i, j] for i in range(1, 8) for j in range(9, 16)])
    assert within > 0.5 > across
