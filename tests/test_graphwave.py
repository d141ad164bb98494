"""GraphWave (`graph.graphwave`): the exact embedding of a two-node graph, structural roles, and
argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from cascadekit.graph.graphwave import graphwave


def test_two_nodes_match_the_closed_form() -> None:
    """L = [[w, −w], [−w, w]]: Ψ_s = ½ [[1 + e, 1 − e], [1 − e, 1 + e]], e = exp(−2ws)."""
    w, s, t = 0.7, 1.5, np.array([0.0, 1.0, 3.0])
    e = np.exp(-2 * w * s)
    phi = 0.5 * (np.exp(1j * t * (1 + e) / 2) + np.exp(1j * t * (1 - e) / 2))
    got = graphwave(np.array([[0.0, w], [w, 0.0]]), scales=[s], points=t)
    np.testing.assert_allclose(got[0], np.concatenate([phi.real, phi.imag]), atol=1e-12)
    np.testing.assert_allclose(got[1], got[0], atol=1e-12)  # the two ends are alike
    assert got.shape == (2, 6) and got[0, 0] == pytest.approx(1.0)  # φ(0) = 1


def test_nodes_with_the_same_role_share_an_embedding() -> None:
    star = np.zeros((5, 5))
    star[0, 1:] = star[1:, 0] = 2.0
    emb = graphwave(star)
    assert emb.shape == (5, 2 * 2 * 25)
    for leaf in (2, 3, 4):
        np.testing.assert_allclose(emb[leaf], emb[1], atol=1e-10)
    assert not np.allclose(emb[0], emb[1])  # the centre's role differs
    # a self-loop leaves the Laplacian, hence the embedding, unchanged
    looped = star.copy()
    looped[3, 3] = 5.0
    np.testing.assert_allclose(graphwave(looped), emb, atol=1e-12)


def test_bad_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="square"):
        graphwave(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        graphwave(np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="scales"):
        graphwave(np.zeros((2, 2)), scales=[0.0])
