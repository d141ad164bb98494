"""MMCAs (`models.mmcas`): the feature builders on hand-made cascades (verified-type categories,
GraphWave rows of a star, the global graph's edges), a fitted model on the planted-modality
problem (predictions, expert weights that sum to one and leave absent modalities out; the
responsible modality's expert weighted above the other's), the warm cache encoding nothing,
training texts only in the text encoder, dropped modalities, bit-exact save/load, and a real
run on CED through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from cascadekit import registry
from cascadekit.cli import app
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.vocab import Vocabulary
from cascadekit.models import mmcas
from cascadekit.models.mmcas import MMCAs, category_index, global_adjacency, graphwave_rows
from cascadekit.models.popularity import train_user_rows
from cascadekit.pipeline import load_bundle
from cascadekit.tasks.popularity import evaluate_popularity

torch.set_num_threads(1)
T0 = 1464710400.0
SMALL = {"max_events": 40, "encoder_dim": 16, "ode_hidden": 16, "fusion_dim": 32,
         "expert_hidden": 32, "n_ffn": 2, "text_dim": 16, "graphwave_points": 10}  # fmt: skip


def test_category_index_maps_known_values_and_sends_the_rest_to_unk() -> None:
    known = np.array([-1.0, 0.0, 220.0])
    got = category_index(np.array([0.0, 220.0, 3.0, np.nan, -1.0]), known)
    assert got.tolist() == [2, 3, 0, 0, 1]
    assert category_index(np.array([1.0]), np.zeros(0)).tolist() == [0]


def star(n_leaves: int, window: float = 100.0) -> CascadeSet:
    """One cascade: the root at 0 and ``n_leaves`` reposts of it, all at t = 50."""
    cs = CascadeSet.from_sequences(
        [list(range(n_leaves + 1))], Vocabulary.range(n_leaves + 1),
        times=[[T0] + [T0 + 50.0] * n_leaves], parents=[[-1] + [0] * n_leaves],
        root_times=np.array([T0]),
    )  # fmt: skip
    cs.attrs = {"observation_window_s": window}
    return cs


def test_graphwave_rows_give_a_stars_leaves_one_embedding_and_stop_at_max_events() -> None:
    config = mmcas.MMCAsConfig(max_events=4, graphwave_points=5)
    rows = graphwave_rows(star(5), config)
    assert rows.shape == (6, 2 * 2 * 5)
    np.testing.assert_allclose(rows[1], rows[3], atol=1e-6)  # automorphic leaves
    assert not np.allclose(rows[0], rows[1])  # the hub differs
    assert np.all(rows[4:] == 0)  # positions ≥ max_events are not read
    # the characteristic function at t = 0 is 1 (real part), 0 (imaginary part)
    assert rows[0, 0] == pytest.approx(1.0) and rows[0, 5] == pytest.approx(0.0)


def test_global_adjacency_counts_repost_edges_between_known_users_only() -> None:
    train = CascadeSet.from_sequences(
        [[0, 1, 2], [0, 1, 3], [4, 0]], Vocabulary.range(5),
        times=[[T0, T0 + 1, T0 + 2], [T0, T0 + 1, T0 + 2], [T0, T0 + 1]],
        parents=[[-1, 0, 1], [-1, 0, 0], [-1, 0]], root_times=np.full(3, T0),
    )  # fmt: skip
    rows = train_user_rows(train, min_count=2)  # users 0 and 1 (twice each); 2, 3, 4 UNK
    adj = global_adjacency(train, rows).toarray()
    np.testing.assert_array_equal(adj, [[0, 2], [2, 0]])  # 0–1 in two cascades, both ways


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """MMCAs (interpretable preset) fitted on the text- and the profile-driven planted problems
    where the driver alone sets the increment: seed 0 of `benchmarks/mmcas_planted.py`'s
    interpretable rows (the benchmark has the other seeds)."""
    cache = tmp_path_factory.mktemp("features")
    out: dict[str, Any] = {"cache": cache}
    for driver in ("text", "profile"):
        data = {"n_cascades": 400, "n_users": 3200, "driver": driver, "growth": "alone"}
        split = registry.task("popularity", {"obs": 1800.0, "order": "time"}).build(
            load_bundle("synthetic_multimodal", 0, data), 0
        )
        est = registry.create("mmcas", "interpretable", cache_dir=str(cache), epochs=10,
                              progress=False)  # fmt: skip
        out[driver] = (split, est.fit(split.train, split.valid))
    return out


def test_the_planted_problems_are_learned(planted: dict[str, Any]) -> None:
    for driver in ("text", "profile"):
        split, est = planted[driver]
        got = evaluate_popularity(est.module_, split.test, predictions=False)
        y = np.log2(split.test.meta["label"] + 1)
        mean_msle = float(np.mean((y - np.log2(split.train.meta["label"] + 1).mean()) ** 2))
        assert got["msle"] < 0.5 * mean_msle, (driver, got["msle"], mean_msle)


def test_the_responsible_modality_gets_the_larger_expert_weight(planted: dict[str, Any]) -> None:
    for driver, expert in (("text", "uniqueness:text"), ("profile", "uniqueness:user")):
        split, est = planted[driver]
        ex = est.module_.explain(split.test)
        np.testing.assert_allclose(ex["weights"].sum(1), 1.0, atol=1e-6)
        mean = dict(zip(ex["experts"], ex["weights"].mean(0), strict=True))
        # the driver's own expert carries most of the weight, well above every other expert
        assert mean[expert] > 0.5 and mean[expert] == max(mean.values()), (driver, mean)


def test_a_cascade_without_text_gives_its_text_expert_no_weight(planted: dict[str, Any]) -> None:
    split, est = planted["text"]
    part = split.test.subset(np.arange(5))
    silent = part.with_columns(
        events={**part.events, "text": np.full(part.n_events, "", dtype=object)}
    )
    ex = est.module_.explain(silent)
    column = ex["experts"].index("uniqueness:text")
    assert np.all(ex["weights"][:, column] == 0)
    assert np.all(ex["weights"].sum(1) > 0.999)


def test_a_warm_cache_encodes_nothing(
    planted: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    split, first = planted["text"]

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("encoded again")

    monkeypatch.setattr(mmcas.CharNgramTextEncoder, "fit", refuse)
    monkeypatch.setattr(mmcas, "graphwave_rows", refuse)
    monkeypatch.setattr(mmcas, "netmf_embedding", refuse)
    again = registry.create("mmcas", "interpretable", cache_dir=str(planted["cache"]),
                            epochs=1, progress=False)  # fmt: skip
    again.fit(split.train, split.valid)
    assert again.cache_.misses == 0 and again.cache_.hits > 0
    # the same weights out of the same encodings: the first epoch of both runs is identical
    assert again.history_[0]["train_loss"] == first.history_[0]["train_loss"]


def test_the_text_encoder_learns_from_training_texts_only(planted: dict[str, Any]) -> None:
    split, est = planted["text"]
    vocabulary = set(est.meta_["text_vocabulary"])
    train_chars = set("".join(str(t) for t in split.train.events["text"]).lower())
    assert {v for v in vocabulary if len(v) == 1} <= train_chars


def test_a_dataset_without_text_or_profiles_drops_those_modalities(tmp_path: Path) -> None:
    bundle = load_bundle("synthetic_popularity", 0, {"n_cascades": 60})
    split = registry.task("popularity", {"order": "time"}).build(bundle, 0)
    est = registry.create("mmcas", None, **SMALL, cache_dir=str(tmp_path), epochs=1,
                          progress=False)  # fmt: skip
    est.fit(split.train, split.valid)
    assert est.meta_["modalities"] == ["cascade"]
    assert est.meta_["dropped_modalities"] == ["user", "text", "image"]
    assert est.module_.fusion.expert_names == ["uniqueness:cascade", "synergy", "redundancy"]
    assert np.isfinite(est.module_.predict_increment(split.test)).all()


@pytest.mark.parametrize("fusion", ["concat", "transformer", "switch"])
def test_fusion_variants_train_and_have_no_expert_weights(fusion: str, tmp_path: Path) -> None:
    bundle = load_bundle("synthetic_multimodal", 0, {"n_cascades": 80, "n_users": 1000})
    split = registry.task("popularity", {"obs": 1800.0, "order": "time"}).build(bundle, 0)
    est = registry.create("mmcas", fusion, **SMALL, cache_dir=str(tmp_path), epochs=1,
                          progress=False)  # fmt: skip
    est.fit(split.train, split.valid)
    assert est.module_.fusion.fusion == fusion
    assert np.isfinite(est.module_.predict_increment(split.test)).all()
    with pytest.raises(ValueError, match="only the mixture of experts"):
        est.module_.explain(split.test)


def test_save_load_round_trips_bit_exactly(planted: dict[str, Any], tmp_path: Path) -> None:
    split, est = planted["profile"]
    est.save(tmp_path / "m")
    again = MMCAs.load(tmp_path / "m")
    a, b = est.module_.predict_increment(split.test), again.module_.predict_increment(split.test)
    assert np.array_equal(a, b)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="modalities"):
        mmcas.MMCAsConfig(modalities=("cascade", "video"))
    with pytest.raises(ValueError, match="fusion"):
        mmcas.MMCAsConfig(fusion="sum")
    with pytest.raises(ValueError, match="ode_method must be one of dopri5"):
        mmcas.MMCAsConfig(ode_method="rk45")


@pytest.mark.slow
def test_train_and_evaluate_on_ced_through_the_cli(mirror: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    sets = ["epochs=1", "max_events=20", "progress=false", f"cache_dir={tmp_path / 'cache'}"]
    args = ["train", "mmcas", "--data", "ced_weibo_rumor", "--split-set", "obs=1800",
            "--out", str(run)]  # fmt: skip
    result = CliRunner().invoke(app, [*args, *(x for s in sets for x in ("--set", s))])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["evaluate", str(run), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)["metrics"]
    assert metrics["n_cascades"] == 403 and 0 < metrics["msle"] < 5
    header = json.loads((run / "model" / "model.json").read_text())
    assert header["meta"]["modalities"] == ["cascade", "user", "text"]
    assert header["meta"]["dropped_modalities"] == ["image"]  # CED has none
    result = CliRunner().invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    assert (run / "report" / "expert_weights.png").is_file()


def test_the_image_path_runs_end_to_end_on_generated_images(tmp_path: Path) -> None:
    data = {"n_cascades": 100, "n_users": 900, "driver": "image", "images": True}
    bundle = load_bundle("synthetic_multimodal", 0, data)
    split = registry.task("popularity", {"obs": 1800.0, "order": "time"}).build(bundle, 0)
    assert split.train.meta["image_features"].shape == (70, 1280)
    est = registry.create("mmcas", None, **SMALL, cache_dir=str(tmp_path), epochs=2,
                          progress=False)  # fmt: skip
    est.fit(split.train, split.valid)
    assert est.meta_["modalities"] == ["cascade", "user", "text", "image"]
    test = split.test
    no_image = test.with_columns(meta={**test.meta, "image_mask": np.zeros(len(test), bool)})
    ex = est.module_.explain(no_image)
    assert ex["experts"][3] == "uniqueness:image" and np.all(ex["weights"][:, 3] == 0)
    assert np.isfinite(est.module_.predict_increment(test)).all()


def test_a_local_sentence_model_can_replace_the_ngram_encoder(tmp_path: Path) -> None:
    bundle = load_bundle("synthetic_multimodal", 0, {"n_cascades": 80, "n_users": 1000})
    split = registry.task("popularity", {"obs": 1800.0, "order": "time"}).build(bundle, 0)
    est = registry.create("mmcas", None, **SMALL, text_model="all-MiniLM-L6-v2",
                          cache_dir=str(tmp_path), epochs=1, progress=False)  # fmt: skip
    est.fit(split.train, split.valid)
    assert est.meta_["text_dim"] == 384 and "text_vocabulary" not in est.meta_
    est.save(tmp_path / "m")
    again = MMCAs.load(tmp_path / "m")
    a, b = est.module_.predict_increment(split.test), again.module_.predict_increment(split.test)
    assert np.array_equal(a, b)
