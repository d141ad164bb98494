"""MIC figures: the PNGs are written and hold exactly the series they were given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from cascadekit.report import hawkes_plots
from cascadekit.report.hawkes_plots import (
    plot_cascade_curves,
    plot_loglik_vs_fraction,
    plot_ranked_activity,
    plot_ratio_heatmaps,
)
from cascadekit.report.plots import save_figure

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """Keep each figure the plot functions save, to inspect what was drawn."""
    kept: list[Figure] = []

    def keep(fig: Figure, path: str | Path) -> Path:
        kept.append(fig)
        return save_figure(fig, path)

    monkeypatch.setattr(hawkes_plots, "save_figure", keep)
    return kept


def test_cascade_curves_one_panel_per_cascade(figures: list[Figure], tmp_path: Path) -> None:
    t = np.linspace(0, 10, 5)
    real = np.arange(15.0).reshape(5, 3)
    path = plot_cascade_curves(
        t,
        {"real": real, "simulated": real + 1, "analytic": real * 2},
        tmp_path / "c.png",
        spread={"simulated": np.ones((5, 3))},
        cascade_names=["a", "b", "c"],
    )
    assert path.read_bytes()[:8] == PNG
    axes = figures[0].axes
    assert [ax.get_title() for ax in axes] == ["cascade a", "cascade b", "cascade c"]
    for c, ax in enumerate(axes):
        assert len(ax.lines) == 3 and len(ax.collections) == 1  # one ± band
        np.testing.assert_array_equal(ax.lines[0].get_ydata(), real[:, c])
        assert ax.lines[2].get_linestyle() == "--"  # analytic curves dashed


def test_cascade_curves_shape_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"curve 'b' must be \(4, 2\)"):
        plot_cascade_curves(
            range(4), {"a": np.zeros((4, 2)), "b": np.zeros((3, 2))}, tmp_path / "x"
        )


def test_ranked_activity_log_axis(figures: list[Figure], tmp_path: Path) -> None:
    plot_ranked_activity([9, 4, 1], [8.0, 5.0, 2.0], [1.0, 1.0, 0.5], tmp_path / "r.png")
    ax = figures[0].axes[0]
    assert ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [8.0, 5.0, 2.0])
    with pytest.raises(ValueError, match="same length"):
        plot_ranked_activity([1, 2], [1.0], [0.0], tmp_path / "bad.png")


def test_loglik_vs_fraction(figures: list[Figure], tmp_path: Path) -> None:
    fr = [0.2, 0.5, 0.8]
    plot_loglik_vs_fraction(
        fr, {"IC": [-3, -2, -1.5], "MIC": [-2.5, -1.8, -1.2]}, tmp_path / "f.png"
    )
    ax = figures[0].axes[0]
    assert [line.get_label() for line in ax.lines] == ["IC", "MIC"]
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), fr)
    with pytest.raises(ValueError, match="2 values for 3 fractions"):
        plot_loglik_vs_fraction(fr, {"IC": [1, 2]}, tmp_path / "g.png")


def test_ratio_heatmaps_share_one_colour_scale(figures: list[Figure], tmp_path: Path) -> None:
    a = np.array([[1.0, 1.1], [1.2, 1.3], [1.0, 1.05]])
    b = a - 0.1
    path = plot_ratio_heatmaps([0.1, 1, 10], [0, 1], {"IC": a, "CC": b}, tmp_path / "h.png")
    assert path.read_bytes()[:8] == PNG
    heat = [ax for ax in figures[0].axes if ax.images]
    assert [ax.get_title() for ax in heat] == ["IC / MIC", "CC / MIC"]
    np.testing.assert_array_equal(heat[0].images[0].get_array(), a)
    assert heat[1].images[0].get_clim() == heat[0].images[0].get_clim() == (0.9, 1.3)
    assert len(heat[0].texts) == a.size  # every cell labelled
    with pytest.raises(ValueError, match=r"must be \(3, 2\)"):
        plot_ratio_heatmaps([0.1, 1, 10], [0, 1], {"IC": a.T}, tmp_path / "bad.png")
