"""DeepInf instances (paper 004 §2–4, protocols §5): one sampled ego network per (user, item, time).

From a social graph and a timed adoption log (a `CascadeSet` with times, or an `EventLog` whose
marks are the items):

* the graph is used undirected and unweighted (`undirected_adjacency`; the paper's footnote 2 and
  the authors' code, which walks uniformly over igraph neighbours);
* each user's first adoption of an item counts (later ones are dropped and counted); items whose
  number of adopters lies outside ``[min_item_size, max_item_size)`` are dropped;
* every adoption (u, item, t) with at least one adopter strictly before t gives a **positive**
  candidate (u, item, t), kept when u's degree lies in ``[min_degree, max_degree)``, and — whether
  or not the positive is kept, as in the code — up to ``negatives_per_positive`` **negative**
  candidates (v, item, t): neighbours v of u that never adopt the item (degree window applied),
  drawn without replacement, *at the adopter's time t*. That is the code's rule (the paper only says
  "for each neighbour of the influenced user"); the time matters because it fixes which
  neighbours are active;
* a candidate's **active** neighbours are those that adopted the item strictly before t;
  candidates with fewer than ``min_active_neighbors`` are dropped;
* the ego network holds ``ego_size`` = n vertices: with ≥ n − 1 active neighbours, n − 1 of them
  drawn at random; otherwise every active neighbour plus the first new vertices met by a random
  walk with restart that starts (and restarts, with probability ``restart_prob`` per step or at a
  vertex without neighbours) at the ego or one of its active neighbours, uniformly; a candidate
  whose walk meets too few vertices within ``walk_length`` positions is dropped. The n − 1
  sampled vertices are stored sorted by vertex id (a canonical order that does not reveal how a
  vertex was found), the ego last;
* each instance gets the induced (symmetric) adjacency of its n vertices and the active flag of
  every vertex (walk-found vertices included; the ego is never active).

Every filter counts what it removed in ``info``. All random choices come from one seeded
generator, in a fixed order, so the same seed gives the same instances. The walks of all
candidates advance together, a numpy step over every unfinished walk at once on the CSR arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from cascadekit.data.cascades import CascadeSet
from cascadekit.data.events import EventLog
from cascadekit.data.graph import SocialGraph
from cascadekit.data.influence import InfluenceInstances
from cascadekit.errors import CascadeKitError
from cascadekit.parallel import check_backend, map_shards, shard_seed
from cascadekit.simulate.ic import _ranges as concat_ranges

# candidates processed together (at most CHUNK, and at most PAIRS (candidate, neighbour) pairs):
# bounds the walk matrix (CHUNK × walk_length) and the pair arrays; constants, not options, so
# that the instances depend on the seed only
CHUNK = 4096
PAIRS = 4_000_000
# walk lengths at which unfinished walks are checked; work is at most twice the last check's
CHECKPOINTS = (64, 128, 256, 512)


@dataclass
class EgoOptions:
    """How instances are built (module docstring). Defaults: the authors' code's procedure
    (restart 0.2, one negative per adoption, ≥ 3 active neighbours, n = 50, 1000 walk positions)
    without its item-size [100, 1500) and degree [3, 31) windows, which were set for Digg and
    leave almost nothing of the data here (MelCup17's largest cascade has 131 adopters); the
    ``reference_code`` and ``paper`` presets of `tasks.influence` set them.

    ``ego_size``: n, vertices per ego network, ego included; ``min_active_neighbors``: the ≥ 3
    rule; ``restart_prob``: per-step restart probability (code 0.2, paper text 0.8);
    ``walk_length``: walk positions (the first start included) before a candidate is dropped;
    ``negatives_per_positive``: never-adopting neighbours drawn per adoption (code 1, paper 3 —
    the paper rebalances all negatives to 3:1, drawing per adoption keeps that ratio locally);
    ``min_item_size`` / ``max_item_size``: kept items have ``min ≤ adopters < max`` (None: no
    upper bound); ``min_degree`` / ``max_degree``: the same window on the degree of positive egos
    and negative candidates.

    ``backend``: None builds every chunk of candidates from one random stream in this process
    (the instances of the published tables); an engine name (`cascadekit.parallel.BACKENDS`,
    ``"local"`` included) gives chunk k its own stream `shard_seed(seed, k)` and runs the chunks
    there with ``n_jobs`` workers (``address``: the cluster) — the same instances on every
    engine and worker count, not the same as the one-stream ones."""

    ego_size: int = 50
    min_active_neighbors: int = 3
    restart_prob: float = 0.2
    walk_length: int = 1000
    negatives_per_positive: int = 1
    min_item_size: int = 1
    max_item_size: int | None = None
    min_degree: int = 0
    max_degree: int | None = None
    backend: str | None = None
    n_jobs: int = 1
    address: str | None = None

    def __post_init__(self) -> None:
        if self.backend is not None:
            check_backend(self.backend, self.n_jobs)
        if self.ego_size < 2:
            raise ValueError(f"ego_size must be at least 2, got {self.ego_size}")
        if self.min_active_neighbors < 0 or self.negatives_per_positive < 0:
            raise ValueError("min_active_neighbors and negatives_per_positive must be >= 0")
        if not 0 <= self.restart_prob <= 1:
            raise ValueError(f"restart_prob must lie in [0, 1], got {self.restart_prob}")
        if self.walk_length < 1:
            raise ValueError(f"walk_length must be at least 1, got {self.walk_length}")
        for lo, hi, what in ((self.min_item_size, self.max_item_size, "item_size"),
                             (self.min_degree, self.max_degree, "degree")):  # fmt: skip
            if lo < 0 or (hi is not None and hi <= lo):
                raise ValueError(f"need 0 <= min_{what} < max_{what}, got {lo}, {hi}")


def undirected_adjacency(graph: SocialGraph) -> sp.csr_matrix:
    """The graph as DeepInf uses it: symmetric, 0/1, no self loops, sorted indices.

    Shapes: return (V, V) float64 CSR."""
    a = graph.to_scipy()
    a = ((a + a.T) != 0).astype(np.float64).tocsr()
    a.setdiag(0)
    a.eliminate_zeros()
    a.sort_indices()
    return a


@dataclass
class _Adoptions:
    """First adoptions sorted by ``key = item · V + user`` (one row per key), and the earliest
    adoption time of every item."""

    items: np.ndarray
    users: np.ndarray
    times: np.ndarray
    keys: np.ndarray
    first_time: np.ndarray
    n_users: int

    def time_of(self, items: np.ndarray, users: np.ndarray) -> np.ndarray:
        """Adoption time of each (item, user) pair, +inf where the user never adopts the item."""
        q = items * self.n_users + users
        if not len(self.keys):
            return np.full(q.shape, np.inf)
        pos = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)
        return np.where(self.keys[pos] == q, self.times[pos], np.inf)


def _adoptions(
    log: CascadeSet | EventLog, n_users: int, options: EgoOptions, info: dict[str, Any]
) -> _Adoptions:
    if isinstance(log, CascadeSet):
        if log.times is None:
            raise CascadeKitError("influence instances need adoption times; the cascades have none")
        items, users, times, n_items = log.cascade_index, log.users, log.times, len(log)
        vocab = log.vocab
    elif isinstance(log, EventLog):
        items, users, times, n_items = log.marks, log.users, log.times, log.n_marks
        vocab = log.user_vocab
    else:
        raise CascadeKitError(f"expected a CascadeSet or an EventLog, got {type(log).__name__}")
    if len(vocab) != n_users:
        raise CascadeKitError(
            f"the adoption log has {len(vocab)} users and the graph {n_users}: they must share "
            "one user vocabulary (SocialGraph.with_vocab)"
        )
    timed = ~np.isnan(times)
    info["adoptions_without_time"] = int((~timed).sum())
    items, users, times = items[timed], users[timed], times[timed]
    order = np.lexsort((times, items))  # stable: a tie keeps its input order
    items, users, times = items[order], users[order], times[order]
    keys = items * n_users + users
    uniq, first = np.unique(keys, return_index=True)  # first row of a key = its earliest time
    info["repeated_adoptions"] = int(len(keys) - len(uniq))
    items, users, times = items[first], users[first], times[first]
    size = np.bincount(items, minlength=n_items)
    ok = size >= options.min_item_size
    if options.max_item_size is not None:
        ok &= size < options.max_item_size
    info["items_outside_size_window"] = int(((size > 0) & ~ok).sum())
    keep = ok[items]
    info["adoptions_in_dropped_items"] = int((~keep).sum())
    first_time = np.full(n_items, np.inf)
    np.minimum.at(first_time, items[keep], times[keep])
    return _Adoptions(items[keep], users[keep], times[keep], uniq[keep], first_time, n_users)


def _chunks(weight: np.ndarray, limit: int) -> list[slice]:
    """Consecutive slices of ``range(len(weight))``, each of at most ``limit`` items and, unless
    one item alone exceeds it, at most `PAIRS` in total weight (neighbour pairs)."""
    out, start, cum = [], 0, np.cumsum(weight)
    while start < len(weight):
        base = cum[start - 1] if start else 0
        stop = min(int(np.searchsorted(cum, base + PAIRS, side="right")), start + limit)
        stop = max(stop, start + 1)
        out.append(slice(start, stop))
        start = stop
    return out


def _in_window(deg: np.ndarray, lo: int, hi: int | None) -> np.ndarray:
    return (deg >= lo) & (deg < hi) if hi is not None else deg >= lo


def _candidates(
    adj: sp.csr_matrix, ad: _Adoptions, options: EgoOptions, rng: np.random.Generator,
    info: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(egos, items, times, labels) of every candidate, in (item, time, positives first, ego)
    order."""
    deg = np.diff(adj.indptr)
    earlier = ad.times > ad.first_time[ad.items]
    info["adoptions_without_earlier_adopter"] = int((~earlier).sum())
    u, it, t = ad.users[earlier], ad.items[earlier], ad.times[earlier]
    pos_ok = _in_window(deg[u], options.min_degree, options.max_degree)
    info["positives_outside_degree_window"] = int((~pos_ok).sum())
    # negatives: (adoption, neighbour) pairs, kept when the neighbour never adopts the item
    events, nbrs, without = [], [], 0
    for part in _chunks(deg[u], len(u)):
        event = np.repeat(np.arange(part.start, part.stop), deg[u[part]])
        nbr = adj.indices[concat_ranges(adj.indptr[u[part]], deg[u[part]])]
        valid = np.isinf(ad.time_of(it[event], nbr))
        valid &= _in_window(deg[nbr], options.min_degree, options.max_degree)
        event, nbr = event[valid], nbr[valid]
        without += (part.stop - part.start) - len(np.unique(event))
        drawn = _draw_per_group(event, options.negatives_per_positive, rng)
        events.append(event[drawn])
        nbrs.append(nbr[drawn])
    info["adoptions_without_negative_candidate"] = int(without)
    event = np.concatenate(events) if events else np.zeros(0, np.int64)
    nbr = np.concatenate(nbrs) if nbrs else np.zeros(0, np.int64)
    egos = np.concatenate([u[pos_ok], nbr])
    items = np.concatenate([it[pos_ok], it[event]])
    times = np.concatenate([t[pos_ok], t[event]])
    labels = np.concatenate([np.ones(int(pos_ok.sum()), np.int8), np.zeros(len(nbr), np.int8)])
    order = np.lexsort((egos, -labels, times, items))
    return egos[order], items[order], times[order], labels[order]


def walk_step(
    current: np.ndarray | None,
    indptr: np.ndarray,
    indices: np.ndarray,
    starts: np.ndarray,
    first_start: np.ndarray,
    n_starts: np.ndarray,
    restart_prob: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """One step of many random walks with restart on a CSR graph. Walk w's start set is
    ``starts[first_start[w] : first_start[w] + n_starts[w]]``; it restarts to a uniformly drawn
    member with probability ``restart_prob``, or when it stands on a vertex without neighbours,
    else moves to a uniformly drawn neighbour. ``current=None`` draws the first positions.

    Shapes: current (W,) int64 or None; first_start, n_starts (W,); return (W,) int64."""
    n_walks = len(first_start)
    restart_to = starts[first_start + (rng.random(n_walks) * n_starts).astype(np.int64)]
    if current is None:
        return restart_to
    deg = indptr[current + 1] - indptr[current]
    restart = (rng.random(n_walks) < restart_prob) | (deg == 0)
    pick = np.minimum(indptr[current] + (rng.random(n_walks) * deg).astype(np.int64),
                      max(len(indices) - 1, 0))  # fmt: skip
    return np.where(restart, restart_to, indices[pick] if len(indices) else current)


def _group_rank(group: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal values (``group`` sorted)."""
    if not len(group):
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    return np.arange(len(group)) - np.repeat(starts, np.diff(np.r_[starts, len(group)]))


def _draw_per_group(group: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Mask of a uniform draw without replacement of min(k, size) members of every group.

    Shapes: group (P,) int; return (P,) bool."""
    # one float sort: the integer part orders the groups, a uniform fraction in [0, ½) (never
    # rounded up to the next integer) shuffles each group
    order = np.argsort(group + 0.5 * rng.random(len(group)), kind="stable")
    chosen = np.zeros(len(group), dtype=bool)
    chosen[order] = _group_rank(group[order]) < k
    return chosen


def _first_new(
    walk: np.ndarray, rows: np.ndarray, excluded: np.ndarray, need: np.ndarray, n_users: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each walk (row of ``walk``), its distinct vertices outside its start set (``excluded``
    keys ``row · V + vertex``, sorted) in order of first visit: which walks met ``need`` of them,
    and (walk position in ``rows``, rank, vertex) of the first ``need`` of each such walk.

    Shapes: walk (R, s); rows, need (R,); return done (R,) bool and three aligned 1-D arrays."""
    keys = (rows[:, None] * n_users + walk).ravel()
    uniq, first = np.unique(keys, return_index=True)
    pos = np.minimum(np.searchsorted(excluded, uniq), len(excluded) - 1)
    new = excluded[pos] != uniq
    uniq, first = uniq[new], first[new]
    order = np.argsort(first, kind="stable")  # by walk, then by first visit
    uniq, local = uniq[order], first[order] // walk.shape[1]
    rank = _group_rank(local)
    done = np.bincount(local, minlength=len(rows)) >= need
    take = done[local] & (rank < need[local])
    return done, local[take], rank[take], uniq[take] % n_users


def _walk_collect(
    adj: sp.csr_matrix,
    starts: np.ndarray,
    first_start: np.ndarray,
    n_starts: np.ndarray,
    need: np.ndarray,
    options: EgoOptions,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``need[w]`` distinct vertices outside its start set that walk w meets within
    ``walk_length`` positions. Walks are checked at `CHECKPOINTS` and leave the batch once done.

    Shapes: need (W,) ≥ 1; return found (W, max need) int64 (−1 padded) and ok (W,) bool."""
    n_walks, n_users, length = len(need), adj.shape[0], options.walk_length
    found = np.full((n_walks, int(need.max(initial=1))), -1, dtype=np.int64)
    ok = np.zeros(n_walks, dtype=bool)
    if not n_walks:
        return found, ok
    owner = np.repeat(np.arange(n_walks), n_starts)
    excluded = np.sort(owner * n_users + starts[concat_ranges(first_start, n_starts)])
    walk = np.empty((n_walks, length), dtype=np.int64)
    alive = np.arange(n_walks)
    current = walk_step(None, adj.indptr, adj.indices, starts, first_start, n_starts,
                        options.restart_prob, rng)  # fmt: skip
    walk[:, 0] = current
    filled = 1
    for check in [c for c in CHECKPOINTS if c < length] + [length]:
        for _ in range(filled, check):
            current = walk_step(current, adj.indptr, adj.indices, starts, first_start[alive],
                                n_starts[alive], options.restart_prob, rng)  # fmt: skip
            walk[alive, filled] = current
            filled += 1
        done, local, rank, vertex = _first_new(
            walk[alive, :filled], alive, excluded, need[alive], n_users
        )
        found[alive[local], rank] = vertex
        ok[alive[done]] = True
        alive, current = alive[~done], current[~done]
        if not len(alive):
            break
    return found, ok


def _count_by_label(mask: np.ndarray, labels: np.ndarray) -> dict[str, int]:
    return {"positive": int((mask & (labels == 1)).sum()),
            "negative": int((mask & (labels == 0)).sum())}  # fmt: skip


def _ego_networks(
    adj: sp.csr_matrix,
    edge_keys: np.ndarray,
    ad: _Adoptions,
    cand: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    options: EgoOptions,
    rng: np.random.Generator,
    counts: dict[str, Any],
) -> tuple[np.ndarray, ...]:
    """Ego networks of one chunk of candidates; the drops are added to ``counts``.

    Shapes: return vertices (M, n), adjacency (M, n, n), active (M, n), labels, items, times
    (M,) and n_active (M,) for the M kept candidates."""
    egos, items, times, labels = cand
    n_users, k = adj.shape[0], options.ego_size - 1
    deg = np.diff(adj.indptr)
    owner = np.repeat(np.arange(len(egos)), deg[egos])  # sorted: pairs grouped by candidate
    nbr = adj.indices[concat_ranges(adj.indptr[egos], deg[egos])]
    is_active = ad.time_of(items[owner], nbr) < times[owner]
    owner, nbr = owner[is_active], nbr[is_active]
    n_active = np.bincount(owner, minlength=len(egos))
    few = n_active < options.min_active_neighbors
    shortcut = ~few & (n_active >= k)
    walking = np.flatnonzero(~few & ~shortcut)
    # members: k vertices per candidate besides the ego (−1 until filled)
    members = np.full((len(egos), k), -1, dtype=np.int64)
    in_short = shortcut[owner]
    drawn = _draw_per_group(owner[in_short], k, rng)
    short_owner, short_nbr = owner[in_short][drawn], nbr[in_short][drawn]
    members[short_owner, _group_rank(short_owner)] = short_nbr
    in_walk = ~few[owner] & ~in_short
    walk_owner, walk_nbr = owner[in_walk], nbr[in_walk]
    walk_rank = _group_rank(walk_owner)
    members[walk_owner, walk_rank] = walk_nbr
    # start sets: the active neighbours of each walking candidate, then the ego
    n_starts = n_active[walking] + 1
    first_start = np.concatenate([[0], np.cumsum(n_starts)[:-1]]).astype(np.int64)
    slot = np.full(len(egos), -1, dtype=np.int64)
    slot[walking] = np.arange(len(walking))
    starts = np.empty(int(n_starts.sum()), dtype=np.int64)
    starts[first_start[slot[walk_owner]] + walk_rank] = walk_nbr
    starts[first_start + n_starts - 1] = egos[walking]
    need = k - n_active[walking]
    found, ok = _walk_collect(adj, starts, first_start, n_starts, need, options, rng)
    # a walk's finds fill its candidate's slots after the active neighbours (need = k − actives)
    got = np.repeat(np.flatnonzero(ok), need[ok])
    j = _group_rank(got)
    members[walking[got], n_active[walking[got]] + j] = found[got, j]
    short_walk = np.zeros(len(egos), dtype=bool)
    short_walk[walking[~ok]] = True
    counts["few_active_neighbors"] = _add(counts.get("few_active_neighbors"),
                                          _count_by_label(few, labels))  # fmt: skip
    counts["walk_too_short"] = _add(counts.get("walk_too_short"),
                                    _count_by_label(short_walk, labels))  # fmt: skip
    counts["active_shortcut"] = counts.get("active_shortcut", 0) + int(shortcut.sum())
    keep = ~few & ~short_walk
    vertices = np.concatenate([np.sort(members[keep], axis=1), egos[keep, None]], axis=1)
    return (vertices, _induced(vertices, edge_keys, n_users),
            ad.time_of(items[keep, None], vertices) < times[keep, None],
            labels[keep], items[keep], times[keep], n_active[keep])  # fmt: skip


def _ego_shard(
    shard: tuple[int, tuple[np.ndarray, ...]],
    *,
    adj: sp.csr_matrix,
    edge_keys: np.ndarray,
    ad: _Adoptions,
    options: EgoOptions,
) -> tuple[tuple[np.ndarray, ...], dict[str, Any]]:
    """One chunk of candidates from its own stream: its ego networks and its drop counts."""
    chunk_seed, chunk = shard
    counts: dict[str, Any] = {}
    part = _ego_networks(adj, edge_keys, ad, chunk, options, np.random.default_rng(chunk_seed),
                         counts)  # fmt: skip
    return part, counts


def _add(a: dict[str, int] | None, b: dict[str, int]) -> dict[str, int]:
    return b if a is None else {key: a[key] + b[key] for key in b}


def _induced(vertices: np.ndarray, edge_keys: np.ndarray, n_users: int) -> np.ndarray:
    """Induced adjacency of every row's vertex set, looked up pair by pair in the sorted arc keys
    ``u · V + v`` of the symmetric graph.

    Shapes: vertices (M, n); return (M, n, n) bool, symmetric, False diagonal."""
    m, n = vertices.shape
    iu, ju = np.triu_indices(n, 1)
    q = vertices[:, iu] * n_users + vertices[:, ju]
    pos = np.minimum(np.searchsorted(edge_keys, q), max(len(edge_keys) - 1, 0))
    hit = edge_keys[pos] == q if len(edge_keys) else np.zeros(q.shape, dtype=bool)
    out = np.zeros((m, n, n), dtype=bool)
    out[:, iu, ju] = hit
    out[:, ju, iu] = hit
    return out


def build_instances(
    graph: SocialGraph | sp.csr_matrix,
    adoptions: CascadeSet | EventLog,
    options: EgoOptions | None = None,
    *,
    seed: int = 0,
    vertex_features: np.ndarray | None = None,
    embedding: np.ndarray | None = None,
    progress: bool = False,
) -> InfluenceInstances:
    """DeepInf instances of ``adoptions`` on ``graph`` (module docstring), in (item, time,
    positives first, ego) order. ``graph``: a `SocialGraph` or its `undirected_adjacency`.
    ``vertex_features`` / ``embedding`` (one row per user) are attached as given (default: no
    columns). ``info`` counts what every filter removed (adoptions, items, candidates by label),
    the candidates and kept instances by label, and ``active_neighbors``: kept instances by
    number of active neighbours (the last bin: ≥ n − 1).

    Shapes: vertex_features (V, F), embedding (V, D); see `InfluenceInstances`."""
    o = options or EgoOptions()
    adj = undirected_adjacency(graph) if isinstance(graph, SocialGraph) else sp.csr_matrix(graph)
    n_users = adj.shape[0]
    info: dict[str, Any] = {"options": {f.name: getattr(o, f.name) for f in fields(EgoOptions)},
                            "seed": seed}  # fmt: skip
    rng = np.random.default_rng(seed)
    ad = _adoptions(adoptions, n_users, o, info)
    cand = _candidates(adj, ad, o, rng, info)
    labels = cand[3]
    info["candidates"] = {
        "positive": int((labels == 1).sum()),
        "negative": int((labels == 0).sum()),
    }
    deg = np.diff(adj.indptr)
    edge_keys = np.repeat(np.arange(n_users, dtype=np.int64), deg) * n_users + adj.indices
    parts: list[tuple[np.ndarray, ...]] = []
    counts: dict[str, Any] = {}
    chunks = [tuple(c[part] for c in cand) for part in _chunks(deg[cand[0]], CHUNK)]
    if o.backend is None:
        bar = tqdm(total=len(labels), desc="ego networks", unit="cand", disable=not progress)
        for chunk in chunks:
            parts.append(_ego_networks(adj, edge_keys, ad, chunk, o, rng, counts))
            bar.update(len(chunk[0]))
        bar.close()
    else:
        shards = [(shard_seed(seed, k), chunk) for k, chunk in enumerate(chunks)]
        shared = {"adj": adj, "edge_keys": edge_keys, "ad": ad, "options": o}
        for part, part_counts in map_shards(
            _ego_shard, shards, backend=o.backend, n_jobs=o.n_jobs, address=o.address,
            shared=shared, progress=progress, desc="ego networks",
        ):  # fmt: skip
            parts.append(part)
            for key, value in part_counts.items():  # label counts (dicts) and a count
                counts[key] = (_add(counts.get(key), value) if isinstance(value, dict)
                               else counts.get(key, 0) + value)  # fmt: skip
    n = o.ego_size
    empty = (np.zeros((0, n), np.int64), np.zeros((0, n, n), bool), np.zeros((0, n), bool),
             np.zeros(0, np.int8), np.zeros(0, np.int64), np.zeros(0),
             np.zeros(0, np.int64))  # fmt: skip
    vertices, adjacency, active, labels, items, times, n_active = (
        np.concatenate(col) for col in zip(*(parts or [empty]), strict=True)
    )
    zero = {"positive": 0, "negative": 0}
    info["dropped_few_active_neighbors"] = counts.get("few_active_neighbors", zero)
    info["dropped_walk_too_short"] = counts.get("walk_too_short", zero)
    info["active_shortcut"] = counts.get("active_shortcut", 0)
    info["instances"] = {"positive": int((labels == 1).sum()), "negative": int((labels == 0).sum())}
    info["active_neighbors"] = np.bincount(np.minimum(n_active, n - 1), minlength=n).tolist()
    return InfluenceInstances(
        vertices=vertices, adjacency=adjacency, active=active, labels=labels, items=items,
        times=times,
        vertex_features=np.zeros((n_users, 0), np.float32) if vertex_features is None
        else vertex_features,
        embedding=np.zeros((n_users, 0), np.float32) if embedding is None else embedding,
        info=info,
    )  # fmt: skip
