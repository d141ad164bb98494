"""Leakage safety: nothing after a cut and nothing from valid/test reaches training; exact windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.data import CascadeSet, DatasetBundle, EventLog, Vocabulary
from cascadekit.data.splits import (
    by_event_time,
    chronological_by_cascade,
    observation_window,
    random_by_cascade,
    random_partition,
    shipped,
)
from cascadekit.errors import CascadeKitError


def read_ndm(folder: Path) -> DatasetBundle:
    """Test-local NDM reader (``user,timestamp`` items per line), independent of the formats
    package: cascade.txt = train, cascadetest.txt = test."""
    vocab, seqs, times, ids, parts = Vocabulary(), [], [], [], {}
    for part, name in (("train", "cascade.txt"), ("test", "cascadetest.txt")):
        start = len(seqs)
        for i, line in enumerate((folder / name).read_text().splitlines()):
            items = [item.split(",") for item in line.split()]
            if len(items) < 2:  # protocols §1: keep cascades with more than one user
                continue
            seqs.append(vocab.encode([u for u, _ in items]))
            times.append([float(t) for _, t in items])
            ids.append(f"{part}:{i}")
        parts[part] = np.arange(start, len(seqs))
    cs = CascadeSet.from_sequences(seqs, vocab, times=times, ids=ids)
    return DatasetBundle("ndm_irvine", cascades=cs, splits=parts)


def read_weibo_raw(path: Path) -> CascadeSet:
    """Test-local DeepHawkes raw reader: root time + per-repost (path:seconds) offsets."""
    vocab, seqs, times, roots, ids = Vocabulary(), [], [], [], []
    for line in path.read_text().splitlines():
        cid, _, pub, _, paths = line.split("\t", 4)
        items = [p.rsplit(":", 1) for p in paths.split()]
        offs = np.array([float(t) for _, t in items])
        order = np.argsort(offs, kind="stable")
        seqs.append(vocab.encode([items[k][0].split("/")[-1] for k in order]))
        times.append(float(pub) + offs[order])
        roots.append(float(pub))
        ids.append(cid)
    return CascadeSet.from_sequences(seqs, vocab, times=times, root_times=roots, ids=ids)


def ids_of(split) -> list[set[str]]:  # noqa: ANN001 - a Split of CascadeSets
    return [set(p.ids.tolist()) for p in (split.train, split.valid, split.test)]


def test_no_leakage(mirror: Path) -> None:
    bundle = read_ndm(mirror / "ndm_irvine")
    assert len(bundle.splits["train"]) == 424 and len(bundle.splits["test"]) == 47  # SOURCE.md
    cs = bundle.cascades
    # cascade splits: disjoint ids, every cascade somewhere
    for s in (shipped(bundle, seed=0), random_by_cascade(cs, seed=3), chronological_by_cascade(cs)):
        tr, va, te = ids_of(s)
        assert not (tr & va) and not (tr & te) and not (va & te)
        assert len(tr | va | te) == len(cs) == sum(s.info["sizes"])
    # shipped: test exactly as shipped, validation carved from train only
    s = shipped(bundle, seed=0)
    assert ids_of(s)[2] == {f"test:{i}" for i in range(47)}
    assert all(i.startswith("train:") for i in ids_of(s)[1]) and len(s.valid) == 42
    # same seed → identical split, another seed → another one
    for make in (lambda k: shipped(bundle, seed=k), lambda k: random_by_cascade(cs, seed=k)):
        assert ids_of(make(0)) == ids_of(make(0)) and ids_of(make(0)) != ids_of(make(1))
    c = chronological_by_cascade(cs)
    assert c.train.start_times().max() <= c.valid.start_times().min()
    assert c.valid.start_times().max() <= c.test.start_times().min()
    # event-time split: every training event strictly before the cut
    events = cs.to_event_log()
    e = by_event_time(events, 0.8, valid_fraction=0.1)
    assert e.train.times.max() < e.valid.times.min() <= e.valid.times.max() < e.info["cut"]
    assert e.test.times.min() == e.info["cut"] and len(e.train) + len(e.valid) + len(e.test) == len(
        events
    )
    # observation window (1 day after each cascade's first adoption, horizon 30 days)
    t_obs, t_pred = 86400.0, 30 * 86400.0
    w = observation_window(cs, t_obs, t_pred)
    start = cs.start_times()
    assert np.all(w.cascades.times < np.repeat(start + t_obs, w.cascades.lengths))
    for k, c in enumerate(cs):
        rel = c.times - c.times[0]
        assert w.cascades.meta["label"][k] == np.sum((rel >= t_obs) & (rel < t_pred))
        assert w.cascades.lengths[k] == np.sum(rel < t_obs)
    assert w.cascades.meta["label"].sum() > 0 and w.cascades.n_events < cs.n_events


def test_observation_window_on_real_raw_cascades(mirror: Path) -> None:
    cs = read_weibo_raw(mirror / "weibo_casflow_sample" / "dataset.txt")
    assert len(cs) == 30 and cs.n_events == 7147  # SOURCE.md
    w = observation_window(cs, 3600, 86400, publish_hours=(8, 18), utc_offset_hours=8)
    kept = w.cascades
    assert np.all(kept.times - np.repeat(kept.root_times, kept.lengths) < 3600)
    rel = cs.times - np.repeat(cs.root_times, cs.lengths)
    full = dict(zip(cs.ids, np.split(rel, cs.offsets[1:-1]), strict=True))
    for cid, label in zip(kept.ids, kept.meta["label"], strict=True):
        assert label == np.sum((full[cid] >= 3600) & (full[cid] < 86400))
    # Beijing hour of each root, computed independently with the standard library
    import datetime as dt

    tz = dt.timezone(dt.timedelta(hours=8))
    hours = [dt.datetime.fromtimestamp(r, tz).hour for r in cs.root_times]
    assert len(kept) == sum(8 <= h <= 18 for h in hours)
    assert w.info["dropped_publish_hour"] + len(kept) == len(cs)


def test_observation_window_exact() -> None:
    v = Vocabulary.range(6)
    cs = CascadeSet.from_sequences(
        [[0, 1, 2, 3], [4, 5]], v, times=[[100, 101, 105, 130], [0, 50]], root_times=[100, 0]
    )
    w = observation_window(cs, t_obs=5, t_pred=30)
    # cascade 0: relative times 0,1,5,30 → observed {0,1}; label: 5 ∈ [5,30) → 1 (30 excluded)
    # cascade 1: relative 0, 50 → observed {4}; label 0
    assert w.cascades.users.tolist() == [0, 1, 4]
    assert w.cascades.meta["label"].tolist() == [1, 0]
    assert w.cascades.meta["observed_size"].tolist() == [2, 1]
    assert w.cascades.meta["final_size"].tolist() == [3, 1]
    f = observation_window(cs, 5, 30, min_observed=2)
    assert len(f.cascades) == 1 and f.info["dropped_min_observed"] == 1
    f = observation_window(cs, 5, 30, max_observed=1)
    assert f.cascades.ids.tolist() == ["1"] and f.info["dropped_max_observed"] == 1
    # absolute window: one cut for everyone at t = 101, horizon 130
    a = observation_window(cs, 101, 130, relative=False)
    assert a.cascades.users.tolist() == [0, 4, 5]
    assert a.cascades.meta["label"].tolist() == [2, 0]  # 101 and 105 ∈ [101, 130)


def test_observation_window_counts_what_it_cannot_use() -> None:
    v = Vocabulary.range(4)
    cs = CascadeSet.from_sequences([[0, 1, 2], [], [3]], v, times=[[0, 1, np.nan], [], [7]])
    w = observation_window(cs, 5, 10)
    assert w.info["dropped_no_start_time"] == 1 and w.info["rows_without_time"] == 1
    assert w.cascades.ids.tolist() == ["0", "2"] and w.cascades.meta["label"].tolist() == [0, 0]
    with pytest.raises(ValueError, match="t_obs < t_pred"):
        observation_window(cs, 10, 5)


def test_publish_hour_bounds_are_inclusive_whole_hours() -> None:
    # roots at local (UTC+8) 07:59:59, 08:00, 18:59:59, 19:00 on 2016-06-01 (UTC day starts 08:00)
    day = 1464739200.0 - 8 * 3600  # 2016-06-01 00:00 in UTC+8
    roots = day + np.array([8 * 3600 - 1, 8 * 3600, 19 * 3600 - 1, 19 * 3600])
    cs = CascadeSet.from_sequences(
        [[0]] * 4, Vocabulary.range(1), times=[[r] for r in roots], root_times=roots
    )
    w = observation_window(cs, 1, 2, publish_hours=(8, 18), utc_offset_hours=8)
    assert w.cascades.ids.tolist() == ["1", "2"] and w.info["dropped_publish_hour"] == 2


def test_ties_at_the_cut_go_to_test() -> None:
    v = Vocabulary.range(3)
    ev = EventLog(
        np.array([0, 1, 2, 0]),
        np.zeros(4, int),
        np.array([1.0, 2.0, 2.0, 3.0]),
        v,
        Vocabulary(["x"]),
    )
    s = by_event_time(ev, 0.5)  # the 2nd event (t=2) starts test; its tie at t=2 goes along
    assert s.train.times.tolist() == [1.0] and s.test.times.tolist() == [2.0, 2.0, 3.0]
    assert s.valid is None and s.info["sizes"] == [1, 0, 3] and s.info["cut"] == 2.0


def test_chronological_ties_broken_by_id() -> None:
    v = Vocabulary.range(1)
    cs = CascadeSet.from_sequences(
        [[0]] * 4, v, times=[[3.0], [1.0], [1.0], [2.0]], ids=["d", "c", "b", "a"]
    )
    s = chronological_by_cascade(cs, (0.5, 0.25, 0.25))
    # (start, id) order is b, c, a, d; inside a part the input order is kept
    assert [p.ids.tolist() for p in (s.train, s.valid, s.test)] == [["c", "b"], ["a"], ["d"]]


def test_random_partition_exact_sizes() -> None:
    parts = random_partition(10, (0.8, 0.1, 0.1), seed=5)
    assert [len(p) for p in parts] == [8, 1, 1]
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))
    with pytest.raises(ValueError, match="sum to 1"):
        random_partition(10, (0.5, 0.1, 0.1))


def test_duplicate_ids_across_parts_are_refused() -> None:
    v = Vocabulary.range(2)
    cs = CascadeSet.from_sequences([[0, 1], [1, 0]], v, ids=["same", "same"])
    bundle = DatasetBundle("dup", cascades=cs, splits={"train": np.array([0]), "test": [1]})
    with pytest.raises(CascadeKitError, match="'same' is in both train and test"):
        shipped(bundle, valid_fraction=0.0)


def test_shipped_event_splits() -> None:
    v, m = Vocabulary.range(2), Vocabulary(["x"])

    def log(times: list[float]) -> EventLog:
        return EventLog(np.zeros(len(times), int), np.zeros(len(times), int), np.array(times), v, m)

    ok = DatasetBundle("c4", event_splits={"train": log([1, 2]), "test": log([3, 4])})
    s = shipped(ok)
    assert s.valid is None and s.info["sizes"] == [2, 0, 2] and s.info["cut"] == 3.0
    bad = DatasetBundle("c4", event_splits={"train": log([1, 2, 3]), "test": log([3, 4])})
    with pytest.raises(CascadeKitError, match="by_event_time"):
        shipped(bad)
    with pytest.raises(CascadeKitError, match="ships no train/test split"):
        shipped(DatasetBundle("x"))
