"""Cascade popularity: the incremental size of each cascade after an observation window
(DeepHawkes / CasCN / CasFlow / DMT-LIC protocol; protocols.md §3 and §7).

A model sees, for every cascade, only its adoptions strictly before ``obs`` seconds after
publication — the observed prefix: users in adoption order, their times and parents (the repost
tree) — and predicts the label, the number of adoptions in [obs, horizon). `observed_split` makes
the three parts:

1. the window and its filters (`data.splits.observation_window`, every drop counted): publish hour
   (computed from unix seconds and ``utc_offset_hours``, never from the machine's timezone),
   ``min_observed`` / ``max_observed`` observed adoptions (the root counts as one);
2. ``truncate``: only the first ``truncate`` observed adoptions are kept (CasFlow: 100); the label
   and ``meta["observed_size"]`` stay those of the whole window;
3. the split by cascade: ``order="time"`` sorts by publish time (ties by id) and cuts
   ``fractions`` (every test cascade is published at or after every training one: the
   leakage-safe protocol), ``"random"`` is the seeded random cut of CasFlow / CasFT / CTCP (which
   leaks the future: report it beside the time-ordered one), ``"shipped"`` the dataset's own split.

A dataset that is already windowed (its cascades carry ``meta["label"]`` and
``attrs["observation_window_s"]``, e.g. ``weibo_deephawkes_obs1h``) keeps its labels; an ``obs``
(or a ``horizon``, when the dataset states one) that contradicts it is refused. Its shipped split
is used unless ``order`` asks for another (``order=None``: the shipped split of a windowed
dataset, else "time").

Each part is a `CascadeSet` of observed prefixes with ``meta["label"]``, ``meta["observed_size"]``,
``meta["final_size"]`` (observed + label), ``meta["publish_time"]`` and
``attrs["observation_window_s"]`` / ``attrs["horizon_s"]``. Models see only ``split.train`` in
``fit``, so any vocabulary or graph they build comes from the training part's observed window.

Metrics (`evaluate_popularity`): ``msle`` = `metrics.msle_log2` (the selection metric, minimised),
``mape`` = `metrics.mape_log2` (MMCAs / CasFT), ``msle_casflow`` / ``mape_casflow`` (CasFlow's
clipped variants, named apart because they differ), ``mse`` = the MSE of log2(y + 1) that DMT-LIC
reports (its §3.1 cites DeepHawkes, DeepCas and Topo-LSTM for MSE, which all score log2 sizes, and
0.196 is only plausible on that scale; eq. 4 omits the transform) — by definition equal to ``msle``.

Activation (DMT-LIC's micro-level task) on the same observed cascades: a model implementing
`models.base.NextUserScorer` is also scored by `tasks.next_user.evaluate_next_user` on the test
part's observed prefixes (each cut to ``activation_max_len`` users, then END): ``mrr``, ``a@5``,
``a@10`` (A@k = hits@k), ``activation_nll``, ``activation_positions``. A model gets the metrics of
the protocols it implements (size, activation or both); one implementing only `NextUserScorer`
(NDM, the LSTM) is selected by the next-user task's validator and monitor (validation MAP@10 on
the observed prefixes, `selection`), since it has no MSLE. The END scored after a prefix marks the
end of the window, not of the cascade; on weibo_deephawkes_obs1h these END targets are 144 of the
7411 test positions and 80 % of the next adopters never adopt in training, so a model that ranks
END first at every position scores MRR ≈ A@k ≈ 0.02 from END alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.splits import (
    Split,
    chronological_by_cascade,
    observation_window,
    random_by_cascade,
    shipped,
)
from cascadekit.errors import CascadeKitError
from cascadekit.metrics import mape_casflow, mape_log2, mse, msle_casflow, msle_log2
from cascadekit.models.base import NextUserScorer, PopularityRegressor, network_of
from cascadekit.models.sequence import SequenceEstimator
from cascadekit.options import build
from cascadekit.tasks.base import Task
from cascadekit.tasks.next_user import NextUser, evaluate_next_user

ORDERS = ("time", "random", "shipped")
PARTS = ("train", "valid", "test")


def _deephawkes_preset(obs: float) -> dict[str, Any]:
    # DeepHawkes gen_sequence / CasCN: keep hours 8..18 Beijing time, 10..1000 observed, by time
    return {"horizon": 86400.0, "publish_hours": (8, 18), "utc_offset_hours": 8.0,
            "min_observed": 10, "max_observed": 1000, "truncate": None, "order": "time",
            "fractions": (0.7, 0.15, 0.15)}  # fmt: skip


def _casflow_preset(obs: float) -> dict[str, Any]:
    # CasFlow gene_cas.py: hour in [8, 19) for T_o = 1 h, [8, 18) otherwise; ≥ 10 observed; random
    # 70/15/15 with seed 0 (Python's shuffle there, numpy's here: same kind, other permutation);
    # models read the first 100 observed adoptions
    return {"horizon": 86400.0, "publish_hours": (8, 18 if obs == 3600 else 17),
            "utc_offset_hours": 8.0, "min_observed": 10, "max_observed": None, "truncate": 100,
            "order": "random", "fractions": (0.7, 0.15, 0.15)}  # fmt: skip


SPLIT_PRESETS = {"deephawkes": _deephawkes_preset, "casflow": _casflow_preset}


@dataclass
class PopularitySplitOptions:
    """The popularity split (module docstring). ``obs`` and ``horizon`` are seconds after
    publication; ``publish_hours=(a, b)`` keeps local publish hours a … b inclusive;
    ``order``: "time" | "random" | "shipped" | None (see the module docstring). ``preset``
    ("deephawkes" | "casflow") fills every option not given explicitly with that pipeline's
    value (protocols §7); run.json records the resolved values next to its name."""

    preset: str | None = None
    obs: float = 3600.0
    horizon: float = 86400.0
    publish_hours: tuple[int, int] | None = None
    utc_offset_hours: float = 0.0
    min_observed: int | None = 10
    max_observed: int | None = None
    truncate: int | None = None
    order: str | None = None
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)

    def __post_init__(self) -> None:
        if self.preset is not None and self.preset not in SPLIT_PRESETS:
            raise ValueError(
                f"preset must be one of {', '.join(SPLIT_PRESETS)}, got {self.preset!r}"
            )
        if not 0 < self.obs < self.horizon:
            raise ValueError(f"need 0 < obs < horizon, got obs={self.obs}, horizon={self.horizon}")
        if self.order is not None and self.order not in ORDERS:
            raise ValueError(
                f"order must be one of {', '.join(ORDERS)} or None, got {self.order!r}"
            )
        if self.publish_hours is not None:
            a, b = self.publish_hours
            if not 0 <= a <= b <= 23:
                raise ValueError(
                    f"publish_hours must be 0 <= a <= b <= 23, got {self.publish_hours}"
                )
        for name in ("min_observed", "max_observed", "truncate"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 or None, got {value}")
        if (
            len(self.fractions) != 3
            or min(self.fractions) < 0
            or abs(sum(self.fractions) - 1) > 1e-9
        ):
            raise ValueError(
                f"fractions must be 3 non-negative numbers summing to 1: {self.fractions}"
            )


def resolve_split_options(values: dict[str, Any]) -> PopularitySplitOptions:
    """The split options from loose ``values``: a ``preset`` fills every option not given."""
    what = "popularity split"
    given = build(PopularitySplitOptions, values, what)
    if given.preset is None:
        return given
    preset = SPLIT_PRESETS[given.preset](given.obs)
    return build(PopularitySplitOptions, {**preset, **values}, what)


def is_windowed(cascades: CascadeSet) -> bool:
    """Whether a dataset's cascades are already observed prefixes with labels."""
    return "label" in cascades.meta and "observation_window_s" in cascades.attrs


def profile_columns(bundle: DatasetBundle, cascades: CascadeSet) -> dict[str, np.ndarray]:
    """Each adopter's numeric profile fields as per-adoption columns ``profile:<field>`` (NaN
    where the dataset has no profile for that user): what a model of user content reads."""
    profiles = bundle.content.profiles if bundle.content is not None else {}
    return {f"profile:{k}": v[cascades.users] for k, v in profiles.items()
            if v.dtype.kind == "f" and len(v) == cascades.n_users}  # fmt: skip


def image_columns(bundle: DatasetBundle, cascades: CascadeSet) -> dict[str, np.ndarray]:
    """The source posts' image features as per-cascade columns ``image_features`` (C, D) and
    ``image_mask`` (C,) (`data.content.Content`; a cascade the content does not list has none);
    nothing when the dataset has no images."""
    content = bundle.content
    if content is None or content.image_features is None:
        return {}
    row = {str(c): i for i, c in enumerate(content.cascade_ids)}
    at = np.array([row.get(str(c), -1) for c in cascades.ids], dtype=np.int64)
    mask = at >= 0
    if content.image_mask is not None:
        mask &= np.asarray(content.image_mask, dtype=bool)[np.maximum(at, 0)]
    features = np.where(mask[:, None], content.image_features[np.maximum(at, 0)], 0.0)
    return {"image_features": features.astype(np.float32), "image_mask": mask}


def _check_windowed(name: str, cascades: CascadeSet, o: PopularitySplitOptions) -> None:
    shipped_obs = float(cascades.attrs["observation_window_s"])
    if o.obs != shipped_obs:
        raise CascadeKitError(
            f"{name} is already windowed at obs = {shipped_obs:g} s (its labels count adoptions "
            f"after that); obs = {o.obs:g} contradicts it: use obs={shipped_obs:g} or raw data"
        )
    shipped_horizon = cascades.attrs.get("horizon_s")
    if shipped_horizon is not None and o.horizon != float(shipped_horizon):
        raise CascadeKitError(
            f"{name} labels adoptions up to horizon = {float(shipped_horizon):g} s; "
            f"horizon = {o.horizon:g} contradicts it"
        )


def _shipped_tags(bundle: DatasetBundle, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """(part number 0/1/2 of every cascade, −1 outside the shipped split; the split's info)."""
    split = shipped(bundle, seed=seed)  # carves validation from train when none is shipped
    part_of = {cid: k for k, name in enumerate(PARTS) for cid in getattr(split, name).ids}
    tags = np.array([part_of.get(cid, -1) for cid in bundle.cascades.ids], dtype=np.int64)
    return tags, split.info


def observed_split(bundle: DatasetBundle, seed: int, options: PopularitySplitOptions) -> Split:
    """Train / valid / test observed prefixes with labels (module docstring); ``info`` holds the
    window's filter counts (``window``), the truncation, the order used and the part sizes."""
    o = options
    if bundle.cascades is None or bundle.cascades.times is None:
        raise CascadeKitError(f"{bundle.name}: the popularity task needs cascades with times")
    cascades = bundle.cascades
    windowed = is_windowed(cascades)
    order = o.order or ("shipped" if windowed and bundle.splits else "time")
    extra: dict[str, np.ndarray] = {}
    if windowed:
        _check_windowed(bundle.name, cascades, o)
        extra["shipped_label"] = cascades.meta["label"]
    if order == "shipped":
        if not bundle.splits:
            raise CascadeKitError(f"{bundle.name} ships no split; use order=time or order=random")
        extra["part"], shipped_info = _shipped_tags(bundle, seed)
    window = observation_window(
        cascades.with_columns(meta={**cascades.meta, **extra}), o.obs, o.horizon, min_observed=o.min_observed,
        max_observed=o.max_observed, publish_hours=o.publish_hours,
        utc_offset_hours=o.utc_offset_hours,
    )  # fmt: skip
    observed = window.cascades
    meta = dict(observed.meta)
    if windowed:
        if np.any(meta["label"] > 0):
            raise CascadeKitError(f"{bundle.name}: a windowed dataset holds adoptions after obs")
        label = meta.pop("shipped_label")
        if np.any(label < 0) or np.any(label != np.round(label)):
            raise CascadeKitError(f"{bundle.name}: shipped labels must be counts (integers ≥ 0)")
        meta["label"] = label.astype(np.int64)
        meta["final_size"] = meta["observed_size"] + meta["label"]
    meta["publish_time"] = observed.start_times()
    info: dict[str, Any] = {"order": order, "labels": "shipped" if windowed else "window",
                            "window": window.info}  # fmt: skip
    if o.truncate is not None:
        long = observed.lengths > o.truncate
        info["truncated_cascades"] = int(long.sum())
        info["truncated_rows"] = int((observed.lengths[long] - o.truncate).sum())
        observed = observed.prefix(max_len=o.truncate)
    tags = meta.pop("part", None)
    window_attrs = {"observation_window_s": o.obs, "horizon_s": o.horizon}
    events = {**observed.events, **profile_columns(bundle, observed)}
    observed = observed.with_columns(
        meta={**meta, **image_columns(bundle, observed)},
        attrs={**observed.attrs, **window_attrs}, events=events,
    )  # fmt: skip
    if order == "time":
        split = chronological_by_cascade(observed, o.fractions)
    elif order == "random":
        split = random_by_cascade(observed, o.fractions, seed=seed)
    else:
        info["dropped_not_in_shipped_split"] = int((tags < 0).sum())
        parts = [observed.subset(tags == k) for k in range(3)]
        split = Split(*parts, info={**shipped_info, "sizes": [len(p) for p in parts]})
    split.info = {**split.info, **info}
    split.info["mean_label"] = [
        float(p.meta["label"].mean()) if len(p) else None
        for p in (split.train, split.valid, split.test)
    ]
    if not len(split.train) or not len(split.test):
        raise CascadeKitError(
            f"{bundle.name}: no cascades left in train or test (sizes {split.info['sizes']}; "
            f"window filters {window.info})"
        )
    return split


def evaluate_popularity(
    model: PopularityRegressor, cascades: CascadeSet, *, predictions: bool = True
) -> dict[str, Any]:
    """Every popularity metric of ``model`` on ``cascades`` (module docstring), the number of
    cascades and the mean label and prediction; with ``predictions``, the per-cascade ids,
    observed sizes (rows seen), labels and predictions too (for the plots)."""
    true = np.asarray(cascades.meta["label"], dtype=np.float64)
    pred = np.asarray(model.predict_increment(cascades), dtype=np.float64)
    if pred.shape != true.shape or not np.all(np.isfinite(pred)):
        raise CascadeKitError(
            f"{type(model).__name__}.predict_increment must return {true.shape} finite values, "
            f"got shape {pred.shape}"
        )
    negative = int((pred < 0).sum())
    pred = np.maximum(pred, 0.0)  # an increment is a count: a negative prediction means 0
    out: dict[str, Any] = {
        "msle": msle_log2(pred, true),
        "mape": mape_log2(pred, true),
        "msle_casflow": msle_casflow(pred, true),
        "mape_casflow": mape_casflow(pred, true),
        "mse": mse(np.log2(pred + 1), np.log2(true + 1)),
        "n_cascades": len(true),
        "mean_label": float(true.mean()),
        "mean_prediction": float(pred.mean()),
        "negative_predictions_clipped": negative,
    }
    if predictions:
        out["predictions"] = {
            "id": cascades.ids.tolist(),
            "observed_size": cascades.lengths.tolist(),
            "true": true.tolist(),
            "pred": pred.tolist(),
        }
    return out


def evaluate_activation(
    model: NextUserScorer, cascades: CascadeSet, max_len: int
) -> dict[str, Any]:
    """MRR, A@5, A@10 of the next adopter over every position of the observed prefixes, exactly
    as `tasks.next_user` ranks (infected users masked, END after each prefix)."""
    r = evaluate_next_user(model, cascades, ks=(5, 10), max_len=max_len)
    return {"mrr": r["mrr"], "a@5": r["hits@5"], "a@10": r["hits@10"],
            "activation_nll": r["nll"], "activation_positions": r["positions"]}  # fmt: skip


def _activation_only(model: Any) -> bool:
    """Whether ``model`` (fitted or not) scores next users but predicts no increment: an unfitted
    `SequenceEstimator` (NDM, LSTM) has no network yet to ask."""
    net = network_of(model)
    if isinstance(net, PopularityRegressor):
        return False
    return isinstance(net, NextUserScorer) or isinstance(model, SequenceEstimator)


@dataclass
class PopularityOptions:
    """``predictions``: include the per-cascade predictions in the result (the report's plots);
    ``activation_max_len``: next-user ranking reads each observed prefix up to this many users
    (DMT-LIC reads 100)."""

    predictions: bool = True
    activation_max_len: int = 100


class Popularity(Task):
    """Incremental cascade size after an observation window (module docstring): MSLE (log2,
    +1) and MAPE in both families, MSE of log2 sizes; selects on validation MSLE."""

    name = "popularity"
    summary = "incremental cascade size after an observation window: MSLE, MAPE (two families)"
    split_options = PopularitySplitOptions
    Options = PopularityOptions
    protocols = (PopularityRegressor, NextUserScorer)
    monitor = ("msle", "min")

    def __init__(
        self, split: dict[str, Any] | None = None, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(None, options)
        self.split = resolve_split_options(dict(split or {}))

    def build(self, bundle: DatasetBundle, seed: int) -> Split:
        return observed_split(bundle, seed, self.split)

    def validator(self) -> Any:
        return lambda net, valid: evaluate_popularity(net, valid, predictions=False)

    def selection(self, model: Any) -> tuple[Any, Any]:
        """A next-user-only model selects as in the next-user task (module docstring)."""
        if _activation_only(model):
            return NextUser.validator(self), NextUser.monitor
        return super().selection(model)

    def evaluate(
        self, model: Any, split: Split, *, seed: int = 0, progress: bool = False
    ) -> dict[str, Any]:
        net = self.check(model)
        out: dict[str, Any] = {}
        if isinstance(net, PopularityRegressor):
            out.update(evaluate_popularity(net, split.test, predictions=self.options.predictions))
        if isinstance(net, NextUserScorer):
            # a model that reads fewer adopters (DMT-LIC's max_nodes) is ranked as far as it reads
            max_len = min(self.options.activation_max_len, getattr(net, "max_positions", 10**9))
            out.update(evaluate_activation(net, split.test, max_len))
        return out
