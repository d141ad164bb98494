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
    b = read_mshgat(folder(tmp_path, "9 a 10,b 20,\n\n8 c 5,a 7,\n", "a,b\nb,a\nz,a\n"))
    cs = b.cascades
    assert cs.vocab.decode(cs.users) == ["a", "b", "c", "a"] and cs.times.tolist() == [10, 20, 5, 7]
    assert cs.meta["seed"].tolist() == ["9", "8"]
    assert cs.ids.tolist() == ["1", "3"]  # line numbers
    assert b.graph.n_arcs == 3  # z is a graph-only user
    assert b.report.to_dict() == {"empty_line_skipped": 1, "graph_only_users": 1}
    no_seed = read_mshgat(folder(tmp_path, "a 10,b 20,\n"), seed_column="auto")
    assert "seed" not in no_seed.cascades.meta and no_seed.cascades.lengths.tolist() == [2]


def test_seed_as_adopter_follows_the_loaders(tmp_path: Path) -> None:
    b = read_mshgat(folder(tmp_path, "9 a 10,b 20,\nc 5,a 7,\n"), seed_as_adopter=True)
    cs = b.cascades
    # the seed adopts first, at the first item's time; a line without a seed is unchanged
    assert cs.vocab.decode(cs.users) == ["9", "a", "b", "c", "a"]
    assert cs.times.tolist() == [10, 10, 20, 5, 7] and cs.offsets.tolist() == [0, 3, 5]
    assert cs.meta["seed"].tolist() == ["9", ""]
    again = read_mshgat(write_mshgat(cs, None, tmp_path / "out"), seed_as_adopter=True)
    assert again.cascades.vocab.decode(again.cascades.users) == cs.vocab.decode(cs.users)
    assert (tmp_path / "out" / "cascades.txt").read_text() == "9 a 10,b 20,\nc 5,a 7,\n"
    with pytest.raises(FormatError, match=r"line 1: expected each user at most once"):
        read_mshgat(folder(tmp_path, "a a 10,b 20,\n"), seed_as_adopter=True)


def test_forced_seed_column(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"line 1: expected 'seed user timestamp' as the first"):
        read_mshgat(folder(tmp_path, "a 10,b 20,\n"), seed_column=True)
    with pytest.raises(FormatError, match=r"line 1: expected comma-separated 'user timestamp'"):
        read_mshgat(folder(tmp_path, "9 a 10,b 20,\n"), seed_column=False)


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


# SOURCE.md: (cascades, timed adoptions, adopting users, edges, nodes in edges); graph-only users
# and the counts with the seed prepended (MS-HGAT loader convention) are measured here
REAL = {
    "mshgat_android": ((679, 28343, 2925, 48573, 9940), 7028, (29022, 2927)),
    "mshgat_christianity": ((589, 14738, 1645, 35624, 2897), 1252, (15327, 1651)),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_counts_and_round_trips(mirror: Path, tmp_path: Path, name: str) -> None:
    expected, graph_only, with_seed = REAL[name]
    b = read_mshgat(mirror / name)
    s = b.statistics()
    got = (
        *(s["cascades"][k] for k in ("cascades", "events", "users")),
        s["graph"]["arcs"],
        s["graph"]["nodes_with_edges"],
    )
    assert got == expected  # SOURCE.md: seeds are not adoptions there either
    assert b.report.to_dict() == {"graph_only_users": graph_only}
    seeded = read_mshgat(mirror / name, seed_as_adopter=True).statistics()["cascades"]
    assert (seeded["events"], seeded["users"]) == with_seed
    back = DatasetBundle.load(b.save(tmp_path / "pq"))
    for col in ("users", "offsets", "times"):
        np.testing.assert_array_equal(getattr(b.cascades, col), getattr(back.cascades, col))
    assert back.cascades.ids.tolist() == b.cascades.ids.tolist()
    assert back.cascades.meta["seed"].tolist() == b.cascades.meta["seed"].tolist()
    np.testing.assert_array_equal(b.graph.indptr, back.graph.indptr)
    np.testing.assert_array_equal(b.graph.indices, back.graph.indices)
    again = read_mshgat(write_mshgat(b.cascades, b.graph, tmp_path / "txt"))
    a, c = again.cascades, b.cascades
    assert a.vocab.decode(a.users) == c.vocab.decode(c.users)
    assert a.ids.tolist() == c.ids.tolist() and a.meta["seed"].tolist() == c.meta["seed"].tolist()
    np.testing.assert_array_equal(a.times, c.times)
    np.testing.assert_array_equal(a.offsets, c.offsets)

    def arcs(bundle: DatasetBundle) -> set[tuple[str, str]]:
        tok = bundle.graph.vocab.tokens
        return {(tok[u], tok[v]) for u, v in bundle.graph.edge_array()}

    assert arcs(again) == arcs(b)
