"""DeepWalk (Perozzi et al., KDD 2014): truncated uniform random walks + skip-gram (gensim Word2Vec).

Used by NDM+SN (paper 001 §5.4: fixed graph embeddings as half of each user's vector) and by
DeepInf (64-d per-vertex features).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cascadekit.data.graph import SocialGraph
from cascadekit.errors import CascadeKitError


@dataclass
class DeepWalkConfig:
    dim: int = 64
    walk_length: int = 40
    walks_per_node: int = 10
    window: int = 5
    epochs: int = 1
    negative: int = 5
    min_count: int = 0  # isolated users still get a (random) vector
    seed: int = 0


def random_walks(
    graph: SocialGraph, *, walk_length: int, walks_per_node: int, seed: int = 0
) -> np.ndarray:
    """Uniform random walks from every node, all walks advanced together.

    A walk that reaches a node without out-neighbours stays there (the row is padded with that node,
    which only strengthens its self-context); isolated nodes give constant rows.

    Shapes:
        return: (walks_per_node * V, walk_length) int64 node indices; rows are ordered by round,
        then node.
    """
    rng = np.random.default_rng(seed)
    deg = graph.degree()
    n = graph.n_nodes
    walks = np.empty((walks_per_node * n, walk_length), dtype=np.int64)
    walks[:, 0] = np.tile(np.arange(n, dtype=np.int64), walks_per_node)
    for step in range(1, walk_length):
        cur = walks[:, step - 1]
        d = deg[cur]
        pick = (rng.random(len(cur)) * np.maximum(d, 1)).astype(np.int64)
        nxt = (
            graph.indices[np.minimum(graph.indptr[cur] + pick, max(graph.n_arcs - 1, 0))]
            if graph.n_arcs
            else cur
        )
        walks[:, step] = np.where(d > 0, nxt, cur)
    return walks


def deepwalk(graph: SocialGraph, config: DeepWalkConfig | None = None) -> np.ndarray:
    """Skip-gram embeddings of every user of ``graph.vocab``.

    Deterministic for a given seed: walks are seeded and Word2Vec runs with one worker and a fixed
    hash function.

    Shapes:
        return: (V, config.dim) float32, row i = user i of the graph's vocabulary.
    """
    try:
        from gensim.models import Word2Vec
    except ImportError:
        raise CascadeKitError(
            "DeepWalk (NDM+SN) needs gensim: pip install 'cascadekit[graph]'"
        ) from None

    cfg = config or DeepWalkConfig()
    walks = random_walks(
        graph, walk_length=cfg.walk_length, walks_per_node=cfg.walks_per_node, seed=cfg.seed
    )
    sentences = walks.astype(str).tolist()
    model = Word2Vec(
        sentences,
        vector_size=cfg.dim,
        window=cfg.window,
        min_count=cfg.min_count,
        sg=1,
        negative=cfg.negative,
        epochs=cfg.epochs,
        workers=1,
        seed=cfg.seed,
        hashfxn=_stable_hash,
    )
    out = np.zeros((graph.n_nodes, cfg.dim), dtype=np.float32)
    for i in range(graph.n_nodes):
        out[i] = model.wv[str(i)]
    return out


def _stable_hash(s: str) -> int:
    # Python's hash() is salted per process; gensim seeds each vector with it
    import zlib

    return zlib.crc32(s.encode())
