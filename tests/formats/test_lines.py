"""NDM / FOREST `user,timestamp` lines: exact parsing, clear errors, repairs counted, round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.formats.lines import (
    read_cascade_lines,
    read_lines_dataset,
    read_lines_file,
    write_cascade_lines,
)
from cascadekit.errors import FormatError

# SOURCE.md counts: (cascades, events, users) overall and per split
EXPECTED = {
    "ndm_irvine": {"all": (471, 6419, 540), "train": (424, 5756, 539), "test": (47, 663, 342)},
    "ndm_lastfm": {
        "all": (23802, 182282, 982),
        "train": (21422, 162967, 980),
        "test": (2380, 19315, 950),
    },
    "ndm_memetracker": {
        "all": (8304, 70031, 498),
        "train": (7474, 62912, 498),
        "test": (830, 7119, 481),
    },
    "forest_twitter": {
        "all": (3461, 135559, 12627),
        "train": (2768, 109009, 12616),
        "valid": (347, 15723, 8495),
        "test": (346, 10827, 6179),
    },
    "forest_memetracker": {
        "all": (12663, 207185, 4709),
        "train": (10131, 163103, 4708),
        "valid": (1266, 22789, 3897),
        "test": (1266, 21293, 3799),
    },
}


def write(tmp_path: Path, text: str, name: str = "c.txt") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_parses_exact_values(tmp_path: Path) -> None:
    p = write(tmp_path, "a,10 b,11.5 c,1.2e+01\n\nb,3 d,4\n")
    cs, report = read_cascade_lines(p)
    assert cs.vocab.tokens == ["a", "b", "c", "d"]
    assert cs.users.tolist() == [0, 1, 2, 1, 3]
    assert cs.offsets.tolist() == [0, 3, 5]
    assert cs.times.tolist() == [10.0, 11.5, 12.0, 3.0, 4.0]
    assert cs.ids.tolist() == ["1", "3"]  # line numbers
    assert report.to_dict() == {"empty_line_skipped": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,1 b\n", r"c\.txt, line 1: expected tokens of the form user,timestamp, found 'b'"),
        (
            "a,1\na,1 b,x\n",
            r"c\.txt, line 2: expected a numeric timestamp after the comma, found 'x'",
        ),
        (
            "a,1 b,2 a,3\n",
            r"c\.txt, line 1: expected each user at most once per cascade.*found 'a'",
        ),
        (
            "a,1\nb,5 c,2\n",
            r"c\.txt, line 2: expected non-decreasing times.*found 'b,5 before c,2'",
        ),
        ("a,1 b,\n", r"line 1: expected tokens of the form user,timestamp, found 'b,'"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read_cascade_lines(write(tmp_path, text))


def test_repair_keeps_first_adoption_and_sorts(tmp_path: Path) -> None:
    cs, report = read_cascade_lines(write(tmp_path, "a,5 b,1 a,0 c,3\n"), repair=True)
    # sorted by time: a@0, b@1, c@3, a@5 → the later 'a' is dropped
    assert cs.vocab.decode(cs.users) == ["a", "b", "c"]
    assert cs.times.tolist() == [0.0, 1.0, 3.0]
    assert report.to_dict() == {"repeated_user_dropped": 1, "unsorted_cascade_sorted": 1}


def test_missing_folder_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="expected at least one of cascade.txt"):
        read_lines_dataset(tmp_path)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_counts_and_lossless_round_trips(mirror: Path, tmp_path: Path, name: str) -> None:
    bundle = read_lines_dataset(mirror / name)
    assert bundle.report.clean
    stats = bundle.statistics()
    got = {"all": tuple(stats["cascades"][k] for k in ("cascades", "events", "users"))}
    for split, s in stats["splits"].items():
        got[split] = (s["cascades"], s["events"], s["users"])
    assert got == EXPECTED[name]
    # Parquet bundle round trip is exact
    back = DatasetBundle.load(bundle.save(tmp_path / "pq"))
    a, b = bundle.cascades, back.cascades
    assert a.vocab == b.vocab and a.ids.tolist() == b.ids.tolist()
    for col in ("users", "offsets", "times"):
        np.testing.assert_array_equal(getattr(a, col), getattr(b, col))
    assert {k: v.tolist() for k, v in bundle.splits.items()} == {
        k: v.tolist() for k, v in back.splits.items()
    }
    # the text writer restores every user and time exactly
    for split in bundle.splits:
        part = bundle.split(split)
        again, report = read_cascade_lines(write_cascade_lines(part, tmp_path / f"{split}.txt"))
        assert report.clean
        assert again.vocab.decode(again.users) == part.vocab.decode(part.users)
        np.testing.assert_array_equal(again.times, part.times)
        np.testing.assert_array_equal(again.offsets, part.offsets)
        # ids are line numbers; the source had no blank lines, so they survive the round trip
        assert [f"{split}:{i}" for i in again.ids] == part.ids.tolist()


def test_dataset_name_and_split_ids(tmp_path: Path) -> None:
    write(tmp_path, "a,1 b,2\n", "cascade.txt")
    write(tmp_path, "b,5\n\nc,6 a,7\n", "cascadetest.txt")
    b = read_lines_dataset(tmp_path, name="mine")
    assert b.name == "mine" and b.cascades.vocab.tokens == ["a", "b", "c"]
    assert b.cascades.ids.tolist() == ["train:1", "test:1", "test:3"]
    assert {k: v.tolist() for k, v in b.splits.items()} == {"train": [0], "test": [1, 2]}
    assert b.report.to_dict() == {"empty_line_skipped": 1}


def test_writer_formats_times_exactly(tmp_path: Path) -> None:
    cs, _ = read_cascade_lines(write(tmp_path, "a,1.3e+12 b,0.1 c,1e-07 d,-2\n"), repair=True)
    text = write_cascade_lines(cs, tmp_path / "out.txt").read_text()
    # sorted by time; integral times without a decimal point, others as repr(float)
    assert text == "d,-2 c,1e-07 b,0.1 a,1300000000000\n"


def test_folder_graph_shares_the_vocabulary(tmp_path: Path) -> None:
    write(tmp_path, "a,1 b,2\n", "cascade.txt")
    write(tmp_path, "c,3\n", "cascadetest.txt")
    write(tmp_path, "b,a\nz c\n\n", "edges.txt")
    b = read_lines_dataset(tmp_path)
    assert b.graph.vocab is b.cascades.vocab
    assert b.cascades.vocab.tokens == ["a", "b", "c", "z"]  # graph-only users last
    tok = b.graph.vocab.tokens
    assert {(tok[u], tok[v]) for u, v in b.graph.edge_array()} == {("b", "a"), ("z", "c")}
    assert b.graph.directed
    assert b.report.to_dict() == {"empty_line_skipped": 1, "graph_only_users": 1}
    assert {k: v.tolist() for k, v in b.splits.items()} == {"train": [0], "test": [1]}
    assert read_lines_dataset(tmp_path, directed=False).graph.n_arcs == 4
    assert read_lines_dataset(tmp_path, graph_file=None).graph is None
    write(tmp_path, "a b\n", "social.txt")
    assert read_lines_dataset(tmp_path, graph_file="social.txt").graph.n_arcs == 1
    write(tmp_path, "a b c d\n", "edges.txt")
    with pytest.raises(FormatError, match=r"edges\.txt, line 1: expected 'src,dst'"):
        read_lines_dataset(tmp_path)


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_non_finite_times_are_errors_in_every_reader_sharing_the_check(tmp_path, bad: str) -> None:  # noqa: ANN001
    """`a 5,b nan,c 0` even passed the unsorted check before (NaN compares false): the shared
    cascade check refuses it with the file and line, for lines, mshgat and raw-path readers."""
    from cascadekit.data.formats.deephawkes import read_raw_paths
    from cascadekit.data.formats.mshgat import read_mshgat

    path = tmp_path / "cascade.txt"
    path.write_text(f"a,5 b,{bad} c,0\n")
    with pytest.raises(FormatError, match="finite times") as e:
        read_lines_file(path)
    assert e.value.line == 1
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "cascades.txt").write_text(f"9 a 5,b {bad},c 0,\n")
    with pytest.raises(FormatError, match="finite times"):
        read_mshgat(tmp_path / "m")
    raw = tmp_path / "raw.txt"
    raw.write_text(f"1\t7\t100\t2\t7:0 7/8:{bad}\n")
    with pytest.raises(FormatError, match="finite"):
        read_raw_paths(raw)


def test_a_byte_order_mark_is_not_part_of_the_first_id(tmp_path: Path) -> None:
    path = tmp_path / "cascade.txt"
    path.write_bytes("\ufeffa,1 b,2\n".encode())
    assert read_lines_file(path).cascades.vocab.tokens[:2] == ["a", "b"]
