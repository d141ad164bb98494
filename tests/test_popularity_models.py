"""Size regressors of the popularity task: exact features, paths, decay intervals and time
inputs on a hand-built cascade; every model beats the mean predictor on the planted problem
(`synthetic_popularity`); save/load is bit-exact; vocabularies come from training only."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from cascadekit import registry
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import CascadeKitError
from cascadekit.models.base import PopularityRegressor, network_of
from cascadekit.models.deephawkes import (
    DeepHawkesConfig,
    DeepHawkesNet,
    decay_intervals,
    repost_tree,
)
from cascadekit.models.lstm_size import inter_arrival_log
from cascadekit.models.popularity import ancestor_rows, train_user_rows
from cascadekit.models.popularity_features import FEATURES, cascade_features
from cascadekit.pipeline import load_bundle

torch.set_num_threads(1)
T0 = 1464710400.0


def hand_cascades(parents: bool = True) -> CascadeSet:
    """c0: root u0 at 0; u1 at 10 (← u0), u2 at 20 (← u1), u3 at 60 (← u0), u4 at 70 (← u2);
    c1: a lone root u5. Window T_o = 100 s."""
    cs = CascadeSet.from_sequences(
        [[0, 1, 2, 3, 4], [5]], Vocabulary.range(8),
        times=[[T0, T0 + 10, T0 + 20, T0 + 60, T0 + 70], [T0 + 5]],
        parents=[[-1, 0, 1, 0, 2], [-1]] if parents else None, root_times=np.array([T0, T0 + 5]),
    )  # fmt: skip
    cs.attrs = {"observation_window_s": 100.0}
    return cs


def test_features_of_a_hand_built_cascade() -> None:
    got = dict(zip(FEATURES, cascade_features(hand_cascades(), 100.0).T, strict=True))
    l2 = math.log2
    expected = {
        "log_observed": [l2(6), l2(2)],
        "first_adoption": [0.1, 1.0],  # a lone root: "first" = the end of the window
        "last_adoption": [0.7, 0.0],
        "depth": [3, 0],  # u4 ← u2 ← u1 ← u0
        "log_breadth": [l2(3), l2(2)],  # two adopters (u1, u3) at depth 1
        "growth": [0.0, 0.0],  # u1, u2 before 50 s; u3, u4 after
        "log_leaves": [l2(3), l2(2)],  # nobody reposted u3 or u4
    }
    for name, values in expected.items():
        np.testing.assert_allclose(got[name], values, err_msg=name)
    star = dict(zip(FEATURES, cascade_features(hand_cascades(parents=False), 100.0).T, strict=True))
    assert (
        star["depth"][0] == 1 and star["log_breadth"][0] == l2(5) and star["log_leaves"][0] == l2(5)
    )


def test_trees_intervals_and_time_inputs_of_a_hand_built_cascade() -> None:
    cs = hand_cascades()
    assert ancestor_rows(cs).tolist() == [
        [0, -1, -1, -1], [1, 0, -1, -1], [2, 1, 0, -1], [3, 0, -1, -1], [4, 2, 1, 0],
        [5, -1, -1, -1],
    ]  # fmt: skip
    parent, depth = repost_tree(cs)
    assert parent.tolist() == [-1, 0, 1, 0, 2, -1] and depth.tolist() == [0, 1, 2, 1, 3, 0]
    # time to the end of the window: 100, 90, 80, 40, 30, 100 s → intervals of 100 / 4 s
    assert decay_intervals(cs, 100.0, 4).tolist() == [3, 3, 3, 1, 1, 3]
    np.testing.assert_allclose(
        inter_arrival_log(cs), np.log1p([0, 10, 10, 40, 10, 0]).astype(np.float32)
    )


def test_tree_states_equal_a_gru_over_each_repost_path() -> None:
    """DeepHawkes' path encoder, computed level by level, against nn.GRU run over every path
    root → … → adopter separately (same weights)."""
    cs = hand_cascades()
    torch.manual_seed(0)
    meta = {"n_users": 8, "n_known_users": 7, "observation_window_s": 100.0, "max_log_label": 9}
    net = DeepHawkesNet(meta, DeepHawkesConfig(embedding_dim=5, hidden_dim=3))
    net.users.rows.copy_(torch.arange(8).clamp(max=7))
    gru = torch.nn.GRU(5, 3, batch_first=True)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(gru, f"{name}_l0").data.copy_(getattr(net.cell, name).data)
    paths = [[0], [0, 1], [0, 1, 2], [0, 3], [0, 1, 2, 4], [5]]
    with torch.no_grad():
        states = net.path_states(net.encode(cs))
        for row, path in enumerate(paths):
            _, h = gru(net.users(torch.tensor([path])))
            torch.testing.assert_close(states[row], h[0, 0], rtol=1e-6, atol=1e-6)


def test_training_vocabulary_maps_everyone_else_to_unk() -> None:
    rows = train_user_rows(hand_cascades().subset([1]))  # only u5 adopts in "training"
    assert rows.tolist() == [0, 0, 0, 0, 0, 1, 0, 0]
    twice = CascadeSet.from_sequences([[3, 1], [1, 2], [1, 3]], Vocabulary.range(5))
    assert train_user_rows(twice, min_count=2).tolist() == [0, 1, 0, 2, 0]


OPTIONS: dict[str, dict[str, Any]] = {
    "popularity_features": {},
    "lstm_size": {"epochs": 12, "lr": 5e-3, "progress": False},
    "deephawkes": {"epochs": 8, "lr": 5e-3, "progress": False},
}


@pytest.fixture(scope="module")
def planted() -> tuple[Any, dict[str, Any]]:
    """The time-ordered popularity split of `synthetic_popularity` and each model fitted on it
    with selection on validation MSLE."""
    task = registry.task("popularity", {"order": "time"})
    split = task.build(load_bundle("synthetic_popularity", 0, {"n_cascades": 300}), seed=0)
    models = {}
    for name, options in OPTIONS.items():
        models[name] = registry.create(name, None, **options).fit(
            split.train, split.valid, validator=task.validator(), monitor=task.monitor
        )
    return split, models


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_each_model_beats_the_mean_predictor(planted: tuple[Any, dict], name: str) -> None:
    split, models = planted
    y = np.log2(split.test.meta["label"] + 1)
    mean_msle = float(np.mean((y - np.log2(split.train.meta["label"] + 1).mean()) ** 2))
    net = network_of(models[name])
    assert isinstance(net, PopularityRegressor)
    msle = float(np.mean((np.log2(net.predict_increment(split.test) + 1) - y) ** 2))
    # the increment is round(n · k): size and timing explain it; the mean predictor ≈ 1.5
    assert msle < 0.6 * mean_msle, (name, msle, mean_msle)


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_save_load_round_trips_bit_exactly(
    planted: tuple[Any, dict], name: str, tmp_path: Path
) -> None:
    split, models = planted
    models[name].save(tmp_path / name)
    loaded = registry.model(name).estimator_class.load(tmp_path / name)
    before = network_of(models[name]).predict_increment(split.test)
    np.testing.assert_array_equal(network_of(loaded).predict_increment(split.test), before)


def test_neural_vocabularies_come_from_the_training_part(planted: tuple[Any, dict]) -> None:
    split, models = planted
    only_test = np.setdiff1d(split.test.users, split.train.users)
    assert len(only_test)
    counts = np.bincount(split.train.users, minlength=split.train.n_users)
    for name in ("lstm_size", "deephawkes"):
        rows = network_of(models[name]).users.rows.numpy()
        # min_user_count = 2: users of one training cascade share UNK with the unseen ones
        assert np.all(rows[only_test] == 0) and np.array_equal(rows > 0, counts >= 2)
        assert rows.max() == (counts >= 2).sum() > 0


def test_user_embeddings_learn_at_their_own_rate(planted: tuple[Any, dict]) -> None:
    est = planted[1]["deephawkes"]
    groups = est._param_groups(est.module_)
    assert groups[0]["lr"] == 1e-4 and groups[0]["params"] == [est.module_.users.embed.weight]
    assert sum(p.numel() for g in groups for p in g["params"]) == sum(
        p.numel() for p in est.module_.parameters()
    )


def test_predictions_are_clamped_to_the_training_range(planted: tuple[Any, dict]) -> None:
    split, models = planted
    top = np.log2(split.train.meta["label"].max() + 1) + 1.0  # max_log_margin = 1
    for name in ("lstm_size", "deephawkes"):
        assert np.log2(network_of(models[name]).predict_increment(split.test) + 1).max() <= top


def test_the_learned_time_decay_is_exposed(planted: tuple[Any, dict]) -> None:
    decay = network_of(planted[1]["deephawkes"]).time_decay()
    assert decay["edges"] == [0.0, 600.0, 1200.0, 1800.0, 2400.0, 3000.0, 3600.0]
    assert len(decay["weights"]) == 6


def test_another_window_or_vocabulary_is_refused(planted: tuple[Any, dict]) -> None:
    split, models = planted
    other = split.test.subset(np.arange(3))
    other.attrs = {**other.attrs, "observation_window_s": 1800.0}
    for name in OPTIONS:
        with pytest.raises(CascadeKitError, match="trained on|fitted on"):
            network_of(models[name]).predict_increment(other)
    with pytest.raises(CascadeKitError, match="predict on the dataset it was trained on"):
        network_of(models["deephawkes"]).predict_increment(hand_cascades())
