"""The influence task: presets, the three splits (no item in two parts; test after train), the
DeepInf-folder path, and evaluation checked with an oracle and a constant scorer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cascadekit import datasets, registry
from cascadekit.cli import app
from cascadekit.data import DatasetBundle
from cascadekit.data.formats import read
from cascadekit.data.formats.deepinf import write_instances
from cascadekit.errors import CascadeKitError
from cascadekit.pipeline import load_bundle
from cascadekit.simulate.synthetic import synthetic_cascades
from cascadekit.tasks.influence import BUILD_PRESETS, Influence, bundle_instances


class Oracle:
    def influence_scores(self, instances):  # noqa: ANN001, ANN201
        return instances.labels.astype(float)


class Constant:
    def influence_scores(self, instances):  # noqa: ANN001, ANN201
        return np.full(len(instances), 0.3)


@pytest.fixture(scope="module")
def bundle() -> DatasetBundle:
    return synthetic_cascades(300, 120, edge_prob=0.25, seed=0)


def task(**split: object) -> Influence:
    return Influence({"embedding_dim": 0, "ego_size": 10, **split})


def test_random_split_is_the_papers(bundle: DatasetBundle) -> None:
    split = task().build(bundle, seed=0)
    n = sum(split.info["sizes"])
    assert n > 500 and split.info["kind"] == "random"
    assert split.info["sizes"] == [round(0.75 * n), round(0.875 * n) - round(0.75 * n),
                                   n - round(0.875 * n)]  # fmt: skip
    assert split.info["positives"] == [int(p.labels.sum()) for p in (split.train, split.valid,
                                                                       split.test)]  # fmt: skip
    assert split.info["build"]["instances"]["positive"] == sum(split.info["positives"])
    assert split.train.vertex_features.shape == (300, 7)
    again = task().build(bundle, seed=0)
    np.testing.assert_array_equal(split.test.vertices, again.test.vertices)


def test_item_split_keeps_every_item_in_one_part(bundle: DatasetBundle) -> None:
    split = task(split="item").build(bundle, seed=1)
    parts = [set(p.items.tolist()) for p in (split.train, split.valid, split.test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert split.info["items_per_part"] == [len(p) for p in parts]
    assert sum(split.info["sizes"]) == split.info["build"]["instances"]["positive"] + split.info[
        "build"]["instances"]["negative"]  # fmt: skip


def test_time_split_puts_test_after_train(bundle: DatasetBundle) -> None:
    split = task(split="time").build(bundle, seed=0)
    train, valid, test = split.train.times, split.valid.times, split.test.times
    assert train.max() < valid.min() and valid.max() < test.min()
    assert split.info["cut_times"] == [valid.min(), test.min()]


def test_oracle_scores_one_and_a_constant_one_half(bundle: DatasetBundle) -> None:
    t = task()
    split = t.build(bundle, seed=0)
    best = t.evaluate(Oracle(), split)
    assert (best["auc"], best["precision"], best["recall"], best["f1"]) == (1.0, 1.0, 1.0, 1.0)
    assert best["predicted_positive_rate"] == best["test_positive_rate"] == split.test.labels.mean()
    flat = t.evaluate(Constant(), split)
    assert flat["auc"] == 0.5 and flat["recall"] == 1.0 and flat["threshold"] == 0.3
    strict = Influence({**t.split_record()}, {"strict_threshold": True}).evaluate(Constant(), split)
    assert strict["recall"] == 0.0 and strict["predicted_positive_rate"] == 0.0
    assert t.validator()(Oracle(), split.valid) == {"auc": 1.0}
    assert t.supports(Oracle()) and not t.supports(object())


def test_a_scorer_returning_the_wrong_shape_is_refused(bundle: DatasetBundle) -> None:
    class Short:
        def influence_scores(self, instances):  # noqa: ANN001, ANN202
            return np.zeros(len(instances) - 1)

    t = task()
    with pytest.raises(CascadeKitError, match="finite scores"):
        t.evaluate(Short(), t.build(bundle, seed=0))


def test_presets_resolve_and_round_trip_through_the_record() -> None:
    code = Influence({"preset": "reference_code"}).split
    assert (code.min_item_size, code.max_item_size, code.min_degree, code.max_degree) == (
        100, 1500, 3, 31)  # fmt: skip
    paper = Influence({"preset": "paper", "restart_prob": 0.5}).split
    assert paper.negatives_per_positive == 3 and paper.restart_prob == 0.5  # explicit wins
    record = Influence({"preset": "paper", "restart_prob": 0.5}).split_record()
    assert record["preset"] == "paper" and Influence(record).split == paper
    assert set(BUILD_PRESETS) == {"reference_code", "paper"}
    with pytest.raises(CascadeKitError, match="unknown influence preset"):
        Influence({"preset": "digg"})
    with pytest.raises(CascadeKitError, match="unknown influence split option"):
        Influence({"restart": 0.5})
    with pytest.raises(CascadeKitError, match="split must be one of"):
        Influence({"split": "user"})
    assert isinstance(registry.task("influence"), Influence)


def test_a_bundle_needs_a_graph_and_timed_adoptions(bundle: DatasetBundle) -> None:
    with pytest.raises(CascadeKitError, match="no social graph"):
        task().build(DatasetBundle("x", cascades=bundle.cascades), seed=0)
    with pytest.raises(CascadeKitError, match="no timed adoptions"):
        task().build(DatasetBundle("x", graph=bundle.graph), seed=0)


def test_a_deepinf_folder_is_split_like_its_instances(
    bundle: DatasetBundle, tmp_path: Path
) -> None:
    t = task(split="item")
    instances = bundle_instances(bundle, t.split, seed=0)
    folder = write_instances(instances, tmp_path / "inst")
    split = t.build(read(folder, "deepinf"), seed=0)
    direct = t.build(bundle, seed=0)
    for part in ("train", "valid", "test"):
        np.testing.assert_array_equal(getattr(split, part).vertices,
                                      getattr(direct, part).vertices)  # fmt: skip
    # the authors' folders have no items or times: only the random split can use them
    (folder / "item.npy").unlink()
    with pytest.raises(CascadeKitError, match="item split needs every instance's item"):
        t.build(read(folder, "deepinf"), seed=0)


def test_deepwalk_embedding_is_seeded(bundle: DatasetBundle) -> None:
    pytest.importorskip("gensim")
    t = Influence({"embedding_dim": 8, "ego_size": 10})
    a = bundle_instances(bundle, t.split, seed=0)
    b = bundle_instances(bundle, t.split, seed=0)
    assert a.embedding.shape == (300, 8) and a.embedding.dtype == np.float32
    np.testing.assert_array_equal(a.embedding, b.embedding)


@pytest.mark.slow
def test_melcup17_build_cli_and_folder(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    out = tmp_path / "melcup"
    res = CliRunner().invoke(app, ["influence", "build", "--data",
                                   "melcup17_darwin_twitter_influence", "--out", str(out),
                                   "--set", "embedding_dim=8"])  # fmt: skip
    assert res.exit_code == 0, res.output
    info = json.loads((out / "cascadekit.json").read_text())["info"]
    # data facts: 4,028 retweet cascades, each rooted at its author; 14,797 adoptions in all
    assert info["adoptions_without_earlier_adopter"] == 4028
    assert info["candidates"]["positive"] == 14797 - 4028
    kept = info["instances"]
    assert kept["positive"] + kept["negative"] == sum(info["active_neighbors"]) > 3000
    assert info["active_neighbors"][:3] == [0, 0, 0]  # the ≥ 3 rule
    split = Influence({"split": "time"}).build(load_bundle(str(out), 0, None, "deepinf"), seed=0)
    assert split.train.times.max() < split.test.times.min()
    assert split.train.embedding.shape == (1484, 8)
