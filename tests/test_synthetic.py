"""Continuous-time IC against exact answers; seeded synthetic graphs and cascades."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import breadth_first_order

from cascadekit.data import SocialGraph, Vocabulary
from cascadekit.simulate.ic import simulate_ic
from cascadekit.simulate.synthetic import random_graph, synthetic_cascades


def graph(src: list[int], dst: list[int], n: int) -> SocialGraph:
    return SocialGraph.from_edges(np.array(src), np.array(dst), Vocabulary.range(n))


def test_path_infection_time_is_erlang() -> None:
    # a→b→c with p = 1: t_c = sum of two Exp(rate) delays, mean 2/rate, sd sqrt(2)/rate
    rate, n = 2.0, 4000
    cs = simulate_ic(graph([0, 1], [1, 2], 3), [0], edge_prob=1.0, rate=rate, n_samples=n)
    assert set(cs.lengths.tolist()) == {3}
    t_c = cs.times[cs.positions == 2]
    assert abs(t_c.mean() - 2 / rate) < 4 * np.sqrt(2) / rate / np.sqrt(n)
    # parents: b came through a (position 0), c through b (position 1)
    assert np.all(cs.parents.reshape(n, 3) == [-1, 0, 1])


def test_earliest_successful_attempt_wins() -> None:
    # 0→2 directly (rate r1) or 0→1→2 (r2, r3), all certain: t_2 = min(E1, E2 + E3) and
    # P(2 infected by 0) = 1 − P(E1 > E2 + E3) = 1 − r2/(r1+r2) · r3/(r1+r3) = 1/2;
    # E t_2 = ∫ e^{−t} (3e^{−2t} − 2e^{−3t}) dt = 1/2, and 2→3 (rate 1) gives E t_3 = 3/2 — only if
    # 2's attempt on 3 is redone when 2's time improves after it was first reached
    r1, r2, r3, n = 1.0, 2.0, 3.0, 6000
    g = graph([0, 0, 1, 2], [1, 2, 2, 3], 4)  # arcs in CSR order: 0→1, 0→2, 1→2, 2→3
    rates = np.array([r2, r1, r3, 1.0])
    cs = simulate_ic(g, [0], edge_prob=1.0, rate=rates, n_samples=n, seed=2)
    t = np.zeros((n, 4))
    t[cs.cascade_index, cs.users] = cs.times
    direct = np.array([c.parents[c.users.tolist().index(2)] == 0 for c in cs])
    assert abs(direct.mean() - 0.5) < 4 * np.sqrt(0.25 / n)
    assert abs(t[:, 2].mean() - 0.5) < 4 * t[:, 2].std() / np.sqrt(n)
    assert abs(t[:, 3].mean() - 1.5) < 4 * t[:, 3].std() / np.sqrt(n)


def test_competing_seeds() -> None:
    # seeds {0, 1} both attempt 2 in the same round: t_2 = min(Exp(1), Exp(3)) ~ Exp(4), and 2 is
    # infected by seed 0 with probability 1/4
    n = 6000
    g = graph([0, 1], [2, 2], 3)
    cs = simulate_ic(g, [[0, 1]] * n, edge_prob=1.0, rate=np.array([1.0, 3.0]), seed=5)
    last = cs.offsets[1:] - 1  # user 2 comes last in every cascade
    assert np.all(cs.users[last] == 2)
    assert abs(cs.times[last].mean() - 0.25) < 4 * 0.25 / np.sqrt(n)
    by_zero = cs.users[cs.offsets[:-1] + cs.parents[last]] == 0
    assert abs(by_zero.mean() - 0.25) < 4 * np.sqrt(0.25 * 0.75 / n)


def test_rayleigh_delay_mean() -> None:
    # hazard rate·t: survival exp(−rate t²/2), mean sqrt(π / (2 rate)), variance (4 − π)/(2 rate)
    rate, n = 0.5, 5000
    cs = simulate_ic(graph([0], [1], 2), [0], edge_prob=1.0, delay="rayleigh", rate=rate,
                     n_samples=n, seed=3)  # fmt: skip
    t = cs.times[cs.positions == 1]
    sd = np.sqrt((4 - np.pi) / (2 * rate))
    assert abs(t.mean() - np.sqrt(np.pi / (2 * rate))) < 4 * sd / np.sqrt(n)
    with pytest.raises(ValueError, match="delay must be one of"):
        simulate_ic(graph([0], [1], 2), [0], edge_prob=1.0, delay="gamma")


def test_star_infection_probability() -> None:
    g = graph([0, 0, 0, 0], [1, 2, 3, 4], 5)
    n, p = 3000, 0.3
    cs = simulate_ic(g, [0], edge_prob=p, n_samples=n, seed=1)
    frac = (cs.lengths.sum() - n) / (4 * n)  # infected leaves per possible leaf
    assert abs(frac - p) < 4 * np.sqrt(p * (1 - p) / (4 * n))
    # per-arc probabilities: leaf k infected with probability p_k
    pk = np.array([0.0, 0.2, 0.5, 1.0])
    cs = simulate_ic(g, [0], edge_prob=pk, n_samples=n, seed=2)
    freq = np.bincount(cs.users, minlength=5)[1:] / n
    assert np.all(np.abs(freq - pk) <= 4 * np.sqrt(pk * (1 - pk) / n))


def test_certain_edges_reach_exactly_the_reachable_set() -> None:
    g = random_graph(60, kind="erdos_renyi", avg_degree=1.5, seed=3)
    cs = simulate_ic(g, [0, 5], edge_prob=1.0, seed=0)
    adj = g.to_scipy()
    for i, s in enumerate([0, 5]):
        reach = set(breadth_first_order(adj, s, directed=True, return_predecessors=False).tolist())
        assert set(cs[i].users.tolist()) == reach
    # a seed set reaches the union, every seed at time 0 without a parent
    both = simulate_ic(g, [[0, 5]], edge_prob=1.0)
    assert set(both[0].users.tolist()) == set(cs[0].users.tolist()) | set(cs[1].users.tolist())
    roots = np.isin(both[0].users, [0, 5])
    assert np.all(both[0].times[roots] == 0) and np.all(both[0].parents[roots] == -1)


def test_parents_precede_children_and_t_max_cuts() -> None:
    g = random_graph(200, seed=2)
    cs = simulate_ic(g, np.arange(20), edge_prob=0.3, t_max=2.0, seed=4)
    assert cs.times.max() <= 2.0 and len(set(cs.ids.tolist())) == 20
    for c in cs:
        assert np.all(np.diff(c.times) >= 0) and len(np.unique(c.users)) == len(c)
        kids = np.arange(1, len(c))
        assert np.all((c.parents[1:] >= 0) & (c.parents[1:] < kids))
        # each child's parent is an in-neighbour in the graph
        for k in kids:
            assert c.users[k] in g.neighbors(int(c.users[c.parents[k]]))


def test_random_graphs() -> None:
    for kind in ("erdos_renyi", "powerlaw"):
        g = random_graph(2000, kind=kind, avg_degree=8, seed=1)
        e = g.edge_array()
        assert not np.any(e[:, 0] == e[:, 1])
        assert len(np.unique(e[:, 0] * 2000 + e[:, 1])) == g.n_arcs
        assert np.array_equal(random_graph(2000, kind=kind, seed=1).indices, g.indices)
        assert not np.array_equal(random_graph(2000, kind=kind, seed=2).indices, g.indices)
    er = random_graph(2000, kind="erdos_renyi", avg_degree=8, seed=1)
    # arcs ~ Binomial(n(n−1), 8/(n−1)): mean 16000, sd ≈ 126
    assert abs(er.n_arcs - 16000) < 4 * 126
    pl = random_graph(2000, kind="powerlaw", avg_degree=8, seed=1)
    indeg = np.bincount(pl.indices, minlength=2000)
    # heavy tail: hubs far above the mean (an ER graph of this degree tops out near 20)
    assert indeg.max() > 10 * indeg.mean() and np.bincount(er.indices).max() < 25
    with pytest.raises(ValueError, match="kind must be"):
        random_graph(10, kind="ring")


def test_synthetic_bundle_is_seeded() -> None:
    a = synthetic_cascades(n_users=120, n_cascades=150, seed=7)
    b = synthetic_cascades(n_users=120, n_cascades=150, seed=7)
    c = synthetic_cascades(n_users=120, n_cascades=150, seed=8)
    for x, y in ((a.cascades, b.cascades), (a.graph, b.graph)):
        for k, v in vars(x).items():
            if isinstance(v, np.ndarray):
                assert np.array_equal(v, vars(y)[k]), k
    assert all(np.array_equal(a.splits[k], b.splits[k]) for k in a.splits)
    assert a.info == b.info and a.report.to_dict() == b.report.to_dict()
    assert not np.array_equal(a.cascades.users, c.cascades.users)
    assert a.report.to_dict()["short_cascade_dropped"] + len(a.cascades) == 150
    assert a.cascades.lengths.min() >= 2 and len(set(a.cascades.ids.tolist())) == len(a.cascades)
    parts = [a.splits[k] for k in ("train", "valid", "test")]
    n = len(a.cascades)
    assert [len(p) for p in parts] == np.diff([0, round(0.8 * n), round(0.9 * n), n]).tolist()
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(a.cascades)))


@pytest.mark.parametrize("driver", ["text", "profile"])
def test_the_planted_modality_alone_tells_the_growth(driver: str) -> None:
    from cascadekit.simulate.synthetic import HOT_WORDS, synthetic_multimodal

    b = synthetic_multimodal(300, 1200, driver=driver, seed=3)
    c, content = b.cascades, b.content
    k = c.meta["k"]
    observed = (c.times - np.repeat(c.root_times, c.lengths) < 1800.0).reshape(-1)
    n_obs = np.add.reduceat(observed.astype(int), c.offsets[:-1])
    np.testing.assert_array_equal(c.lengths - n_obs, np.round(n_obs * k))  # label = n · k
    assert c.users[c.offsets[:-1]].tolist() == list(range(300))  # user i posts cascade i
    hot = np.array([sum(w in HOT_WORDS for w in content.text(i).split()) for i in c.ids])
    followers = np.log(content.profiles["followers"][:300])
    fast = k > 1
    if driver == "text":
        assert (hot[fast] == 4).all() and (hot[~fast] == 0).all()
        assert abs(followers[fast].mean() - followers[~fast].mean()) < 0.5
    else:
        assert followers[fast].min() > followers[~fast].max() - 1.5
        assert abs(hot[fast].mean() - hot[~fast].mean()) < 0.5
    root_text = c.events["text"][c.offsets[:-1]]
    assert root_text.tolist() == [content.text(i) for i in c.ids]
    again = synthetic_multimodal(300, 1200, driver=driver, seed=3)
    np.testing.assert_array_equal(again.cascades.users, c.users)
