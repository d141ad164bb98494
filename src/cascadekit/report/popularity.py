"""Popularity run plots: predicted against true increments (log–log), the squared log error by
observed cascade size, and — for a model that learns one (DeepHawkes) — the non-parametric time
decay over the observation window; for MMCAs the expert weights (global: their distribution over
the test cascades; local: a few cascades' weights).

Read-only over an evaluation result (``metrics/popularity.json`` with its per-cascade
``predictions``) and the fitted network; figures through `report.plots.save_figure`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cascadekit.report.plots import save_figure


def plot_predicted_vs_true(
    true: Sequence[float], pred: Sequence[float], path: Path, *, title: str = ""
) -> Path:
    """Each test cascade at (y + 1, ŷ + 1) on log axes, with the diagonal ŷ = y."""
    y, p = np.asarray(true, dtype=np.float64) + 1, np.asarray(pred, dtype=np.float64) + 1
    fig = Figure(figsize=(4.6, 4.4), dpi=120)
    ax = fig.subplots()
    ax.scatter(y, p, s=8, alpha=0.5, edgecolors="none")
    lo, hi = min(y.min(), p.min()), max(y.max(), p.max())
    ax.plot([lo, hi], [lo, hi], color="k", lw=0.8, ls="--", label="ŷ = y")
    ax.set(xscale="log", yscale="log", xlabel="true increment + 1",
           ylabel="predicted increment + 1", title=title)  # fmt: skip
    ax.grid(alpha=0.3, which="both")
    ax.legend(frameon=False, loc="upper left")
    return save_figure(fig, path)


def error_by_size(
    observed: Sequence[int], true: Sequence[float], pred: Sequence[float], n_bins: int = 8
) -> dict[str, list[float]]:
    """Squared log error (log2(ŷ + 1) − log2(y + 1))² averaged per bin of observed size, the bins
    quantiles of the observed sizes (repeated edges merged). Returns ``edges`` (B + 1),
    ``msle`` and ``count`` (B each); a bin holds sizes in [edge_i, edge_{i+1}) (the last one
    closed)."""
    n = np.asarray(observed, dtype=np.float64)
    err = (np.log2(np.asarray(pred, dtype=np.float64) + 1) - np.log2(np.asarray(true) + 1)) ** 2
    edges = np.unique(np.quantile(n, np.linspace(0, 1, n_bins + 1)))
    if len(edges) == 1:
        edges = np.array([edges[0], edges[0] + 1])
    which = np.clip(np.searchsorted(edges, n, side="right") - 1, 0, len(edges) - 2)
    count = np.bincount(which, minlength=len(edges) - 1)
    total = np.bincount(which, weights=err, minlength=len(edges) - 1)
    msle = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return {"edges": edges.tolist(), "msle": msle.tolist(), "count": count.tolist()}


def plot_error_by_size(bins: dict[str, list[float]], path: Path, *, title: str = "") -> Path:
    """Bars of the per-bin MSLE (`error_by_size`), each labelled with its cascade count."""
    edges = bins["edges"]
    labels = [f"{edges[i]:g}–{edges[i + 1]:g}" for i in range(len(edges) - 1)]
    fig = Figure(figsize=(1.5 + 0.7 * len(labels), 3.6), dpi=120)
    ax = fig.subplots()
    bars = ax.bar(range(len(labels)), bins["msle"])
    ax.bar_label(bars, labels=[f"n={c}" for c in bins["count"]], fontsize=7, padding=1)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set(xlabel="observed adoptions (bins of equal counts)", ylabel="MSLE (log2, +1)",
           title=title)  # fmt: skip
    ax.grid(axis="y", alpha=0.3)
    return save_figure(fig, path)


def plot_time_decay(decay: dict[str, list[float]], path: Path, *, title: str = "") -> Path:
    """The learned weight λ of each interval of the time from an adoption to the end of the
    observation window (``decay``: ``edges`` in seconds and ``weights``)."""
    edges = np.asarray(decay["edges"]) / 60.0
    fig = Figure(figsize=(5.0, 3.4), dpi=120)
    ax = fig.subplots()
    ax.stairs(decay["weights"], edges, fill=True, alpha=0.6)
    ax.axhline(0, color="k", lw=0.6)
    ax.set(xlabel="minutes from the adoption to the end of the window",
           ylabel="decay weight λ", title=title)  # fmt: skip
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_expert_weights(
    explained: dict[str, Any], path: Path, *, title: str = "", n_local: int = 10
) -> Path:
    """Left: each expert's weight over the cascades (box plot; the paper's Fig. 5, global).
    Right: the weights of ``n_local`` cascades spread over the predicted increment (stacked,
    local). ``explained``: `models.mmcas.MMCAsNet.explain`'s output."""
    names, w = explained["experts"], np.asarray(explained["weights"])
    order = np.argsort(explained["prediction"])
    picked = order[np.linspace(0, len(order) - 1, min(n_local, len(order))).astype(int)]
    fig = Figure(figsize=(10, 3.8), dpi=120)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    left.boxplot([w[:, k] for k in range(len(names))], showfliers=False)
    left.set_xticks(range(1, len(names) + 1), [n.replace("uniqueness:", "U:") for n in names],
                    rotation=30)  # fmt: skip
    left.set(ylabel="expert weight w", title=f"{title}: {len(w)} cascades".strip(": "))
    bottom = np.zeros(len(picked))
    for k, name in enumerate(names):
        right.bar(range(len(picked)), w[picked, k], bottom=bottom, label=name)
        bottom += w[picked, k]
    labels = [f"{2 ** explained['prediction'][i] - 1:.0f}" for i in picked]
    right.set_xticks(range(len(picked)), labels)
    right.set(xlabel="cascades by predicted increment", ylabel="weight", ylim=(0, 1))
    right.legend(frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return save_figure(fig, path)


def popularity_figures(
    folder: Path, result: dict[str, Any], decay: dict[str, list[float]] | None, title: str
) -> list[tuple[Path, str]]:
    """The figures of one popularity evaluation (those its result and model allow), with
    captions: predicted vs true and error by size need the result's ``predictions``, the time
    decay a model that exposes one (``decay``)."""
    out: list[tuple[Path, str]] = []
    rows = result["metrics"].get("predictions")
    if rows:
        path = plot_predicted_vs_true(
            rows["true"], rows["pred"], folder / "popularity_scatter.png", title=title
        )
        caption = "Test cascades: predicted against true increment (log–log; dashed: exact)."
        out.append((path, caption))
        bins = error_by_size(rows["observed_size"], rows["true"], rows["pred"])
        path = plot_error_by_size(bins, folder / "popularity_error_by_size.png", title=title)
        out.append((path, "Test MSLE by observed cascade size (bins of about equal counts)."))
    if decay is not None:
        path = plot_time_decay(decay, folder / "popularity_time_decay.png", title=title)
        caption = (
            "Learned non-parametric time decay: the weight of a repost path by the time from its "
            "adoption to the end of the observation window."
        )
        out.append((path, caption))
    return out
