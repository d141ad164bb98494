"""Continuous-time Independent Cascade on a SocialGraph, many cascades at once (numpy).

Each infected user u (time t_u) tries each out-neighbour v once: the attempt succeeds with
probability p_uv after a delay d_uv (Exp(rate_uv) by default). v is infected at the earliest
successful attempt, so infection times are shortest-path distances from the seeds over the sampled
live-edge graph (Gomez-Rodriguez et al.'s continuous-time IC).

Arcs are sampled lazily: the out-arcs of a user are drawn once per cascade, the first time the user
is reached, and only live arcs are kept. All cascades of a batch advance together in a vectorised
label-correcting loop (a queue-based Bellman–Ford): each round re-relaxes the live arcs of the users
whose time just improved, so the work is proportional to the infected users and their live arcs,
not to the whole graph, and the number of rounds is about the longest infection chain.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cascadekit.data.cascades import CascadeSet
from cascadekit.data.graph import SocialGraph
from cascadekit.parallel import map_shards, shard_ranges, shard_seed

# dense per-batch state is (cascades x users); cap it to keep memory around 50 MB
_STATE_ENTRIES = 1 << 21
DELAYS = ("exponential", "rayleigh")


def _per_arc(value: float | np.ndarray, n_arcs: int, name: str) -> np.ndarray:
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        return np.full(n_arcs, float(a))
    if a.shape != (n_arcs,):
        raise ValueError(f"{name} must be a scalar or one value per arc ({n_arcs}), got {a.shape}")
    return a


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for every pair (vectorised)."""
    total = int(counts.sum())
    shift = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    return shift + np.arange(total, dtype=np.int64)


def simulate_ic(
    graph: SocialGraph,
    seeds: np.ndarray | Sequence[int] | Sequence[Sequence[int]],
    *,
    edge_prob: float | np.ndarray,
    delay: str = "exponential",
    rate: float | np.ndarray = 1.0,
    t_max: float = np.inf,
    n_samples: int = 1,
    seed: int = 0,
    shard_size: int | None = None,
    backend: str = "local",
    n_jobs: int = 1,
    address: str | None = None,
) -> CascadeSet:
    """Simulate ``n_samples`` cascades from each seed user (or seed set), seed-major order.

    ``shard_size`` None: one random stream seeded ``seed``, in this process. An int: the cascades
    are cut into shards of that many, shard k drawn from its own stream `shard_seed(seed, k)`, run
    on ``backend`` with ``n_jobs`` workers (`cascadekit.parallel`; ``address``: the cluster) —
    the same cascades on every backend and worker count.

    ``delay="exponential"``: d ~ Exp(rate) (hazard ``rate``); ``"rayleigh"``: hazard ``rate · t``,
    i.e. survival exp(−rate·t²/2), mean sqrt(π / (2·rate)). Infections after ``t_max`` are cut.

    Returns a CascadeSet over ``graph.vocab`` sorted by time within each cascade (ties by user),
    seeds at time 0 with parent −1, every other adopter's parent = position of the user whose
    attempt infected it. Ids are ``"<seed row>/<sample>"`` (unique even when a seed user repeats).
    Same arguments ⇒ same cascades.

    Shapes:
        seeds: (K,) user indices, or K sequences of user indices (one seed set per cascade);
        edge_prob, rate: scalars or (E,) aligned with ``graph.indices``.
    """
    if delay not in DELAYS:
        raise ValueError(f"delay must be one of {DELAYS}, got {delay!r}")
    if n_samples < 1:
        raise ValueError("n_samples must be at least 1")
    n, e = graph.n_nodes, graph.n_arcs
    p = _per_arc(edge_prob, e, "edge_prob")
    r = _per_arc(rate, e, "rate")
    if not (np.all((p >= 0) & (p <= 1)) and np.all(r > 0)):  # NaN fails both
        raise ValueError("edge_prob must lie in [0, 1] and rate be positive")
    sets = [np.unique(np.atleast_1d(np.asarray(s, dtype=np.int64))) for s in seeds]
    if not sets:
        raise ValueError("no seeds given")
    for s in sets:
        if len(s) == 0 or s.min() < 0 or s.max() >= n:
            raise ValueError(f"every seed set must be non-empty user indices in [0, {n})")
    all_sets = [s for s in sets for _ in range(n_samples)]
    if shard_size is None:
        shards = [(np.random.default_rng(seed), all_sets)]
    else:
        shards = [(np.random.default_rng(shard_seed(seed, k)), all_sets[rows.start : rows.stop])
                  for k, rows in enumerate(shard_ranges(len(all_sets), shard_size))]  # fmt: skip
    parts = map_shards(
        _simulate_shard, shards, backend=backend, n_jobs=n_jobs, address=address,
        shared={"graph": graph, "p": p, "r": r, "delay": delay, "t_max": t_max},
    )  # fmt: skip
    # each shard gives one array per batch and field; flatten them (linear in the shard count)
    users, times, parents, lengths = ([a for part in parts for a in part[j]] for j in range(4))
    ids = [f"{i}/{k}" for i in range(len(sets)) for k in range(n_samples)]
    cat = np.concatenate
    return CascadeSet(
        cat(users), cat([[0], np.cumsum(cat(lengths))]), graph.vocab,
        times=cat(times), parents=cat(parents), ids=ids,
    )  # fmt: skip


def _simulate_shard(
    shard: tuple[np.random.Generator, list[np.ndarray]],
    *,
    graph: SocialGraph,
    p: np.ndarray,
    r: np.ndarray,
    delay: str,
    t_max: float,
) -> tuple[list[np.ndarray], ...]:
    """One shard's cascades in batches that bound the dense state: (users, times, parents,
    lengths), one array per batch."""
    rng, sets = shard
    batch = max(1, _STATE_ENTRIES // max(graph.n_nodes, 1))
    out: tuple[list[np.ndarray], ...] = ([], [], [], [])
    for a in range(0, len(sets), batch):
        parts = _simulate_batch(graph, sets[a : a + batch], p, r, delay, t_max, rng)
        for acc, part in zip(out, parts, strict=True):
            acc.append(part)
    return out


def _simulate_batch(
    graph: SocialGraph,
    seed_sets: list[np.ndarray],
    p: np.ndarray,
    r: np.ndarray,
    delay: str,
    t_max: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One batch of b cascades; state is indexed by key = cascade · n + user."""
    n, b = graph.n_nodes, len(seed_sets)
    deg = graph.degree()
    dist = np.full(b * n, np.inf)
    parent = np.full(b * n, -1, dtype=np.int64)  # user whose attempt won
    expanded = np.zeros(b * n, dtype=bool)
    arc_start = np.zeros(b * n, dtype=np.int64)  # this key's live arcs in the store
    arc_count = np.zeros(b * n, dtype=np.int64)
    store_dst = np.zeros(0, dtype=np.int64)  # live arcs (destination user, delay), by expansion
    store_delay = np.zeros(0)
    changed = np.unique(np.concatenate([c * n + s for c, s in enumerate(seed_sets)]))
    dist[changed] = 0.0
    while len(changed):
        # sample the out-arcs of users reached for the first time (once per cascade and user)
        new = changed[~expanded[changed] & (dist[changed] <= t_max)]
        if len(new):
            expanded[new] = True
            u = new % n
            arcs = _ranges(graph.indptr[u], deg[u])
            owner = np.repeat(np.arange(len(new)), deg[u])
            live = rng.random(len(arcs)) < p[arcs]
            arcs, owner = arcs[live], owner[live]
            e1 = rng.exponential(1.0, len(arcs))
            d = e1 / r[arcs] if delay == "exponential" else np.sqrt(2.0 * e1 / r[arcs])
            counts = np.bincount(owner, minlength=len(new))
            arc_start[new] = len(store_dst) + np.concatenate([[0], np.cumsum(counts)[:-1]])
            arc_count[new] = counts
            store_dst = np.concatenate([store_dst, graph.indices[arcs]])
            store_delay = np.concatenate([store_delay, d])
        # re-relax the live arcs of every user whose time improved (never-expanded ones have none)
        rows = _ranges(arc_start[changed], arc_count[changed])
        if not len(rows):
            break
        src_key = np.repeat(changed, arc_count[changed])
        dst_key = (src_key // n) * n + store_dst[rows]
        cand = dist[src_key] + store_delay[rows]
        # best candidate per destination: sort by (destination, time), keep each group's first
        order = np.lexsort((cand, dst_key))
        dst_key, cand, src_key = dst_key[order], cand[order], src_key[order]
        first = np.concatenate([[True], dst_key[1:] != dst_key[:-1]])
        dst_key, cand, src_key = dst_key[first], cand[first], src_key[first]
        better = cand < dist[dst_key]
        changed = dst_key[better]
        dist[changed] = cand[better]
        parent[changed] = src_key[better] % n
    return _collect(dist, parent, n, b, t_max)


def _collect(
    dist: np.ndarray, parent: np.ndarray, n: int, b: int, t_max: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flat (users, times, parent positions, lengths) of the batch, each cascade sorted by time."""
    keys = np.flatnonzero(np.isfinite(dist) & (dist <= t_max))
    casc, user, t = keys // n, keys % n, dist[keys]
    order = np.lexsort((user, t, casc))
    keys, casc, user, t = keys[order], casc[order], user[order], t[order]
    lengths = np.bincount(casc, minlength=b)
    pos_of = np.full(b * n, -1, dtype=np.int64)
    pos_of[keys] = np.arange(len(keys)) - np.repeat(
        np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths
    )
    par = parent[keys]
    par_pos = np.where(par >= 0, pos_of[casc * n + np.maximum(par, 0)], -1)
    return user, t, par_pos, lengths
