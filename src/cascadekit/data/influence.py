"""`InfluenceInstances`: DeepInf's unit of data (paper 004 §2), one fixed-size ego network per row.

An instance is (ego user v, item, time t): label 1 if v adopts the item at t, 0 for a sampled
neighbour that never adopts it. Its ego network holds ``n`` vertices (paper: 50), the ego stored
last; ``active`` marks the vertices that adopted the item strictly before t. Vertex ids index the
bundle's user vocabulary, so ``vertex_features`` and ``embedding`` (one row per user) are shared by
all instances and never copied per row.

Shapes::

    vertices         (N, n) int64    ego at [:, -1]
    adjacency        (N, n, n) bool  the induced subgraph of the ego network, symmetric, no self loops
    active           (N, n) bool     adopted the item strictly before the instance time
    labels           (N,) int8       1: the ego adopts at t
    items            (N,) int64      item (cascade or mark) index in the source log; −1 unknown
    times            (N,) float64    instance time t; NaN unknown (the authors' DeepInf folders
                                     store neither, see `data.formats.deepinf`)
    vertex_features  (V, F) float32  structural features, standardised over all vertices
    embedding        (V, D) float32  DeepWalk embedding (D = 64 by default)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass
class InfluenceInstances:
    vertices: np.ndarray
    adjacency: np.ndarray
    active: np.ndarray
    labels: np.ndarray
    items: np.ndarray
    times: np.ndarray
    vertex_features: np.ndarray
    embedding: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n_inst, n = self.vertices.shape
        expected = {
            "adjacency": (n_inst, n, n), "active": (n_inst, n), "labels": (n_inst,),
            "items": (n_inst,), "times": (n_inst,),
        }  # fmt: skip
        for name, shape in expected.items():
            got = getattr(self, name).shape
            if got != shape:
                raise ValueError(f"{name} has shape {got}, expected {shape}")
        n_users = len(self.vertex_features)
        if len(self.embedding) != n_users:
            raise ValueError(f"embedding has {len(self.embedding)} rows, vertex_features {n_users}")
        if n_inst and (self.vertices.min() < 0 or self.vertices.max() >= n_users):
            raise ValueError(f"vertex ids must lie in [0, {n_users})")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def size(self) -> int:
        """Vertices per ego network (``n``)."""
        return self.vertices.shape[1]

    @property
    def egos(self) -> np.ndarray:
        return self.vertices[:, -1]

    def subset(self, index: np.ndarray) -> InfluenceInstances:
        """The rows ``index`` (positions or a boolean mask); the per-user tables are shared."""
        index = np.asarray(index)
        return replace(
            self,
            vertices=self.vertices[index], adjacency=self.adjacency[index],
            active=self.active[index], labels=self.labels[index], items=self.items[index],
            times=self.times[index], info=dict(self.info),
        )  # fmt: skip


def standardise(x: np.ndarray) -> np.ndarray:
    """Every column to mean 0 and population standard deviation 1, a constant column to 0 (what
    ``vertex_features`` holds; scikit-learn's ``preprocessing.scale``, as DeepInf's loader).

    Shapes: x (V, F); return (V, F) float64."""
    x = np.asarray(x, dtype=np.float64)
    std = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
