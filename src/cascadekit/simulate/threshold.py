"""Linear-threshold cascades on a SocialGraph (Kempe, Kleinberg & Tardos 2003), many at once, and
the random-adopter null that matches them: the planted truth of the influence task.

**Linear threshold** (`simulate_lt`), on the graph used undirected as the influence task uses it
(`graph.ego.undirected_adjacency`): each user draws a threshold θ ~ U(``low``, ``high``) per
cascade; the seeds adopt in round 0; in round r a user adopts when at least a fraction θ of its
neighbours adopted in rounds < r. Adoption times are the round numbers, so "active strictly
before t" (the DeepInf rule) is exactly the set that made the user adopt: whether a user adopts
is a function of its neighbours' earlier adoptions and its own threshold, nothing else.

**Random-adopter null** (`random_adopters`): the same cascade sizes and times, the adopters of
each cascade drawn without replacement with probability ∝ degree, independently of the graph's
positions. Why ∝ degree and not uniformly (or a permutation of the log's users, which keeps how
often each user adopts): DeepInf's negatives are neighbours of adopters, and a neighbour of a
user drawn ∝ degree is itself distributed ∝ degree (the stationary law of a random walk), so
positive and negative egos are then alike in degree. Under any other null the two differ in
degree, and a model that reads degree scores above 0.5 with no influence in the data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.graph import SocialGraph
from cascadekit.graph.ego import undirected_adjacency


def neighbourhood_seeds(graph: SocialGraph, n_cascades: int, *, seed: int = 0) -> list[np.ndarray]:
    """``n_cascades`` seed sets, each a uniformly drawn user with all its neighbours in the
    undirected graph: a foothold from which a threshold process can spread where the graph is
    clustered (a few scattered seeds rarely lift any neighbour over a threshold)."""
    if n_cascades < 1:
        raise ValueError("n_cascades must be at least 1")
    adj = undirected_adjacency(graph)
    rng = np.random.default_rng(seed)
    centres = rng.integers(0, graph.n_nodes, n_cascades)
    return [np.append(adj.indices[adj.indptr[u] : adj.indptr[u + 1]], u) for u in centres]


def simulate_lt(
    graph: SocialGraph,
    seeds: Sequence[Sequence[int]],
    *,
    low: float = 0.0,
    high: float = 1.0,
    max_rounds: int = 100,
    seed: int = 0,
) -> CascadeSet:
    """One linear-threshold cascade per seed set (module docstring), all advanced together.

    Returns a CascadeSet over ``graph.vocab``, each cascade sorted by (round, user), times = round
    numbers (seeds 0), parents unknown. Same arguments ⇒ same cascades.

    Shapes: seeds: K sequences of user indices (one seed set per cascade)."""
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(f"thresholds need 0 <= low < high <= 1, got low={low}, high={high}")
    if max_rounds < 1:
        raise ValueError("max_rounds must be at least 1")
    n = graph.n_nodes
    sets = [np.unique(np.asarray(s, dtype=np.int64)) for s in seeds]
    if not sets or any(len(s) == 0 or s.min() < 0 or s.max() >= n for s in sets):
        raise ValueError(f"give one or more non-empty seed sets of user indices in [0, {n})")
    adj = undirected_adjacency(graph)
    degree = np.maximum(np.asarray(adj.sum(axis=1)).ravel(), 1.0)
    rng = np.random.default_rng(seed)
    theta = rng.uniform(low, high, (n, len(sets)))
    rounds = np.full((n, len(sets)), -1, dtype=np.int64)  # adoption round, −1 = never
    for k, s in enumerate(sets):
        rounds[s, k] = 0
    for r in range(1, max_rounds + 1):
        fraction = (adj @ (rounds >= 0).astype(np.float64)) / degree[:, None]
        new = (rounds < 0) & (fraction >= theta) & (fraction > 0)
        if not new.any():
            break
        rounds[new] = r
    user, casc = np.nonzero(rounds >= 0)
    t = rounds[user, casc]
    order = np.lexsort((user, t, casc))
    lengths = np.bincount(casc, minlength=len(sets))
    return CascadeSet(
        user[order], np.concatenate([[0], np.cumsum(lengths)]), graph.vocab,
        times=t[order].astype(np.float64), ids=[str(k) for k in range(len(sets))],
    )  # fmt: skip


def random_adopters(cascades: CascadeSet, graph: SocialGraph, *, seed: int = 0) -> CascadeSet:
    """``cascades`` with every cascade's adopters redrawn without replacement ∝ degree in the
    undirected graph (module docstring), keeping each cascade's size and adoption times."""
    degree = np.asarray(undirected_adjacency(graph).sum(axis=1)).ravel()
    if np.count_nonzero(degree) < cascades.lengths.max(initial=0):
        raise ValueError("a cascade has more adopters than the graph has connected users")
    rng = np.random.default_rng(seed)
    p = degree / degree.sum()
    users = np.concatenate(
        [rng.choice(len(p), size=int(m), replace=False, p=p) for m in cascades.lengths]
    ).astype(np.int64)
    return CascadeSet(users, cascades.offsets, cascades.vocab, times=cascades.times,
                      ids=cascades.ids, attrs=cascades.attrs)  # fmt: skip


def planted_influence(
    graph: SocialGraph,
    n_cascades: int,
    *,
    low: float,
    high: float,
    null: bool = False,
    seed: int = 0,
) -> DatasetBundle:
    """The influence task's planted truth on ``graph``: ``n_cascades`` linear-threshold cascades
    from `neighbourhood_seeds`, or (``null``) the same cascades with `random_adopters`, as a
    bundle the influence task builds instances from. Same arguments ⇒ same bundle."""
    cascades = simulate_lt(graph, neighbourhood_seeds(graph, n_cascades, seed=seed),
                           low=low, high=high, seed=seed + 1)  # fmt: skip
    if null:
        cascades = random_adopters(cascades, graph, seed=seed + 2)
    kind = "random-adopter null of " if null else ""
    info = {"planted": f"{kind}{n_cascades} LT cascades, thresholds U({low}, {high})"}
    return DatasetBundle("planted_lt_null" if null else "planted_lt", cascades, graph=graph,
                         info=info)  # fmt: skip
