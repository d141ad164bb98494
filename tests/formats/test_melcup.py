"""MelCup17 / Darwin: tiny folder (roots, rootless cascades, actions, periods), errors, real counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.data.cascades import CascadeSet
from cascadekit.data.formats.melcup import TWITTER_EPOCH_MS, read_melcup
from cascadekit.data.graph import SocialGraph
from cascadekit.errors import FormatError

HEADER = (
    "t_id,timestamp_ms,uid,nuid,is_reply,is_retweet,is_quote,replied_uid,replied_t_id,"
    "retweeted_uid,retweeted_t_id,quoted_uid,quoted_t_id\n"
)
E = TWITTER_EPOCH_MS


def tid(ms: int) -> int:
    """The Twitter (snowflake) id of a tweet posted ``ms`` after the Twitter epoch."""
    return ms << 22


T = tid(500)  # posted by an author outside the user set; never in the status files
LRN = [
    f"{tid(1000)},{E + 1000},1001,1,0,0,0,,,,,,",
    f"{tid(1500)},{E + 1500},1002,2,0,1,0,,,1001,{tid(1000)},,",
    f"{tid(1200)},{E + 1200},1003,3,0,1,0,,,1001,{tid(1000)},,",
]
EVA = [
    f"{tid(2000)},{E + 2000},1002,2,0,1,0,,,9999,{T},,",
    f"{tid(2500)},{E + 2500},1003,3,1,1,0,1001,{tid(1000)},9999,{T},,",
    f"{tid(3000)},{E + 3000},1001,1,0,1,0,,,1001,{tid(1000)},,",  # the author retweets itself
]


def folder(tmp_path: Path, which: str = "MelCup17", lrn: list | None = LRN) -> Path:
    d = tmp_path / which
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{which}_user_ids_3.csv").write_text("uid,nuid\n1001,1\n1002,2\n1003,3\n")
    (d / f"{which}_following_network.csv").write_text(
        "nuid_followee_u,nuid_follower_v\n1,2\n1,3\n2,3\n2,3\n3,3\n"
    )
    if lrn is not None:
        (d / f"{which}_lrn_status_3.csv").write_text(HEADER + "\n".join(lrn) + "\n")
    (d / f"{which}_eva_status_3.csv").write_text(HEADER + "\n".join(EVA) + "\n")
    return tmp_path


def test_retweet_cascades_graph_and_counts(tmp_path: Path) -> None:
    b = read_melcup(folder(tmp_path))
    cs = b.cascades
    assert cs.vocab.tokens == ["1", "2", "3"] and b.content.profiles["uid"].tolist() == [
        "1001", "1002", "1003",
    ]  # fmt: skip
    assert cs.ids.tolist() == [str(tid(1000)), str(T)] and cs.lengths.tolist() == [3, 2]
    assert cs.users.tolist() == [0, 2, 1, 1, 2]
    assert (cs.times - E).tolist() == [1000, 1200, 1500, 2000, 2500]
    assert cs.parents.tolist() == [-1, 0, 0, -1, -1]
    assert (cs.root_times - E).tolist() == [1000, 500]
    assert cs.meta["has_root"].tolist() == [True, False]
    assert cs.meta["author_uid"].tolist() == ["1001", "9999"]
    assert b.graph.directed and b.graph.edge_array().tolist() == [[0, 1], [0, 2], [1, 2]]
    assert b.report.to_dict() == {
        "cascade_author_outside_user_set": 1, "follow_duplicate_dropped": 1,
        "follow_self_loop_dropped": 1, "repeated_user_dropped": 1, "root_time_from_tweet_id": 1,
    }  # fmt: skip
    assert cs.attrs["time_unit"] == "ms"


def test_actions_and_periods(tmp_path: Path) -> None:
    both = read_melcup(folder(tmp_path), actions=("retweet", "reply"))
    assert both.cascades.lengths.tolist() == [3, 2]  # the reply comes from an adopter already in
    assert both.report.counts["repeated_user_dropped"] == 2
    lrn = read_melcup(tmp_path, period="lrn")
    assert lrn.cascades.ids.tolist() == [str(tid(1000))] and lrn.cascades.users.tolist() == [
        0,
        2,
        1,
    ]
    replies = read_melcup(tmp_path, "MelCup17", "eva", actions=("reply",))
    assert replies.cascades.users.tolist() == [0, 2]
    assert (replies.cascades.times - E).tolist() == [1000, 2500]  # root time from the tweet id
    assert replies.report.counts["root_time_from_tweet_id"] == 1


def test_missing_learning_status_file(tmp_path: Path) -> None:
    b = read_melcup(folder(tmp_path, "Darwin", lrn=None), "Darwin")
    assert b.info["missing_files"] == ["Darwin_lrn_status_*.csv"]
    assert b.report.counts["status_file_missing"] == 1 and len(b.cascades) == 2
    with pytest.raises(FormatError, match=r"Darwin_lrn_status_\*\.csv file \(absent"):
        read_melcup(tmp_path, "Darwin", "lrn")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("16,3100,1002,2,0,1,0,,,1001,10,", r"line 3: expected 13 comma-separated columns"),
        (
            "16,soon,1002,2,0,1,0,,,1001,10,,",
            r"line 3: expected an integer timestamp_ms, found 'soon'",
        ),
        ("16,3100,1002,2,0,yes,0,,,1001,10,,", r"line 3: expected 0 or 1 in column 6"),
        ("16,3100,1002,2,0,1,0,,,1001,,,", r"line 3: expected the retweet target's tweet id"),
    ],
)
def test_errors(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(FormatError, match=r"MelCup17_lrn_status_3\.csv, " + message):
        read_melcup(folder(tmp_path, lrn=[LRN[0], row]))


def test_unknown_follow_user(tmp_path: Path) -> None:
    folder(tmp_path)
    (tmp_path / "MelCup17" / "MelCup17_following_network.csv").write_text("a,b\n1,7\n")
    with pytest.raises(FormatError, match=r"line 2: expected nuids listed in the user_ids file"):
        read_melcup(tmp_path)


@pytest.mark.parametrize(
    ("which", "users", "arcs", "nodes", "cascades", "rows", "rootless", "missing"),
    [
        ("MelCup17", 1484, 70756, 1428, 4028, 12679, 1533, []),
        ("Darwin", 6571, 58503, 3880, 21560, 22946, 21185, ["Darwin_lrn_status_*.csv"]),
    ],
)
def test_real_counts_and_round_trip(
    mirror: Path, tmp_path: Path, which: str, users: int, arcs: int, nodes: int, cascades: int,
    rows: int, rootless: int, missing: list,
) -> None:  # fmt: skip
    b = read_melcup(mirror / "melcup17_darwin_twitter_influence", which)
    cs, rep = b.cascades, b.report.counts
    assert len(cs.vocab) == users and b.info["missing_files"] == missing
    assert b.graph.n_arcs == arcs and b.graph.statistics()["nodes_with_edges"] == nodes
    assert len(cs) == cascades and rep["cascade_author_outside_user_set"] == rootless
    has_root = cs.meta["has_root"]
    # every retweet row is an adopter or a counted repeat (SOURCE.md retweet counts)
    assert int((cs.lengths - has_root).sum()) + rep["repeated_user_dropped"] == rows
    assert np.all(cs.times[cs.offsets[:-1][has_root]] == cs.root_times[has_root])
    cs.to_parquet(tmp_path / "c.parquet")
    back = CascadeSet.from_parquet(tmp_path / "c.parquet")
    for col in ("users", "offsets", "times", "parents", "root_times"):
        np.testing.assert_array_equal(getattr(back, col), getattr(cs, col))
    assert back.meta["has_root"].tolist() == has_root.tolist() and back.vocab == cs.vocab
    b.graph.to_parquet(tmp_path / "g.parquet")
    g = SocialGraph.from_parquet(tmp_path / "g.parquet")
    np.testing.assert_array_equal(g.indptr, b.graph.indptr)
    np.testing.assert_array_equal(g.indices, b.graph.indices)
