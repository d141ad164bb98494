"""Seeded synthetic data: social graphs and IC cascades on them (the embedded default of the demo)."""

from __future__ import annotations

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.graph import SocialGraph
from cascadekit.data.report import ReadReport
from cascadekit.data.vocab import Vocabulary
from cascadekit.simulate.ic import simulate_ic


def random_graph(
    n_users: int, *, kind: str = "powerlaw", avg_degree: float = 8.0, seed: int = 0
) -> SocialGraph:
    """A directed graph over users ``"0" … "n-1"``.

    ``erdos_renyi``: each arc independently with probability avg_degree / (n − 1).
    ``powerlaw``: users belong to communities of ~50; each user's out-degree is Poisson(avg_degree);
    80 % of arcs stay in the community; targets are drawn with popularity ∝ rank^−0.8, which gives a
    heavy-tailed in-degree (a few hubs) and strong local structure — as in follower graphs.
    """
    if n_users < 2:
        raise ValueError("need at least 2 users")
    rng = np.random.default_rng(seed)
    vocab = Vocabulary.range(n_users)
    if kind == "erdos_renyi":
        mask = rng.random((n_users, n_users)) < avg_degree / (n_users - 1)
        np.fill_diagonal(mask, False)
        src, dst = np.nonzero(mask)
        return SocialGraph.from_edges(src, dst, vocab)
    if kind != "powerlaw":
        raise ValueError(f"kind must be 'powerlaw' or 'erdos_renyi', got {kind!r}")
    n_comm = max(1, n_users // 50)
    community = rng.integers(0, n_comm, n_users)
    popularity = rng.permutation((np.arange(n_users) + 1.0) ** -0.8)
    members = [np.flatnonzero(community == c) for c in range(n_comm)]
    src_list, dst_list = [], []
    for u in range(n_users):
        k = rng.poisson(avg_degree)
        if k == 0:
            continue
        local = rng.random(k) < 0.8
        pool_local = members[community[u]]
        w_local = popularity[pool_local] / popularity[pool_local].sum()
        targets = np.concatenate(
            [
                rng.choice(pool_local, size=int(local.sum()), p=w_local),
                rng.choice(n_users, size=int((~local).sum()), p=popularity / popularity.sum()),
            ]
        )
        targets = np.unique(targets[targets != u])
        src_list.append(np.full(len(targets), u))
        dst_list.append(targets)
    return SocialGraph.from_edges(np.concatenate(src_list), np.concatenate(dst_list), vocab)


def synthetic_cascades(
    n_users: int = 500,
    n_cascades: int = 2000,
    *,
    avg_degree: float = 8.0,
    edge_prob: float = 0.12,
    rate: float = 1.0,
    seed: int = 0,
    min_size: int = 2,
    graph_kind: str = "powerlaw",
) -> DatasetBundle:
    """Graph + continuous-time IC cascades from uniformly random seed users, split 80/10/10.

    Arc probabilities are heterogeneous, p_uv = edge_prob · 2·U(0, 1) (mean ``edge_prob``), so some
    ties matter far more than others — what a next-user model should learn. Cascades shorter than
    ``min_size`` are dropped and counted in the report (``short_cascade_dropped``).
    """
    rng = np.random.default_rng(seed)
    graph = random_graph(n_users, kind=graph_kind, avg_degree=avg_degree, seed=seed)
    p = np.clip(edge_prob * 2 * rng.random(graph.n_arcs), 0, 1)
    seeds = rng.integers(0, n_users, n_cascades)
    cascades = simulate_ic(graph, seeds, edge_prob=p, rate=rate, seed=seed + 1)
    keep = cascades.lengths >= min_size
    report = ReadReport(source="synthetic")
    report.add("short_cascade_dropped", int((~keep).sum()))
    cascades = cascades.subset(keep)
    cascades.attrs = {"name": "synthetic", "time_unit": "1/rate"}
    perm = rng.permutation(len(cascades))
    a, b = int(0.8 * len(perm)), int(0.9 * len(perm))
    splits = {"train": np.sort(perm[:a]), "valid": np.sort(perm[a:b]), "test": np.sort(perm[b:])}
    info = {
        "generator": "synthetic_cascades",
        "n_users": n_users,
        "n_cascades_drawn": n_cascades,
        "avg_degree": avg_degree,
        "edge_prob": edge_prob,
        "rate": rate,
        "seed": seed,
        "min_size": min_size,
        "graph_kind": graph_kind,
    }
    return DatasetBundle(
        "synthetic", cascades=cascades, splits=splits, graph=graph, report=report, info=info
    )
