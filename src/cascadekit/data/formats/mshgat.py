"""MS-HGAT / Inf-VAE cascades (``cascades.txt``) with a social graph (``edges.txt``).

``cascades.txt``: one cascade per line, comma-separated ``user timestamp`` items (a trailing comma is
usual). Android / Christianity lines start with a *seed* user that has no timestamp
(``seed u t,u t,...``). The seed is always kept as per-cascade metadata ``meta["seed"]`` (raw id,
"" for a line without one). By default it is not an adoption: the adoptions are the timed items,
which is what the datasets' SOURCE.md statistics count (android: 679 cascades, 28,343 adoptions,
2,925 adopting users). ``seed_as_adopter=True`` follows the MS-HGAT data loader instead: the seed
is prepended as the root adoption with the first item's timestamp (android then has 28,343 + 679
adoptions; Inf-VAE's own loader of its ``train.txt`` files, `infvae`, prepends it at time 0).
``seed_column="auto"`` detects the seed from the first item having three tokens; True / False
force it.

``edges.txt``: ``u,v`` per line, both directions listed in the files we know; stored as directed
arcs exactly as listed. Graph users that never adopt are added to the vocabulary after the adopters
and counted (``graph_only_users``).

Shipped split: none (the MS-HGAT code cuts 80/10/10 in file order; use `splits.random_by_cascade`
or `splits.chronological_by_cascade`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.formats.lines import clean_sequence, format_time, is_number, text_lines
from cascadekit.data.formats.tabular import read_edge_list
from cascadekit.data.graph import SocialGraph
from cascadekit.data.report import ReadReport
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import FormatError


def read_mshgat(
    folder: str | Path,
    *,
    repair: bool = False,
    seed_column: str | bool = "auto",
    seed_as_adopter: bool = False,
) -> DatasetBundle:
    """``cascades.txt`` (+ ``edges.txt`` when present) → bundle with cascades and graph.

    See the module docstring for the seed (``seed_column``, ``seed_as_adopter``). Cascade ids are
    the 1-based line numbers.

    Options:
        repair: keep each user's first adoption and stable-sort each cascade by time (both counted
            in the report) instead of raising FormatError.
        seed_column: whether lines start with a seed user without a timestamp: "auto" (a first
            item of three tokens), True or False.
        seed_as_adopter: make the seed the first adoption at the first item's time (the MS-HGAT
            loader) instead of metadata only.
    """
    folder = Path(folder)
    path = folder / "cascades.txt"
    if not path.is_file():
        raise FormatError(folder, None, "a cascades.txt file")
    report = ReadReport(source=str(folder))
    vocab = Vocabulary()
    seqs, time_cols, seeds, ids = [], [], [], []
    with path.open("rb") as f:
        for lineno, raw in text_lines(f, path):
            items = [it.split() for it in raw.strip().split(",") if it.strip()]
            if not items:
                report.add("empty_line_skipped")
                continue
            has_seed = len(items[0]) == 3 if seed_column == "auto" else bool(seed_column)
            seed = None
            if has_seed:
                if len(items[0]) != 3:
                    raise FormatError(
                        path, lineno, "'seed user timestamp' as the first item", " ".join(items[0])
                    )
                seed, items[0] = items[0][0], items[0][1:]
                if seed_as_adopter:  # the loaders' convention: the seed adopts at the first time
                    items.insert(0, [seed, items[0][1]])
            for it in items:
                if len(it) != 2:
                    raise FormatError(
                        path, lineno, "comma-separated 'user timestamp' items", " ".join(it)
                    )
            users = [it[0] for it in items]
            try:
                times = np.array([it[1] for it in items], dtype=np.float64)
            except ValueError:
                bad = next(it[1] for it in items if not is_number(it[1]))
                raise FormatError(path, lineno, "a numeric timestamp", bad) from None
            users, times, _ = clean_sequence(
                users, times, path=path, line=lineno, repair=repair, report=report
            )
            seqs.append(vocab.encode(users))
            time_cols.append(times)
            seeds.append("" if seed is None else seed)
            ids.append(str(lineno))
    if not seqs:
        raise FormatError(path, None, "at least one cascade line", "an empty file")
    n_adopters = len(vocab)
    graph = None
    if (folder / "edges.txt").is_file():
        graph = read_edge_list(folder / "edges.txt", vocab, report=report)
        report.add("graph_only_users", len(vocab) - n_adopters)
    meta = {"seed": np.array(seeds, dtype=object)} if any(seeds) else {}
    cascades = CascadeSet.from_sequences(
        seqs, vocab, times=time_cols, ids=ids, meta=meta,
        attrs={"seed_as_adopter": True} if seed_as_adopter and meta else {},
    )  # fmt: skip
    return DatasetBundle(name=folder.name, cascades=cascades, graph=graph, report=report)


def write_mshgat(cascades: CascadeSet, graph: SocialGraph | None, folder: str | Path) -> Path:
    """Write ``cascades.txt`` (with the seed column when ``meta["seed"]`` exists) and ``edges.txt``.

    Cascades read with ``seed_as_adopter=True`` have their prepended seed row written back as the
    seed column only, so re-reading with the same option restores them.
    """
    if cascades.times is None:
        raise ValueError("the MS-HGAT format needs timestamps")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokens = np.asarray(cascades.vocab.tokens, dtype=object)
    seeds = cascades.meta.get("seed")
    skip_seed_row = bool(cascades.attrs.get("seed_as_adopter"))
    with (folder / "cascades.txt").open("w", encoding="utf-8") as f:
        for i, seq in enumerate(cascades.sequences()):
            a = cascades.offsets[i]
            times = cascades.times[a : a + len(seq)]
            seeded = seeds is not None and bool(seeds[i])
            start = 1 if seeded and skip_seed_row else 0
            items = [
                f"{u} {format_time(t)}"
                for u, t in zip(tokens[seq[start:]], times[start:], strict=True)
            ]
            head = f"{seeds[i]} " if seeded else ""
            f.write(head + ",".join(items) + ",\n")
    if graph is not None:
        gt = np.asarray(graph.vocab.tokens, dtype=object)
        e = graph.edge_array()
        (folder / "edges.txt").write_text("".join(f"{gt[s]},{gt[d]}\n" for s, d in e))
    return folder
