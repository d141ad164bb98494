"""Bring-your-own data: event logs and edge lists as CSV or Parquet.

Event log: one row per adoption with columns ``cascade``, ``user``, ``time`` and optionally
``parent`` (the raw user id this adoption came through; empty = root / unknown). Column names are
parameters. Rows may come in any order: each cascade's rows are stable-sorted by time; a user
appearing twice in one cascade is an error unless ``repair=True`` (first adoption kept, counted).
Cascades keep the order of their first row. Edge list: ``src,dst[,weight]``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.formats.lines import format_time
from cascadekit.data.graph import SocialGraph
from cascadekit.data.report import ReadReport
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import FormatError


def _build(
    path: Path,
    cascade: list[str],
    user: list[str],
    time: np.ndarray,
    parent: list[str] | None,
    lines: np.ndarray,
    *,
    repair: bool,
) -> DatasetBundle:
    report = ReadReport(source=str(path))
    ids, first_row = np.unique(np.asarray(cascade, dtype=object), return_index=True)
    order_of_ids = ids[np.argsort(first_row)]
    cidx = {c: i for i, c in enumerate(order_of_ids)}
    code = np.fromiter((cidx[c] for c in cascade), dtype=np.int64, count=len(cascade))
    rows = np.lexsort((time, code))  # by cascade, then time; stable for ties
    vocab = Vocabulary()
    seqs, times, parents = [], [], []
    bounds = np.flatnonzero(np.diff(code[rows])) + 1
    for block in np.split(rows, bounds) if len(rows) else []:
        seen: dict[str, int] = {}
        us, ts, ps = [], [], []
        for r in block:
            u = user[r]
            if u in seen:
                if not repair:
                    raise FormatError(
                        path,
                        int(lines[r]),
                        "each user at most once per cascade (or repair=True)",
                        u,
                    )
                report.add("repeated_user_dropped")
                continue
            seen[u] = len(us)
            us.append(u)
            ts.append(time[r])
            if parent is not None:
                p = parent[r]
                pos = seen.get(p, -1) if p else -1
                if p and pos < 0:
                    report.add("parent_unresolved")
                ps.append(pos)
        if np.any(np.diff(time[np.sort(block)]) < 0):  # in file order
            report.add("unsorted_cascade_sorted")
        seqs.append(vocab.encode(us))
        times.append(np.asarray(ts))
        parents.append(ps)
    cascades = CascadeSet.from_sequences(
        seqs,
        vocab,
        times=times,
        parents=parents if parent is not None else None,
        ids=list(order_of_ids),
    )
    return DatasetBundle(name=path.stem, cascades=cascades, report=report)


def read_event_csv(
    path: str | Path,
    *,
    cascade_col: str = "cascade",
    user_col: str = "user",
    time_col: str = "time",
    parent_col: str | None = None,
    repair: bool = False,
    delimiter: str = ",",
) -> DatasetBundle:
    """CSV with a header row naming the columns (see module docstring)."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise FormatError(
                path, 1, f"a header row with columns {cascade_col}, {user_col}, {time_col}"
            )
        wanted = [cascade_col, user_col, time_col] + ([parent_col] if parent_col else [])
        missing = [c for c in wanted if c not in header]
        if missing:
            raise FormatError(
                path, 1, f"columns {', '.join(wanted)} in the header", ",".join(header)
            )
        pos = [header.index(c) for c in wanted]
        cascade, user, stamps, parent, lines = [], [], [], [], []
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise FormatError(
                    path, lineno, f"{len(header)} fields like the header", delimiter.join(row)
                )
            vals = [row[p] for p in pos]
            try:
                stamps.append(float(vals[2]))
            except ValueError:
                raise FormatError(path, lineno, f"a numeric {time_col}", vals[2]) from None
            if not vals[0] or not vals[1]:
                raise FormatError(
                    path, lineno, f"non-empty {cascade_col} and {user_col}", delimiter.join(row)
                )
            cascade.append(vals[0])
            user.append(vals[1])
            if parent_col:
                parent.append(vals[3])
            lines.append(lineno)
    return _build(
        path, cascade, user, np.asarray(stamps, dtype=np.float64), parent if parent_col else None,
        np.asarray(lines), repair=repair,
    )  # fmt: skip


def read_event_parquet(
    path: str | Path,
    *,
    cascade_col: str = "cascade",
    user_col: str = "user",
    time_col: str = "time",
    parent_col: str | None = None,
    repair: bool = False,
) -> DatasetBundle:
    """Parquet table with the same columns as the CSV form (any Parquet writer). "Lines" in error
    messages are 1-based row numbers."""
    import pyarrow.parquet as pq

    path = Path(path)
    table = pq.read_table(str(path))
    wanted = [cascade_col, user_col, time_col] + ([parent_col] if parent_col else [])
    missing = [c for c in wanted if c not in table.column_names]
    if missing:
        raise FormatError(path, None, f"columns {', '.join(wanted)}", ", ".join(table.column_names))
    col = {c: table.column(c).to_pylist() for c in wanted}
    try:
        stamps = np.asarray(col[time_col], dtype=np.float64)
    except (TypeError, ValueError):
        bad = next(i for i, v in enumerate(col[time_col]) if not isinstance(v, (int, float)))
        raise FormatError(path, bad + 1, f"a numeric {time_col}", str(col[time_col][bad])) from None
    parent = None if not parent_col else ["" if p is None else str(p) for p in col[parent_col]]
    return _build(
        path, [str(c) for c in col[cascade_col]], [str(u) for u in col[user_col]], stamps, parent,
        np.arange(1, len(stamps) + 1), repair=repair,
    )  # fmt: skip


def write_event_csv(cascades: CascadeSet, path: str | Path) -> Path:
    """Write ``cascade,user,time[,parent]`` rows (raw ids; parent as the parent's raw user id)."""
    tokens = np.asarray(cascades.vocab.tokens, dtype=object)
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            ["cascade", "user", "time"] + (["parent"] if cascades.parents is not None else [])
        )
        for c in cascades:
            names = tokens[c.users]
            times = c.times if c.times is not None else np.arange(len(c), dtype=float)
            for k in range(len(c)):
                row = [c.id, names[k], format_time(times[k])]
                if c.parents is not None:
                    row.append(names[c.parents[k]] if c.parents[k] >= 0 else "")
                w.writerow(row)
    return path


def read_edge_list(
    path: str | Path, vocab: Vocabulary, *, directed: bool = True, sep: str | None = None
) -> SocialGraph:
    """``src dst [weight]`` per line (comma, tab or space separated; ``#`` comments and a
    ``src,dst`` header allowed). New users are appended to ``vocab``."""
    path = Path(path)
    src, dst, weights = [], [], []
    with path.open(encoding="utf-8") as f:
        for lineno, raw in enumerate(f, start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(sep) if sep else line.replace(",", " ").split()
            if lineno == 1 and parts[:2] == ["src", "dst"]:
                continue
            if len(parts) not in (2, 3):
                raise FormatError(path, lineno, "'src dst' or 'src dst weight'", raw.strip())
            src.append(parts[0])
            dst.append(parts[1])
            if len(parts) == 3:
                try:
                    weights.append(float(parts[2]))
                except ValueError:
                    raise FormatError(path, lineno, "a numeric weight", parts[2]) from None
    if weights and len(weights) != len(src):
        raise FormatError(path, None, "a weight on every edge or on none")
    s, d = vocab.encode(src), vocab.encode(dst)
    return SocialGraph.from_edges(
        s, d, vocab, weights=np.array(weights) if weights else None, directed=directed
    )
