"""NDM / FOREST cascade lines: one cascade per line, space-separated ``user,timestamp`` tokens.

Files of a dataset folder: ``cascade.txt`` (train), ``cascadevalid.txt`` (valid, FOREST only),
``cascadetest.txt`` (test). Users are raw ids (strings); times are numbers in the dataset's unit
(unix seconds for NDM irvine/lastfm, hours for memetracker, milliseconds in scientific notation for
FOREST twitter). Order within a line is the infection order.

Strict by default: a token without ``,time``, a non-numeric time, a user repeated within a cascade
or times that go backwards raise FormatError naming file and line. ``repair=True`` instead keeps
each user's first adoption and stable-sorts by time, counting both repairs in the ReadReport.

A dataset folder may also hold a social graph, ``edges.txt`` (the name MS-HGAT / DyHGCN give it),
read with `tabular.read_edge_list` (``src dst`` or ``src,dst`` per line, arcs as listed unless
``directed=False``) over the same vocabulary; graph-only users come after the cascade users and are
counted (``graph_only_users``). With it a shipped split and a graph travel together (NDM+SN).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from cascadekit.data.atomic import atomic_file
from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.report import ReadReport
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import FormatError

SPLIT_FILES = {"train": "cascade.txt", "valid": "cascadevalid.txt", "test": "cascadetest.txt"}


def clean_sequence(
    users: list[str], times: np.ndarray, *, path: Path, line: int, repair: bool, report: ReadReport
) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """Check (or repair) one cascade: finite and non-decreasing times, unique users.

    Returns the users, times and, when a repair reordered or dropped rows, the kept row indices
    into the input (so callers can carry other per-row columns along); None when nothing changed.
    """
    kept: np.ndarray | None = None
    if not np.all(np.isfinite(times)):  # NaN would even pass the ordering check below
        i = int(np.argmin(np.isfinite(times)))
        raise FormatError(path, line, "finite times", f"{users[i]},{times[i]}")
    if len(times) > 1 and np.any(np.diff(times) < 0):
        if not repair:
            i = int(np.argmax(np.diff(times) < 0))
            raise FormatError(
                path, line, "non-decreasing times within a cascade (or repair=True to sort)",
                f"{users[i]},{times[i]:g} before {users[i + 1]},{times[i + 1]:g}",
            )  # fmt: skip
        kept = np.argsort(times, kind="stable")
        report.add("unsorted_cascade_sorted")
    order = kept if kept is not None else np.arange(len(users))
    seen: set[str] = set()
    first = []
    for j in order:
        if users[j] in seen:
            if not repair:
                raise FormatError(
                    path, line, "each user at most once per cascade (or repair=True)", users[j]
                )
            report.add("repeated_user_dropped")
            continue
        seen.add(users[j])
        first.append(j)
    if len(first) != len(users) or kept is not None:
        kept = np.asarray(first, dtype=np.int64)
        return [users[j] for j in kept], times[kept], kept
    return users, times, None


def read_cascade_lines(
    path: str | Path, vocab: Vocabulary | None = None, *, repair: bool = False
) -> tuple[CascadeSet, ReadReport]:
    """Read one file of cascade lines (see module docstring). Ids are the line numbers (1-based)."""
    path = Path(path)
    vocab = vocab if vocab is not None else Vocabulary()
    report = ReadReport(source=str(path))
    seqs: list[np.ndarray] = []
    time_cols: list[np.ndarray] = []
    ids: list[str] = []
    with path.open("rb") as f:
        for lineno, raw in text_lines(f, path):
            tokens = raw.split()
            if not tokens:
                report.add("empty_line_skipped")
                continue
            users: list[str] = []
            stamps: list[str] = []
            for tok in tokens:
                user, sep, stamp = tok.rpartition(",")
                if not sep or not user or not stamp:
                    raise FormatError(path, lineno, "tokens of the form user,timestamp", tok)
                users.append(user)
                stamps.append(stamp)
            try:
                times = np.array(stamps, dtype=np.float64)
            except ValueError:
                bad = next(s for s in stamps if not is_number(s))
                raise FormatError(
                    path, lineno, "a numeric timestamp after the comma", bad
                ) from None
            users, times, _ = clean_sequence(
                users, times, path=path, line=lineno, repair=repair, report=report
            )
            seqs.append(vocab.encode(users))
            time_cols.append(times)
            ids.append(str(lineno))
    cascades = CascadeSet.from_sequences(seqs, vocab, times=time_cols, ids=ids)
    return cascades, report


def text_lines(f: BinaryIO, path: Path) -> Iterator[tuple[int, str]]:
    """``(1-based line number, line)`` of a UTF-8 text file opened in binary mode, as text mode
    would give them (a leading BOM dropped, ``\\r\\n`` read as ``\\n``), decoded line by line so
    that bytes that are not UTF-8 are a FormatError naming the file and the exact line."""
    for lineno, raw in enumerate(f, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(
                path, lineno, "UTF-8 text (convert the file to UTF-8 first)",
                f"byte {raw[exc.start]:#04x} at column {exc.start + 1}",
            ) from None  # fmt: skip
        if lineno == 1:
            line = line.removeprefix("\ufeff")
        if line.endswith("\r\n"):
            line = line[:-2] + "\n"
        yield lineno, line


def is_number(s: str) -> bool:
    """Whether ``float(s)`` accepts ``s`` (used to point at the bad token in an error)."""
    try:
        float(s)
    except ValueError:
        return False
    return True


def read_lines_file(path: str | Path, *, repair: bool = False) -> DatasetBundle:
    """One file of cascade lines as a bundle without splits.

    Options:
        repair: keep each user's first adoption and stable-sort each cascade by time (both counted
            in the report) instead of raising FormatError.
    """
    cascades, report = read_cascade_lines(path, repair=repair)
    if not len(cascades):
        raise FormatError(path, None, "at least one cascade line", "an empty file")
    return DatasetBundle(name=Path(path).stem, cascades=cascades, report=report)


def read_lines_dataset(
    folder: str | Path,
    *,
    repair: bool = False,
    name: str | None = None,
    graph_file: str | None = "edges.txt",
    directed: bool = True,
) -> DatasetBundle:
    """A folder holding any of cascade.txt / cascadevalid.txt / cascadetest.txt → shipped splits.

    All splits share one vocabulary (train users first, in first-seen order) with the graph, when
    ``graph_file`` is in the folder. Cascade ids are ``<split>:<line>`` so they stay unique across
    files.

    Options:
        repair: keep each user's first adoption and stable-sort each cascade by time (both counted
            in the report) instead of raising FormatError.
        name: bundle name (default: the folder's name).
        graph_file: social graph file in the folder, read when present (None: never read one).
        directed: keep the graph's arcs as listed (False: each line is an undirected edge).
    """
    folder = Path(folder)
    present = {k: folder / f for k, f in SPLIT_FILES.items() if (folder / f).is_file()}
    if not present:
        raise FormatError(folder, None, f"at least one of {', '.join(SPLIT_FILES.values())}")
    vocab = Vocabulary()
    report = ReadReport(source=str(folder))
    parts, splits, start = [], {}, 0
    for split, path in present.items():
        part, rep = read_cascade_lines(path, vocab, repair=repair)
        part.ids = np.array([f"{split}:{i}" for i in part.ids], dtype=object)
        report.merge(rep)
        splits[split] = np.arange(start, start + len(part), dtype=np.int64)
        start += len(part)
        parts.append(part)
    cascades = CascadeSet.concat(parts)
    if not len(cascades):
        raise FormatError(folder, None, "at least one cascade line in its files", "none")
    report.source = str(folder)
    graph = None
    if graph_file is not None and (folder / graph_file).is_file():
        from cascadekit.data.formats.tabular import read_edge_list  # tabular imports this module

        n_adopters = len(cascades.vocab)
        graph = read_edge_list(
            folder / graph_file, cascades.vocab, directed=directed, report=report
        )
        report.add("graph_only_users", len(cascades.vocab) - n_adopters)
    return DatasetBundle(
        name=name or folder.name, cascades=cascades, splits=splits, graph=graph, report=report
    )


def format_time(t: float) -> str:
    """Shortest text that parses back to exactly ``t`` (integers without a decimal point)."""
    return str(int(t)) if float(t).is_integer() and abs(t) < 2**53 else repr(float(t))


def write_cascade_lines(cascades: CascadeSet, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``user,timestamp`` lines (raw user ids); cascades without times get their position.

    Atomic (`data.atomic.atomic_file`); an existing file is replaced only with ``overwrite``."""
    tokens = np.asarray(cascades.vocab.tokens, dtype=object)
    path = Path(path)
    with atomic_file(path, overwrite=overwrite) as tmp, tmp.open("w", encoding="utf-8") as f:
        for i, seq in enumerate(cascades.sequences()):
            a = cascades.offsets[i]
            times = (
                cascades.times[a : a + len(seq)]
                if cascades.times is not None
                else np.arange(len(seq), dtype=np.float64)
            )
            f.write(
                " ".join(f"{u},{format_time(t)}" for u, t in zip(tokens[seq], times, strict=True))
            )
            f.write("\n")
    return path
