"""Bi-layer picture of social-network activity (MIC paper 002, Fig. 1 and Fig. 8).

Bottom layer: cascades, placed by a spring layout of the cascade interactions Σ̃ (a circle when Σ̃ is
the identity). Top layer: users, each placed at the mixture-weighted mean of the cascade positions
(f_u maps a user to a distribution over cascades, which becomes a point of the bottom layer's
convex hull), or by a spring layout of the user graph (``user_layout="spring"``, Fig. 8a/b).
Node size ∝ event volume; user colour = the f_u-weighted blend of cascade colours. Edges: W̃ within
users (strongest ``max_user_edges``), Σ̃ off-diagonal within cascades, and dashed links from each
cascade to the users with the highest M̃[:, c].
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cascadekit.simulate.hawkes_params import HawkesParams

LAYER_GAP = 1.6  # vertical offset of the user layer in the oblique projection
SQUASH = 0.35  # how flat each layer looks (0 = a line, 1 = seen from above)


@dataclass
class BiLayer:
    """Everything needed to draw: 2-d positions within each layer, sizes, colours, edges."""

    user_xy: np.ndarray  # (U, 2)
    cascade_xy: np.ndarray  # (C, 2)
    user_size: np.ndarray  # (U,) relative, max 1
    cascade_size: np.ndarray  # (C,)
    user_rgb: np.ndarray  # (U, 3) in [0, 1]
    cascade_rgb: np.ndarray  # (C, 3)
    user_edges: np.ndarray  # (E, 2) user pairs (undirected for drawing)
    user_edge_w: np.ndarray  # (E,) relative, max 1
    cascade_edges: np.ndarray  # (F, 2)
    cascade_edge_w: np.ndarray  # (F,)
    coupling: np.ndarray  # (G, 2) (cascade, user) dashed inter-layer links
    mixture: np.ndarray  # (U, C)
    user_names: list[str]
    cascade_names: list[str]

    def project(self) -> tuple[np.ndarray, np.ndarray]:
        """Oblique 2.5-d projection: (U, 2) user and (C, 2) cascade screen coordinates."""

        def flat(xy: np.ndarray, lift: float) -> np.ndarray:
            return np.stack([xy[:, 0] + 0.35 * xy[:, 1], SQUASH * xy[:, 1] + lift], axis=1)

        return flat(self.user_xy, LAYER_GAP), flat(self.cascade_xy, 0.0)


def _palette(n: int) -> np.ndarray:
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return np.array([cmap(i % cmap.N)[:3] for i in range(n)])


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    top = v.max() if v.size else 0.0
    return v / top if top > 0 else np.zeros_like(v)


def _spring(weights: np.ndarray, seed: int) -> np.ndarray:
    """Spring layout of a weighted undirected graph in [-1, 1]²; a circle when it has no edges or
    at most 4 nodes (a spring would pull linked cascades on top of each other and flatten the
    user simplex)."""
    n = len(weights)
    angle = 2 * np.pi * np.arange(n) / max(n, 1)
    circle = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    sym = np.triu(weights + weights.T, 1)
    try:
        import networkx as nx
    except ImportError:  # optional ('cascadekit[graph]'): without it, the circle
        return circle
    if n <= 4 or not np.any(sym > 0):
        return circle

    g = nx.Graph()
    g.add_nodes_from(range(n))
    for i, j in zip(*np.nonzero(sym), strict=True):
        g.add_edge(int(i), int(j), weight=float(sym[i, j]))
    pos = nx.spring_layout(
        g, pos={i: tuple(circle[i]) for i in range(n)}, seed=seed, weight="weight"
    )
    xy = np.array([pos[i] for i in range(n)])
    xy -= xy.mean(axis=0)
    return xy / max(np.abs(xy).max(), 1e-12)


def bilayer(
    params: HawkesParams,
    mixture: np.ndarray,
    user_volume: np.ndarray,
    cascade_volume: np.ndarray,
    *,
    user_names: list[str] | None = None,
    cascade_names: list[str] | None = None,
    user_layout: str = "mixture",
    max_user_edges: int = 300,
    couplings_per_cascade: int = 3,
    sigma_threshold: float = 0.02,
    seed: int = 0,
) -> BiLayer:
    """Lay out a fitted (or the real-data) model as two layers.

    For the real-data picture of Fig. 8a/b pass ``params`` with W = adjacency, Σ = I, and the
    empirical mixture (each user's event share per cascade).

    Shapes:
        mixture: (U, C) rows summing to 1 (f_u); user_volume: (U,); cascade_volume: (C,).
    """
    mixture = np.asarray(mixture, dtype=float)
    n_u, n_c = params.mu.shape
    if mixture.shape != (n_u, n_c):
        raise ValueError(f"mixture must be ({n_u}, {n_c}), got {mixture.shape}")
    if user_layout not in ("mixture", "spring"):
        raise ValueError("user_layout must be 'mixture' or 'spring'")
    rng = np.random.default_rng(seed)
    sigma_off = params.Sigma * (1 - np.eye(n_c))
    cascade_xy = _spring(np.where(sigma_off >= sigma_threshold, sigma_off, 0.0), seed)
    if user_layout == "mixture":
        # a small seeded jitter keeps users with identical mixtures apart
        user_xy = mixture @ cascade_xy + rng.normal(scale=0.04, size=(n_u, 2))
    else:
        user_xy = _spring(params.W, seed)
    rgb = _palette(n_c)
    w = params.W * (1 - np.eye(n_u))
    sym = np.triu(w + w.T, 1)
    flat = np.argsort(sym, axis=None)[::-1][:max_user_edges]
    keep = sym.ravel()[flat] > 0
    ui, uj = np.unravel_index(flat[keep], sym.shape)
    ci, cj = np.nonzero(np.triu(sigma_off + sigma_off.T, 1) >= sigma_threshold)
    k = min(couplings_per_cascade, n_u)
    top_users = np.argsort(params.mu, axis=0)[::-1][:k]  # (k, C)
    coupling = np.array(
        [(c, u) for c in range(n_c) for u in top_users[:, c]], dtype=np.int64
    ).reshape(-1, 2)
    return BiLayer(
        user_xy=user_xy,
        cascade_xy=cascade_xy,
        user_size=_normalise(user_volume),
        cascade_size=_normalise(cascade_volume),
        user_rgb=np.clip(mixture @ rgb, 0, 1),
        cascade_rgb=rgb,
        user_edges=np.stack([ui, uj], axis=1),
        user_edge_w=_normalise(sym[ui, uj]),
        cascade_edges=np.stack([ci, cj], axis=1),
        cascade_edge_w=_normalise((sigma_off + sigma_off.T)[ci, cj]),
        coupling=coupling,
        mixture=mixture,
        user_names=user_names or [str(i) for i in range(n_u)],
        cascade_names=cascade_names or [str(c) for c in range(n_c)],
    )


def render_png(layer: BiLayer, path: str | Path, *, title: str = "") -> Path:
    """The static picture (PNG) of the bi-layer layout, for reports and papers."""
    from matplotlib.figure import Figure

    from cascadekit.report.plots import save_figure

    up, cp = layer.project()
    fig = Figure(figsize=(7, 6), dpi=130)
    ax = fig.subplots()
    for lift in (0.0, LAYER_GAP):  # layer planes
        corners = np.array([[-1.3, -1.3], [1.3, -1.3], [1.3, 1.3], [-1.3, 1.3], [-1.3, -1.3]])
        proj = np.stack(
            [corners[:, 0] + 0.35 * corners[:, 1], SQUASH * corners[:, 1] + lift], axis=1
        )
        ax.fill(proj[:, 0], proj[:, 1], color="0.93", zorder=0)
    for c, u in layer.coupling:
        ax.plot(
            [cp[c, 0], up[u, 0]],
            [cp[c, 1], up[u, 1]],
            ls="--",
            lw=0.6,
            color=layer.cascade_rgb[c],
            alpha=0.6,
            zorder=1,
        )
    for (i, j), w in zip(layer.user_edges, layer.user_edge_w, strict=True):
        ax.plot(
            up[[i, j], 0],
            up[[i, j], 1],
            color="0.4",
            lw=0.3 + 1.2 * w,
            alpha=0.25 + 0.5 * w,
            zorder=2,
        )
    for (i, j), w in zip(layer.cascade_edges, layer.cascade_edge_w, strict=True):
        ax.plot(cp[[i, j], 0], cp[[i, j], 1], color="0.2", lw=0.8 + 3 * w, alpha=0.7, zorder=2)
    ax.scatter(
        up[:, 0],
        up[:, 1],
        s=8 + 120 * layer.user_size,
        c=layer.user_rgb,
        edgecolors="k",
        linewidths=0.3,
        zorder=3,
    )
    ax.scatter(
        cp[:, 0],
        cp[:, 1],
        s=60 + 500 * layer.cascade_size,
        c=layer.cascade_rgb,
        edgecolors="k",
        linewidths=0.8,
        zorder=3,
    )
    for c, name in enumerate(layer.cascade_names):
        ax.annotate(
            name, cp[c], xytext=(0, -14), textcoords="offset points", ha="center", fontsize=8
        )
    ax.text(-1.75, LAYER_GAP + 0.45, "users", fontsize=9, style="italic")
    ax.text(-1.75, 0.45, "cascades", fontsize=9, style="italic")
    ax.set_title(title)
    ax.set_axis_off()
    ax.set_aspect("equal")
    return save_figure(fig, path)


def render_html(layer: BiLayer, path: str | Path, *, title: str = "MIC bi-layer view") -> Path:
    """One self-contained HTML file (inline SVG + a few lines of JS, no network): hover a node to see
    its name, volume and cascade mixture and to highlight its edges."""
    up, cp = layer.project()
    pts = np.vstack([up, cp])
    lo, hi = pts.min(axis=0) - 0.3, pts.max(axis=0) + 0.3
    scale = 760 / max(hi[0] - lo[0], 1e-9)
    height = (hi[1] - lo[1]) * scale

    def sx(p: np.ndarray) -> tuple[float, float]:
        return round(float((p[0] - lo[0]) * scale), 1), round(
            float(height - (p[1] - lo[1]) * scale), 1
        )

    def hexc(rgb: np.ndarray) -> str:
        return "#" + "".join(f"{int(round(255 * v)):02x}" for v in rgb)

    parts = []
    for c, u in layer.coupling:
        (x1, y1), (x2, y2) = sx(cp[c]), sx(up[u])
        parts.append(
            f'<line class="e c{c} u{u}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
            f'stroke="{hexc(layer.cascade_rgb[c])}" stroke-dasharray="4 3" stroke-opacity="0.6"/>'
        )
    for (i, j), w in zip(layer.user_edges, layer.user_edge_w, strict=True):
        (x1, y1), (x2, y2) = sx(up[i]), sx(up[j])
        parts.append(
            f'<line class="e u{i} u{j}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#666" '
            f'stroke-width="{0.4 + 1.5 * w:.2f}" stroke-opacity="{0.2 + 0.5 * w:.2f}"/>'
        )
    for (i, j), w in zip(layer.cascade_edges, layer.cascade_edge_w, strict=True):
        (x1, y1), (x2, y2) = sx(cp[i]), sx(cp[j])
        parts.append(
            f'<line class="e c{i} c{j}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#333" '
            f'stroke-width="{1 + 4 * w:.2f}"/>'
        )
    for u in range(len(up)):
        x, y = sx(up[u])
        mix = ", ".join(
            f"{layer.cascade_names[c]} {layer.mixture[u, c]:.2f}"
            for c in np.argsort(layer.mixture[u])[::-1][:3]
        )
        tip = html.escape(f"user {layer.user_names[u]} · volume {layer.user_size[u]:.2f} · {mix}")
        parts.append(
            f'<circle class="n" data-k="u{u}" cx="{x}" cy="{y}" r="{2 + 7 * layer.user_size[u]:.1f}" '
            f'fill="{hexc(layer.user_rgb[u])}" stroke="#000" stroke-width="0.4"><title>{tip}</title></circle>'
        )
    for c in range(len(cp)):
        x, y = sx(cp[c])
        name = html.escape(layer.cascade_names[c])
        parts.append(
            f'<circle class="n" data-k="c{c}" cx="{x}" cy="{y}" r="{6 + 14 * layer.cascade_size[c]:.1f}" '
            f'fill="{hexc(layer.cascade_rgb[c])}" stroke="#000"><title>cascade {name}</title></circle>'
            f'<text x="{x}" y="{y + 26}" text-anchor="middle" font-size="11">{name}</text>'
        )
    doc = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:16px}} .dim{{opacity:.08}} circle.n{{cursor:pointer}}</style>
</head><body><h3>{html.escape(title)}</h3>
<p>Top: users (size = events, colour = cascade mixture f<sub>u</sub>); bottom: cascades laid out by Σ̃.
Hover a node to highlight its links.</p>
<svg width="800" height="{height + 20:.0f}" viewBox="-20 -10 800 {height + 20:.0f}">{"".join(parts)}</svg>
<script>
const edges=[...document.querySelectorAll('line.e')];
document.querySelectorAll('circle.n').forEach(n=>{{
  n.addEventListener('mouseenter',()=>edges.forEach(e=>e.classList.toggle('dim',!e.classList.contains(n.dataset.k))));
  n.addEventListener('mouseleave',()=>edges.forEach(e=>e.classList.remove('dim')));
}});
</script>
<script type="application/json" id="data">{json.dumps({"users": layer.user_names, "cascades": layer.cascade_names})}</script>
</body></html>"""
    Path(path).write_text(doc, encoding="utf-8")
    return Path(path)
