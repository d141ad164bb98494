"""DeepHawkes / CasFlow raw paths and preprocessed files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.formats.deephawkes import read_preprocessed, read_raw_paths, write_raw_paths
from cascadekit.errors import FormatError


def raw(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "dataset.txt"
    p.write_text(text)
    return p


def test_raw_paths_exact(tmp_path: Path) -> None:
    b = read_raw_paths(raw(tmp_path, "7\tr\t1000\t4\tr:0 r/a:5 r/a/b:9 r/c:12\n\n"))
    assert b.report.to_dict() == {"empty_line_skipped": 1}
    c = b.cascades[0]
    assert b.cascades.vocab.decode(c.users) == ["r", "a", "b", "c"]
    assert c.times.tolist() == [1000, 1005, 1009, 1012] and c.root_time == 1000
    assert c.parents.tolist() == [-1, 0, 1, 0] and c.id == "7"
    assert b.cascades.meta["declared_size"].tolist() == [4]


def test_raw_paths_repair_repoints_parents(tmp_path: Path) -> None:
    text = "1\tr\t0\t5\tr:0 r/b:8 r/a:3 r/a/b:4 r/b/c:9\n"
    with pytest.raises(FormatError, match=r"dataset\.txt, line 1: expected non-decreasing times"):
        read_raw_paths(raw(tmp_path, text))
    b = read_raw_paths(raw(tmp_path, text), repair=True)
    c = b.cascades[0]
    # sorted: r@0, a@3, b@4 (via a), b@8 (dropped), c@9 (via b → b's first adoption, position 2)
    assert b.cascades.vocab.decode(c.users) == ["r", "a", "b", "c"]
    assert c.parents.tolist() == [-1, 0, 1, 2]
    assert b.report.to_dict() == {"repeated_user_dropped": 1, "unsorted_cascade_sorted": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1\tr\t0\tr:0\n", "line 1: expected 5 tab-separated columns"),
        ("1\tr\tx\t1\tr:0\n", "line 1: expected a numeric publish time"),
        ("1\tr\t0\t2\tr:0 r/a\n", "line 1: expected path items"),
        ("1\tr\t0\t2\tr:0 r/a:soon\n", "line 1: expected a numeric offset"),
        ("1\tr\t0\t3\tr:0 r/a:1 r/a:2\n", "line 1: expected each user at most once.*'a'"),
    ],
)
def test_raw_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read_raw_paths(raw(tmp_path, text))


def test_real_raw_sample_and_round_trip(mirror: Path, tmp_path: Path) -> None:
    path = mirror / "weibo_casflow_sample" / "dataset.txt"
    with pytest.raises(FormatError, match=r"dataset\.txt, line 9: expected each user at most once"):
        read_raw_paths(path)
    b = read_raw_paths(path, repair=True)
    s = b.statistics()["cascades"]
    # SOURCE.md: 30 cascades, 7,147 path items, 6,962 users; 51 items are repeat adoptions;
    # sorted_within_cascade 0.33 → 20 of 30 cascades needed sorting
    assert (s["cascades"], s["users"]) == (30, 6962)
    assert s["events"] + b.report.counts["repeated_user_dropped"] == 7147
    assert b.report.to_dict() == {
        "parent_unresolved": 1,
        "repeated_user_dropped": 51,
        "unsorted_cascade_sorted": 20,
    }
    assert b.cascades.meta["declared_size"].sum() == 7147  # SOURCE.md: declared_size_eq_paths
    back = DatasetBundle.load(b.save(tmp_path / "pq"))
    for col in ("users", "offsets", "times", "parents", "root_times"):
        np.testing.assert_array_equal(getattr(b.cascades, col), getattr(back.cascades, col))
    again = read_raw_paths(write_raw_paths(b.cascades, tmp_path / "out.txt"))
    assert again.report.clean  # written sorted, one adoption per user
    assert again.cascades.vocab.decode(again.cascades.users) == b.cascades.vocab.decode(
        b.cascades.users
    )
    assert again.cascades.ids.tolist() == b.cascades.ids.tolist()
    for col in ("offsets", "times", "parents", "root_times"):
        np.testing.assert_array_equal(getattr(again.cascades, col), getattr(b.cascades, col))


def test_real_preprocessed(mirror: Path, tmp_path: Path) -> None:
    b = read_preprocessed(mirror / "weibo_deephawkes_obs1h")
    stats = b.statistics()["splits"]
    # SOURCE.md distinct_users_in_paths counts every user on a path; one test-split user
    # (171423) appears only as an intermediate hop, never with its own timed path item, so it is
    # no adopter here (its child's parent is counted as unresolved)
    assert {k: (v["cascades"], v["users"]) for k, v in stats.items()} == {
        "train": (831, 39425),
        "valid": (178, 10837),
        "test": (178, 10188),
    }
    observed = {k: round(float(b.split(k).meta["n_observed"].mean()), 2) for k in b.splits}
    assert observed == {"train": 55.34, "valid": 69.23, "test": 61.42}
    assert b.report.to_dict() == {
        "parent_unresolved": 3,
        "repeated_user_dropped": 2590,
        "unsorted_cascade_sorted": 1187,
    }
    train = b.split("train")
    # SOURCE.md: label increment mean 134.05, median 40 on train
    assert (
        round(float(train.meta["label"].mean()), 2) == 134.05
        and np.median(train.meta["label"]) == 40
    )
    rel = b.cascades.times - np.repeat(b.cascades.root_times, b.cascades.lengths)
    assert rel.min() >= 0 and rel.max() < 3600  # everything observed lies in the 1 h window
    back = DatasetBundle.load(b.save(tmp_path / "pq"))
    for col in ("users", "offsets", "times", "parents", "root_times"):
        np.testing.assert_array_equal(getattr(b.cascades, col), getattr(back.cascades, col))
    for key in ("label", "n_observed"):
        np.testing.assert_array_equal(back.cascades.meta[key], b.cascades.meta[key])
    assert back.cascades.ids.tolist() == b.cascades.ids.tolist()
    # the repaired trees are valid raw-path cascades: the raw writer keeps them exactly
    again = read_raw_paths(write_raw_paths(b.cascades, tmp_path / "raw.txt"))
    assert again.report.clean
    assert again.cascades.ids.tolist() == b.cascades.ids.tolist()
    for col in ("users", "offsets", "times", "parents", "root_times"):
        np.testing.assert_array_equal(getattr(again.cascades, col), getattr(b.cascades, col))


def test_preprocessed_duplicate_cascade_id_is_an_error(tmp_path: Path) -> None:
    """A repeated id used to replace the earlier line silently."""
    from cascadekit.data.formats.deephawkes import read_preprocessed

    line = "42\t7\t100\t2\t7:8:5\t3\n"
    (tmp_path / "cascade_train.txt").write_text(line + line)
    (tmp_path / "shortestpath_train.txt").write_text("")
    with pytest.raises(FormatError, match="each cascade id once") as e:
        read_preprocessed(tmp_path)
    assert e.value.line == 2
