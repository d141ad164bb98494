"""DeepInf's baselines (`models.influence_baselines`): hand-crafted ego features on hand-built
instances, LR / SVM on a planted rule and their pickle-free round trip, PSCN's receptive field
and its zero padding."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from planted_influence import planted_parts

from cascadekit.data.influence import InfluenceInstances
from cascadekit.metrics import roc_auc
from cascadekit.models.deepinf import ego_batch
from cascadekit.models.influence_baselines import (
    PSCN,
    InfluenceLR,
    InfluenceSVM,
    PSCNConfig,
    bfs_distances,
    ego_feature_names,
    ego_features,
    receptive_field,
)
from cascadekit.training import TrainConfig


def hand_built() -> InfluenceInstances:
    """Three 6-vertex ego networks (ego = vertex 5).

    0: ego neighbours 0, 1, 2, 3; active 0, 1, 3 and 4 (4 is no neighbour); among the active
       neighbours only the edge 0 — 1: |A| = 3, ratio 3/4, density 1/3, components {0,1}, {3}.
    1: ego neighbours 0, 1; nobody active: all four are 0.
    2: ego neighbours 0, 1, 2; active 2 only: |A| = 1, ratio 1/3, density 0, one component.
    """
    n = 6
    adj = np.zeros((3, n, n), dtype=bool)

    def link(b: int, pairs: list[tuple[int, int]]) -> None:
        for i, j in pairs:
            adj[b, i, j] = adj[b, j, i] = True

    link(0, [(5, 0), (5, 1), (5, 2), (5, 3), (0, 1), (1, 4), (3, 4), (2, 3)])
    link(1, [(5, 0), (5, 1), (0, 1)])
    link(2, [(5, 0), (5, 1), (5, 2), (0, 4)])
    active = np.zeros((3, n), dtype=bool)
    active[0, [0, 1, 3, 4]] = True
    active[2, 2] = True
    vertices = np.array([[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11], [1, 3, 5, 7, 9, 11]])
    return InfluenceInstances(
        vertices=vertices, adjacency=adj, active=active, labels=np.array([1, 0, 1], np.int8),
        items=np.zeros(3, np.int64), times=np.zeros(3),
        vertex_features=np.arange(24, dtype=np.float32).reshape(12, 2),
        embedding=-np.arange(12, dtype=np.float32)[:, None],
    )  # fmt: skip


def test_ego_features_on_hand_built_instances() -> None:
    inst = hand_built()
    x = ego_features(inst)
    assert ego_feature_names(2, 1, True) == [
        "vertex_feature_0", "vertex_feature_1", "embedding_0",
        "n_active", "active_ratio", "active_density", "active_components",
    ]  # fmt: skip
    np.testing.assert_allclose(x[:, :3], [[10, 11, -5], [22, 23, -11], [22, 23, -11]])
    np.testing.assert_allclose(x[:, 3:], [[3, 0.75, 1 / 3, 2], [0, 0, 0, 0], [1, 1 / 3, 0, 1]])
    assert ego_features(inst, use_embedding=False).shape == (3, 6)


@pytest.fixture(scope="module")
def parts() -> tuple:
    return planted_parts()


@pytest.mark.parametrize("cls", [InfluenceLR, InfluenceSVM])
def test_linear_baselines_learn_the_planted_rule_and_round_trip(cls, parts, tmp_path) -> None:
    train, _, test = parts
    model = cls().fit(train)
    scores = model.influence_scores(test)
    assert roc_auc(scores, test.labels) > 0.95
    # standardisation is fitted on the training part
    x = ego_features(train)
    np.testing.assert_allclose(model.mean_, x.mean(0))
    np.testing.assert_allclose(((x - model.mean_) / model.scale_).std(0), 1, rtol=1e-9)
    # scores are the logistic map of the decision value (monotone, so the SVM ranks by margin)
    np.testing.assert_allclose(scores, 1 / (1 + np.exp(-model.decision(test))))
    folder = model.save(tmp_path / "model")
    assert set(p.name for p in folder.iterdir()) == {"model.json"}
    assert json.loads((folder / "model.json").read_text())["model"] == cls.name
    np.testing.assert_array_equal(cls.load(folder).influence_scores(test), scores)


def test_linear_baseline_matches_scikit_learn(parts) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    train, _, test = parts
    scaler = StandardScaler().fit(ego_features(train))
    ref = LogisticRegression(class_weight="balanced", max_iter=5000).fit(
        scaler.transform(ego_features(train)), train.labels
    )
    expected = ref.predict_proba(scaler.transform(ego_features(test)))[:, 1]
    np.testing.assert_allclose(InfluenceLR().fit(train).influence_scores(test), expected, rtol=1e-6)


def test_bfs_distances_and_the_receptive_field() -> None:
    inst = hand_built()
    b = ego_batch(inst)
    dist = bfs_distances(b.adjacency, torch.tensor([[5], [5], [-1]]))[:, 0]
    assert dist[0].tolist() == [1, 1, 1, 1, 2, 0]
    assert dist[1].tolist() == [1, 1, 6, 6, 6, 0]  # 2, 3, 4 unreachable (6 = n)
    assert dist[2].tolist() == [6] * 6  # no source
    field = receptive_field(b.adjacency, b.flags[..., 0] > 0, 4, 3)
    # instance 0: the ego, then its neighbours active first (0, 1, 3), then 2
    assert field[0].view(4, 3).tolist() == [[5, 0, 1], [0, 1, 5], [1, 0, 4], [3, 4, 2]]
    # instance 1: three vertices reachable; the fourth slot and short neighbourhoods are padding
    assert field[1].view(4, 3).tolist() == [[5, 0, 1], [0, 1, 5], [1, 0, 5], [-1, -1, -1]]


def test_pscn_pads_with_zeros_never_with_another_instances_vertices() -> None:
    """The reference code reads a padded slot from the previous instance of the batch."""
    inst = hand_built()
    config = PSCNConfig(sequence_size=4, neighbor_size=3)
    est = PSCN(config, TrainConfig(max_epochs=1, batch_size=3, progress=False, select="last"))
    net = est.fit(inst, inst).module_
    before = net(ego_batch(inst)).detach()
    changed = ego_batch(inst)
    changed.embedding[0] += 100.0  # instance 0, its ego included (the slot −1 + offset reads)
    changed.vertex_features[0] -= 7.0
    after = net(changed).detach()
    torch.testing.assert_close(after[1:], before[1:])
    assert not torch.allclose(after[0], before[0])


def test_pscn_learns_the_planted_rule(parts) -> None:
    """The paper's w = 16, k = 5 field (measured: test AUC .91–.94 over seeds 0–2)."""
    train, valid, test = parts
    tc = TrainConfig(optimizer="adagrad", lr=0.1, weight_decay=5e-4, batch_size=100,
                     max_epochs=15, progress=False)  # fmt: skip
    est = PSCN(PSCNConfig(), tc).fit(train, valid)
    assert roc_auc(est.module_.influence_scores(test), test.labels) > 0.85


def test_pscn_saves_and_loads(parts, tmp_path: Path) -> None:
    train, valid, test = parts
    tc = TrainConfig(max_epochs=1, batch_size=200, progress=False)
    est = PSCN(PSCNConfig(), tc).fit(train, valid)
    loaded = PSCN.load(est.save(tmp_path / "model"))
    np.testing.assert_array_equal(
        loaded.module_.influence_scores(test), est.module_.influence_scores(test)
    )
