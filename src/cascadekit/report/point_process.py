"""Point-process (marked Hawkes) run plots: count curves, intensities, ranked activity, bi-layer.

Read-only over fitted parameters and event logs (paper 002 Fig. 3–7 style)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cascadekit.data.events import EventLog
from cascadekit.simulate.hawkes import simulate
from cascadekit.simulate.hawkes_params import HawkesParams


def empirical_mixture(events: EventLog) -> np.ndarray:
    """Each user's share of events per cascade (uniform for a user with no events).

    Shapes:
        returns (U, C), rows summing to 1
    """
    counts = events.counts().astype(float)
    total = counts.sum(axis=1, keepdims=True)
    return np.where(total > 0, counts / np.maximum(total, 1.0), 1.0 / events.n_marks)


def count_curves(
    params: HawkesParams,
    events: EventLog,
    *,
    truth: HawkesParams | None = None,
    n_points: int = 40,
    n_simulations: int = 5,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Fig. 3 / 5 quantities on ``events``' window (shifted to start at 0): real cumulative counts
    per cascade, the mean ± sd of ``n_simulations`` simulations of ``params`` from an empty
    history, and the analytic E[n(t)] (eq. 29) of ``params`` (and of ``truth`` when given), each
    user's expected total split over cascades by the stationary shares (eq. 30).

    A fitted process that is not stationary (ρ(Wᵀ)·τ ≥ 1, possible on real data) has no
    stationary split and explodes over long windows; one expected to produce over 20 times the
    real number of events is too costly to simulate. Then the simulated and analytic curves are
    left out, and only "t" and "real" come back.

    Shapes:
        every value (K, C) with K = n_points, except "t" (K,)
    """
    from cascadekit.metrics import binned_counts
    from cascadekit.models.hawkes.analytics import expected_counts, stationary_cascade_split

    t = np.linspace(0.0, events.duration, n_points)
    # bin k is [t_{k-1}, t_k) (bin 0 collects nothing before 0), so the cumulative sum is n(t_k)
    edges = np.concatenate([[-np.inf], t])

    def cumulative(log: EventLog) -> np.ndarray:
        return np.cumsum(binned_counts(log.times - log.t_start, log.marks, log.n_marks, edges), 1).T

    out = {"t": t, "real": cumulative(events)}
    if not params.is_stationary() or expected_counts(params, t[-1]).sum() > 20 * len(events):
        return out
    sims = np.stack(
        [cumulative(simulate(params, events.duration, seed=seed + k)) for k in range(n_simulations)]
    )
    out |= {"sim_mean": sims.mean(0), "sim_std": sims.std(0)}
    for name, p in (("analytic_fitted", params), ("analytic_true", truth)):
        if p is not None:
            out[name] = expected_counts(p, t) @ stationary_cascade_split(p)
    return out


def plot_count_curves(curves: dict[str, np.ndarray], folder: Path, names: list[str]) -> list[Path]:
    """``count_curves`` as two PNGs: cumulative counts and per-bin rates (events per time unit)."""
    from cascadekit.report.hawkes_plots import plot_cascade_curves

    labels = {
        "real": "real",
        "sim_mean": "simulated (mean ± sd)",
        "analytic_fitted": "analytic, fitted Θ",
        "analytic_true": "analytic, true Θ",
    }
    series = {labels[k]: v for k, v in curves.items() if k in labels}
    t = curves["t"]
    note = "" if "sim_mean" in curves else "fitted process too explosive to simulate: real only"
    counts = plot_cascade_curves(
        t,
        series,
        folder / "counts.png",
        spread={labels["sim_mean"]: curves["sim_std"]} if "sim_std" in curves else None,
        cascade_names=names,
        ylabel="cumulative events",
        title=note,
    )
    rates = {k: np.diff(v, axis=0) / np.diff(t)[:, None] for k, v in series.items()}
    intensity = plot_cascade_curves(
        t[1:],
        rates,
        folder / "intensity.png",
        cascade_names=names,
        ylabel="events per time unit",
        title=note,
    )
    return [counts, intensity]


def point_process_plots(
    folder: Path,
    result: dict[str, Any],
    params: HawkesParams,
    train: EventLog,
    *,
    title: str,
    seed: int = 0,
    n_points: int = 40,
    truth: HawkesParams | None = None,
) -> list[Path]:
    """Plots of a fitted marked Hawkes run into ``folder``: test_counts.png (real test events vs
    the simulated mean, from the point-process ``result``); counts.png / intensity.png
    (`count_curves` on the training window: real, simulated from an empty history, analytic
    E[n(t)] of the fitted Θ and of ``truth`` when given); ranked user and cascade activity; the
    bi-layer picture (PNG + HTML) of the fitted Σ and W. Returns the written paths."""
    from cascadekit.report.bilayer import bilayer, render_html, render_png
    from cascadekit.report.hawkes_plots import plot_cascade_curves, plot_ranked_activity

    run = Path(folder)
    run.mkdir(parents=True, exist_ok=True)
    names = train.mark_vocab.tokens
    written = []

    pp = result["metrics"]
    edges = np.asarray(pp["curves"]["bin_edges"])
    real = np.cumsum(np.asarray(pp["curves"]["real"]), axis=1).T  # (bins, C)
    sim = np.cumsum(np.asarray(pp["curves"]["simulated_mean"]), axis=1).T
    written.append(
        plot_cascade_curves(
            edges[1:],
            {"real test": real, "simulated mean": sim},
            run / "test_counts.png",
            cascade_names=names,
            ylabel="cumulative events",
            title=title,
        )
    )

    curves = count_curves(params, train, truth=truth, n_points=n_points, seed=seed)
    written += plot_count_curves(curves, run, names)
    ra = pp["ranked_activity"]
    for what in ("users", "cascades"):
        written.append(
            plot_ranked_activity(
                ra[f"{what}_real"],
                ra[f"{what}_sim_mean"],
                ra[f"{what}_sim_std"],
                run / f"ranked_{what}.png",
                what=what,
            )
        )
    layer = bilayer(
        params,
        empirical_mixture(train),
        np.bincount(train.users, minlength=train.n_users),
        np.bincount(train.marks, minlength=train.n_marks),
        user_names=train.user_vocab.tokens,
        cascade_names=names,
        seed=seed,
    )
    written.append(render_png(layer, run / "bilayer.png", title=title))
    written.append(render_html(layer, run / "bilayer.html", title=title))
    return written
