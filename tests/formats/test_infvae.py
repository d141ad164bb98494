"""Inf-VAE splits + graph: seed column, graph header rule, shared vocabulary, errors, round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.formats import read
from cascadekit.data.formats.infvae import read_infvae, write_infvae
from cascadekit.errors import FormatError


def folder(
    tmp_path: Path,
    train: str,
    test: str = "",
    val: str | None = None,
    graph: str | None = None,
) -> Path:
    (tmp_path / "train.txt").write_text(train)
    (tmp_path / "test.txt").write_text(test)
    if val is not None:
        (tmp_path / "val.txt").write_text(val)
    if graph is not None:
        (tmp_path / "graph.txt").write_text(graph)
    return tmp_path


def arcs(bundle: DatasetBundle) -> set[tuple[str, str]]:
    tok = bundle.graph.vocab.tokens
    return {(tok[u], tok[v]) for u, v in bundle.graph.edge_array()}


def test_seeded_lines_splits_and_shared_vocabulary(tmp_path: Path) -> None:
    # the Inf-VAE layout: seed without a time, trailing space, a header line on graph.txt
    b = read_infvae(
        folder(
            tmp_path,
            train="7 3 10.0 5 20.5 \n\n3 7 4.0 \n",
            val="5 7 1e+01 \n",
            test="9 \n",
            graph="5 3\n7 3\n3 5\nz 7\n",
        )
    )
    cs = b.cascades
    assert cs.vocab.tokens == ["7", "3", "5", "9", "z"]  # cascade users in file order, then graph
    assert cs.vocab.decode(cs.users) == ["7", "3", "5", "3", "7", "5", "7", "9"]
    assert cs.times.tolist() == [0.0, 10.0, 20.5, 0.0, 4.0, 0.0, 10.0, 0.0]  # seed at 0
    assert cs.offsets.tolist() == [0, 3, 5, 7, 8]
    assert cs.ids.tolist() == ["train:1", "train:3", "valid:1", "test:1"]
    assert cs.attrs == {"seed_column": True}
    assert {k: v.tolist() for k, v in b.splits.items()} == {
        "train": [0, 1],
        "valid": [2],
        "test": [3],
    }
    assert b.graph.vocab is cs.vocab and not b.graph.directed
    assert arcs(b) == {("7", "3"), ("3", "7"), ("3", "5"), ("5", "3"), ("z", "7"), ("7", "z")}
    assert b.graph.n_edges == 3
    assert b.info == {"graph_header": {"nodes": 5, "edges": 3}}
    assert b.report.to_dict() == {"empty_line_skipped": 1, "graph_only_users": 1}
    assert b.name == tmp_path.name
    assert b.split("valid").vocab.decode(b.split("valid").users) == ["5", "7"]


def test_pairs_only_lines_and_missing_val(tmp_path: Path) -> None:
    b = read_infvae(folder(tmp_path, train="a 1 b 2\n", test="b 3 c 4\nc 5 a 6\n"), name="mine")
    cs = b.cascades
    assert b.name == "mine" and cs.attrs == {}
    assert cs.vocab.decode(cs.users) == ["a", "b", "b", "c", "c", "a"]
    assert cs.times.tolist() == [1, 2, 3, 4, 5, 6]
    assert {k: v.tolist() for k, v in b.splits.items()} == {"train": [0], "test": [1, 2]}
    assert b.graph is None and b.info == {} and b.report.clean


def test_seed_time_first_and_forced_seed_column(tmp_path: Path) -> None:
    cs = read_infvae(folder(tmp_path, train="s a 5 b 6\n"), seed_time="first").cascades
    assert cs.vocab.decode(cs.users) == ["s", "a", "b"] and cs.times.tolist() == [5, 5, 6]
    # seed_time is any number; a forced seed column reads even a pairs-looking first line
    cs = read_infvae(folder(tmp_path, train="s a 5\n"), seed_time=-1.5).cascades
    assert cs.times.tolist() == [-1.5, 5]
    with pytest.raises(FormatError, match=r"train\.txt, line 1: expected a seed user then"):
        read_infvae(folder(tmp_path, train="a 1 b 2\n"), seed_column=True)
    with pytest.raises(FormatError, match=r"line 1: expected a 'user time' pair after the seed"):
        read_infvae(folder(tmp_path, train="s\n"), seed_time="first")
    with pytest.raises(ValueError, match="seed_time must be a number or 'first'"):
        read_infvae(folder(tmp_path, train="s\n"), seed_time="last")


@pytest.mark.parametrize(
    ("train", "test", "message"),
    [
        # the first line fixes the layout for the whole folder: a lost token is an error
        (
            "s a 1 b 2\ns a 1 b\n",
            "",
            r"train\.txt, line 2: expected a seed user then 'user time' pairs \(an odd number of "
            r"tokens\), as on train\.txt line 1 \(seed_column='auto'\), found '4 tokens'",
        ),
        (
            "a 1 b 2\n",
            "\nb 1 c\n",
            r"test\.txt, line 2: expected 'user time' pairs \(an even number of tokens\), as on "
            r"train\.txt line 1",
        ),
        ("s a 1 b x\n", "", r"train\.txt, line 1: expected a numeric time after each user.*'x'"),
        ("s a 1 b inf\n", "", r"train\.txt, line 1: expected finite times, found 'inf'"),
        ("s a 1 s 2\n", "", r"train\.txt, line 1: expected each user at most once.*found 's'"),
        (
            "s a 1\n",
            "s a 5 b 3\n",
            r"test\.txt, line 1: expected non-decreasing times.*found 'a,5 before b,3'",
        ),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, train: str, test: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read_infvae(folder(tmp_path, train=train, test=test))


def test_missing_files_are_errors(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("s a 1\n")
    with pytest.raises(FormatError, match=r"expected a test\.txt file"):
        read_infvae(tmp_path)
    (tmp_path / "train.txt").unlink()
    (tmp_path / "test.txt").write_text("s a 1\n")
    with pytest.raises(FormatError, match=r"expected a train\.txt file"):
        read_infvae(tmp_path)


def test_repair_keeps_first_adoption_and_sorts(tmp_path: Path) -> None:
    b = read_infvae(folder(tmp_path, train="s a 5 b 1 a 0 s 3\n", test="s a 1\n"), repair=True)
    cs = b.cascades
    # sorted by time: s@0, a@0, b@1, s@3, a@5 → the later s and a are dropped
    assert cs.vocab.decode(cs.users) == ["s", "a", "b", "s", "a"]
    assert cs.times.tolist() == [0, 0, 1, 0, 1]
    assert b.report.to_dict() == {"repeated_user_dropped": 2, "unsorted_cascade_sorted": 1}


@pytest.mark.parametrize(
    ("graph", "header", "edges"),
    [
        ("3 2\na b\nb c\n", {"nodes": 3, "edges": 2}, {("a", "b"), ("b", "c")}),
        # MS-HGAT's copy of the graph: no header line
        ("a b\nb c\n", None, {("a", "b"), ("b", "c")}),
        # two integers, but not followed by 2 edge lines: an edge
        ("0 2\n0 1\n", None, {("0", "2"), ("0", "1")}),
        # followed by 2 edge lines, but 0 nodes cannot hold their users: an edge
        ("0 2\n0 1\n1 2\n", None, {("0", "2"), ("0", "1"), ("1", "2")}),
        # more declared nodes than users on the edges is fine (isolated users); blank lines skipped
        ("10 1\n\n0 1\n", {"nodes": 10, "edges": 1}, {("0", "1")}),
        # words, not counts
        ("n m\nb c\n", None, {("n", "m"), ("b", "c")}),
    ],
)
def test_graph_header_rule(
    tmp_path: Path, graph: str, header: dict[str, int] | None, edges: set[tuple[str, str]]
) -> None:
    b = read_infvae(folder(tmp_path, train="a 1\n", graph=graph), directed=True)
    assert b.info.get("graph_header") == header
    assert arcs(b) == edges
    if header is None:  # graph_header=True insists on a header that fits
        with pytest.raises(FormatError, match=r"graph\.txt, line 1: expected"):
            read_infvae(tmp_path, graph_header=True)
    else:
        assert read_infvae(tmp_path, graph_header=True).info["graph_header"] == header


def test_graph_header_forced(tmp_path: Path) -> None:
    folder(tmp_path, train="a 1\n", graph="3 2\na b\nb c\n")
    b = read_infvae(tmp_path, graph_header=False, directed=True)
    assert ("3", "2") in arcs(b) and b.info == {}
    for graph, message in [
        ("a b\nb c\n", r"line 1: expected a first line 'n_nodes n_edges' \(graph_header=True\)"),
        ("3 5\na b\nb c\n", r"line 1: expected n_edges = 2, the number of edge lines, found '5'"),
        ("1 2\na b\nb c\n", r"line 1: expected n_nodes >= 3, the users on the edge lines"),
    ]:
        (tmp_path / "graph.txt").write_text(graph)
        with pytest.raises(FormatError, match=message):
            read_infvae(tmp_path, graph_header=True)


def test_graph_errors_and_duplicates(tmp_path: Path) -> None:
    folder(tmp_path, train="a 1\n", graph="2 3\na b\nb a\na b c\n")
    with pytest.raises(FormatError, match=r"graph\.txt, line 4: expected 'src dst' \(two user"):
        read_infvae(tmp_path)
    (tmp_path / "graph.txt").write_text("a b\nb a\na b\nc c\n")
    undirected = read_infvae(tmp_path)
    assert undirected.graph.n_edges == 2  # a-b (listed 3 times) and the self-loop c-c
    assert undirected.report.to_dict() == {"duplicate_edge_merged": 2, "graph_only_users": 2}
    directed = read_infvae(tmp_path, directed=True)
    assert arcs(directed) == {("a", "b"), ("b", "a"), ("c", "c")}
    assert directed.report.to_dict() == {"duplicate_edge_merged": 1, "graph_only_users": 2}


def test_round_trip_through_the_writer(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    src = folder(
        tmp_path / "in",
        train="7 3 10 5 20.5 \n3 7 1.3e+12 \n",
        val="5 7 0.1 \n",
        test="9 \n",
        graph="5 3\n7 3\n3 5\nz 7\n",
    )
    b = read_infvae(src)
    out = write_infvae(b, tmp_path / "out")
    assert (out / "train.txt").read_text() == "7 3 10 5 20.5\n3 7 1300000000000\n"
    assert (out / "test.txt").read_text() == "9\n"
    graph_lines = (out / "graph.txt").read_text().splitlines()
    assert graph_lines[0] == "5 3" and len(graph_lines) == 4  # one line per undirected edge
    again = read_infvae(out)
    a, c = again.cascades, b.cascades
    assert a.vocab.decode(a.users) == c.vocab.decode(c.users)
    np.testing.assert_array_equal(a.times, c.times)
    np.testing.assert_array_equal(a.offsets, c.offsets)
    assert a.ids.tolist() == c.ids.tolist() and a.attrs == c.attrs
    assert {k: v.tolist() for k, v in again.splits.items()} == {
        k: v.tolist() for k, v in b.splits.items()
    }
    assert arcs(again) == arcs(b) and again.info == b.info
    # pairs only, directed, no header: still exact
    d = read_infvae(out, directed=True)
    write_infvae(d, tmp_path / "pairs", seed_column=False, graph_header=False)
    assert (tmp_path / "pairs" / "train.txt").read_text().startswith("7 0 3 10 5 20.5\n")
    back = read_infvae(tmp_path / "pairs", directed=True)
    assert back.cascades.vocab.decode(back.cascades.users) == c.vocab.decode(c.users)
    np.testing.assert_array_equal(back.cascades.times, c.times)
    assert arcs(back) == arcs(d) and back.info == {}


def test_writer_refuses_what_the_format_cannot_hold(tmp_path: Path) -> None:
    cs = read_infvae(folder(tmp_path, train="s a 1\n")).cascades
    train = {"train": np.array([0])}
    with pytest.raises(ValueError, match=r"lacks \['test'\] and has extra none"):
        write_infvae(DatasetBundle("x", cascades=cs, splits=train), tmp_path / "o")
    with pytest.raises(ValueError, match=r"lacks none and has extra \['dev'\]"):
        write_infvae(
            DatasetBundle("x", cascades=cs, splits={**train, "test": [], "dev": [0]}),
            tmp_path / "o",
        )
    with pytest.raises(ValueError, match="needs cascades with timestamps"):
        write_infvae(DatasetBundle("x"), tmp_path / "o")


def test_registered_format(tmp_path: Path) -> None:
    b = read(folder(tmp_path, train="s a 1\n"), "infvae", seed_time="first")
    assert b.cascades.times.tolist() == [1, 1]
