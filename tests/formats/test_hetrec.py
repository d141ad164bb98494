"""HetRec Last.fm: exact values on a tiny folder, top-k marks, errors, real counts, round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.data.cascades import CascadeSet
from cascadekit.data.events import EventLog
from cascadekit.data.formats.hetrec import read_hetrec_lastfm
from cascadekit.data.graph import SocialGraph
from cascadekit.errors import FormatError

TAGGED = (
    "userID\tartistID\ttagID\tday\tmonth\tyear\n"
    "2\t52\t13\t1\t4\t2009\n"
    "3\t52\t13\t31\t3\t2009\n"
    "2\t60\t13\t1\t4\t2009\n"
    "3\t60\t15\t2\t4\t2009\n"
    "4\t52\t15\t1\t4\t2009\n"
)
APR1, MAR31, APR2 = 1238544000.0, 1238457600.0, 1238630400.0  # 00:00 UTC


def folder(tmp_path: Path, tagged: str = TAGGED) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "user_taggedartists.dat").write_text(tagged)
    (tmp_path / "user_friends.dat").write_text("userID\tfriendID\n2\t3\n3\t2\n2\t5\n5\t2\n")
    (tmp_path / "tags.dat").write_bytes("tagID\ttagValue\n13\trock\n15\tcafé\n".encode("latin-1"))
    (tmp_path / "artists.dat").write_text("id\tname\turl\tpictureURL\n52\tA\tu\tp\n60\tB\tu\tp\n")
    return tmp_path


def test_tag_events_cascades_and_graph(tmp_path: Path) -> None:
    b = read_hetrec_lastfm(folder(tmp_path))
    ev = b.events
    assert ev.user_vocab.tokens == ["2", "3", "4", "5"] and ev.mark_vocab.tokens == ["13", "15"]
    assert ev.users.tolist() == [1, 0, 0, 2, 1] and ev.marks.tolist() == [0, 0, 0, 1, 1]
    assert ev.times.tolist() == [MAR31, APR1, APR1, APR1, APR2]
    assert b.info["mark_names"] == ["rock", "café"]
    cs = b.cascades
    assert cs.ids.tolist() == ["13", "15"] and cs.lengths.tolist() == [2, 2]
    assert cs.users.tolist() == [1, 0, 2, 1] and cs.times.tolist() == [MAR31, APR1, APR1, APR2]
    assert cs.parents is None
    assert b.graph.n_arcs == 4 and b.graph.n_edges == 2 and not b.graph.directed
    assert b.graph.neighbors(0).tolist() == [1, 3]
    assert b.report.to_dict() == {"friend_only_users": 1, "repeated_user_dropped": 1}


def test_top_marks_and_artists(tmp_path: Path) -> None:
    b = read_hetrec_lastfm(folder(tmp_path), top=1)
    assert b.events.mark_vocab.tokens == ["13"] and len(b.events) == 3
    assert b.events.n_users == 4  # the vocabulary does not depend on top
    assert b.report.counts["events_outside_top_marks"] == 2
    a = read_hetrec_lastfm(tmp_path, marks="artists")
    assert a.events.mark_vocab.tokens == ["52", "60"] and a.info["mark_names"] == ["A", "B"]
    assert a.events.marks.tolist() == [0, 0, 1, 0, 1]
    assert a.cascades.lengths.tolist() == [3, 2]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "2\t52\t13\t1\t4\n",
            r"line 3: expected 6 tab-separated columns, found '2\\t52\\t13\\t1\\t4'",
        ),
        ("2\tx\t13\t1\t4\t2009\n", r"line 3: expected integer columns"),
        ("2\t52\t13\t30\t2\t2009\n", r"line 3: expected a valid day month year, found '30 2 2009'"),
    ],
)
def test_errors(tmp_path: Path, row: str, message: str) -> None:
    lines = TAGGED.splitlines(keepends=True)
    with pytest.raises(FormatError, match=r"user_taggedartists\.dat, " + message):
        read_hetrec_lastfm(folder(tmp_path, "".join(lines[:2] + [row] + lines[2:])))


def test_real_counts_and_round_trips(mirror: Path, tmp_path: Path) -> None:
    b = read_hetrec_lastfm(mirror / "lastfm_hetrec2011_2k")
    assert (len(b.events), b.events.n_users, b.events.n_marks) == (186479, 1892, 9749)
    assert b.graph.n_arcs == 25434 and b.graph.n_edges == 12717  # rows / friendships
    assert "friend_pair_without_reverse" not in b.report.counts
    assert b.cascades.n_events + b.report.counts["repeated_user_dropped"] == 186479
    day = np.datetime64("1970-01-01") + (b.events.times[[0, -1]] // 86400).astype("timedelta64[D]")
    assert day.astype(str).tolist() == ["1956-06-01", "2011-05-09"]  # min / max from awk
    b.events.to_parquet(tmp_path / "e.parquet")
    ev = EventLog.from_parquet(tmp_path / "e.parquet")
    for col in ("users", "marks", "times"):
        np.testing.assert_array_equal(getattr(ev, col), getattr(b.events, col))
    b.cascades.to_parquet(tmp_path / "c.parquet")
    cs = CascadeSet.from_parquet(tmp_path / "c.parquet")
    for col in ("users", "offsets", "times"):
        np.testing.assert_array_equal(getattr(cs, col), getattr(b.cascades, col))
    assert cs.ids.tolist() == b.cascades.ids.tolist() and cs.vocab == b.cascades.vocab
    b.graph.to_parquet(tmp_path / "g.parquet")
    g = SocialGraph.from_parquet(tmp_path / "g.parquet")
    np.testing.assert_array_equal(g.indices, b.graph.indices)
    assert not g.directed and g.n_edges == 12717
    a = read_hetrec_lastfm(mirror / "lastfm_hetrec2011_2k", marks="artists", top=100)
    assert (
        a.events.n_marks == 100
        and len(a.events) + a.report.counts["events_outside_top_marks"] == 186479
    )


def test_a_file_without_its_header_loses_no_row(tmp_path: Path) -> None:
    with_header = read_hetrec_lastfm(folder(tmp_path / "a"))
    headless = TAGGED.split("\n", 1)[1]
    without = read_hetrec_lastfm(folder(tmp_path / "b", headless))
    assert without.events.users.tolist() == with_header.events.users.tolist()
    assert without.events.times.tolist() == with_header.events.times.tolist()
