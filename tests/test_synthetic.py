"""Continuous-time IC against exact answers; seeded synthetic data."""

from __future__ import annotations

import numpy as np

from cascadekit.data import SocialGraph, Vocabulary
from cascadekit.data.synthetic import random_graph, synthetic_cascades
from cascadekit.simulate.ic import simulate_ic


def path_graph() -> SocialGraph:
    return SocialGraph.from_edges(np.array([0, 1]), np.array([1, 2]), Vocabulary(["a", "b", "c"]))


def test_path_infection_time_is_erlang() -> None:
    # a→b→c with p = 1: t_c = sum of two Exp(rate) delays, mean 2/rate, sd sqrt(2)/rate
    rate, n = 2.0, 4000
    cs = simulate_ic(path_graph(), [0], edge_prob=1.0, rate=rate, n_samples=n, seed=0)
    assert set(cs.lengths.tolist()) == {3}
    t_c = cs.times[cs.positions == 2]
    assert abs(t_c.mean() - 2 / rate) < 4 * np.sqrt(2) / rate / np.sqrt(n)
    # parents: b came through a (position 0), c through b (position 1)
    assert np.all(cs.parents.reshape(n, 3) == [-1, 0, 1])


def test_star_infection_probability() -> None:
    g = SocialGraph.from_edges(np.zeros(4, dtype=int), np.arange(1, 5), Vocabulary.range(5))
    n, p = 3000, 0.3
    cs = simulate_ic(g, [0], edge_prob=p, n_samples=n, seed=1)
    frac = (cs.lengths.sum() - n) / (4 * n)  # infected leaves per possible leaf
    assert abs(frac - p) < 4 * np.sqrt(p * (1 - p) / (4 * n))


def test_certain_edges_reach_exactly_the_reachable_set() -> None:
    g = random_graph(60, kind="erdos_renyi", avg_degree=1.5, seed=3)
    cs = simulate_ic(g, [0, 5], edge_prob=1.0, seed=0)
    adj = g.to_scipy()
    from scipy.sparse.csgraph import breadth_first_order

    for i, s in enumerate([0, 5]):
        reach = set(breadth_first_order(adj, s, directed=True, return_predecessors=False).tolist())
        assert set(cs[i].users.tolist()) == reach


def test_parents_precede_children_and_t_max_cuts() -> None:
    g = random_graph(200, seed=2)
    cs = simulate_ic(g, np.arange(20), edge_prob=0.3, t_max=2.0, seed=4)
    for c in cs:
        assert np.all(np.diff(c.times) >= 0) and c.times.max() <= 2.0
        kids = np.arange(1, len(c))
        assert np.all((c.parents[1:] >= 0) & (c.parents[1:] < kids))
        # each child's parent is an in-neighbour in the graph
        for k in kids:
            assert c.users[k] in g.neighbors(int(c.users[c.parents[k]]))


def test_synthetic_bundle_is_seeded() -> None:
    a = synthetic_cascades(n_users=120, n_cascades=150, seed=7)
    b = synthetic_cascades(n_users=120, n_cascades=150, seed=7)
    c = synthetic_cascades(n_users=120, n_cascades=150, seed=8)
    assert np.array_equal(a.cascades.users, b.cascades.users) and np.array_equal(
        a.cascades.times, b.cascades.times
    )
    assert not np.array_equal(a.cascades.users, c.cascades.users)
    assert a.report.to_dict()["short_cascade_dropped"] + len(a.cascades) == 150
    assert a.cascades.lengths.min() >= 2
    parts = np.concatenate(list(a.splits.values()))
    assert sorted(parts.tolist()) == list(range(len(a.cascades)))
