"""Small, reusable matplotlib figures (Agg backend; PNG files)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)
import numpy as np  # noqa: E402


def save_figure(fig: plt.Figure, path: str | Path) -> Path:
    """Lay out, write and close a figure (closing matters: long reports make many figures)."""
    fig.tight_layout()
    fig.savefig(path, bbox_inches="tight")  # keeps legends placed beside the axes
    plt.close(fig)
    return Path(path)


def plot_curves(
    series: Mapping[str, Sequence[float]],
    path: str | Path,
    *,
    xlabel: str = "epoch",
    ylabel: str = "",
    title: str = "",
    mark_best: Mapping[str, int] | None = None,
) -> Path:
    """One line per named series against its index (+1); optional marker at a chosen index."""
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    for name, ys in series.items():
        xs = np.arange(1, len(ys) + 1)
        ax.plot(xs, ys, marker="o", ms=3, label=name)
        if mark_best and name in mark_best:
            i = mark_best[name]
            ax.scatter([xs[i]], [ys[i]], s=80, facecolors="none", edgecolors="k", zorder=3)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return save_figure(fig, path)


def plot_grouped_bars(
    table: Mapping[str, Mapping[str, float]],
    path: str | Path,
    *,
    title: str = "",
    ylabel: str = "",
) -> Path:
    """Grouped bars: one group per metric, one bar per model (``table[model][metric]``)."""
    models = list(table)
    metrics = list(next(iter(table.values())))
    width = 0.8 / max(len(models), 1)
    # bars get narrower with more models: stand the value labels upright so they cannot overlap
    upright = len(models) > 3
    fig, ax = plt.subplots(figsize=(1.2 + 0.35 * len(metrics) * max(len(models), 3), 3.6), dpi=120)
    x = np.arange(len(metrics))
    for j, m in enumerate(models):
        vals = [table[m][k] for k in metrics]
        bars = ax.bar(x + (j - (len(models) - 1) / 2) * width, vals, width, label=m)
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=1, rotation=90 if upright else 0)
    ax.set_xticks(x, metrics)
    ax.set(title=title, ylabel=ylabel)
    ax.set_ylim(top=ax.get_ylim()[1] * (1.15 if upright else 1.05))  # room for the labels
    ax.grid(axis="y", alpha=0.3)
    # beside the axes, never over the bars
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return save_figure(fig, path)
