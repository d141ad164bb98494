"""Inf-VAE cascade splits (Sankar et al., WSDM 2020): ``train.txt`` / ``val.txt`` / ``test.txt``
with a social graph ``graph.txt``, the layout its README ("Input Format") asks for and its
``utils/preprocess.py`` loaders read.

Cascade files (``val.txt`` optional): one cascade per line, whitespace-separated. Inf-VAE lines are
a *seed* user without a time followed by ``user time`` pairs (``seed u1 t1 u2 t2 ...``, an odd
number of tokens); its loader makes the seed the first adopter at time 0 and the pair times are
offsets from it (android: seconds). Lines of ``user time`` pairs only (an even number of tokens)
are read as well. ``seed_column="auto"`` decides between the two from the first cascade line of the
folder and then holds every line of every file to it, so that a lost token is an error instead of
a silently shifted pairing; True / False force it. ``seed_time`` is the seed's adoption time: 0.0
(the Inf-VAE loader's) or ``"first"`` (the first pair's time, as MS-HGAT does).

``graph.txt`` (optional): one ``src dst`` edge per line. The Inf-VAE loader takes the first line
as ``n_nodes n_edges``; copies of the graph elsewhere (MS-HGAT's ``edges.txt``) have no such line.
``graph_header="auto"`` takes the first line as the header exactly when it is two non-negative
integers ``n m`` with ``m`` equal to the number of edge lines after it and ``n`` at least the
number of distinct users on them (an edge line would have to meet both by coincidence); a header
whose counts do not match is then read as an edge, so pass ``graph_header=True`` to have it
checked. Edges are undirected by default, as the loader builds a networkx ``Graph``;
``directed=True`` keeps the arcs as listed. An edge listed more than once (for an undirected
graph: also in both directions) is stored once and counted (``duplicate_edge_merged``).

Bundle: one vocabulary of raw ids, cascade users in file order (train, val, test), then the
graph-only users (counted ``graph_only_users``); splits ``train`` / ``valid`` / ``test``; cascade
ids ``<split>:<line>``; ``cascades.attrs["seed_column"]`` True when the lines had a seed (the
writer then writes the first user back as a seed); ``info["graph_header"]`` the declared counts.

Strict by default: a wrong number of tokens, a non-numeric or non-finite time, a user repeated
within a cascade or times that go backwards raise FormatError naming file and line.
``repair=True`` instead keeps each user's first adoption and stable-sorts by time, counting both
repairs in the ReadReport (as ``lines`` does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.formats.lines import clean_sequence, format_time, is_number, text_lines
from cascadekit.data.graph import SocialGraph
from cascadekit.data.report import ReadReport
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import FormatError

SPLIT_FILES = {"train": "train.txt", "valid": "val.txt", "test": "test.txt"}
REQUIRED_SPLITS = ("train", "test")
GRAPH_FILE = "graph.txt"


def read_infvae(
    folder: str | Path,
    *,
    repair: bool = False,
    seed_column: Literal["auto"] | bool = "auto",
    seed_time: float | Literal["first"] = 0.0,
    graph_header: Literal["auto"] | bool = "auto",
    directed: bool = False,
    name: str | None = None,
) -> DatasetBundle:
    """A folder with train.txt, test.txt (+ val.txt, graph.txt) → cascades, shipped splits, graph.

    Options:
        repair: keep each user's first adoption and stable-sort each cascade by time (both counted
            in the report) instead of raising FormatError.
        seed_column: "auto" (the first cascade line decides: odd token count = seed without a
            time), True (every line starts with a seed) or False (user time pairs only).
        seed_time: adoption time of a seed: a number (0.0, the Inf-VAE loader's) or "first" (the
            time of the line's first pair).
        graph_header: whether graph.txt starts with an "n_nodes n_edges" line: "auto" (when its
            counts match the file), True (required and checked) or False (the first line is an edge).
        directed: keep graph.txt arcs as listed (False: undirected edges, as the Inf-VAE loader).
        name: bundle name (default: the folder's name).
    """
    if seed_column not in ("auto", True, False):
        raise ValueError(f"seed_column must be 'auto', True or False, got {seed_column!r}")
    if seed_time != "first" and not isinstance(seed_time, int | float):
        raise ValueError(f"seed_time must be a number or 'first', got {seed_time!r}")
    if graph_header not in ("auto", True, False):
        raise ValueError(f"graph_header must be 'auto', True or False, got {graph_header!r}")
    folder = Path(folder)
    for split in REQUIRED_SPLITS:
        if not (folder / SPLIT_FILES[split]).is_file():
            raise FormatError(folder, None, f"a {SPLIT_FILES[split]} file")
    report = ReadReport(source=str(folder))
    vocab = Vocabulary()
    seqs: list[np.ndarray] = []
    time_cols: list[np.ndarray] = []
    ids: list[str] = []
    splits: dict[str, np.ndarray] = {}
    seeded = None if seed_column == "auto" else bool(seed_column)
    rule = f"(seed_column={seed_column})"
    for split, file_name in SPLIT_FILES.items():
        path = folder / file_name
        if not path.is_file():
            continue
        start = len(seqs)
        with path.open("rb") as f:
            for lineno, raw in text_lines(f, path):
                tokens = raw.split()
                if not tokens:
                    report.add("empty_line_skipped")
                    continue
                if seeded is None:
                    seeded = len(tokens) % 2 == 1
                    rule = f"as on {file_name} line {lineno} (seed_column='auto')"
                users, times = _parse_cascade(
                    tokens, path=path, line=lineno, seeded=seeded, seed_time=seed_time, rule=rule
                )
                users, times, _ = clean_sequence(
                    users, times, path=path, line=lineno, repair=repair, report=report
                )
                seqs.append(vocab.encode(users))
                time_cols.append(times)
                ids.append(f"{split}:{lineno}")
        splits[split] = np.arange(start, len(seqs), dtype=np.int64)
    if not seqs:
        raise FormatError(folder, None, "at least one cascade line in its files", "none")
    n_adopters = len(vocab)
    graph = None
    info: dict[str, Any] = {}
    if (folder / GRAPH_FILE).is_file():
        graph, declared = _read_graph(
            folder / GRAPH_FILE, vocab, header=graph_header, directed=directed, report=report
        )
        report.add("graph_only_users", len(vocab) - n_adopters)
        if declared is not None:
            info["graph_header"] = declared
    cascades = CascadeSet.from_sequences(
        seqs, vocab, times=time_cols, ids=ids, attrs={"seed_column": True} if seeded else {}
    )
    return DatasetBundle(
        name=name or folder.name, cascades=cascades, splits=splits, graph=graph, report=report,
        info=info,
    )  # fmt: skip


def _parse_cascade(
    tokens: list[str],
    *,
    path: Path,
    line: int,
    seeded: bool,
    seed_time: float | str,
    rule: str,
) -> tuple[list[str], np.ndarray]:
    """Users and (L,) times of one line; the seed (when ``seeded``) comes first at ``seed_time``."""
    if len(tokens) % 2 != int(seeded):
        expected = (
            "a seed user then 'user time' pairs (an odd number of tokens)"
            if seeded
            else "'user time' pairs (an even number of tokens)"
        )
        raise FormatError(path, line, f"{expected}, {rule}", f"{len(tokens)} tokens")
    pairs = tokens[1:] if seeded else tokens
    users, stamps = pairs[0::2], pairs[1::2]
    try:
        times = np.array(stamps, dtype=np.float64)
    except ValueError:
        bad = next(s for s in stamps if not is_number(s))
        raise FormatError(path, line, "a numeric time after each user", bad) from None
    if not np.all(np.isfinite(times)):
        raise FormatError(path, line, "finite times", stamps[int(np.argmin(np.isfinite(times)))])
    if not seeded:
        return users, times
    if seed_time == "first":
        if not len(times):
            raise FormatError(
                path, line, "a 'user time' pair after the seed (seed_time='first')", tokens[0]
            )
        t0 = times[0]
    else:
        t0 = float(seed_time)
    return [tokens[0], *users], np.concatenate([[t0], times])


def _read_graph(
    path: Path,
    vocab: Vocabulary,
    *,
    header: str | bool,
    directed: bool,
    report: ReadReport,
) -> tuple[SocialGraph, dict[str, int] | None]:
    """``src dst`` lines over ``vocab`` (new ids appended), and the header's counts if it has one."""
    rows: list[tuple[int, list[str]]] = []
    with path.open("rb") as f:
        for lineno, raw in text_lines(f, path):
            parts = raw.split()
            if not parts:
                report.add("empty_line_skipped")
                continue
            rows.append((lineno, parts))
    declared = None
    if rows and header is not False:
        lineno, first = rows[0]
        edges = rows[1:]
        counts = len(first) == 2 and all(p.isascii() and p.isdigit() for p in first)
        n, m = (int(first[0]), int(first[1])) if counts else (-1, -1)
        n_users = len({u for _, parts in edges for u in parts[:2]})
        if header is True:
            if not counts:
                raise FormatError(
                    path, lineno, "a first line 'n_nodes n_edges' (graph_header=True)",
                    " ".join(first),
                )  # fmt: skip
            if m != len(edges):
                raise FormatError(
                    path, lineno, f"n_edges = {len(edges)}, the number of edge lines", first[1]
                )
            if n < n_users:
                raise FormatError(
                    path, lineno, f"n_nodes >= {n_users}, the users on the edge lines", first[0]
                )
        if counts and m == len(edges) and n >= n_users:
            declared = {"nodes": n, "edges": m}
            rows = edges
    for lineno, parts in rows:
        if len(parts) != 2:
            raise FormatError(path, lineno, "'src dst' (two user ids)", " ".join(parts))
    src = vocab.encode(parts[0] for _, parts in rows)
    dst = vocab.encode(parts[1] for _, parts in rows)
    graph = SocialGraph.from_edges(src, dst, vocab, directed=directed)
    report.add("duplicate_edge_merged", len(rows) - graph.n_edges)
    return graph, declared


def write_infvae(
    bundle: DatasetBundle,
    folder: str | Path,
    *,
    seed_column: bool | None = None,
    graph_header: bool = True,
) -> Path:
    """Write the bundle's shipped splits as train.txt / val.txt / test.txt, its graph as graph.txt.

    ``seed_column=None`` follows ``cascades.attrs["seed_column"]``; with a seed column each
    cascade's first user is written as the seed, without its time (the format has none: reading
    gives it ``seed_time``). Times use the shortest exact text, so they read back bit for bit.
    An undirected graph is written one line per edge, a directed one one line per arc;
    ``graph_header`` writes the ``n_nodes n_edges`` line the Inf-VAE loader needs (n_nodes = the
    vocabulary size). Cascades in no split are not written.
    """
    cascades = bundle.cascades
    if cascades is None or cascades.times is None:
        raise ValueError("the Inf-VAE format needs cascades with timestamps")
    unknown = sorted(set(bundle.splits) - set(SPLIT_FILES))
    missing = [s for s in REQUIRED_SPLITS if s not in bundle.splits]
    if unknown or missing:
        raise ValueError(
            f"the Inf-VAE format holds splits train, test (and valid); "
            f"{bundle.name} lacks {missing or 'none'} and has extra {unknown or 'none'}"
        )
    if bundle.graph is not None and bundle.graph.weights is not None:
        raise ValueError("the Inf-VAE graph.txt has no edge weights")
    seeded = bool(cascades.attrs.get("seed_column")) if seed_column is None else seed_column
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokens = np.asarray(cascades.vocab.tokens, dtype=object)
    for split, file_name in SPLIT_FILES.items():
        if split not in bundle.splits:
            continue
        part = cascades.subset(bundle.splits[split])
        lines = []
        for i, seq in enumerate(part.sequences()):
            if not len(seq):
                raise ValueError(f"cascade {part.ids[i]} is empty: the format has no line for it")
            a = part.offsets[i]
            items = [
                f"{u} {format_time(t)}"
                for u, t in zip(tokens[seq], part.times[a : a + len(seq)], strict=True)
            ]
            if seeded:
                items[0] = tokens[seq[0]]
            lines.append(" ".join(items) + "\n")
        (folder / file_name).write_text("".join(lines), encoding="utf-8")
    if bundle.graph is not None:
        graph = bundle.graph
        arcs = graph.edge_array()
        if not graph.directed:
            arcs = arcs[arcs[:, 0] <= arcs[:, 1]]
        gt = np.asarray(graph.vocab.tokens, dtype=object)
        head = f"{graph.n_nodes} {len(arcs)}\n" if graph_header else ""
        body = "".join(f"{gt[s]} {gt[d]}\n" for s, d in arcs)
        (folder / GRAPH_FILE).write_text(head + body, encoding="utf-8")
    return folder
