"""Bi-layer layout: positions, colours and links follow the parameters they are drawn from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.report.bilayer import bilayer, render_html, render_png
from cascadekit.simulate.hawkes_params import HawkesParams


@pytest.fixture
def layer_inputs() -> tuple[HawkesParams, np.ndarray]:
    rng = np.random.default_rng(0)
    u, c = 12, 3
    w = np.zeros((u, u))
    w[0, 1] = 0.5  # the only user-user influence
    sigma = np.array([[1, 0, 0], [0.7, 0.3, 0], [0, 0, 1.0]])
    mu = rng.random((u, c)) * 0.1
    mu[5, 2] = 1.0  # user 5 is the strongest base-rate user of cascade 2
    mixture = rng.dirichlet([1.0] * c, size=u)
    mixture[3] = [1.0, 0.0, 0.0]
    return HawkesParams(mu=mu, W=w, Sigma=sigma, tau=1.0, beta=1.0), mixture


def test_layout_follows_parameters(layer_inputs: tuple[HawkesParams, np.ndarray]) -> None:
    params, mixture = layer_inputs
    layer = bilayer(params, mixture, np.arange(1, 13), np.array([5, 1, 2]), couplings_per_cascade=1)
    # a user entirely in cascade 0 sits on cascade 0 (up to the 0.04-sd jitter)
    assert np.linalg.norm(layer.user_xy[3] - layer.cascade_xy[0]) < 0.2
    np.testing.assert_allclose(layer.user_rgb[3], layer.cascade_rgb[0])
    assert layer.user_edges.tolist() == [[0, 1]]
    assert layer.cascade_edges.tolist() == [[0, 1]]  # σ_10 = 0.7 is the only interaction
    assert [2, 5] in layer.coupling.tolist()  # (cascade, user) with the highest μ
    assert layer.user_size.max() == 1.0 and layer.cascade_size[0] == 1.0


def test_bad_mixture_shape(layer_inputs: tuple[HawkesParams, np.ndarray]) -> None:
    params, mixture = layer_inputs
    with pytest.raises(ValueError, match=r"mixture must be \(12, 3\)"):
        bilayer(params, mixture[:, :2], np.ones(12), np.ones(3))


def test_renders_png_and_self_contained_html(
    layer_inputs: tuple[HawkesParams, np.ndarray], tmp_path: Path
) -> None:
    params, mixture = layer_inputs
    layer = bilayer(
        params, mixture, np.ones(12), np.ones(3), cascade_names=["bit.ly", "tinyurl", "<x>"]
    )
    png = render_png(layer, tmp_path / "b.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = render_html(layer, tmp_path / "b.html").read_text()
    assert page.count('class="n"') == 12 + 3
    assert "&lt;x&gt;" in page and "<x>" not in page.split("<svg", 1)[1].split("</svg>")[0]
    assert "http://" not in page and "https://" not in page  # works offline
