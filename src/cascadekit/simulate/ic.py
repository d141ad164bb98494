"""Continuous-time Independent Cascade on a SocialGraph, many cascades at once (numpy).

Each infected user u (time t_u) tries each out-neighbour v once: the attempt succeeds with
probability p_uv after a delay d_uv ~ Exp(rate_uv). v is infected at the earliest successful
attempt, so infection times are shortest-path distances from the seed over the sampled live-edge
graph (Gomez-Rodriguez et al.'s continuous-time IC). We sample every arc of every cascade of a
batch up front and relax all arcs of all cascades together until no time improves (batched
Bellman–Ford; the number of rounds is the longest infection chain, not the graph size).
"""

from __future__ import annotations

import numpy as np

from cascadekit.data.cascades import CascadeSet
from cascadekit.data.graph import SocialGraph


def _per_arc(value: float | np.ndarray, n_arcs: int, name: str) -> np.ndarray:
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        return np.full(n_arcs, float(a))
    if a.shape != (n_arcs,):
        raise ValueError(f"{name} must be a scalar or one value per arc ({n_arcs}), got {a.shape}")
    return a


def simulate_ic(
    graph: SocialGraph,
    seeds: np.ndarray | list[int],
    *,
    edge_prob: float | np.ndarray,
    rate: float | np.ndarray = 1.0,
    t_max: float = np.inf,
    n_samples: int = 1,
    seed: int = 0,
    batch: int = 256,
) -> CascadeSet:
    """Simulate ``n_samples`` cascades from each seed user (seed-major order).

    Returns a CascadeSet over ``graph.vocab`` with times (seed at 0) and parents (position of the
    infecting user within the cascade). Ids are ``"<seed user index>/<sample>"``.

    Shapes:
        seeds: (K,) user indices; edge_prob, rate: scalars or (E,) aligned with ``graph.indices``.
    """
    seeds = np.asarray(seeds, dtype=np.int64)
    n, e = graph.n_nodes, graph.n_arcs
    p = _per_arc(edge_prob, e, "edge_prob")
    r = _per_arc(rate, e, "rate")
    if np.any((p < 0) | (p > 1)) or np.any(r <= 0):
        raise ValueError("edge_prob must lie in [0, 1] and rate be positive")
    src = np.repeat(np.arange(n, dtype=np.int64), graph.degree())
    dst = graph.indices
    all_seeds = np.repeat(seeds, n_samples)
    rng = np.random.default_rng(seed)
    users, times, parents = [], [], []
    for a in range(0, len(all_seeds), batch):
        s = all_seeds[a : a + batch]
        b = len(s)
        live = rng.random((b, e)) < p
        delay = np.where(live, rng.exponential(1.0, (b, e)) / r, np.inf)
        dist = np.full((b, n), np.inf)
        dist[np.arange(b), s] = 0.0
        parent_arc = np.full((b, n), -1, dtype=np.int64)
        rows = np.repeat(np.arange(b), e).reshape(b, e)
        while True:
            cand = dist[:, src] + delay  # (b, e)
            best = dist.copy()
            np.minimum.at(best, (rows, np.broadcast_to(dst, (b, e))), cand)
            improved = best < dist
            if not improved.any():
                break
            # the arc that achieved the new minimum becomes the parent link
            win = (cand == best[:, dst]) & improved[:, dst]
            wb, wa = np.nonzero(win)
            parent_arc[wb, dst[wa]] = wa
            dist = best
        dist[dist > t_max] = np.inf
        for i in range(b):
            infected = np.flatnonzero(np.isfinite(dist[i]))
            order = infected[np.lexsort((infected, dist[i, infected]))]
            pos = np.full(n, -1, dtype=np.int64)
            pos[order] = np.arange(len(order))
            arcs = parent_arc[i, order]
            par = np.where(arcs >= 0, pos[src[np.maximum(arcs, 0)]], -1)
            users.append(order)
            times.append(dist[i, order])
            parents.append(par)
    ids = [f"{u}/{k}" for u in seeds for k in range(n_samples)]
    return CascadeSet.from_sequences(users, graph.vocab, times=times, parents=parents, ids=ids)
