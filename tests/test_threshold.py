"""Linear-threshold cascades and the random-adopter null (`simulate.threshold`), and the planted
truth of the influence task: DeepInf-GAT finds influence that flows along edges and finds nothing
when the same cascades' adopters are redrawn at random."""

from __future__ import annotations

import numpy as np
import pytest

from cascadekit import registry
from cascadekit.data.graph import SocialGraph
from cascadekit.data.vocab import Vocabulary
from cascadekit.simulate.synthetic import random_graph
from cascadekit.simulate.threshold import (
    neighbourhood_seeds,
    planted_influence,
    random_adopters,
    simulate_lt,
)


def graph(src: list[int], dst: list[int], n: int) -> SocialGraph:
    return SocialGraph.from_edges(np.array(src), np.array(dst), Vocabulary.range(n))


def test_a_path_adopts_one_hop_per_round_when_half_the_neighbours_suffice() -> None:
    path = graph([0, 1, 2], [1, 2, 3], 4)  # 0 - 1 - 2 - 3, used undirected
    c = simulate_lt(path, [[0]], low=0.49, high=0.5)
    assert c[0].users.tolist() == [0, 1, 2, 3]
    assert c.times.tolist() == [0.0, 1.0, 2.0, 3.0]
    # thresholds above one half: user 1 sees 1 of 2 neighbours active and never adopts
    assert simulate_lt(path, [[0]], low=0.6, high=0.7)[0].users.tolist() == [0]


def test_a_star_centre_adopts_when_the_fraction_of_active_leaves_reaches_its_threshold() -> None:
    star = graph([0, 0, 0, 0], [1, 2, 3, 4], 5)
    both = simulate_lt(star, [[1], [1, 2]], low=0.45, high=0.5)
    assert both[0].users.tolist() == [1]  # 1 of 4 leaves < 0.45
    # 2 of 4 ≥ θ: the centre adopts in round 1, then every leaf (its only neighbour is active)
    assert both[1].users.tolist() == [1, 2, 0, 3, 4]
    assert both.times[both.offsets[1] :].tolist() == [0.0, 0.0, 1.0, 2.0, 2.0]


def test_simulation_is_seeded_and_checks_its_arguments() -> None:
    g = random_graph(200, kind="communities", avg_degree=6, seed=0)
    seeds = neighbourhood_seeds(g, 20, seed=1)
    a, b = (simulate_lt(g, seeds, low=0.2, high=0.6, seed=4) for _ in range(2))
    assert np.array_equal(a.users, b.users) and np.array_equal(a.times, b.times)
    assert not np.array_equal(simulate_lt(g, seeds, low=0.2, high=0.6, seed=5).users, a.users)
    with pytest.raises(ValueError, match="low < high"):
        simulate_lt(g, seeds, low=0.5, high=0.5)
    with pytest.raises(ValueError, match="non-empty seed sets"):
        simulate_lt(g, [[]])


def test_random_adopters_keep_sizes_and_times_and_draw_in_proportion_to_degree() -> None:
    star = graph([0, 0, 0, 0], [1, 2, 3, 4], 5)  # degrees 4, 1, 1, 1, 1
    one = simulate_lt(star, [[1]] * 4000, low=0.9, high=1.0)  # 4000 cascades of one user
    null = random_adopters(one, star, seed=0)
    assert np.array_equal(null.offsets, one.offsets) and np.array_equal(null.times, one.times)
    assert abs(np.mean(null.users == 0) - 0.5) < 0.03  # the centre holds half the degree
    pairs = random_adopters(simulate_lt(star, [[1, 2]] * 50, low=0.9, high=1.0), star, seed=1)
    assert all(len(set(pairs[k].users.tolist())) == 2 for k in range(50))  # no repeats


@pytest.fixture(scope="module")
def community_graph() -> SocialGraph:
    # clustered, without hubs: positives and non-adopting neighbours alike in degree under the
    # null (on a heavy-tailed graph DeepInf's sampling of negatives already differs in degree)
    return random_graph(1000, kind="communities", avg_degree=20, seed=0)


def planted_auc(graph: SocialGraph, null: bool) -> float:
    bundle = planted_influence(graph, 300, low=0.3, high=0.5, null=null, seed=0)
    task = registry.task("influence", {"embedding_dim": 0, "fractions": (0.5, 0.1, 0.4)})
    split = task.build(bundle, 0)
    # flags and structure only: what the planted rule reads (vertex features add nothing)
    est = registry.model("deepinf_gat").create(
        "paper", {"use_vertex_features": False, "max_epochs": 4, "batch_size": 256,
                  "progress": False, "seed": 0},
    )  # fmt: skip
    est.fit(split.train, split.valid, validator=task.validator(), monitor=task.monitor)
    return task.evaluate(est, split)["auc"]


def test_planted_influence_is_found_and_its_null_is_not(community_graph: SocialGraph) -> None:
    """LT thresholds U(0.3, 0.5): whether the ego adopts is a function of its active neighbours;
    the null redraws each cascade's adopters ∝ degree with the same sizes and times."""
    assert planted_auc(community_graph, null=False) >= 0.85
    assert abs(planted_auc(community_graph, null=True) - 0.5) <= 0.05
