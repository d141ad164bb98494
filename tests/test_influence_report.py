"""Influence run plots (`report.influence`): exact curve points, the attention split, the figures
of a fitted DeepInf-GAT and of a model without attention."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from planted_influence import planted_instances

from cascadekit import pipeline
from cascadekit.metrics import roc_auc
from cascadekit.models.deepinf import DeepInfGAT, DeepInfGATConfig
from cascadekit.models.influence_baselines import InfluenceLR
from cascadekit.report.influence import (
    case_examples,
    influence_figures,
    neighbour_attention,
    plot_roc_pr,
    pr_points,
    roc_points,
)
from cascadekit.report.run_report import report_run
from cascadekit.training import TrainConfig

PNG = b"\x89PNG\r\n\x1a\n"


def test_curve_points_are_exact_with_ties() -> None:
    scores, labels = np.array([0.9, 0.8, 0.8, 0.1]), np.array([1, 0, 1, 0])
    fpr, tpr = roc_points(scores, labels)
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1])
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc(scores, labels))
    recall, precision, thr = pr_points(scores, labels)
    np.testing.assert_allclose(recall, [0.5, 1, 1])
    np.testing.assert_allclose(precision, [1, 2 / 3, 0.5])
    np.testing.assert_allclose(thr, [0.9, 0.8, 0.1])


def test_roc_pr_figure_is_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = rng.random(200) < 0.3
    path = plot_roc_pr(labels + rng.random(200), labels, tmp_path / "c.png", threshold=1.2)
    assert path.read_bytes().startswith(PNG)


def test_neighbour_attention_is_relative_to_a_uniform_share() -> None:
    inst = planted_instances(20, seed=3)
    nbrs = inst.adjacency[:, -1, :].copy()
    nbrs[:, -1] = True  # the ego attends to itself too
    uniform = nbrs / nbrs.sum(1, keepdims=True)
    split = neighbour_attention(uniform, inst)
    np.testing.assert_allclose(np.concatenate(list(split.values())), 1.0)
    truly = inst.adjacency[:, -1, :] & inst.active
    assert len(split["active"]) == truly.sum()
    assert len(split["inactive"]) == (inst.adjacency[:, -1, :] & ~inst.active).sum()


@pytest.fixture(scope="module")
def gat_and_test() -> tuple:
    train, valid, test = (planted_instances(400, seed=s) for s in (0, 1, 2))
    tc = TrainConfig(optimizer="adagrad", lr=0.1, weight_decay=5e-4, batch_size=100,
                     max_epochs=8, progress=False)  # fmt: skip
    return DeepInfGAT(DeepInfGATConfig(), tc).fit(train, valid), train, test


def test_case_examples_are_distinct_egos_with_an_active_neighbour(gat_and_test) -> None:
    gat, _, test = gat_and_test
    scores = gat.module_.influence_scores(test)
    picks = case_examples(scores, test)
    assert len(set(picks.values())) == 3
    has_active = (test.adjacency[:, -1, :] & test.active).any(1)
    assert all(has_active[row] for row in picks.values())
    positive = picks["most confident positive"]
    assert test.labels[positive] == 1
    assert scores[positive] == scores[(test.labels == 1) & has_active].max()


def test_influence_figures_with_and_without_attention(gat_and_test, tmp_path: Path) -> None:
    gat, train, test = gat_and_test
    result = {"metrics": {"threshold": 0.5}}
    figures = influence_figures(tmp_path, gat, test, result, "gat")
    assert [p.name for p, _ in figures] == ["influence_roc_pr.png", "influence_attention.png"]
    assert all(p.read_bytes().startswith(PNG) for p, _ in figures)
    assert "to active" in figures[1][1]
    lr_folder = tmp_path / "lr"
    lr_folder.mkdir()
    (only,) = influence_figures(lr_folder, InfluenceLR().fit(train), test, result, "lr")
    assert only[0].name == "influence_roc_pr.png"


def test_run_report_shows_the_influence_figures(tmp_path: Path) -> None:
    run = tmp_path / "gat"
    pipeline.train(
        "deepinf_gat", "synthetic", run, options={"epochs": 2, "batch_size": 128, "progress": False},
        data_options={"n_users": 300, "n_cascades": 120, "edge_prob": 0.25},
        split_options={"ego_size": 10, "embedding_dim": 0},
    )  # fmt: skip
    pipeline.evaluate(run)
    paths = report_run(run)
    names = [p.name for p in paths]
    assert names == ["training.png", "influence_roc_pr.png", "influence_attention.png",
                     "report.html"]  # fmt: skip
    page = paths[-1].read_text(encoding="utf-8")
    assert "Case study (DeepInf §5.2)" in page and page.count("data:image/png;base64,") == 3
