"""Leakage safety on real data: nothing after the cut and nothing from valid/test reaches training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.data import CascadeSet, EventLog, Vocabulary
from cascadekit.data.formats.lines import read_lines_dataset
from cascadekit.data.splits import (
    by_event_time,
    chronological_by_cascade,
    observation_window,
    random_by_cascade,
    shipped,
)
from cascadekit.errors import CascadeKitError


def test_no_leakage_cascade_splits(mirror: Path) -> None:
    bundle = read_lines_dataset(mirror / "ndm_irvine")
    s = shipped(bundle, seed=0)
    ids = [set(part.ids.tolist()) for part in (s.train, s.valid, s.test)]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    # validation is carved from the shipped train only; test is exactly the shipped test
    assert all(i.startswith("train:") for i in ids[1]) and len(s.valid) == round(0.1 * 424)
    assert ids[2] == set(bundle.split("test").ids.tolist())
    assert len(s.train) + len(s.valid) == 424
    # same seed → same split; another seed → another split
    assert shipped(bundle, seed=0).valid.ids.tolist() == s.valid.ids.tolist()
    assert shipped(bundle, seed=1).valid.ids.tolist() != s.valid.ids.tolist()
    r = random_by_cascade(bundle.cascades, seed=3)
    assert sum(len(p) for p in (r.train, r.valid, r.test)) == len(bundle.cascades)
    assert not set(r.train.ids.tolist()) & set(r.test.ids.tolist())
    c = chronological_by_cascade(bundle.cascades)
    assert c.train.start_times().max() <= c.valid.start_times().min() <= c.test.start_times().min()


def test_no_leakage_event_time(mirror: Path) -> None:
    events = read_lines_dataset(mirror / "ndm_irvine").cascades.to_event_log()
    s = by_event_time(events, 0.8, valid_fraction=0.1)
    assert s.train.times.max() < s.valid.t_start <= s.valid.times.min()
    assert s.valid.times.max() < s.test.t_start == s.info["cut"]
    assert len(s.train) + len(s.valid) + len(s.test) == len(events)


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


def test_observation_window_exact() -> None:
    v = Vocabulary.range(6)
    cs = CascadeSet.from_sequences(
        [[0, 1, 2, 3], [4, 5]], v, times=[[100, 101, 105, 130], [0, 50]], root_times=[100, 0]
    )
    w = observation_window(cs, t_obs=5, t_pred=30)
    # cascade 0: relative times 0,1,5,30 → observed {0,1}; label: 5 ∈ [5,30) → 1 (30 excluded)
    # cascade 1: relative 0, 50 → observed {4}; label 0
    assert w.cascades.lengths.tolist() == [2, 1]
    assert w.cascades.meta["label"].tolist() == [1, 0]
    assert w.cascades.meta["observed_size"].tolist() == [2, 1]
    assert w.cascades.meta["final_size"].tolist() == [3, 1]
    f = observation_window(cs, 5, 30, min_observed=2)
    assert len(f.cascades) == 1 and f.info["dropped_min_observed"] == 1


def test_observation_window_on_real_raw_cascades(mirror: Path) -> None:
    # DeepHawkes raw paths: root time + seconds offsets; parse the times with a few lines here
    users, times, roots = [], [], []
    vocab = Vocabulary()
    for line in (mirror / "weibo_casflow_sample" / "dataset.txt").read_text().splitlines():
        _, _, pub, _, paths = line.split("\t", 4)
        items = [p.rsplit(":", 1) for p in paths.split()]
        offs = np.array([float(t) for _, t in items])
        order = np.argsort(offs, kind="stable")
        users.append(vocab.encode([str(i) for i in order]))
        times.append(float(pub) + offs[order])
        roots.append(float(pub))
    cs = CascadeSet.from_sequences(users, vocab, times=times, root_times=roots)
    w = observation_window(cs, 3600, 86400, publish_hours=(8, 18), utc_offset_hours=8)
    kept = w.cascades
    rel = kept.times - np.repeat(kept.root_times, kept.lengths)
    assert np.all(rel < 3600)  # nothing at or after the observation time is visible
    full = {
        c: (t - r)
        for c, t, r in zip(cs.ids, np.split(cs.times, cs.offsets[1:-1]), roots, strict=True)
    }
    for cid, label in zip(kept.ids, kept.meta["label"], strict=True):
        assert label == np.sum((full[cid] >= 3600) & (full[cid] < 86400))
    assert w.info["dropped_publish_hour"] + len(kept) == len(cs)


def test_shipped_needs_a_split() -> None:
    from cascadekit.data.bundle import DatasetBundle

    with pytest.raises(CascadeKitError, match="ships no train/test split"):
        shipped(DatasetBundle("x"))
