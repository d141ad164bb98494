"""Figures of the MIC paper (002 §7): cascade curves (Fig. 3/5), log-likelihood against the training
fraction (Fig. 4), ranked activity (Fig. 6/7) and log-likelihood-ratio heatmaps (Fig. 2).

Every function writes one PNG (`report.plots.save_figure`, no pyplot) and returns its path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from cascadekit.report.plots import save_figure


def plot_cascade_curves(
    t: Sequence[float],
    curves: Mapping[str, np.ndarray],
    path: str | Path,
    *,
    spread: Mapping[str, np.ndarray] | None = None,
    cascade_names: Sequence[str] | None = None,
    ylabel: str = "events",
    title: str = "",
) -> Path:
    """One panel per cascade, one line per named series (e.g. real, simulated mean, analytic).

    Shapes:
        t: (K,); curves[name]: (K, C); spread[name]: (K, C) half-width of a shaded ±band
    """
    t = np.asarray(t, dtype=float)
    arrays = {k: np.asarray(v, dtype=float) for k, v in curves.items()}
    n_c = next(iter(arrays.values())).shape[1]
    for name, a in arrays.items():
        if a.shape != (len(t), n_c):
            raise ValueError(f"curve {name!r} must be ({len(t)}, {n_c}), got {a.shape}")
    names = list(cascade_names) if cascade_names is not None else [str(c) for c in range(n_c)]
    fig = Figure(figsize=(3.2 * n_c, 3.0), dpi=110)
    axes = fig.subplots(1, n_c, squeeze=False)
    for c, ax in enumerate(axes[0]):
        for name, a in arrays.items():
            style = "--" if "analytic" in name else "-"
            (line,) = ax.plot(t, a[:, c], style, label=name)
            if spread and name in spread:
                s = np.asarray(spread[name], dtype=float)[:, c]
                ax.fill_between(t, a[:, c] - s, a[:, c] + s, color=line.get_color(), alpha=0.2)
        ax.set(title=f"cascade {names[c]}", xlabel="time", ylabel=ylabel if c == 0 else "")
        ax.grid(alpha=0.3)
    axes[0][0].legend(frameon=False, fontsize=7)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def plot_ranked_activity(
    real: Sequence[float],
    sim_mean: Sequence[float],
    sim_std: Sequence[float],
    path: str | Path,
    *,
    what: str = "users",
    title: str = "",
) -> Path:
    """Event counts sorted by rank, real against simulated mean ± sd (log y axis, Fig. 6/7).

    Shapes:
        real, sim_mean, sim_std: (R,) already sorted from most to least active
    """
    real, mean, std = (np.asarray(a, dtype=float) for a in (real, sim_mean, sim_std))
    if not real.shape == mean.shape == std.shape:
        raise ValueError("real, sim_mean and sim_std must have the same length")
    rank = np.arange(1, len(real) + 1)
    fig = Figure(figsize=(5, 3.4), dpi=110)
    ax = fig.subplots()
    ax.plot(rank, real, "k-", label="real")
    ax.plot(rank, mean, "-", color="tab:red", label="simulated (mean ± sd)")
    ax.fill_between(rank, np.maximum(mean - std, 0.5), mean + std, color="tab:red", alpha=0.2)
    ax.set_yscale("log")
    ax.set(xlabel=f"{what} ranked by activity", ylabel="events", title=title)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return save_figure(fig, path)


def plot_loglik_vs_fraction(
    fractions: Sequence[float],
    series: Mapping[str, Sequence[float]],
    path: str | Path,
    *,
    ylabel: str = "test log-likelihood per event",
    title: str = "",
) -> Path:
    """Test log-likelihood of each model against the fraction of events used for training (Fig. 4).

    Shapes:
        fractions: (F,); series[name]: (F,)
    """
    x = np.asarray(fractions, dtype=float)
    fig = Figure(figsize=(5, 3.4), dpi=110)
    ax = fig.subplots()
    for name, ys in series.items():
        if len(ys) != len(x):
            raise ValueError(f"series {name!r} has {len(ys)} values for {len(x)} fractions")
        ax.plot(x, ys, marker="o", ms=3, label=name)
    ax.set(xlabel="training fraction", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return save_figure(fig, path)


def plot_ratio_heatmaps(
    betas: Sequence[float],
    sigmas: Sequence[float],
    ratios: Mapping[str, np.ndarray],
    path: str | Path,
    *,
    title: str = "",
) -> Path:
    """Fig. 2: one heatmap per competitor of L_test(model) / L_test(MIC) over (β, σ21), with a
    shared colour scale (ratio > 1 means MIC is better, log-likelihoods being negative).

    Shapes:
        betas: (B,); sigmas: (S,); ratios[name]: (B, S)
    """
    arrays = {k: np.asarray(v, dtype=float) for k, v in ratios.items()}
    for name, a in arrays.items():
        if a.shape != (len(betas), len(sigmas)):
            raise ValueError(
                f"ratios {name!r} must be ({len(betas)}, {len(sigmas)}), got {a.shape}"
            )
    lo = min(float(a.min()) for a in arrays.values())
    hi = max(float(a.max()) for a in arrays.values())
    fig = Figure(figsize=(3.4 * len(arrays) + 0.8, 3.4), dpi=110, layout="constrained")
    axes = fig.subplots(1, len(arrays), squeeze=False)
    image = None
    for ax, (name, a) in zip(axes[0], arrays.items(), strict=True):
        image = ax.imshow(a, origin="lower", cmap="viridis", vmin=lo, vmax=hi, aspect="auto")
        for (i, j), v in np.ndenumerate(a):
            ax.text(j, i, f"{v:.3f}", ha="center", va="center", fontsize=6, color="w")
        ax.set_xticks(range(len(sigmas)), [f"{s:g}" for s in sigmas])
        ax.set_yticks(range(len(betas)), [f"{b:g}" for b in betas])
        ax.set(xlabel="σ21", ylabel="β", title=f"{name} / MIC")
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.9)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
