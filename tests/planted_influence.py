"""Hand-made `InfluenceInstances` with a planted rule, for the influence models' tests (no task,
no data mirror needed)."""

from __future__ import annotations

import numpy as np

from cascadekit.data.influence import InfluenceInstances


def planted_instances(
    n_instances: int = 600,
    *,
    size: int = 12,
    n_users: int = 300,
    dim: int = 8,
    n_features: int = 3,
    seed: int = 0,
) -> InfluenceInstances:
    """Random ego networks: each other vertex a neighbour of the ego with probability 0.6, other
    pairs linked with probability 0.25, each vertex active with its instance's own rate drawn
    from U(0, 0.7). Label 1 iff at least half of the ego's neighbours are active: a function of
    the active neighbours only (the other vertices' activity correlates with it through the
    shared rate)."""
    rng = np.random.default_rng(seed)
    vertices = np.stack([rng.choice(n_users, size, replace=False) for _ in range(n_instances)])
    upper = np.triu(rng.random((n_instances, size, size)) < 0.25, 1)
    upper[:, :-1, -1] = rng.random((n_instances, size - 1)) < 0.6
    adjacency = upper | upper.transpose(0, 2, 1)
    rate = rng.uniform(0.0, 0.7, (n_instances, 1))  # spreads the active ratios widely
    active = rng.random((n_instances, size)) < rate
    active[:, -1] = False
    neighbours = adjacency[:, -1, :]
    ratio = (neighbours & active).sum(1) / np.maximum(neighbours.sum(1), 1)
    return InfluenceInstances(
        vertices=vertices.astype(np.int64),
        adjacency=adjacency,
        active=active,
        labels=(ratio >= 0.5).astype(np.int8),
        items=np.arange(n_instances, dtype=np.int64),
        times=np.arange(n_instances, dtype=np.float64),
        vertex_features=rng.standard_normal((n_users, n_features)).astype(np.float32),
        embedding=rng.standard_normal((n_users, dim)).astype(np.float32),
    )


def planted_parts() -> tuple[InfluenceInstances, InfluenceInstances, InfluenceInstances]:
    """Train (600), validation (200) and test (300) instances of the planted rule."""
    return (
        planted_instances(600, seed=0),
        planted_instances(200, seed=1),
        planted_instances(300, seed=2),
    )
