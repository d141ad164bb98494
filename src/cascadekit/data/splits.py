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
    """Three parts of one dataset: CascadeSets (split by cascade) or EventLogs (split by time).

    ``info`` says how the split was made (kind, seed, fractions, cut), the part sizes and anything
    dropped on the way. ``valid`` is None for an event split made without a validation part.
    """

    train: Any
    valid: Any
    test: Any
    info: dict[str, Any] = field(default_factory=dict)


def _cut(n: int, fractions: tuple[float, ...]) -> np.ndarray:
    if any(f < 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be non-negative and sum to 1, got {fractions}")
    return np.round(np.cumsum(fractions)[:-1] * n).astype(np.int64)


def random_partition(
    n: int, fractions: tuple[float, ...] = (0.8, 0.1, 0.1), *, seed: int = 0
) -> list[np.ndarray]:
    """A seeded random partition of ``range(n)`` into parts of the given fractions (rounded).

    Shapes:
        returns one sorted int64 index array per fraction; together they hold every index once.
    """
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(part) for part in np.split(order, _cut(n, fractions))]


def carve_validation(
    n: int, valid_fraction: float = 0.1, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The one validation carve-out (shipped splits and estimators fitted without a validation
    set): a seeded random ``valid_fraction`` of ``range(n)``, at least one item when n > 1.

    Shapes:
        returns (kept, valid) sorted int64 index arrays into ``range(n)``.
    """
    if not 0 <= valid_fraction < 1:
        raise ValueError(f"valid_fraction must be in [0, 1), got {valid_fraction}")
    keep, valid = random_partition(n, (1 - valid_fraction, valid_fraction), seed=seed)
    if valid_fraction > 0 and n > 1 and not len(valid):  # tiny sets: still one validation item
        keep, valid = keep[keep != keep[-1]], keep[-1:]
    return keep, valid


def _cascade_split(cascades: CascadeSet, parts: list[np.ndarray], info: dict) -> Split:
    out = Split(*(cascades.subset(p) for p in parts), info={**info})
    out.info["sizes"] = [len(p) for p in parts]
    # by construction the parts are disjoint index sets; ids are checked too, since a reader
    # could hand over the same cascade twice under two indices
    seen: dict[str, str] = {}
    for name in ("train", "valid", "test"):
        for cid in getattr(out, name).ids.tolist():
            if seen.setdefault(cid, name) != name:
                raise CascadeKitError(f"cascade id {cid!r} is in both {seen[cid]} and {name}")
    return out


def random_by_cascade(
    cascades: CascadeSet, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
) -> Split:
    """Random cascades per part (FOREST / CasFlow style), seeded."""
    info = {"kind": "random_by_cascade", "seed": seed, "fractions": list(fractions)}
    return _cascade_split(cascades, random_partition(len(cascades), fractions, seed=seed), info)


def chronological_by_cascade(
    cascades: CascadeSet, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
) -> Split:
    """Earliest cascades train, latest test (DeepHawkes / CasCN), by start time, ties by id."""
    start = cascades.start_times()
    if np.isnan(start).any():
        raise CascadeKitError("a chronological split needs a start time for every cascade")
    order = np.lexsort((cascades.ids.astype(str), start))
    parts = [np.sort(p) for p in np.split(order, _cut(len(order), fractions))]
    info = {"kind": "chronological_by_cascade", "fractions": list(fractions)}
    return _cascade_split(cascades, parts, info)


def shipped(bundle: DatasetBundle, *, valid_fraction: float = 0.1, seed: int = 0) -> Split:
    """The dataset's own split.

    Cascade splits (``bundle.splits``): a missing validation part is carved at random by cascade
    from train (``valid_fraction`` of it, seeded), never from test. Event-log splits
    (``bundle.event_splits``, e.g. C4 train/test logs) are returned as shipped; their protocol has
    no validation part, so ``valid`` is the shipped one or None.
    """
    if bundle.cascades is not None and {"train", "test"} <= set(bundle.splits):
        train_idx = np.asarray(bundle.splits["train"], dtype=np.int64)
        info: dict[str, Any] = {"kind": "shipped", "seed": seed}
        if "valid" in bundle.splits:
            valid_idx = np.asarray(bundle.splits["valid"], dtype=np.int64)
        else:
            # protocols §1: validation comes out of the shipped train, never out of test
            keep, valid = carve_validation(len(train_idx), valid_fraction, seed=seed)
            valid_idx, train_idx = train_idx[valid], train_idx[keep]
            info["valid_carved_from_train"] = valid_fraction
        parts = [train_idx, valid_idx, np.asarray(bundle.splits["test"], dtype=np.int64)]
        return _cascade_split(bundle.cascades, parts, info)
    ev = bundle.event_splits
    if {"train", "test"} <= set(ev):
        valid = ev.get("valid")
        logs = [("train", ev["train"]), ("valid", valid), ("test", ev["test"])]
        logs = [(k, v) for k, v in logs if v is not None and len(v)]
        for (k0, early), (k1, late) in zip(logs, logs[1:], strict=False):
            if early.times[-1] >= late.times[0]:
                raise CascadeKitError(
                    f"{bundle.name}: shipped {k1} events do not all come after {k0} "
                    "(overlap or tie across the cut); split by time with by_event_time"
                )
        sizes = [len(ev["train"]), 0 if valid is None else len(valid), len(ev["test"])]
        info = {"kind": "shipped_events", "cut": ev["test"].t_start, "sizes": sizes}
        return Split(ev["train"], valid, ev["test"], info=info)
    raise CascadeKitError(
        f"{bundle.name} ships no train/test split; use random_by_cascade, "
        "chronological_by_cascade or by_event_time"
    )


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
    """What a popularity model sees and must predict.

    ``cascades`` holds only adoptions strictly before the observation time, with per-cascade
    ``meta["observed_size"]`` (rows kept), ``meta["label"]`` (adoptions in [t_obs, t_pred): the
    increment) and ``meta["final_size"]`` (observed + label: the size at t_pred). ``info`` records
    the window and every cascade or row a filter dropped.
    """

    cascades: CascadeSet
    t_obs: float
    t_pred: float
    info: dict[str, Any]


def observation_window(
    cascades: CascadeSet,
    t_obs: float,
    t_pred: float,
    *,
    relative: bool = True,
    min_observed: int | None = None,
    max_observed: int | None = None,
    publish_hours: tuple[int, int] | None = None,
    utc_offset_hours: float = 0.0,
) -> ObservedCascades:
    """Popularity protocol (protocols §3): observe up to t_obs, label the increment up to t_pred.

    With ``relative=True`` both times are offsets from each cascade's root time (its first adoption
    when no root time is known); with ``relative=False`` they are absolute times shared by all
    cascades. A row is observed iff its time < the observation time (strictly), so nothing at or
    after it reaches the model; this is checked on the result.

    Filters, each counted in ``info`` (``dropped_*``): ``publish_hours=(8, 18)`` keeps cascades
    whose root was published in hours 8 … 18 inclusive (DeepHawkes/CasCN drop hour ≤ 7 or ≥ 19),
    the local hour computed from unix seconds + ``utc_offset_hours`` (Weibo: +8) without the
    machine's timezone; ``min_observed`` / ``max_observed`` bound the observed size.
    """
    if not t_obs < t_pred or (relative and t_obs <= 0):
        raise ValueError(f"need {'0 < ' if relative else ''}t_obs < t_pred, got {t_obs}, {t_pred}")
    if cascades.times is None:
        raise CascadeKitError("an observation window needs timestamps")
    info: dict[str, Any] = {
        "t_obs": t_obs, "t_pred": t_pred, "relative": relative, "input_cascades": len(cascades),
    }  # fmt: skip
    start = cascades.start_times()
    keep = np.ones(len(cascades), dtype=bool)
    if relative:
        keep &= ~np.isnan(start)
        info["dropped_no_start_time"] = int((~keep).sum())
        obs_cut, pred_cut = start + t_obs, start + t_pred
    else:
        obs_cut = np.full(len(cascades), float(t_obs))
        pred_cut = np.full(len(cascades), float(t_pred))
    # the same comparisons define the observed rows, their counts and the labels
    t = cascades.times
    obs_row = t < np.repeat(obs_cut, cascades.lengths)
    label_row = ~obs_row & (t < np.repeat(pred_cut, cascades.lengths))
    info["rows_without_time"] = int(np.isnan(t).sum())
    idx = cascades.cascade_index
    observed = np.bincount(idx[obs_row], minlength=len(cascades))
    label = np.bincount(idx[label_row], minlength=len(cascades))
    if publish_hours is not None:
        hour = np.floor(np.mod(start + utc_offset_hours * 3600.0, 86400.0) / 3600.0)
        ok = (hour >= publish_hours[0]) & (hour <= publish_hours[1])
        info["dropped_publish_hour"] = int((keep & ~ok).sum())
        keep &= ok
    for name, ok in (
        ("dropped_min_observed", None if min_observed is None else observed >= min_observed),
        ("dropped_max_observed", None if max_observed is None else observed <= max_observed),
    ):
        if ok is not None:
            info[name] = int((keep & ~ok).sum())
            keep &= ok
    prefix = cascades.prefix(before=obs_cut)
    prefix.meta = {
        **prefix.meta, "label": label, "observed_size": observed, "final_size": observed + label,
    }  # fmt: skip
    out = prefix.subset(keep)
    late = out.times >= np.repeat(obs_cut[keep], out.lengths)
    if late.any() or not np.array_equal(out.lengths, out.meta["observed_size"]):
        raise AssertionError("observation window leaked rows at or after the observation time")
    info["kept_cascades"] = len(out)
    return ObservedCascades(out, t_obs, t_pred, info)
