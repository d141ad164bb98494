"""Bring-your-own CSV / Parquet event logs and edge lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.data import Vocabulary
from cascadekit.data.formats.lines import read_lines_dataset
from cascadekit.data.formats.tabular import (
    read_edge_list,
    read_event_csv,
    read_event_parquet,
    write_event_csv,
)
from cascadekit.errors import FormatError


def csv_file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "events.csv"
    p.write_text(text)
    return p


def test_csv_any_row_order_with_parents(tmp_path: Path) -> None:
    p = csv_file(tmp_path, "cascade,user,time,parent\nx,b,5,a\ny,c,1,\nx,a,2,\nx,d,7,b\n")
    b = read_event_csv(p, parent_col="parent")
    cs = b.cascades
    assert cs.ids.tolist() == ["x", "y"]  # order of first appearance
    assert cs.vocab.decode(cs.users) == ["a", "b", "d", "c"]
    assert cs.times.tolist() == [2, 5, 7, 1] and cs.parents.tolist() == [-1, 0, 1, -1]
    assert b.report.to_dict() == {"unsorted_cascade_sorted": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cascade,user\nx,a\n", r"events\.csv, line 1: expected columns cascade, user, time"),
        ("cascade,user,time\nx,a,1\nx,b\n", r"line 3: expected 3 fields like the header"),
        (
            "cascade,user,time\nx,a,1\nx,b,later\n",
            r"line 3: expected a numeric time, found 'later'",
        ),
        (
            "cascade,user,time\nx,a,1\nx,a,2\n",
            r"line 3: expected each user at most once per cascade",
        ),
        ("cascade,user,time\nx,,1\n", r"line 2: expected non-empty cascade and user"),
    ],
)
def test_csv_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read_event_csv(csv_file(tmp_path, text))


def test_repair_counts(tmp_path: Path) -> None:
    b = read_event_csv(csv_file(tmp_path, "cascade,user,time\nx,a,3\nx,a,1\nx,b,2\n"), repair=True)
    assert b.cascades.times.tolist() == [1, 2] and b.report.to_dict() == {
        "repeated_user_dropped": 1,
        "unsorted_cascade_sorted": 1,
    }


def test_round_trip_real_data_through_csv_and_parquet(mirror: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cs = read_lines_dataset(mirror / "ndm_irvine").cascades
    back = read_event_csv(write_event_csv(cs, tmp_path / "irvine.csv")).cascades
    assert back.vocab.decode(back.users) == cs.vocab.decode(cs.users)
    np.testing.assert_array_equal(back.times, cs.times)
    np.testing.assert_array_equal(back.offsets, cs.offsets)
    assert back.ids.tolist() == cs.ids.tolist()
    table = pa.table(
        {
            "cascade": cs.ids[cs.cascade_index].tolist(),
            "user": cs.vocab.decode(cs.users),
            "time": cs.times,
        }
    )
    pq.write_table(table, tmp_path / "irvine.parquet")
    again = read_event_parquet(tmp_path / "irvine.parquet").cascades
    np.testing.assert_array_equal(again.times, cs.times)
    assert again.vocab.decode(again.users) == cs.vocab.decode(cs.users)


def test_edge_list(tmp_path: Path) -> None:
    p = tmp_path / "edges.csv"
    p.write_text("src,dst\na,b\n# comment\nb c\n")
    v = Vocabulary(["a"])
    g = read_edge_list(p, v)
    assert v.tokens == ["a", "b", "c"] and g.n_arcs == 2
    p.write_text("a b 0.5\nb c\n")
    with pytest.raises(FormatError, match="a weight on every edge or on none"):
        read_edge_list(p, Vocabulary())
    p.write_text("a b c d\n")
    with pytest.raises(FormatError, match=r"edges\.csv, line 1: expected 'src dst'"):
        read_edge_list(p, Vocabulary())
