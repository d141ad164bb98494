"""Bring-your-own data: event tables (CSV / Parquet) and edge lists.

An event table has one row per adoption with (at least) a cascade id, a user id and a time column;
an optional parent column holds the raw id of the user the adoption came through (empty / null =
root or unknown). Column names are parameters. Rows of one cascade need not be contiguous (a log
sorted by time across cascades is fine): cascades are numbered in order of first appearance and
rows keep their file order within a cascade. Raw ids are kept as strings.

Strict by default, like every reader: a missing column, a short row, an empty id, a non-numeric
time, a user repeated within a cascade or times that go backwards within a cascade raise
FormatError naming the file and the 1-based line (for Parquet: the 1-based row). ``repair=True``
stable-sorts each cascade by time (``unsorted_cascade_sorted`` counts cascades) and keeps each
user's first adoption (``repeated_user_dropped`` counts rows). A parent that is not an earlier
adopter of the same cascade becomes -1 and is counted (``parent_unresolved``); blank CSV lines are
skipped and counted (``empty_line_skipped``).

The CSV writer stores cascade id, user, time and parent only: ``root_times`` and ``meta`` are not
part of the format, and an empty cascade has no row to be written.

Edge list: ``src dst [weight]`` per line (comma or whitespace separated unless ``sep`` is given);
``#`` comment lines and a ``src,dst`` header line are allowed.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.formats.lines import format_time, is_number, text_lines
from cascadekit.data.graph import SocialGraph
from cascadekit.data.report import ReadReport
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import FormatError


def read_event_csv(
    path: str | Path,
    *,
    cascade_col: str = "cascade",
    user_col: str = "user",
    time_col: str | None = "time",
    parent_col: str | None = None,
    repair: bool = False,
    delimiter: str = ",",
) -> DatasetBundle:
    """Read a CSV event table with a header row (see module docstring).

    Options:
        cascade_col: header name of the cascade id column.
        user_col: header name of the user id column.
        time_col: header name of the time column (None: untimed cascades in file order).
        parent_col: header name of the parent user column (None: no repost tree).
        repair: keep each user's first adoption and stable-sort each cascade by time (both counted
            in the report) instead of raising FormatError.
        delimiter: the field separator.
    """
    path = Path(path)
    report = ReadReport(source=str(path))
    wanted = [c for c in (cascade_col, user_col, time_col, parent_col) if c is not None]
    columns: dict[str, list[str]] = {c: [] for c in wanted}
    lines: list[int] = []
    with path.open("rb") as f:
        reader = csv.reader((line for _, line in text_lines(f, path)), delimiter=delimiter)
        header = next(reader, None)
        if header is None or any(c not in header for c in wanted):
            found = "an empty file" if header is None else delimiter.join(header)
            raise FormatError(path, 1, f"a header row naming columns {', '.join(wanted)}", found)
        where = [(columns[c], header.index(c)) for c in wanted]
        width = len(header)
        for row in reader:
            if not row:
                report.add("empty_line_skipped")
                continue
            if len(row) != width:
                raise FormatError(
                    path, reader.line_num, f"{width} fields like the header", delimiter.join(row)
                )
            for col, j in where:
                col.append(row[j])
            lines.append(reader.line_num)
    cascades = _assemble(
        path,
        np.asarray(lines, dtype=np.int64),
        columns[cascade_col],
        columns[user_col],
        None if time_col is None else columns[time_col],
        None if parent_col is None else columns[parent_col],
        repair=repair,
        report=report,
    )
    return DatasetBundle(name=path.stem, cascades=cascades, report=report)


def read_event_parquet(
    path: str | Path,
    *,
    cascade_col: str = "cascade",
    user_col: str = "user",
    time_col: str | None = "time",
    parent_col: str | None = None,
    repair: bool = False,
) -> DatasetBundle:
    """Read a Parquet event table (same columns and rules as ``read_event_csv``; errors name the
    1-based row as the line). Id columns of any type are read as their string form.

    Options:
        cascade_col: name of the cascade id column.
        user_col: name of the user id column.
        time_col: name of the time column (None: untimed cascades in row order).
        parent_col: name of the parent user column (None: no repost tree).
        repair: keep each user's first adoption and stable-sort each cascade by time (both counted
            in the report) instead of raising FormatError.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    report = ReadReport(source=str(path))
    wanted = [c for c in (cascade_col, user_col, time_col, parent_col) if c is not None]
    names = pq.read_schema(str(path)).names
    if any(c not in names for c in wanted):
        raise FormatError(path, None, f"columns {', '.join(wanted)}", ", ".join(names))
    table = pq.read_table(str(path), columns=wanted)

    def strings(name: str, *, nullable: bool) -> list[str]:
        col = table.column(name)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            col = col.cast(pa.string())
        values = col.to_pylist()
        if not nullable and col.null_count:
            raise FormatError(
                path, values.index(None) + 1, f"a {name!r} value in every row", "null"
            )
        return ["" if v is None else v for v in values]

    times: np.ndarray | list[str] | None = None
    if time_col is not None:
        col = table.column(time_col)
        # numbers are taken as stored; text goes through the same parser as CSV
        numeric = pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
        if numeric and col.null_count:
            row = col.to_pylist().index(None) + 1
            raise FormatError(path, row, f"a numeric {time_col!r} value in every row", "null")
        times = col.to_numpy().astype(np.float64) if numeric else strings(time_col, nullable=True)
    cascades = _assemble(
        path,
        np.arange(1, table.num_rows + 1, dtype=np.int64),
        strings(cascade_col, nullable=False),
        strings(user_col, nullable=False),
        times,
        None if parent_col is None else strings(parent_col, nullable=True),
        repair=repair,
        report=report,
    )
    return DatasetBundle(name=path.stem, cascades=cascades, report=report)


def _parse_times(path: Path, lines: np.ndarray, raw: Sequence[str] | np.ndarray) -> np.ndarray:
    """(N,) float64 times from text (or numbers); anything non-numeric or non-finite is an error."""
    try:
        times = np.asarray(raw, dtype=np.float64)
    except ValueError:
        i = next(i for i, s in enumerate(raw) if not is_number(s))
        raise FormatError(path, int(lines[i]), "a numeric time", raw[i]) from None
    bad = ~np.isfinite(times)
    if bad.any():
        i = int(np.argmax(bad))
        raise FormatError(path, int(lines[i]), "a finite time", str(raw[i]))
    return times


def _assemble(
    path: Path,
    lines: np.ndarray,
    cascade_raw: Sequence[str],
    user_raw: Sequence[str],
    time_raw: Sequence[str] | np.ndarray | None,
    parent_raw: Sequence[str] | None,
    *,
    repair: bool,
    report: ReadReport,
) -> CascadeSet:
    """Group rows into cascades, check (or repair) order and uniqueness, resolve parents.

    Shapes: ``lines``, ``cascade_raw``, ``user_raw``, ``time_raw``, ``parent_raw`` are all (N,),
    one entry per row in file order.
    """
    if not len(user_raw):
        raise FormatError(path, None, "at least one row after the header", "none")
    for name, col in (("cascade id", cascade_raw), ("user id", user_raw)):
        empty = next((i for i, v in enumerate(col) if not v), None)
        if empty is not None:
            raise FormatError(path, int(lines[empty]), f"a non-empty {name}", "''")
    ids = Vocabulary()
    cas = ids.encode(cascade_raw)
    vocab = Vocabulary()
    users = vocab.encode(user_raw)
    n = len(users)
    times = None if time_raw is None else _parse_times(path, lines, time_raw)

    # rows grouped by cascade (first-appearance order), file order kept within a cascade
    order = np.argsort(cas, kind="stable")
    if times is not None:
        c_o, t_o = cas[order], times[order]
        back = (np.diff(t_o) < 0) & (c_o[1:] == c_o[:-1])
        if back.any():
            if not repair:
                k = int(np.argmax(back))
                raise FormatError(
                    path, int(lines[order[k + 1]]),
                    "non-decreasing times within a cascade (or repair=True to sort)",
                    f"{user_raw[order[k + 1]]} at {t_o[k + 1]:g} after "
                    f"{user_raw[order[k]]} at {t_o[k]:g}",
                )  # fmt: skip
            report.add("unsorted_cascade_sorted", len(np.unique(c_o[1:][back])))
            order = np.lexsort((times, cas))  # lexsort is stable: ties keep file order

    # first adoption of each (cascade, user) pair in the (sorted) order
    key = cas[order] * len(vocab) + users[order]
    _, first = np.unique(key, return_index=True)
    if len(first) < n:
        if not repair:
            dup = np.ones(n, dtype=bool)
            dup[first] = False
            k = int(order[dup].min())  # the earliest repeated row in the file
            raise FormatError(
                path, int(lines[k]), "each user at most once per cascade (or repair=True)",
                f"{user_raw[k]} again in cascade {cascade_raw[k]}",
            )  # fmt: skip
        report.add("repeated_user_dropped", n - len(first))
        order = order[np.sort(first)]

    cas_k, users_k = cas[order], users[order]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(cas_k, minlength=len(ids)))])
    parents = None
    if parent_raw is not None:
        parents = _resolve_parents(
            cas_k, users_k, offsets, [parent_raw[i] for i in order], vocab, report
        )
    return CascadeSet(
        users_k,
        offsets,
        vocab,
        times=None if times is None else times[order],
        parents=parents,
        ids=ids.tokens,
    )


def _resolve_parents(
    cas: np.ndarray,
    users: np.ndarray,
    offsets: np.ndarray,
    parent_raw: list[str],
    vocab: Vocabulary,
    report: ReadReport,
) -> np.ndarray:
    """Positions within the cascade of each row's parent; -1 for roots and unresolved parents.

    Shapes: ``cas``, ``users``, ``parent_raw`` (N,) in final row order; ``offsets`` (C+1,); returns
    (N,) int64.
    """
    n = len(users)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pos = np.arange(n, dtype=np.int64) - offsets[cas]
    given = np.fromiter((bool(p) for p in parent_raw), dtype=bool, count=n)
    pu = vocab.encode(parent_raw, add=False)
    # (cascade, user) keys are unique after de-duplication, so a sorted search finds the parent row
    width = len(vocab) + 1
    key = cas * width + users
    sorter = np.argsort(key)
    want = cas * width + np.where(pu >= 0, pu, len(vocab))  # unknown ids never match a key
    row = sorter[np.minimum(np.searchsorted(key, want, sorter=sorter), n - 1)]
    parents = np.where(given & (key[row] == want), pos[row], -1)
    # a parent must have adopted earlier in the same cascade
    parents = np.where(parents < pos, parents, -1)
    report.add("parent_unresolved", int(np.sum(given & (parents < 0))))
    return parents


def write_event_csv(cascades: CascadeSet, path: str | Path) -> Path:
    """Write ``cascade,user[,time][,parent]`` rows (raw ids; parent = the parent's raw user id).

    Times use the shortest exact text (``format_time``), so re-reading restores them bit for bit.
    Cascade ids must be unique, since they are what groups the rows back into cascades.
    """
    if len(set(cascades.ids.tolist())) != len(cascades):
        raise ValueError("cascade ids must be unique to be written as an event table")
    path = Path(path)
    tokens = np.asarray(cascades.vocab.tokens, dtype=object)
    names = tokens[cascades.users]
    header = ["cascade", "user"]
    cols: list[list[str]] = [np.repeat(cascades.ids, cascades.lengths).tolist(), names.tolist()]
    if cascades.times is not None:
        header.append("time")
        cols.append([format_time(t) for t in cascades.times.tolist()])
    if cascades.parents is not None:
        rows = np.repeat(cascades.offsets[:-1], cascades.lengths) + cascades.parents
        header.append("parent")
        cols.append(np.where(cascades.parents >= 0, names[rows], "").tolist())
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(zip(*cols, strict=True))
    return path


def read_edge_list(
    path: str | Path,
    vocab: Vocabulary,
    *,
    directed: bool = True,
    sep: str | None = None,
    report: ReadReport | None = None,
) -> SocialGraph:
    """Arcs ``src dst [weight]`` one per line over ``vocab`` (new user ids are appended to it).

    ``sep=None`` accepts a comma or whitespace. Arcs are kept as listed (``directed=False`` stores
    both directions); weights must be on every arc or on none. Blank and ``#`` comment lines are
    skipped and counted in ``report`` when one is given.
    """
    path = Path(path)
    src: list[str] = []
    dst: list[str] = []
    weights: list[float] = []
    shown = "," if sep is None else sep
    with path.open("rb") as f:
        for lineno, raw in text_lines(f, path):
            line = raw.strip()
            if not line or line.startswith("#"):
                if report is not None:
                    report.add("comment_line_skipped" if line else "empty_line_skipped")
                continue
            parts = line.replace(",", " ").split() if sep is None else line.split(sep)
            parts = [p.strip() for p in parts]
            if not src and parts[:2] == ["src", "dst"]:  # a header, not an arc
                continue
            if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
                raise FormatError(
                    path, lineno, f"'src{shown}dst' or 'src{shown}dst{shown}weight'", line
                )
            if len(parts) == 3:
                if not is_number(parts[2]):
                    raise FormatError(path, lineno, "a numeric weight", parts[2])
                weights.append(float(parts[2]))
            if len(weights) not in (0, len(src) + 1):
                raise FormatError(path, lineno, "a weight on every edge or on none", line)
            src.append(parts[0])
            dst.append(parts[1])
    return SocialGraph.from_edges(
        vocab.encode(src), vocab.encode(dst), vocab,
        weights=np.asarray(weights) if weights else None, directed=directed,
    )  # fmt: skip
