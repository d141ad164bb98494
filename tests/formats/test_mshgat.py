"""MS-HGAT cascades + edges: seed column, exact values, errors, real counts, lossless round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.formats.mshgat import read_mshgat, write_mshgat
from cascadekit.errors import FormatError


def folder(tmp_path: Path, cascades: str, edges: str | None = None) -> Path:
    (tmp_path / "cascades.txt").write_text(cascades)
    if edges is not None:
        (tmp_path / "edges.txt").write_text(edges)
    return tmp_path


def test_seed_column_and_graph(tmp_path: Path) -> None:
    b = read_mshgat(folder(tmp_path, "9 a 10,b 20,\n8 c 5,a 7,\n", "a,b\nb,a\nz,a\n"))
    cs = b.cascades
    assert cs.vocab.decode(cs.users) == ["a", "b", "c", "a"] and cs.times.tolist() == [10, 20, 5, 7]
    assert cs.meta["seed"].tolist() == ["9", "8"]
    assert b.graph.n_arcs == 3 and b.report.to_dict() == {"graph_only_users": 1}  # z
    no_seed = read_mshgat(folder(tmp_path, "a 10,b 20,\n"), seed_column="auto")
    assert "seed" not in no_seed.cascades.meta and no_seed.cascades.lengths.tolist() == [2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "9 a 10,b\n",
            r"cascades\.txt, line 1: expected comma-separated 'user timestamp' items, found 'b'",
        ),
        ("9 a 10,b x,\n", r"line 1: expected a numeric timestamp, found 'x'"),
        ("9 a 10,b 20,a 30,\n", r"line 1: expected each user at most once"),
        ("9 a 10,b 5,\n", r"line 1: expected non-decreasing times"),
    ],
)
def test_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read_mshgat(folder(tmp_path, text))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mshgat_android", (679, 28343, 2925, 48573, 9940)),
        ("mshgat_christianity", (589, 14738, 1645, 35624, 2897)),
    ],
)
def test_real_counts_and_round_trips(
    mirror: Path, tmp_path: Path, name: str, expected: tuple
) -> None:
    b = read_mshgat(mirror / name)
    s = b.statistics()
    got = (
        *(s["cascades"][k] for k in ("cascades", "events", "users")),
        s["graph"]["arcs"],
        s["graph"]["nodes_with_edges"],
    )
    assert got == expected  # SOURCE.md: seeds are not adoptions there either
    back = DatasetBundle.load(b.save(tmp_path / "pq"))
    for col in ("users", "offsets", "times"):
        np.testing.assert_array_equal(getattr(b.cascades, col), getattr(back.cascades, col))
    assert back.cascades.meta["seed"].tolist() == b.cascades.meta["seed"].tolist()
    np.testing.assert_array_equal(b.graph.indices, back.graph.indices)
    again = read_mshgat(write_mshgat(b.cascades, b.graph, tmp_path / "txt"))
    assert again.cascades.vocab.decode(again.cascades.users) == b.cascades.vocab.decode(
        b.cascades.users
    )
    np.testing.assert_array_equal(again.cascades.times, b.cascades.times)
    assert again.graph.n_arcs == b.graph.n_arcs
