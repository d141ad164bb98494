"""Point-process evaluation of the Hawkes family (MIC paper 002 §7, protocols.md §6).

Given a model fitted on the training events (first 80 % by time) and the real test log:

* test log-likelihood of the test window with the training events as history (the test window's
  intensities depend on them), total and per event, and for the top 5 / 10 / 25 % most active users
  (activity counted on the *training* events, so the selection does not peek at the test set);
* ``n_simulations`` simulations of the test horizon from the learned parameters, started from the
  training history; per cascade, the mean simulated event counts per time bin are compared with the
  real ones by inverse ℓ1 distance and Pearson correlation (and for all cascades together);
* ranked activity: users (and cascades) sorted by event count, real vs simulated mean ± sd.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.events import EventLog
from cascadekit.data.splits import Split, by_event_time
from cascadekit.errors import CascadeKitError
from cascadekit.metrics import binned_counts, inverse_l1, pearson
from cascadekit.models.hawkes.analytics import stationarity
from cascadekit.simulate.hawkes_params import HawkesParams
from cascadekit.tasks.base import Task


@runtime_checkable
class FittedHawkes(Protocol):
    """What the point-process task needs: per-user log-likelihood terms of a window given a
    history, and the parameters to simulate from."""

    params_: HawkesParams | None

    def log_likelihood_terms(
        self, events: EventLog, *, history: EventLog | None = None, window: Any = None
    ) -> np.ndarray: ...


def top_users(train: EventLog, fraction: float) -> np.ndarray:
    """Indices of the ⌈fraction·U_active⌉ most active users in ``train`` (ties by index)."""
    counts = np.bincount(train.users, minlength=train.n_users)
    active = np.flatnonzero(counts > 0)
    k = max(1, int(np.ceil(fraction * len(active))))
    order = np.lexsort((np.arange(train.n_users), -counts))
    return order[:k]


def ranked(counts: np.ndarray) -> np.ndarray:
    """Counts sorted from most to least active (the x-axis of Fig. 6/7 is the rank)."""
    return np.sort(counts)[::-1]


def evaluate_point_process(
    model: FittedHawkes,
    train: EventLog,
    test: EventLog,
    *,
    n_simulations: int = 5,
    n_bins: int = 20,
    top_fractions: Sequence[float] = (0.05, 0.10, 0.25),
    seed: int = 0,
    max_events: int | None = None,
) -> dict[str, Any]:
    """Test log-likelihood (total, per event, of the top 5/10/25 % most active training users)
    with the training events as history, and ``n_simulations`` simulations of the test window
    compared with the real test log. ``max_events`` caps each simulation (default 20 × the test
    events: a fit near criticality can explode); ``capped_simulations`` counts those that hit it."""
    from cascadekit.simulate.hawkes import simulate

    per_user = np.asarray(model.log_likelihood_terms(test, history=train))
    total = float(per_user.sum())
    out: dict[str, Any] = {
        # a non-stationary fit (ρ(Wᵀ)·τ ≥ 1) makes the simulations below explode: say so up front
        "stationarity": stationarity(model.params_),
        "test_events": len(test),
        "test_loglik": total,
        "test_loglik_per_event": total / max(len(test), 1),
    }
    for f in top_fractions:
        users = top_users(train, f)
        out[f"test_loglik_top{round(100 * f)}pct_users"] = float(per_user[users].sum())
        out[f"test_loglik_top{round(100 * f)}pct_users_mean"] = float(per_user[users].mean())

    edges = np.linspace(test.t_start, test.t_end, n_bins + 1)
    real = binned_counts(test.times, test.marks, test.n_marks, edges).astype(float)
    limit = max_events if max_events is not None else 20 * max(len(test), 1)
    sims, user_counts, mark_counts, capped = [], [], [], 0
    for k in range(n_simulations):
        sim = simulate(
            model.params_, test.t_end, t_start=test.t_start, history=train, seed=seed + k,
            max_events=limit,
        )  # fmt: skip
        capped += int(len(sim) >= limit)
        sims.append(binned_counts(sim.times, sim.marks, test.n_marks, edges))
        user_counts.append(ranked(np.bincount(sim.users, minlength=test.n_users)))
        mark_counts.append(ranked(np.bincount(sim.marks, minlength=test.n_marks)))
    mean_sim = np.mean(sims, axis=0)
    out["per_cascade"] = {
        test.mark_vocab.tokens[c]: {
            "real_events": int(real[c].sum()),
            "simulated_events_mean": float(mean_sim[c].sum()),
            "inverse_l1": inverse_l1(real[c], mean_sim[c]),
            "pearson": pearson(real[c], mean_sim[c]),
        }
        for c in range(test.n_marks)
    }
    out["overall"] = {
        "inverse_l1": inverse_l1(real.sum(axis=0), mean_sim.sum(axis=0)),
        "pearson": pearson(real.sum(axis=0), mean_sim.sum(axis=0)),
        "real_events": int(real.sum()),
        "simulated_events_mean": float(mean_sim.sum()),
        "capped_simulations": capped,
    }
    out["curves"] = {
        "bin_edges": edges.tolist(),
        "real": real.tolist(),
        "simulated_mean": mean_sim.tolist(),
    }
    uc, mc = np.array(user_counts), np.array(mark_counts)
    out["ranked_activity"] = {
        "users_real": ranked(np.bincount(test.users, minlength=test.n_users)).tolist(),
        "users_sim_mean": uc.mean(axis=0).tolist(),
        "users_sim_std": uc.std(axis=0).tolist(),
        "cascades_real": ranked(np.bincount(test.marks, minlength=test.n_marks)).tolist(),
        "cascades_sim_mean": mc.mean(axis=0).tolist(),
        "cascades_sim_std": mc.std(axis=0).tolist(),
    }
    return out


@dataclass
class EventSplitOptions:
    """Train / test by event time (protocols §6): the first ``train_fraction`` of the events train,
    the rest test; ``max_events`` first keeps only the last that many events (a final time
    window), bounding the cost on large logs."""

    train_fraction: float = 0.8
    max_events: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.train_fraction < 1:
            raise ValueError(f"train_fraction must be in (0, 1), got {self.train_fraction}")
        if self.max_events is not None and self.max_events < 2:
            raise ValueError(f"max_events must be >= 2, got {self.max_events}")


def event_split(bundle: DatasetBundle, options: EventSplitOptions) -> Split:
    """`EventSplitOptions` applied to ``bundle.events``."""
    events = bundle.events
    if events is None:
        raise CascadeKitError(
            f"{bundle.name} has no marked event log; the point_process task needs one "
            "(e.g. c4_music2_url, lastfm_hetrec2011_2k, or synthetic_mic)"
        )
    if options.max_events is not None and options.max_events < len(events):
        cut = events.times[len(events) - options.max_events]
        events = events.window(float(cut), np.nextafter(events.t_end, np.inf))
    split = by_event_time(events, options.train_fraction)
    split.info["max_events"] = options.max_events
    return split


@dataclass
class PointProcessOptions:
    """``n_simulations`` of the test window compared in ``n_bins`` time bins; log-likelihood of
    the ``top_fractions`` most active training users; ``max_simulated_events`` caps each
    simulation (None: 20 × the test events)."""

    n_simulations: int = 5
    n_bins: int = 20
    top_fractions: tuple[float, ...] = (0.05, 0.10, 0.25)
    max_simulated_events: int | None = None

    def __post_init__(self) -> None:
        if self.n_simulations < 1 or self.n_bins < 1:
            raise ValueError("n_simulations and n_bins must be >= 1")
        if self.max_simulated_events is not None and self.max_simulated_events < 1:
            raise ValueError(f"max_simulated_events must be >= 1, got {self.max_simulated_events}")


class PointProcess(Task):
    """Held-out log-likelihood and simulation agreement of a fitted marked Hawkes model (MIC
    paper 002 §7). No per-epoch selection: these models are fitted by Alg. 1, not epochs."""

    name = "point_process"
    summary = "test log-likelihood and simulated vs real counts of an event log"
    split_options = EventSplitOptions
    Options = PointProcessOptions
    protocols = (FittedHawkes,)
    monitor = None

    def build(self, bundle: DatasetBundle, seed: int) -> Split:
        return event_split(bundle, self.split)

    def evaluate(
        self, model: Any, split: Split, *, seed: int = 0, progress: bool = False
    ) -> dict[str, Any]:
        o = self.options
        model = self.check(model)
        out = evaluate_point_process(
            model, split.train, split.test, n_simulations=o.n_simulations, n_bins=o.n_bins,
            top_fractions=o.top_fractions, seed=seed, max_events=o.max_simulated_events,
        )  # fmt: skip
        return {"tau": model.params_.tau, "beta": model.params_.beta, **out}
