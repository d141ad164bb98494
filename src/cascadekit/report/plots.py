"""Small, reusable matplotlib figures written as PNG files.

Figures are built with the object-oriented API (`matplotlib.figure.Figure`), which needs neither
pyplot nor a backend: importing this module leaves the caller's matplotlib backend alone, and no
global figure registry has to be cleaned up after long reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Lay out (unless the figure has its own layout engine) and write a figure as PNG."""
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    fig.savefig(path, bbox_inches="tight")  # keeps legends placed beside the axes
    return Path(path)


def _draw_lines(ax: Axes, series: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> None:
    """One marked line per named (xs, ys) series on integer x ticks, with a light grid."""
    for name, (xs, ys) in series.items():
        ax.plot(xs, ys, marker="o", ms=3, label=name)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)


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
    fig = Figure(figsize=(6, 3.6), dpi=120)
    ax = fig.subplots()
    xy = {name: (np.arange(1, len(ys) + 1), ys) for name, ys in series.items()}
    _draw_lines(ax, xy)
    for name, i in (mark_best or {}).items():
        xs, ys = xy[name]
        ax.scatter([xs[i]], [ys[i]], s=80, facecolors="none", edgecolors="k", zorder=3)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(frameon=False)
    return save_figure(fig, path)


def plot_curve_panels(
    panels: Mapping[str, Mapping[str, tuple[Sequence[float], Sequence[float]]]],
    path: str | Path,
    *,
    xlabel: str = "epoch",
    ylabels: Mapping[str, str] | None = None,
    title: str = "",
    mark_x: float | None = None,
    ncols: int = 3,
) -> Path:
    """Small multiples: one panel per title, one line per named (xs, ys) series, so quantities on
    different scales (a loss, a rate, a likelihood) stay readable; ``ylabels[title]`` labels a
    panel's y axis; ``mark_x`` draws a dotted
    vertical line on every panel (e.g. the kept epoch). A panel with several series gets its
    legend below the axes, where it cannot cover a curve.

    Shapes:
        panels[title][series] = (xs, ys) with len(xs) == len(ys)
    """
    ncols = min(ncols, len(panels))
    nrows = -(-len(panels) // ncols)
    fig = Figure(figsize=(3.7 * ncols, 2.9 * nrows), dpi=120, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (name, series) in zip(axes, panels.items(), strict=False):
        _draw_lines(ax, series)
        if mark_x is not None:
            ax.axvline(mark_x, color="k", ls=":", lw=1)
        ax.set(xlabel=xlabel, ylabel=(ylabels or {}).get(name, ""), title=name)
        if len(series) > 1:
            ax.legend(
                frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22),
                ncols=min(len(series), 3),
            )  # fmt: skip
    for ax in axes[len(panels) :]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def _draw_grouped_bars(ax: Axes, table: Mapping[str, Mapping[str, float]]) -> int:
    """Value-labelled bars, one group per metric and one bar per row of ``table``; returns the
    number of metrics."""
    models = list(table)
    metrics = list(next(iter(table.values())))
    width = 0.8 / max(len(models), 1)
    # bars get narrower with more models: stand the value labels upright so they cannot overlap
    upright = len(models) > 3
    x = np.arange(len(metrics))
    for j, m in enumerate(models):
        vals = [table[m][k] for k in metrics]
        bars = ax.bar(x + (j - (len(models) - 1) / 2) * width, vals, width, label=m)
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=1, rotation=90 if upright else 0)
    ax.set_xticks(x, metrics)
    ax.set_ylim(top=ax.get_ylim()[1] * (1.15 if upright else 1.05))  # room for the labels
    ax.grid(axis="y", alpha=0.3)
    return len(metrics)


def plot_grouped_bars(
    table: Mapping[str, Mapping[str, float]],
    path: str | Path,
    *,
    title: str = "",
    ylabel: str = "",
) -> Path:
    """Grouped bars: one group per metric, one bar per model (``table[model][metric]``)."""
    n_metrics = len(next(iter(table.values())))
    fig = Figure(figsize=(1.2 + 0.35 * n_metrics * max(len(table), 3), 3.6), dpi=120)
    ax = fig.subplots()
    _draw_grouped_bars(ax, table)
    ax.set(title=title, ylabel=ylabel)
    # beside the axes, never over the bars
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return save_figure(fig, path)


def plot_bar_panels(
    panels: Mapping[str, Mapping[str, float]], path: str | Path, *, title: str = ""
) -> Path:
    """One value-labelled bar panel per group of metrics (``panels[group][metric]``), each on its
    own y scale, so e.g. rates in [0, 1] and a squared log error are not forced onto one axis."""
    # each bar as wide as its label needs (about 0.08 in per character at this size)
    widths = [1.0 + sum(max(0.6, 0.08 * len(m)) for m in metrics) for metrics in panels.values()]
    fig = Figure(figsize=(sum(widths) + 0.4, 3.2), dpi=120, layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False, width_ratios=widths)[0]
    for ax, (name, metrics) in zip(axes, panels.items(), strict=True):
        _draw_grouped_bars(ax, {"": metrics})
        ax.set_title(name, fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)
