"""C4 .mat event logs: exact values on tiny files, errors, real counts, lossless Parquet round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from cascadekit.data.events import EventLog
from cascadekit.data.formats.c4mat import read_c4
from cascadekit.data.graph import SocialGraph
from cascadekit.errors import FormatError

ADJ = np.array([[1, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=np.uint8)  # one self-loop (0, 0)


def split(node: list, prod: list, time: list) -> dict:
    col = lambda v, dt: np.asarray(v, dtype=dt).reshape(-1, 1)  # noqa: E731
    return {"node": col(node, np.uint8), "prod": col(prod, np.uint8), "time": col(time, np.int32),
            "numuser": np.array([[3]]), "numprod": np.array([[2]])}  # fmt: skip


def write(folder: Path, name: str, **variables: object) -> Path:
    scipy.io.savemat(str(folder / f"{name}.mat"), {"adj": ADJ, **variables})
    return folder


def test_suffix_test_set_is_flagged_and_not_duplicated(tmp_path: Path) -> None:
    train = split([3, 1, 2, 3, 1], [1, 2, 2, 1, 1], [0, 1000, 1000, 2000, 5000])
    test = split([3, 1], [1, 1], [2000, 5000])  # the last two training events
    b = read_c4(write(tmp_path, "music2", traindata=train, testdata=test), "music2")
    assert b.info["test_is_suffix_of_train"] is True
    ev = b.events
    assert ev.user_vocab.tokens == ["1", "2", "3"] and ev.mark_vocab.tokens == ["1", "2"]
    assert ev.users.tolist() == [2, 0, 1, 2, 0] and ev.marks.tolist() == [0, 1, 1, 0, 0]
    assert ev.times.tolist() == [0, 1000, 1000, 2000, 5000]  # tie at 1000 keeps file order
    assert len(b.event_splits["test"]) == 2 and b.event_splits["test"].users.tolist() == [2, 0]
    assert b.graph.edge_array().tolist() == [[0, 1], [1, 2], [2, 0]]
    assert b.report.to_dict() == {"self_loop_dropped": 1} and ev.attrs["time_unit"] == "ms"


def test_disjoint_test_set_is_appended_and_original_ids_used(tmp_path: Path) -> None:
    train = split([1, 2], [1, 2], [10, 20])
    test = split([3, 3], [2, 1], [20, 30])
    folder = write(tmp_path, "url", traindata=train, testdata=test,
                   users_index=np.array([[507, 12, 99]], dtype=np.int32))  # fmt: skip
    b = read_c4(folder, "url")
    assert b.info["test_is_suffix_of_train"] is False
    assert b.events.user_vocab.tokens == ["507", "12", "99"]
    assert b.events.users.tolist() == [0, 1, 2, 2] and b.events.marks.tolist() == [0, 1, 1, 0]
    assert b.events.times.tolist() == [10, 20, 20, 30]


@pytest.mark.parametrize(
    ("train", "test", "message"),
    [
        (split([1, 4], [1, 1], [0, 1]), split([1], [1], [2]), r"traindata\.node in 1\.\.3"),
        (split([1, 0], [1, 1], [0, 1]), split([1], [1], [2]), r"found '0 at event 2'"),
        (split([1, 2], [1, 3], [0, 1]), split([1], [1], [2]), r"traindata\.prod in 1\.\.2"),
        (split([1, 2], [1, 1], [5, 1]), split([1], [1], [6]), r"traindata\.time sorted"),
        (split([1, 2], [1, 1], [0, 5]), split([3], [1], [2]), r"testdata either a suffix"),
    ],
)
def test_errors(tmp_path: Path, train: dict, test: dict, message: str) -> None:
    folder = write(tmp_path, "music2", traindata=train, testdata=test)
    with pytest.raises(FormatError, match=message) as e:
        read_c4(folder, "music2")
    assert e.value.path == str(folder / "music2.mat")


def test_missing_field_and_file(tmp_path: Path) -> None:
    bad = split([1], [1], [0])
    del bad["time"]
    with pytest.raises(FormatError, match=r"expected a field 'time' in traindata"):
        read_c4(write(tmp_path, "music2", traindata=bad, testdata=split([1], [1], [0])))
    with pytest.raises(FormatError, match=r"expected a url\.mat file"):
        read_c4(tmp_path, "url")


@pytest.mark.parametrize(
    ("which", "n_train", "n_test", "n_events", "arcs", "loops", "per_mark"),
    [
        ("music2", 79065, 9066, 79065, 122, 0, [46812, 32253]),
        ("url", 157409, 94027, 251436, 4531, 1, [183854, 17988, 14033, 11707, 12060, 11794]),
    ],
)
def test_real_counts_and_round_trip(
    mirror: Path, tmp_path: Path, which: str, n_train: int, n_test: int, n_events: int,
    arcs: int, loops: int, per_mark: list,
) -> None:  # fmt: skip
    b = read_c4(mirror / "c4_music2_url", which)
    assert (len(b.event_splits["train"]), len(b.event_splits["test"])) == (n_train, n_test)
    assert len(b.events) == n_events and b.events.statistics()["events_per_mark"] == per_mark
    assert b.info["test_is_suffix_of_train"] is (which == "music2")
    assert b.graph.n_arcs == arcs and b.report.counts["self_loop_dropped"] == loops
    assert b.events.n_users == (93 if which == "music2" else 694)
    b.events.to_parquet(tmp_path / "ev.parquet")
    back = EventLog.from_parquet(tmp_path / "ev.parquet")
    for col in ("users", "marks", "times"):
        np.testing.assert_array_equal(getattr(back, col), getattr(b.events, col))
    assert back.user_vocab == b.events.user_vocab and back.mark_vocab == b.events.mark_vocab
    b.graph.to_parquet(tmp_path / "g.parquet")
    g = SocialGraph.from_parquet(tmp_path / "g.parquet")
    np.testing.assert_array_equal(g.indptr, b.graph.indptr)
    np.testing.assert_array_equal(g.indices, b.graph.indices)
    assert g.directed and g.vocab == b.graph.vocab


def test_a_fractional_node_is_an_error_not_truncated(tmp_path: Path) -> None:
    train = split([1, 2], [1, 1], [0, 1])
    train["node"] = np.array([[1.0], [1.5]])
    folder = write(tmp_path, "music2", traindata=train, testdata=split([1], [1], [2]))
    with pytest.raises(FormatError, match=r"integer traindata\.node.*1\.5 at event 2"):
        read_c4(folder, "music2")
