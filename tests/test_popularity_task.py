"""The popularity task (protocols §3, §7): exact windows and labels on hand-built cascades, every
filter counted, time-ordered / seeded random / shipped splits, presets recorded, windowed data
kept as shipped, and the metrics of an oracle and a constant model."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cascadekit import datasets, pipeline, registry
from cascadekit.cli import app
from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import CascadeKitError
from cascadekit.report.popularity import error_by_size
from cascadekit.report.run_report import report_run
from cascadekit.tasks.popularity import Popularity, evaluate_popularity

MIDNIGHT_BEIJING = 1464710400.0  # 2016-06-01 00:00 UTC+8
HOUR = 3600.0


def bundle_of(cascades: list[tuple[float, list[float]]], **kwargs: object) -> DatasetBundle:
    """Cascade i: (publish time, adoption times relative to it); users distinct per cascade,
    each adopter reposting the previous one (a chain)."""
    seqs, times, parents, start = [], [], [], 0
    for _, rel in cascades:
        seqs.append(list(range(start, start + len(rel))))
        start += len(rel)
    times = [[t0 + r for r in rel] for t0, rel in cascades]
    parents = [[-1] + list(range(len(rel) - 1)) for _, rel in cascades]
    cs = CascadeSet.from_sequences(
        seqs, Vocabulary.range(start), times=times, parents=parents,
        ids=[f"c{i}" for i in range(len(cascades))],
        root_times=np.array([t0 for t0, _ in cascades]),
    )  # fmt: skip
    return DatasetBundle("hand", cascades=cs, **kwargs)


def all_parts(split: object) -> CascadeSet:
    return CascadeSet.concat([split.train, split.valid, split.test])


THIRDS = (0.34, 0.33, 0.33)  # three cascades → one per part


def test_labels_count_adoptions_in_the_window_and_nothing_after_obs_is_seen() -> None:
    bundle = bundle_of([
        (MIDNIGHT_BEIJING, [0, 10, 50, 99, 100, 500, 999, 1000, 2000]),
        (MIDNIGHT_BEIJING + 9 * HOUR, [0, 5, 200]),
        (MIDNIGHT_BEIJING + 12 * HOUR, [0, 1, 2, 3, 4, 5]),
    ])  # fmt: skip
    task = Popularity({"obs": 100, "horizon": 1000, "min_observed": None, "fractions": THIRDS})
    parts = all_parts(task.build(bundle, seed=0))
    got = {cid: i for i, cid in enumerate(parts.ids)}
    # observed: t < 100; label: 100 <= t < 1000
    for cid, observed, label in (("c0", 4, 3), ("c1", 2, 1), ("c2", 6, 0)):
        i = got[cid]
        assert parts.lengths[i] == parts.meta["observed_size"][i] == observed
        assert parts.meta["label"][i] == label
        assert parts.meta["final_size"][i] == observed + label
    assert np.all(parts.times < np.repeat(parts.meta["publish_time"] + 100, parts.lengths))
    assert parts.attrs["observation_window_s"] == 100 and parts.attrs["horizon_s"] == 1000


def test_every_filter_is_counted() -> None:
    hours = [7, 8, 12, 18, 19, 23, 10, 11]  # Beijing publish hours
    sizes = [12, 12, 3, 12, 12, 12, 40, 12]  # observed adoptions (all within obs)
    bundle = bundle_of(
        [(MIDNIGHT_BEIJING + h * HOUR, list(range(n))) for h, n in zip(hours, sizes, strict=True)]
    )
    split = Popularity({
        "obs": 100, "horizon": 1000, "publish_hours": (8, 18), "utc_offset_hours": 8,
        "min_observed": 10, "max_observed": 30, "order": "random", "fractions": THIRDS,
    }).build(bundle, seed=0)  # fmt: skip
    window = split.info["window"]
    # hours 7, 19, 23 dropped first; then the 3-adoption cascade; then the 40-adoption one
    assert window["dropped_publish_hour"] == 3
    assert window["dropped_min_observed"] == 1
    assert window["dropped_max_observed"] == 1
    assert window["kept_cascades"] == 3 == sum(split.info["sizes"])
    assert sorted(all_parts(split).ids) == ["c1", "c3", "c7"]


def test_publish_hour_ignores_the_machine_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    bundle = bundle_of([(MIDNIGHT_BEIJING + h * HOUR, list(range(12))) for h in (7, 8, 9, 10)])
    options = {"obs": 100, "horizon": 1000, "publish_hours": (8, 18), "utc_offset_hours": 8,
               "order": "random", "fractions": THIRDS}  # fmt: skip
    kept = []
    for tz in ("UTC", "America/New_York"):
        monkeypatch.setenv("TZ", tz)
        time.tzset()
        kept.append(sorted(all_parts(Popularity(options).build(bundle, 0)).ids))
    monkeypatch.delenv("TZ")
    time.tzset()
    assert kept[0] == kept[1] == ["c1", "c2", "c3"]


def test_truncation_keeps_the_first_adoptions_and_the_window_label() -> None:
    bundle = bundle_of([
        (MIDNIGHT_BEIJING, [0, 1, 2, 3, 4, 150]),
        (MIDNIGHT_BEIJING + HOUR, [0, 1, 2]),
        (MIDNIGHT_BEIJING + 2 * HOUR, [0, 1, 2, 3, 4, 5, 6, 200, 300]),
    ])  # fmt: skip
    split = Popularity(
        {"obs": 100, "horizon": 1000, "min_observed": None, "truncate": 3, "fractions": THIRDS}
    ).build(bundle, 0)
    parts = all_parts(split)
    i = {cid: k for k, cid in enumerate(parts.ids)}
    assert split.info["truncated_cascades"] == 2
    assert split.info["truncated_rows"] == (5 - 3) + (7 - 3)
    assert parts.lengths.tolist() == [3, 3, 3]
    assert parts.meta["observed_size"][i["c2"]] == 7 and parts.meta["label"][i["c2"]] == 2
    assert parts.users[parts.offsets[i["c2"]] : parts.offsets[i["c2"]] + 3].tolist() == [9, 10, 11]


def many_cascades(n: int = 40, seed: int = 0) -> DatasetBundle:
    rng = np.random.default_rng(seed)
    publish = MIDNIGHT_BEIJING + rng.permutation(n) * 600.0
    return bundle_of([(t0, [0.0, *np.sort(rng.uniform(1, 99, 11)), 500.0]) for t0 in publish])


def test_time_order_puts_every_test_cascade_after_every_training_one() -> None:
    split = Popularity({"obs": 100, "horizon": 1000}).build(many_cascades(), seed=3)
    train, valid, test = (p.meta["publish_time"] for p in (split.train, split.valid, split.test))
    assert split.info["order"] == "time" and split.info["sizes"] == [28, 6, 6]
    assert train.max() <= valid.min() and valid.max() <= test.min()


def test_random_order_is_seeded_and_disjoint() -> None:
    task = Popularity({"obs": 100, "horizon": 1000, "order": "random"})
    a, b, c = (task.build(many_cascades(), seed=s) for s in (0, 0, 1))
    ids = [[sorted(p.ids) for p in (s.train, s.valid, s.test)] for s in (a, b, c)]
    assert ids[0] == ids[1] and ids[0] != ids[2]
    flat = [cid for part in ids[0] for cid in part]
    assert len(flat) == len(set(flat)) == 40


def windowed_bundle(**attrs: object) -> DatasetBundle:
    bundle = bundle_of([(MIDNIGHT_BEIJING + i * 60.0, list(range(10 + i))) for i in range(6)])
    cs = bundle.cascades
    cs.meta = {"label": np.array([5.0, 0.0, 7.0, 1.0, 2.0, 3.0])}
    cs.attrs = {"observation_window_s": 3600, **attrs}
    bundle.splits = {"train": np.array([0, 2, 4]), "valid": np.array([1]), "test": np.array([3, 5])}
    return bundle


def test_a_windowed_dataset_keeps_its_split_and_labels() -> None:
    split = Popularity({}).build(windowed_bundle(), seed=0)
    assert split.info["order"] == "shipped" and split.info["labels"] == "shipped"
    assert sorted(split.test.ids) == ["c3", "c5"] and sorted(split.valid.ids) == ["c1"]
    assert split.train.meta["label"].tolist() == [5, 7, 2]
    assert split.train.meta["final_size"].tolist() == [15, 19, 16]
    # the same windowed cascades may still be re-split by publish time on request
    resplit = Popularity({"order": "time", "fractions": (0.5, 0.17, 0.33)}).build(
        windowed_bundle(), seed=0
    )
    assert sorted(resplit.test.ids) == ["c4", "c5"] and resplit.test.meta["label"].tolist() == [
        2,
        3,
    ]


def test_a_window_contradicting_the_dataset_is_refused() -> None:
    with pytest.raises(CascadeKitError, match="already windowed at obs = 3600"):
        Popularity({"obs": 1800}).build(windowed_bundle(), seed=0)
    with pytest.raises(CascadeKitError, match="horizon = 43200 contradicts"):
        Popularity({"horizon": 43200}).build(windowed_bundle(horizon_s=86400), seed=0)
    with pytest.raises(CascadeKitError, match="ships no split"):
        Popularity({"order": "shipped"}).build(many_cascades(), seed=0)


def test_presets_fill_what_is_not_given_and_are_recorded() -> None:
    half = Popularity({"preset": "casflow", "obs": 1800}).split
    assert (half.publish_hours, half.truncate, half.order) == ((8, 17), 100, "random")
    assert (half.utc_offset_hours, half.min_observed, half.horizon) == (8.0, 10, 86400.0)
    assert Popularity({"preset": "casflow"}).split.publish_hours == (8, 18)  # T_o = 1 h
    dh = Popularity({"preset": "deephawkes", "max_observed": None}).split
    assert (dh.order, dh.max_observed, dh.publish_hours) == ("time", None, (8, 18))
    record = Popularity({"preset": "casflow", "obs": 1800, "truncate": None}).split_record()
    assert record["preset"] == "casflow" and record["truncate"] is None
    assert Popularity(json.loads(json.dumps(record))).split_record() == record
    for bad, match in (({"preset": "ccgl"}, "preset must be one of"),
                       ({"order": "later"}, "order must be one of"),
                       ({"obs": 100, "horizon": 50}, "0 < obs < horizon"),
                       ({"publish_hours": [19, 8]}, "publish_hours")):  # fmt: skip
        with pytest.raises(CascadeKitError, match=match):
            Popularity(bad)


class Fixed:
    """A PopularityRegressor returning given predictions."""

    def __init__(self, pred: list[float]) -> None:
        self.pred = np.asarray(pred, dtype=float)

    def predict_increment(self, cascades: CascadeSet) -> np.ndarray:
        return self.pred


def labelled(labels: list[int]) -> CascadeSet:
    cs = CascadeSet.from_sequences([[i] for i in range(len(labels))], Vocabulary.range(4))
    cs.meta = {"label": np.array(labels)}
    return cs


def test_an_oracle_scores_zero_and_a_constant_model_its_hand_computed_errors() -> None:
    test = labelled([0, 1, 3, 7])
    oracle = evaluate_popularity(Fixed([0, 1, 3, 7]), test)
    for key in ("msle", "mape", "msle_casflow", "mape_casflow", "mse"):
        assert oracle[key] == 0.0
    out = evaluate_popularity(Fixed([3, 3, 3, 3]), test)
    # log2(ŷ + 1) = 2 against log2(y + 1) = 0, 1, 2, 3
    assert out["msle"] == pytest.approx((4 + 1 + 0 + 1) / 4)
    assert out["mse"] == pytest.approx(out["msle"])  # DMT-LIC's MSE is on log2(y + 1)
    l2 = math.log2
    assert out["mape"] == pytest.approx(
        (abs(l2(5) - 1) / 1 + abs(l2(5) - l2(3)) / l2(3) + 0 + abs(l2(5) - l2(9)) / l2(9)) / 4
    )
    # CasFlow: max(·, 1) on both sides, no +1 in the MSLE, +1 in the MAPE numerator
    assert out["msle_casflow"] == pytest.approx((l2(3) ** 2 * 2 + (l2(3) - l2(7)) ** 2) / 4)
    assert out["mape_casflow"] == pytest.approx(
        (abs(l2(4) - 1) / l2(3) * 2 + abs(l2(4) - l2(8)) / l2(9)) / 4
    )
    assert out["n_cascades"] == 4 and out["mean_label"] == 2.75 and out["mean_prediction"] == 3
    assert out["predictions"]["true"] == [0, 1, 3, 7] and out["predictions"]["pred"] == [3] * 4


def test_bad_predictions_are_refused_and_negatives_clipped() -> None:
    test = labelled([0, 1, 3, 7])
    for pred in ([1, 2, 3], [1, 2, float("nan"), 3]):
        with pytest.raises(CascadeKitError, match="must return"):
            evaluate_popularity(Fixed(pred), test)
    out = evaluate_popularity(Fixed([-2, 1, 3, 7]), test, predictions=False)
    assert out["negative_predictions_clipped"] == 1 and out["msle"] == 0.0
    assert "predictions" not in out


def test_train_and_evaluate_through_the_cli(tmp_path: Path) -> None:
    run = tmp_path / "run"
    res = CliRunner().invoke(app, [
        "train", "popularity_features", "--data", "synthetic_popularity", "--out", str(run),
        "--data-set", "n_cascades=120", "--split-set", "obs=3600", "--split-set", "horizon=86400",
        "--split-set", "order=random",
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    info = json.loads((run / "run.json").read_text())
    assert info["task"] == "popularity" and info["split"]["order"] == "random"
    assert info["split_info"]["window"]["kept_cascades"] == 120
    res = CliRunner().invoke(app, ["evaluate", str(run), "--task", "popularity", "--json"])
    assert res.exit_code == 0, res.output
    metrics = json.loads(res.stdout)["metrics"]
    assert metrics["n_cascades"] == 18 and metrics["msle"] < 0.5
    assert (run / "metrics" / "popularity.json").is_file()


@pytest.mark.slow
def test_deephawkes_weibo_is_used_as_shipped(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    bundle = pipeline.load_bundle("weibo_deephawkes_obs1h")
    split = registry.task("popularity", {"min_observed": None}).build(bundle, seed=0)
    assert split.info["order"] == "shipped" and split.info["sizes"] == [831, 178, 178]
    assert (
        split.test.meta["label"].sum() == bundle.cascades.meta["label"][bundle.splits["test"]].sum()
    )
    # ≥ 10 distinct observed adopters: the reader drops repeat reposts DeepHawkes counted
    split = registry.task("popularity", {}).build(bundle, seed=0)
    assert split.info["window"]["dropped_min_observed"] == 29 and split.info["sizes"] == [
        807,
        178,
        173,
    ]
    with pytest.raises(CascadeKitError, match="already windowed"):
        registry.task("popularity", {"obs": 1800}).build(bundle, seed=0)


@pytest.mark.slow
def test_ced_counts_match_an_independent_count(
    mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    bundle = pipeline.load_bundle("ced_weibo_rumor", options={"limit": 300})
    split = registry.task("popularity", {"obs": 1800}).build(bundle, seed=0)
    observed, labels = {}, {}
    for c in bundle.cascades:
        rel = c.times - c.root_time
        observed[c.id], labels[c.id] = (
            int((rel < 1800).sum()),
            int(((rel >= 1800) & (rel < 86400)).sum()),
        )
    kept = {cid for cid, n in observed.items() if n >= 10}
    assert split.info["window"]["dropped_min_observed"] == 300 - len(kept)
    parts = all_parts(split)
    assert set(parts.ids) == kept
    assert all(parts.meta["label"][i] == labels[cid] for i, cid in enumerate(parts.ids))


def test_error_by_size_is_the_msle_of_each_size_bin() -> None:
    bins = error_by_size([1, 2, 3, 4], [0, 1, 3, 7], [0, 3, 3, 3], n_bins=2)
    # quantile edges 1, 2.5, 4; squared log2 errors 0, 1, 0, 1
    assert bins == {"edges": [1.0, 2.5, 4.0], "msle": [0.5, 0.5], "count": [2, 2]}


def test_the_run_report_draws_the_popularity_figures(tmp_path: Path) -> None:
    run = tmp_path / "run"
    tiny = {"embedding_dim": 4, "hidden_dim": 4, "mlp_dims": [4], "epochs": 2, "progress": False}
    pipeline.train(
        "deephawkes", "synthetic_popularity", run, options=tiny,
        data_options={"n_cascades": 60, "n_users": 700},
    )  # fmt: skip
    pipeline.evaluate(run)
    names = {p.name for p in report_run(run)}
    assert {"popularity.png", "popularity_scatter.png", "popularity_error_by_size.png",
            "popularity_time_decay.png", "report.html"} <= names  # fmt: skip


def test_observed_prefixes_keep_the_per_adoption_columns() -> None:
    bundle = pipeline.load_bundle("synthetic_multimodal", 0, {"n_cascades": 120, "n_users": 900})
    split = registry.task("popularity", {"obs": 1800.0, "order": "time"}).build(bundle, 0)
    part = split.train
    assert len(part.events["text"]) == part.n_events  # cut with the adoptions
    roots = part.events["text"][part.offsets[:-1]]
    assert roots.tolist() == [bundle.content.text(i) for i in part.ids]
    assert set(part.events["text"][part.positions > 0]) == {""}
    followers = bundle.content.profiles["followers"][part.users]
    np.testing.assert_array_equal(part.events["profile:followers"], followers)
