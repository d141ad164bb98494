"""Leakage-safe splits and observation windows.

Guarantees, each checked by ``tests/test_splits.py`` on real data:

* a cascade split never puts one cascade (id) in two parts, and validation is carved from train,
  never from test;
* an event-time split puts every event at or after the cut in the later part (ties included), so no
  training history reaches past the cut;
* an observation window keeps only adoptions strictly before ``t_obs`` in what a model sees; the
  label counts adoptions in ``[t_obs, t_pred)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.events import EventLog
from cascadekit.errors import CascadeKitError


@dataclass
class Split:
    train: Any
    valid: Any
    test: Any
    info: dict[str, Any] = field(default_factory=dict)


def _cut(n: int, fractions: tuple[float, ...]) -> np.ndarray:
    if any(f < 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be non-negative and sum to 1, got {fractions}")
    return np.round(np.cumsum(fractions)[:-1] * n).astype(np.int64)


def _from_order(
    cascades: CascadeSet, order: np.ndarray, fractions: tuple[float, float, float], info: dict
) -> Split:
    a, b = _cut(len(order), fractions)
    parts = [np.sort(order[:a]), np.sort(order[a:b]), np.sort(order[b:])]
    info = {**info, "sizes": [len(p) for p in parts]}
    return Split(*(cascades.subset(p) for p in parts), info=info)


def random_by_cascade(
    cascades: CascadeSet, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), *, seed: int = 0
) -> Split:
    """Random cascades per part (FOREST / CasFlow style), seeded."""
    order = np.random.default_rng(seed).permutation(len(cascades))
    return _from_order(
        cascades,
        order,
        fractions,
        {"kind": "random_by_cascade", "seed": seed, "fractions": fractions},
    )


def chronological_by_cascade(
    cascades: CascadeSet, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
) -> Split:
    """Earliest cascades train, latest test (DeepHawkes / CasCN), by start time, ties by id."""
    start = cascades.start_times()
    order = np.lexsort((cascades.ids.astype(str), start))
    return _from_order(
        cascades, order, fractions, {"kind": "chronological_by_cascade", "fractions": fractions}
    )


def shipped(bundle: DatasetBundle, *, valid_fraction: float = 0.1, seed: int = 0) -> Split:
    """The dataset's own split; a missing validation part is carved at random from train."""
    if bundle.cascades is None or "train" not in bundle.splits or "test" not in bundle.splits:
        raise CascadeKitError(
            f"{bundle.name} ships no train/test split; use random_by_cascade or chronological_by_cascade"
        )
    train_idx = bundle.splits["train"]
    info: dict[str, Any] = {"kind": "shipped", "seed": seed}
    if "valid" in bundle.splits:
        valid_idx = bundle.splits["valid"]
    else:
        perm = np.random.default_rng(seed).permutation(len(train_idx))
        n_valid = int(round(valid_fraction * len(train_idx)))
        valid_idx = np.sort(train_idx[perm[:n_valid]])
        train_idx = np.sort(train_idx[perm[n_valid:]])
        info["valid_carved_from_train"] = valid_fraction
    test_idx = bundle.splits["test"]
    info["sizes"] = [len(train_idx), len(valid_idx), len(test_idx)]
    c = bundle.cascades
    return Split(c.subset(train_idx), c.subset(valid_idx), c.subset(test_idx), info=info)


def by_event_time(
    events: EventLog, train_fraction: float = 0.8, valid_fraction: float = 0.0
) -> Split:
    """First ``train_fraction`` of events for training (its last ``valid_fraction`` of those held
    out for validation), the rest for test; every cut is at an event time and ties go later."""
    train, test = events.split_fraction(train_fraction)
    valid = None
    if valid_fraction > 0:
        train, valid = train.split_fraction(1 - valid_fraction)
    info = {
        "kind": "by_event_time",
        "train_fraction": train_fraction,
        "valid_fraction": valid_fraction,
        "cut": test.t_start,
        "sizes": [len(train), 0 if valid is None else len(valid), len(test)],
    }
    return Split(train, valid, test, info=info)


@dataclass
class ObservedCascades:
    """Observed prefixes with labels: ``cascades.meta["label"]`` = adoptions in [t_obs, t_pred),
    ``meta["observed_size"]``, ``meta["final_size"]`` (adoptions before t_pred)."""

    cascades: CascadeSet
    t_obs: float
    t_pred: float
    info: dict[str, Any]


def observation_window(
    cascades: CascadeSet,
    t_obs: float,
    t_pred: float,
    *,
    min_observed: int | None = None,
    max_observed: int | None = None,
    publish_hours: tuple[int, int] | None = None,
    utc_offset_hours: float = 0.0,
) -> ObservedCascades:
    """Popularity protocol (protocols §3): times are relative to each cascade's root time (or first
    adoption); the model sees adoptions with relative time < t_obs; the label is the increment.

    ``publish_hours=(8, 18)`` keeps cascades published in [8, 18) local time, computed from unix
    seconds + ``utc_offset_hours`` without touching the machine's timezone (Weibo: +8).
    Everything dropped is counted in ``info``.
    """
    if not 0 < t_obs < t_pred:
        raise ValueError("need 0 < t_obs < t_pred")
    if cascades.times is None:
        raise CascadeKitError("an observation window needs timestamps")
    start = cascades.start_times()
    rel = cascades.times - np.repeat(start, cascades.lengths)
    idx = cascades.cascade_index
    observed = np.bincount(idx[rel < t_obs], minlength=len(cascades))
    label = np.bincount(idx[(rel >= t_obs) & (rel < t_pred)], minlength=len(cascades))
    keep = np.ones(len(cascades), dtype=bool)
    info: dict[str, Any] = {"t_obs": t_obs, "t_pred": t_pred, "input_cascades": len(cascades)}
    if publish_hours is not None:
        hour = np.floor(((start + utc_offset_hours * 3600) % 86400) / 3600)
        ok = (hour >= publish_hours[0]) & (hour < publish_hours[1])
        info["dropped_publish_hour"] = int((keep & ~ok).sum())
        keep &= ok
    if min_observed is not None:
        ok = observed >= min_observed
        info["dropped_min_observed"] = int((keep & ~ok).sum())
        keep &= ok
    if max_observed is not None:
        ok = observed <= max_observed
        info["dropped_max_observed"] = int((keep & ~ok).sum())
        keep &= ok
    prefix = cascades.prefix(before=start + t_obs)
    prefix.meta = {
        **prefix.meta,
        "label": label,
        "observed_size": observed,
        "final_size": observed + label,
    }
    out = prefix.subset(keep)
    info["kept_cascades"] = len(out)
    return ObservedCascades(out, t_obs, t_pred, info)
