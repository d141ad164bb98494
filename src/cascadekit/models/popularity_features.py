"""Feature-based size regression: ridge regression of log2(increment + 1) on hand-made features
of the observed prefix (the feature-based family of DMT-LIC §1; Cheng et al. 2014 style), one row
per cascade, computed for all cascades at once from the columnar `CascadeSet`.

Features (`FEATURES`, T_o = the observation window, the root counts as an adoption):

* ``log_observed``: log2(1 + n), n = observed adoptions seen by the model;
* ``first_adoption`` / ``last_adoption``: seconds from publication to the first adoption after
  the root and to the last adoption, divided by T_o (first = 1 when only the root is observed);
* ``depth``: the longest repost chain, in hops from a top ancestor
  (`models.popularity.ancestor_rows`);
* ``log_breadth``: log2(1 + the most adoptions at one depth);
* ``growth``: log2((1 + a_late) / (1 + a_early)), a_early / a_late = adoptions after the root in
  the first / second half of the window — above 0 when the cascade is accelerating;
* ``log_leaves``: log2(1 + adoptions nobody reposted from within the window).

Fit: the features are standardised with the training mean and standard deviation, then the
closed-form ridge solution w = (ZᵀZ + αI)⁻¹ Zᵀ(y − ȳ) with an unpenalised intercept ȳ. The model is
saved as numbers in ``model.json`` (no pickle, no weights file); JSON floats round-trip exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cascadekit.data.cascades import CascadeSet
from cascadekit.errors import CascadeKitError
from cascadekit.models.base import read_model_header, write_model_header
from cascadekit.models.popularity import (
    ancestor_rows,
    increments,
    log_labels,
    observation_window_of,
    relative_times,
)

FEATURES = (
    "log_observed",
    "first_adoption",
    "last_adoption",
    "depth",
    "log_breadth",
    "growth",
    "log_leaves",
)


def cascade_features(cascades: CascadeSet, window: float) -> np.ndarray:
    """The `FEATURES` of every cascade (module docstring), ``window`` = T_o in seconds.

    Shapes: returns (C, 7) float64, columns in `FEATURES` order."""
    c, ci, pos = len(cascades), cascades.cascade_index, cascades.positions
    t = relative_times(cascades) / window
    chains = ancestor_rows(cascades)
    depth = (chains >= 0).sum(axis=1) - 1
    deepest = np.zeros(c, dtype=np.int64)
    np.maximum.at(deepest, ci, depth)
    width = chains.shape[1]
    per_depth = np.bincount(ci * width + depth, minlength=c * width).reshape(c, width)
    parent = chains[:, 1] if width > 1 else np.zeros(0, dtype=np.int64)
    reposted = np.zeros(cascades.n_events, dtype=bool)
    reposted[parent[parent >= 0]] = True
    first = np.ones(c)
    first[ci[pos == 1]] = t[pos == 1]
    last = np.zeros(c)
    np.maximum.at(last, ci, t)
    after_root = pos > 0
    early = np.bincount(ci[after_root & (t < 0.5)], minlength=c)
    late = np.bincount(ci[after_root & (t >= 0.5)], minlength=c)
    columns = [
        np.log2(1 + cascades.lengths),
        first,
        last,
        deepest,
        np.log2(1 + per_depth.max(axis=1, initial=0)),
        np.log2((1 + late) / (1 + early)),
        np.log2(1 + np.bincount(ci[~reposted], minlength=c)),
    ]
    return np.stack(columns, axis=1).astype(np.float64)


@dataclass
class PopularityFeaturesConfig:
    """``alpha``: the ridge penalty on the standardised features (0 = least squares)."""

    alpha: float = 1.0

    def __post_init__(self) -> None:
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")


class PopularityFeatures:
    """Implements `models.base.PopularityRegressor`: ``PopularityFeatures().fit(train)``."""

    name = "popularity_features"
    config_class = PopularityFeaturesConfig

    def __init__(self, config: PopularityFeaturesConfig | None = None) -> None:
        self.config = config or PopularityFeaturesConfig()

    def fit(
        self, train: CascadeSet, valid: CascadeSet | None = None, **_: Any
    ) -> PopularityFeatures:
        """Closed-form ridge on ``train`` (``valid`` and the pipeline's keywords are not used)."""
        self.window_ = observation_window_of(train)
        x, y = cascade_features(train, self.window_), log_labels(train).astype(np.float64)
        self.mean_ = x.mean(axis=0)
        scale = x.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)  # a constant feature stays 0 after centring
        z = (x - self.mean_) / self.scale_
        self.intercept_ = float(y.mean())
        gram = z.T @ z + self.config.alpha * np.eye(z.shape[1])
        self.coef_ = np.linalg.solve(gram, z.T @ (y - self.intercept_))
        return self

    def use_bundle(self, bundle: Any) -> PopularityFeatures:
        return self

    def predict_log(self, cascades: CascadeSet) -> np.ndarray:
        """Shapes: C cascades → (C,) predicted log2(increment + 1)."""
        window = observation_window_of(cascades)
        if window != self.window_:
            raise CascadeKitError(
                f"cascades observed for {window:g} s, the model was fitted on {self.window_:g} s"
            )
        z = (cascade_features(cascades, self.window_) - self.mean_) / self.scale_
        return z @ self.coef_ + self.intercept_

    def predict_increment(self, cascades: CascadeSet) -> np.ndarray:
        """Shapes: C observed cascades → (C,) float64 predicted adoptions in [T_o, T_p), ≥ 0."""
        return increments(self.predict_log(cascades))

    def save(self, path: str | Path) -> Path:
        folder = Path(path)
        payload = {
            "config": asdict(self.config),
            "features": list(FEATURES),
            "observation_window_s": self.window_,
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_,
        }
        write_model_header(folder, self.name, payload)
        return folder

    @classmethod
    def load(cls, path: str | Path) -> PopularityFeatures:
        header = read_model_header(Path(path), (cls.name,))
        if header["features"] != list(FEATURES):
            raise CascadeKitError(
                f"{path}: fitted on features {header['features']}, this version computes "
                f"{list(FEATURES)}; refit it"
            )
        model = cls(PopularityFeaturesConfig(**header["config"]))
        model.window_ = float(header["observation_window_s"])
        model.mean_, model.scale_, model.coef_ = (
            np.asarray(header[k], dtype=np.float64) for k in ("mean", "scale", "coef")
        )
        model.intercept_ = float(header["intercept"])
        return model
