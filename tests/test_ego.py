"""DeepInf instance builder (`graph.ego`): a hand-checked tiny log, the walk's restart law, and
every instance of a random log checked against a direct per-instance computation."""

from __future__ import annotations

import numpy as np
import pytest

from cascadekit.data import CascadeSet, SocialGraph, Vocabulary
from cascadekit.errors import CascadeKitError
from cascadekit.graph.ego import EgoOptions, build_instances, undirected_adjacency, walk_step
from cascadekit.simulate.ic import simulate_ic
from cascadekit.simulate.synthetic import random_graph

EDGES = [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (1, 6), (2, 6), (3, 6), (5, 7),
         (8, 0), (8, 1), (8, 2), (8, 3)]  # fmt: skip


def tiny() -> tuple[SocialGraph, CascadeSet]:
    """Item 0: 1 @1, 2 @2, 3 @3, then 0 and 6 tied @4, 1 again @5 (a repeat), 4 without a time;
    item 1: only user 7."""
    vocab = Vocabulary.range(9)
    src, dst = np.array(EDGES).T
    graph = SocialGraph.from_edges(src, dst, vocab, directed=False)
    cascades = CascadeSet.from_sequences(
        [[1, 2, 3, 0, 6, 1, 4], [7]], vocab,
        times=[[1, 2, 3, 4, 4, 5, np.nan], [1]],
    )  # fmt: skip
    return graph, cascades


TINY = EgoOptions(ego_size=4, negatives_per_positive=3, min_item_size=2)


def test_tiny_log_by_hand() -> None:
    graph, cascades = tiny()
    inst = build_instances(graph, cascades, TINY, seed=0)
    info = inst.info
    assert info["adoptions_without_time"] == 1
    assert info["repeated_adoptions"] == 1
    assert (info["items_outside_size_window"], info["adoptions_in_dropped_items"]) == (1, 1)
    # user 1 @1 has nobody before it; users 0 and 6 tied @4 are not each other's past
    assert info["adoptions_without_earlier_adopter"] == 1
    # positives: 2 @2, 3 @3, 0 @4, 6 @4; negatives: 8 (for 2 and for 3), 4, 5, 8 (for 0)
    assert info["candidates"] == {"positive": 4, "negative": 5}
    assert info["adoptions_without_negative_candidate"] == 1  # 6's neighbours all adopt
    # 2 @2 and 3 @3 have no active neighbour; 8 @2, 8 @3 too few; 4 @4: its only neighbour
    # 0 adopts at 4 itself, not strictly before; 5 @4: none
    assert info["dropped_few_active_neighbors"] == {"positive": 2, "negative": 4}
    assert info["instances"] == {"positive": 2, "negative": 1}
    assert info["active_shortcut"] == 3 and info["active_neighbors"] == [0, 0, 0, 3]
    np.testing.assert_array_equal(inst.vertices, [[1, 2, 3, 0], [1, 2, 3, 6], [1, 2, 3, 8]])
    np.testing.assert_array_equal(inst.labels, [1, 1, 0])
    np.testing.assert_array_equal(inst.times, [4, 4, 4])
    np.testing.assert_array_equal(inst.items, [0, 0, 0])
    np.testing.assert_array_equal(inst.active, np.tile([True, True, True, False], (3, 1)))
    star = np.zeros((4, 4), dtype=bool)
    star[3, :3] = star[:3, 3] = True  # the ego is linked to 1, 2, 3; they are not linked
    np.testing.assert_array_equal(inst.adjacency, np.broadcast_to(star, (3, 4, 4)))


def test_min_active_rule_is_a_threshold() -> None:
    graph, cascades = tiny()
    strict = EgoOptions(ego_size=4, min_active_neighbors=4, negatives_per_positive=3)
    inst = build_instances(graph, cascades, strict, seed=0)
    assert len(inst) == 0 and inst.info["dropped_few_active_neighbors"]["positive"] == 4
    loose = EgoOptions(ego_size=4, min_active_neighbors=1, negatives_per_positive=3)
    inst = build_instances(graph, cascades, loose, seed=0)
    # 2 @2 and 3 @3 (neighbours 0, 6, 8: none active yet) stay dropped; 8 @2 (active
    # neighbour 1) and 8 @3 (1 and 2) are kept
    assert inst.info["dropped_few_active_neighbors"]["positive"] == 2
    negatives = inst.labels == 0
    kept = set(zip(inst.egos[negatives].tolist(), inst.times[negatives].tolist(), strict=True))
    assert {(8, 2.0), (8, 3.0)} <= kept


def test_walk_fills_the_ego_network_and_the_ego_is_last() -> None:
    graph, cascades = tiny()
    inst = build_instances(graph, cascades, EgoOptions(ego_size=6, negatives_per_positive=3),
                           seed=1)  # fmt: skip
    assert inst.info["active_shortcut"] == 0 and len(inst) == 3
    for row, ego in zip(inst.vertices, (0, 6, 8), strict=True):
        assert row[-1] == ego and len(set(row)) == 6
        assert {1, 2, 3} <= set(row[:-1])  # every active neighbour, then 2 walk-found vertices
        assert list(row[:-1]) == sorted(row[:-1])


def test_too_few_reachable_vertices_drop_the_candidate() -> None:
    graph, cascades = tiny()  # 9 users: no ego network of 10 exists
    inst = build_instances(graph, cascades, EgoOptions(ego_size=10, negatives_per_positive=3),
                           seed=0)  # fmt: skip
    assert len(inst) == 0
    assert inst.info["dropped_walk_too_short"] == {"positive": 2, "negative": 1}


def test_degree_and_item_windows() -> None:
    graph, cascades = tiny()  # degrees: 0 → 6, 6 → 3, 8 → 4
    inst = build_instances(graph, cascades, EgoOptions(ego_size=4, negatives_per_positive=3,
                                                       max_degree=5), seed=0)  # fmt: skip
    assert inst.info["positives_outside_degree_window"] == 1  # user 0
    assert sorted(inst.egos.tolist()) == [6, 8]
    # item 0 has 5 timed distinct adopters: out of [1, 5)
    none = build_instances(graph, cascades, EgoOptions(ego_size=4, max_item_size=5), seed=0)
    assert len(none) == 0 and none.info["items_outside_size_window"] == 1


def test_event_log_gives_the_same_instances() -> None:
    graph, cascades = tiny()
    timed = cascades.subset([0]).prefix(max_len=6)  # drop the untimed adoption
    a = build_instances(graph, timed, TINY, seed=3)
    b = build_instances(graph, timed.to_event_log(), TINY, seed=3)
    for name in ("vertices", "adjacency", "active", "labels", "items", "times"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_untimed_cascades_and_foreign_users_are_refused() -> None:
    graph, cascades = tiny()
    with pytest.raises(CascadeKitError, match="adoption times"):
        build_instances(graph, CascadeSet(cascades.users, cascades.offsets, cascades.vocab))
    other = CascadeSet.from_sequences([[0, 1]], Vocabulary.range(3), times=[[0, 1]])
    with pytest.raises(CascadeKitError, match="one user vocabulary"):
        build_instances(graph, other)
    with pytest.raises(ValueError, match="restart_prob"):
        EgoOptions(restart_prob=1.5)


def path_walks(p: float, n_walks: int = 2000, steps: int = 200, seed: int = 0) -> np.ndarray:
    """Walks on the path 0 – 1 – … – 299 restarting at vertex 0."""
    vocab = Vocabulary.range(300)
    adj = undirected_adjacency(
        SocialGraph.from_edges(np.arange(299), np.arange(1, 300), vocab, directed=False)
    )
    rng = np.random.default_rng(seed)
    first, count = np.zeros(n_walks, np.int64), np.ones(n_walks, np.int64)
    cur = walk_step(None, adj.indptr, adj.indices, np.zeros(1, np.int64), first, count, p, rng)
    out = [cur]
    for _ in range(steps):
        cur = walk_step(cur, adj.indptr, adj.indices, np.zeros(1, np.int64), first, count, p, rng)
        out.append(cur)
    return np.stack(out, axis=1)


@pytest.mark.parametrize("p", [0.2, 0.8])
def test_restart_probability_statistically(p: float) -> None:
    walks = path_walks(p)
    a, b = walks[:, :-1].ravel(), walks[:, 1:].ravel()
    far = a >= 2  # from here only a restart reaches vertex 0 in one step
    rate = float((b[far] == 0).mean())
    sd = np.sqrt(p * (1 - p) / far.sum())
    assert abs(rate - p) < 5 * sd
    moved = far & (b != 0)
    assert np.all(np.abs(b[moved] - a[moved]) == 1)  # otherwise a uniform step to a neighbour
    assert abs(float((b[moved] > a[moved]).mean()) - 0.5) < 0.02


def test_walks_start_uniformly_and_leave_isolated_vertices() -> None:
    indptr = np.array([0, 1, 2, 2])  # 0 – 1, vertex 2 isolated
    indices = np.array([1, 0])
    starts = np.array([0, 2])
    rng = np.random.default_rng(0)
    n = 20_000
    first, count = np.zeros(n, np.int64), np.full(n, 2)
    cur = walk_step(None, indptr, indices, starts, first, count, 0.0, rng)
    assert abs(float((cur == 2).mean()) - 0.5) < 0.02
    nxt = walk_step(cur, indptr, indices, starts, first, count, 0.0, rng)
    assert np.all(nxt[cur == 0] == 1)  # restart probability 0: always a step
    assert set(nxt[cur == 2].tolist()) <= {0, 2}  # no neighbour: back to a start


def random_log(seed: int = 0) -> tuple[SocialGraph, CascadeSet]:
    graph = random_graph(400, avg_degree=8, seed=seed)
    rng = np.random.default_rng(seed)
    cascades = simulate_ic(graph, rng.integers(0, 400, 30), edge_prob=0.2, seed=seed)
    return graph, cascades


def test_every_instance_matches_a_direct_computation() -> None:
    graph, cascades = random_log()
    options = EgoOptions(ego_size=12, negatives_per_positive=2)
    inst = build_instances(graph, cascades, options, seed=5)
    assert inst.info["instances"]["positive"] > 300 and inst.info["instances"]["negative"] > 300
    adj = undirected_adjacency(graph).toarray() > 0
    when: dict[int, dict[int, float]] = {}  # item → user → adoption time
    for c in range(len(cascades)):
        sl = slice(cascades.offsets[c], cascades.offsets[c + 1])
        for u, t in zip(cascades.users[sl], cascades.times[sl], strict=True):
            when.setdefault(c, {}).setdefault(int(u), float(t))
    for k in range(len(inst)):
        row, item, t = inst.vertices[k], int(inst.items[k]), float(inst.times[k])
        ego, adopters = int(row[-1]), when[item]
        past = {u for u, tu in adopters.items() if tu < t}
        active_nbrs = set(np.flatnonzero(adj[ego]).tolist()) & past
        assert len(set(row.tolist())) == len(row) and len(active_nbrs) >= 3
        if len(active_nbrs) < len(row) - 1:
            assert active_nbrs <= set(row[:-1].tolist())
        else:
            assert set(row[:-1].tolist()) <= active_nbrs
        np.testing.assert_array_equal(inst.active[k], [int(v) in past for v in row])
        np.testing.assert_array_equal(inst.adjacency[k], adj[np.ix_(row, row)])
        if inst.labels[k] == 1:
            assert adopters[ego] == t
        else:  # a never-adopting neighbour of someone who adopted at t
            assert ego not in adopters
            assert any(adopters.get(int(v)) == t for v in np.flatnonzero(adj[ego]))


def test_same_seed_same_instances_other_seed_other_draws() -> None:
    graph, cascades = random_log(1)
    a = build_instances(graph, cascades, seed=2)
    b = build_instances(graph, cascades, seed=2)
    c = build_instances(graph, cascades, seed=3)
    for name in ("vertices", "adjacency", "active", "labels", "items", "times"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.info == b.info

    def rows(inst, label):  # noqa: ANN001, ANN202
        keep = inst.labels == label
        return set(zip(inst.egos[keep].tolist(), inst.items[keep].tolist(),
                       inst.times[keep].tolist(), strict=True))  # fmt: skip

    assert rows(a, 1) == rows(c, 1)  # positives do not depend on the seed (no walk failed)
    assert rows(a, 0) != rows(c, 0)  # the negatives drawn do
    assert a.info["dropped_walk_too_short"] == {"positive": 0, "negative": 0}
