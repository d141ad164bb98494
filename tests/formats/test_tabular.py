"""CSV / Parquet event tables and edge lists: exact values, errors, repairs, real round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cascadekit.data.cascades import CascadeSet
from cascadekit.data.formats.deephawkes import read_preprocessed, read_raw_paths
from cascadekit.data.formats.lines import read_lines_dataset
from cascadekit.data.formats.mshgat import read_mshgat
from cascadekit.data.formats.tabular import (
    read_edge_list,
    read_event_csv,
    read_event_parquet,
    write_event_csv,
)
from cascadekit.data.report import ReadReport
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import FormatError


def csv_file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "events.csv"
    p.write_text(text)
    return p


# two interleaved cascades; y's parent is x, z's parent 'q' never adopted c1
EVENTS = "cascade,time,user,parent\nc1,1,x,\nc2,2,y,\nc1,3,y,x\n\nc1,4,z,q\nc2,5.5,x,y\n"


def test_csv_exact_values(tmp_path: Path) -> None:
    b = read_event_csv(csv_file(tmp_path, EVENTS), parent_col="parent")
    cs = b.cascades
    assert cs.ids.tolist() == ["c1", "c2"]
    assert cs.vocab.tokens == ["x", "y", "z"]
    assert cs.users.tolist() == [0, 1, 2, 1, 0]
    assert cs.offsets.tolist() == [0, 3, 5]
    assert cs.times.tolist() == [1.0, 3.0, 4.0, 2.0, 5.5]
    assert cs.parents.tolist() == [-1, 0, -1, -1, 0]
    assert b.report.to_dict() == {"empty_line_skipped": 1, "parent_unresolved": 1}


def test_csv_other_names_delimiter_and_no_time(tmp_path: Path) -> None:
    p = csv_file(tmp_path, "c;u\n1;a\n1;b\n")
    b = read_event_csv(p, cascade_col="c", user_col="u", time_col=None, delimiter=";")
    assert b.cascades.times is None and b.cascades.parents is None
    assert b.cascades.vocab.decode(b.cascades.users) == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "cascade,user\n1,a\n",
            r"events\.csv, line 1: expected a header row naming columns cascade, user, time, "
            r"found 'cascade,user'",
        ),
        (
            "cascade,user,time\n1,a,1\n1,b\n",
            r"events\.csv, line 3: expected 3 fields like the header",
        ),
        ("cascade,user,time\n1,a,1\n1,b,soon\n", r"line 3: expected a numeric time, found 'soon'"),
        ("cascade,user,time\n1,a,1\n1,b,\n", r"line 3: expected a numeric time, found ''"),
        ("cascade,user,time\n1,a,1\n1,b,inf\n", r"line 3: expected a finite time, found 'inf'"),
        ("cascade,user,time\n1,a,1\n2,,1\n", r"line 3: expected a non-empty user id"),
        (
            "cascade,user,time\n1,a,1\n2,a,1\n1,b,2\n1,a,3\n",
            r"line 5: expected each user at most once per cascade.*found 'a again in cascade 1'",
        ),
        (
            "cascade,user,time\n1,a,5\n2,b,1\n1,c,2\n",
            r"line 4: expected non-decreasing times.*found 'c at 2 after a at 5'",
        ),
    ],
)
def test_csv_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read_event_csv(csv_file(tmp_path, text))


def test_csv_repair_sorts_dedups_and_repoints_parents(tmp_path: Path) -> None:
    text = "cascade,user,time,parent\n1,r,0,\n1,b,8,r\n1,a,3,r\n1,b,4,a\n1,c,9,b\n2,a,1,\n"
    b = read_event_csv(csv_file(tmp_path, text), parent_col="parent", repair=True)
    c = b.cascades[0]
    # sorted: r@0, a@3, b@4 (via a), b@8 (dropped), c@9 (via b's first adoption, position 2)
    assert b.cascades.vocab.decode(c.users) == ["r", "a", "b", "c"]
    assert c.times.tolist() == [0.0, 3.0, 4.0, 9.0]
    assert c.parents.tolist() == [-1, 0, 1, 2]
    assert b.cascades[1].users.tolist() == [b.cascades.vocab["a"]]
    assert b.report.to_dict() == {"repeated_user_dropped": 1, "unsorted_cascade_sorted": 1}


def test_parquet_values_and_errors(tmp_path: Path) -> None:
    table = pa.table(
        {"cascade": [7, 8, 7], "user": [10, 11, 11], "time": [1.0, 2.0, 3.0],
         "parent": [None, None, 10]}
    )  # fmt: skip
    pq.write_table(table, tmp_path / "ev.parquet")
    b = read_event_parquet(tmp_path / "ev.parquet", parent_col="parent")
    cs = b.cascades
    assert cs.ids.tolist() == ["7", "8"] and cs.vocab.tokens == ["10", "11"]
    assert cs.users.tolist() == [0, 1, 1] and cs.times.tolist() == [1.0, 3.0, 2.0]
    assert cs.parents.tolist() == [-1, 0, -1] and b.report.clean
    bad = pa.table({"cascade": ["a", "a"], "user": ["u", None], "time": [1.0, 2.0]})
    pq.write_table(bad, tmp_path / "bad.parquet")
    with pytest.raises(FormatError, match=r"bad\.parquet, line 2: expected a 'user' value"):
        read_event_parquet(tmp_path / "bad.parquet")
    text_times = pa.table({"cascade": ["a", "a"], "user": ["u", "v"], "time": ["1", "x"]})
    pq.write_table(text_times, tmp_path / "tt.parquet")
    with pytest.raises(FormatError, match=r"tt\.parquet, line 2: expected a numeric time"):
        read_event_parquet(tmp_path / "tt.parquet")
    with pytest.raises(FormatError, match=r"tt\.parquet: expected columns cascade, user, t"):
        read_event_parquet(tmp_path / "tt.parquet", time_col="t")


def test_edge_list(tmp_path: Path) -> None:
    p = tmp_path / "e.txt"
    p.write_text("src,dst\na,b\n\n# a comment\nb c\nc\ta\n")
    vocab = Vocabulary(["c"])
    report = ReadReport()
    g = read_edge_list(p, vocab, report=report)
    assert vocab.tokens == ["c", "a", "b"]
    assert g.edge_array().tolist() == [[0, 1], [1, 2], [2, 0]]  # c→a, a→b, b→c
    assert g.weights is None
    assert report.to_dict() == {"comment_line_skipped": 1, "empty_line_skipped": 1}
    p.write_text("a b 0.5\nb a 2\n")
    w = read_edge_list(p, Vocabulary())
    assert w.edge_array().tolist() == [[0, 1], [1, 0]] and w.weights.tolist() == [0.5, 2.0]
    p.write_text("a;b\n")
    und = read_edge_list(p, Vocabulary(), sep=";", directed=False)
    assert und.edge_array().tolist() == [[0, 1], [1, 0]] and und.n_edges == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b\nb c d e\n", r"e\.txt, line 2: expected 'src,dst' or 'src,dst,weight'"),
        ("a b 1\nb c\n", r"e\.txt, line 2: expected a weight on every edge or on none"),
        ("a b\nb c 1\n", r"e\.txt, line 2: expected a weight on every edge or on none"),
        ("a b x\n", r"e\.txt, line 1: expected a numeric weight, found 'x'"),
    ],
)
def test_edge_list_errors(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "e.txt"
    p.write_text(text)
    with pytest.raises(FormatError, match=message):
        read_edge_list(p, Vocabulary())


def assert_same(a: CascadeSet, b: CascadeSet) -> None:
    assert a.ids.tolist() == b.ids.tolist()
    assert a.vocab.decode(a.users) == b.vocab.decode(b.users)
    np.testing.assert_array_equal(a.offsets, b.offsets)
    for col in ("times", "parents"):
        x, y = getattr(a, col), getattr(b, col)
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_array_equal(x, y)


def test_tiny_csv_round_trip(tmp_path: Path) -> None:
    b = read_event_csv(csv_file(tmp_path, EVENTS), parent_col="parent")
    out = write_event_csv(b.cascades, tmp_path / "out.csv")
    assert out.read_text().splitlines()[:3] == ["cascade,user,time,parent", "c1,x,1,", "c1,y,3,x"]
    assert_same(b.cascades, read_event_csv(out, parent_col="parent").cascades)


@pytest.mark.parametrize(
    "name",
    [
        "ndm_irvine",
        "ndm_lastfm",
        "ndm_memetracker",
        "forest_twitter",
        "forest_memetracker",
        "mshgat_android",
        "mshgat_christianity",
        "weibo_casflow_sample",
        "weibo_deephawkes_obs1h",
    ],
)
def test_real_datasets_round_trip_through_csv(mirror: Path, tmp_path: Path, name: str) -> None:
    if name.startswith("mshgat"):
        cascades = read_mshgat(mirror / name).cascades
    elif name == "weibo_casflow_sample":
        cascades = read_raw_paths(mirror / name / "dataset.txt", repair=True).cascades
    elif name == "weibo_deephawkes_obs1h":
        cascades = read_preprocessed(mirror / name).cascades
    else:
        cascades = read_lines_dataset(mirror / name).cascades
    parent = "parent" if cascades.parents is not None else None
    back = read_event_csv(write_event_csv(cascades, tmp_path / "events.csv"), parent_col=parent)
    assert back.report.clean
    assert_same(cascades, back.cascades)


def test_real_parquet_event_table(mirror: Path, tmp_path: Path) -> None:
    cs = read_raw_paths(mirror / "weibo_casflow_sample" / "dataset.txt", repair=True).cascades
    names = np.asarray(cs.vocab.tokens, dtype=object)[cs.users]
    rows = np.repeat(cs.offsets[:-1], cs.lengths) + cs.parents
    table = pa.table(
        {
            "cascade": np.repeat(cs.ids, cs.lengths).tolist(),
            "user": names.tolist(),
            "time": cs.times,
            "parent": np.where(cs.parents >= 0, names[rows], None).tolist(),
        }
    )
    pq.write_table(table, tmp_path / "casflow.parquet")
    back = read_event_parquet(tmp_path / "casflow.parquet", parent_col="parent")
    assert back.report.clean
    assert_same(cs, back.cascades)
