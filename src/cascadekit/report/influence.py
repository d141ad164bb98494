"""Influence (DeepInf) run plots: ROC and precision–recall curves of the test scores, and the
paper's case study (§5.2) — where a DeepInf-GAT ego puts its attention: on active or inactive
neighbours — as a distribution over the test set and a few ego networks drawn with attention as
edge width.

Read-only over a fitted model and its instances; figures through `report.plots.save_figure`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cascadekit.data.influence import InfluenceInstances
from cascadekit.metrics import roc_auc
from cascadekit.report.plots import save_figure


def _ranked_counts(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
    """(thresholds, true positives, false positives) of "score ≥ threshold" at each distinct
    score, highest first. Shapes: → three (K,) arrays."""
    s, y = np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(np.int64)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[s[1:] != s[:-1], True]  # the end of each run of tied scores
    tp = np.cumsum(y)[last]
    fp = np.cumsum(1 - y)[last]
    return s[last], tp, fp


def roc_points(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ROC curve through every distinct threshold, from (0, 0) to (1, 1); its trapezoidal
    area is `metrics.roc_auc`. Shapes: → fpr, tpr (K + 1,)."""
    _, tp, fp = _ranked_counts(scores, labels)
    return np.r_[0.0, fp / fp[-1]], np.r_[0.0, tp / tp[-1]]


def pr_points(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
    """Precision and recall of "score ≥ t" at each distinct score t, highest t first.
    Shapes: → recall, precision, thresholds (K,)."""
    thr, tp, fp = _ranked_counts(scores, labels)
    return tp / tp[-1], tp / (tp + fp), thr


def plot_roc_pr(
    scores: np.ndarray,
    labels: np.ndarray,
    path: str | Path,
    *,
    threshold: float | None = None,
    title: str = "",
) -> Path:
    """ROC (with AUC and the chance diagonal) and PR (with the positive rate as the chance line)
    side by side; ``threshold`` (the validation-chosen one) is marked on both."""
    labels = np.asarray(labels).astype(np.int64)
    fpr, tpr = roc_points(scores, labels)
    recall, precision, thr = pr_points(scores, labels)
    fig = Figure(figsize=(8.4, 3.8), dpi=120, layout="constrained")
    roc, pr = fig.subplots(1, 2)
    roc.plot(fpr, tpr, label=f"AUC {roc_auc(scores, labels):.3f}")
    roc.plot([0, 1], [0, 1], color="0.6", ls=":", lw=1)
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    pr.plot(recall, precision)
    pr.axhline(labels.mean(), color="0.6", ls=":", lw=1, label="positive rate")
    pr.set(xlabel="recall", ylabel="precision", title="precision–recall", ylim=(0, 1.02))
    if threshold is not None:
        # the operating point "score ≥ threshold": the last distinct score at or above it
        k = max(int(np.searchsorted(-thr, -threshold, side="right")) - 1, 0)
        pr.plot(recall[k], precision[k], "ko", ms=5, label=f"threshold {threshold:.3g}")
        roc.plot(fpr[k + 1], tpr[k + 1], "ko", ms=5)
    for ax in (roc, pr):
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=8, loc="lower right" if ax is roc else "upper right")
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def neighbour_attention(
    attention: np.ndarray, instances: InfluenceInstances
) -> dict[str, np.ndarray]:
    """The ego's attention to each of its neighbours, relative to a uniform share: α_vj ·
    (|N(v)| + 1), so 1 means "as much as if the ego attended to every neighbour and itself
    alike" whatever its degree; split by the neighbour's state.

    Shapes: attention (N, n) from `DeepInfGATNet.ego_attention` → {"active": (A,),
    "inactive": (I,)} over all (instance, neighbour) pairs."""
    neighbours = instances.adjacency[:, -1, :].astype(bool).copy()
    neighbours[:, -1] = False
    relative = attention * (neighbours.sum(1, keepdims=True) + 1)
    active = instances.active.astype(bool)
    return {"active": relative[neighbours & active], "inactive": relative[neighbours & ~active]}


def case_examples(scores: np.ndarray, instances: InfluenceInstances) -> dict[str, int]:
    """Three test egos to draw, among those with an active neighbour: the most confident true
    positive, the most confident true negative and the most uncertain one (score nearest ½)."""
    neighbours = instances.adjacency[:, -1, :].astype(bool)
    eligible = (neighbours & instances.active.astype(bool)).any(1)
    labels = instances.labels.astype(bool)
    picks: dict[str, int] = {}
    for name, pool, key in (
        ("most confident positive", eligible & labels, -scores),
        ("most confident negative", eligible & ~labels, scores),
        ("most uncertain", eligible, np.abs(scores - 0.5)),
    ):
        candidates = np.flatnonzero(pool & ~np.isin(np.arange(len(scores)), list(picks.values())))
        if len(candidates):
            picks[name] = int(candidates[np.argmin(key[candidates])])
    return picks


def _ego_layout(instances: InfluenceInstances, row: int) -> np.ndarray:
    """The ego at the centre, its neighbours on the unit circle, the other vertices on a circle of
    radius 2 (deterministic). Shapes: → (n, 2)."""
    n = instances.size
    near = instances.adjacency[row, -1].astype(bool).copy()
    near[-1] = False
    xy = np.zeros((n, 2))
    for ring, members in ((1.0, np.flatnonzero(near)), (2.0, np.flatnonzero(~near[:-1]))):
        angle = 2 * np.pi * np.arange(len(members)) / max(len(members), 1)
        xy[members] = ring * np.c_[np.cos(angle), np.sin(angle)]
    return xy


def plot_attention_case_study(
    attention: np.ndarray,
    scores: np.ndarray,
    instances: InfluenceInstances,
    path: str | Path,
    *,
    title: str = "",
) -> tuple[Path, dict[str, float]]:
    """Left: the distribution of the ego's relative attention (`neighbour_attention`) to active
    and to inactive neighbours over all instances; then one panel per `case_examples` ego
    network: black = active, white = inactive, the ego a red square, edges from the ego as wide
    as its attention, other edges thin grey. Returns the path and the mean relative attention
    to active and inactive neighbours.

    Shapes: attention (N, n), scores (N,)."""
    split = neighbour_attention(attention, instances)
    picks = case_examples(scores, instances)
    fig = Figure(figsize=(3.6 * (1 + len(picks)), 3.6), dpi=120, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, 1 + len(picks)))
    means = {k: float(v.mean()) if len(v) else float("nan") for k, v in split.items()}
    logs = {k: np.log2(v[v > 0]) for k, v in split.items()}
    pooled = np.concatenate(list(logs.values()))
    if len(pooled):
        bins = np.linspace(pooled.min(), pooled.max() + 1e-9, 40)
        for (name, v), colour in zip(logs.items(), ("k", "tab:orange"), strict=True):
            axes[0].hist(v, bins=bins, density=True, histtype="step", color=colour, lw=1.4,
                         label=f"{name} (n={len(v)}, mean {means[name]:.2f})")  # fmt: skip
    axes[0].axvline(0.0, color="0.5", ls=":", lw=1)
    axes[0].set(xlabel="log2(attention × (|N(v)| + 1))   (0 = uniform)", ylabel="density",
                title="ego → neighbour attention")  # fmt: skip
    axes[0].legend(frameon=False, fontsize=7, loc="upper left")
    for ax, (name, row) in zip(axes[1:], picks.items(), strict=True):
        _draw_ego(ax, instances, row, attention[row])
        label = int(instances.labels[row])
        ax.set_title(f"{name}\nlabel {label}, score {scores[row]:.2f}", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path), means


def _draw_ego(ax: Any, instances: InfluenceInstances, row: int, attention: np.ndarray) -> None:
    """One ego network (see `plot_attention_case_study`)."""
    xy = _ego_layout(instances, row)
    adj = instances.adjacency[row].astype(bool)
    n = instances.size
    i, j = np.nonzero(np.triu(adj, 1))
    for a, b in zip(i, j, strict=True):
        if b != n - 1:
            ax.plot(*xy[[a, b]].T, color="0.8", lw=0.5, zorder=1)
    peak = max(float(attention[:-1].max(initial=0)), 1e-12)
    for v in np.flatnonzero(adj[-1]):
        ax.plot(*xy[[v, n - 1]].T, color="tab:blue", lw=0.3 + 5 * attention[v] / peak, zorder=2)
    active = instances.active[row].astype(bool)
    others = np.arange(n - 1)
    ax.scatter(*xy[others].T, s=28, c=np.where(active[:-1], "k", "w"), edgecolors="k", zorder=3)
    ax.scatter(*xy[-1], s=60, marker="s", c="tab:red", zorder=4)
    ax.set_aspect("equal")
    ax.set_axis_off()


def influence_figures(
    folder: Path, model: Any, test: InfluenceInstances, result: dict[str, Any], title: str
) -> list[tuple[Path, str]]:
    """The figures of an evaluated influence run: ROC/PR of ``model``'s test scores (the
    validation threshold of ``result`` marked) and, for a model with ``ego_attention``
    (DeepInf-GAT), the attention case study. Returns (path, caption) pairs."""
    from cascadekit.models.base import network_of

    net = network_of(model)
    scores = np.asarray(net.influence_scores(test), dtype=np.float64)
    threshold = result.get("metrics", {}).get("threshold")
    roc = plot_roc_pr(
        scores, test.labels, folder / "influence_roc_pr.png", threshold=threshold, title=title
    )
    out = [(roc, f"ROC and precision–recall curves of the {len(test)} test instances "
                 "(dot: the threshold chosen on validation).")]  # fmt: skip
    if hasattr(net, "ego_attention"):
        path, means = plot_attention_case_study(
            net.ego_attention(test), scores, test, folder / "influence_attention.png", title=title
        )
        out.append((path, (
            "Case study (DeepInf §5.2): the ego's last-layer attention, averaged over heads, to "
            "each neighbour relative to a uniform share; mean "
            f"{means['active']:.3f} to active, {means['inactive']:.3f} to inactive neighbours. "
            "Right: example ego networks, edge width = the ego's attention."
        )))  # fmt: skip
    return out
