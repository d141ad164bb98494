"""DeepHawkes / CasFlow Weibo formats.

Raw paths (``dataset.txt``; DeepHawkes, CasCN, CasFlow, CasFT)::

    cascade_id \\t root_user \\t publish_unix_time \\t n_retweets \\t path:t path:t ...

``path = u1/u2/.../uk`` is the repost chain from the root to the new adopter uk, ``t`` the seconds
since publication (the root itself is ``root:0``); the parent of uk is u(k−1). Adoption times are
``publish_time + t``; ``root_times`` = publish time; ``meta["declared_size"]`` = column 4.

Preprocessed (DeepHawkes ``gen_sequence`` output, one observation window)::

    cascade_<split>.txt      id \\t root \\t publish_time \\t n_observed \\t src:dst:1 ... \\t label
    shortestpath_<split>.txt id \\t root:0 \\t u1,u2,...,uk:t ...

Adoptions and parents come from the shortest-path file, ``meta["label"]`` (new adoptions between the
observation time and the horizon) and ``meta["n_observed"]`` from the cascade file.

A user can reach a cascade through several paths (reposting twice, or a path that loops back to the
root). Raw files are strict by default (FormatError) and ``repair=True`` keeps each user's first
adoption; the preprocessed files list every path by construction, so they are always repaired and
the repairs counted.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.formats.lines import clean_sequence, format_time, is_number, text_lines
from cascadekit.data.report import ReadReport
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import FormatError


def _cascade_from_paths(
    items: list[str],
    sep: str,
    pub: float,
    vocab: Vocabulary,
    *,
    path: Path,
    line: int,
    repair: bool,
    report: ReadReport,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``u1<sep>u2...:t`` items → (users, times, parents as positions) of one cascade."""
    users, parents, stamps = [], [], []
    for item in items:
        chain, colon, t = item.rpartition(":")
        if not colon or not chain:
            raise FormatError(path, line, f"path items 'u1{sep}u2{sep}...:seconds'", item)
        hops = chain.split(sep)
        users.append(hops[-1])
        parents.append(hops[-2] if len(hops) > 1 else None)
        stamps.append(t)
    try:
        offsets = np.array(stamps, dtype=np.float64)
    except ValueError:
        bad = next(s for s in stamps if not is_number(s))
        raise FormatError(path, line, "a numeric offset in seconds after ':'", bad) from None
    users, offsets, kept = clean_sequence(
        users, offsets, path=path, line=line, repair=repair, report=report
    )
    if kept is not None:
        parents = [parents[j] for j in kept]
    position = {u: i for i, u in enumerate(users)}
    par = np.array([position.get(p, -1) if p is not None else -1 for p in parents], dtype=np.int64)
    # a parent must have adopted before its child; anything else cannot be placed in the tree
    bad = par >= np.arange(len(par))
    unresolved = int(np.sum([p is not None for p in parents]) - np.sum((par >= 0) & ~bad))
    report.add("parent_unresolved", unresolved)
    par[bad] = -1
    return vocab.encode(users), pub + offsets, par


def _number(text: str, *, path: Path, line: int, what: str, integral: bool = False) -> float:
    """``text`` as a finite number (a whole one when ``integral``), else FormatError."""
    try:
        value = float(text)
    except ValueError:
        raise FormatError(path, line, f"a numeric {what}", text) from None
    if not math.isfinite(value):
        raise FormatError(path, line, f"a finite {what}", text)
    if integral and not value.is_integer():
        raise FormatError(path, line, f"an integer {what}", text)
    return value


def read_raw_paths(path: str | Path, *, repair: bool = False) -> DatasetBundle:
    """A raw path file → one cascade per line (see module docstring); no shipped split.

    Options:
        repair: keep each user's first adoption (counted in the report) instead of raising
            FormatError when a user reaches a cascade twice.
    """
    path = Path(path)
    report = ReadReport(source=str(path))
    vocab = Vocabulary()
    seqs, times, parents, ids, roots, declared = [], [], [], [], [], []
    seen_ids: set[str] = set()
    with path.open("rb") as f:
        for lineno, raw in text_lines(f, path):
            if not raw.strip():
                report.add("empty_line_skipped")
                continue
            cols = raw.rstrip("\n").split("\t")
            if len(cols) != 5:
                raise FormatError(
                    path,
                    lineno,
                    "5 tab-separated columns (id, root, publish time, size, paths)",
                    raw[:60],
                )
            cid, _root, pub, n, paths = cols
            if cid in seen_ids:
                raise FormatError(path, lineno, "each cascade id once", cid)
            seen_ids.add(cid)
            pub_t = _number(pub, path=path, line=lineno, what="publish time")
            n_decl = int(_number(n, path=path, line=lineno, what="size", integral=True))
            u, t, p = _cascade_from_paths(
                paths.split(),
                "/",
                pub_t,
                vocab,
                path=path,
                line=lineno,
                repair=repair,
                report=report,
            )
            seqs.append(u)
            times.append(t)
            parents.append(p)
            ids.append(cid)
            roots.append(pub_t)
            declared.append(n_decl)
    if not seqs:
        raise FormatError(path, None, "at least one cascade line", "an empty file")
    cascades = CascadeSet.from_sequences(
        seqs, vocab, times=times, parents=parents, ids=ids, root_times=np.array(roots),
        meta={"declared_size": np.array(declared, dtype=np.int64)}, attrs={"time_unit": "s"},
    )  # fmt: skip
    return DatasetBundle(name=path.stem, cascades=cascades, report=report)


def write_raw_paths(cascades: CascadeSet, path: str | Path) -> Path:
    """Write the raw path format; each adopter's path is rebuilt by following parents to the root."""
    if cascades.times is None or cascades.root_times is None:
        raise ValueError("the raw path format needs times and root (publish) times")
    tokens = np.asarray(cascades.vocab.tokens, dtype=object)
    declared = cascades.meta.get("declared_size")
    with Path(path).open("w", encoding="utf-8") as f:
        for i, c in enumerate(cascades):
            names = tokens[c.users]
            par = c.parents if c.parents is not None else np.where(np.arange(len(c)) > 0, 0, -1)
            chains: list[str] = []
            for k in range(len(c)):
                chains.append(names[k] if par[k] < 0 else f"{chains[par[k]]}/{names[k]}")
            items = " ".join(
                f"{ch}:{format_time(t - c.root_time)}"
                for ch, t in zip(chains, c.times, strict=True)
            )
            size = int(declared[i]) if declared is not None else len(c)
            f.write(
                f"{c.id}\t{names[0] if len(c) else ''}\t{format_time(c.root_time)}\t{size}\t{items}\n"
            )
    return Path(path)


PREPROCESSED_SPLITS = {"train": "train", "valid": "val", "test": "test"}


def read_preprocessed(folder: str | Path) -> DatasetBundle:
    """``cascade_{train,val,test}.txt`` + ``shortestpath_*.txt`` → splits train / valid / test.

    Cascade ids are ``<split>:<id>``; ``meta`` holds ``label`` and ``n_observed``.
    """
    folder = Path(folder)
    report = ReadReport(source=str(folder))
    vocab = Vocabulary()
    seqs, times, parents, ids, roots, labels, observed, splits = [], [], [], [], [], [], [], {}
    for split, suffix in PREPROCESSED_SPLITS.items():
        cpath, spath = folder / f"cascade_{suffix}.txt", folder / f"shortestpath_{suffix}.txt"
        if not cpath.is_file():
            continue
        if not spath.is_file():
            raise FormatError(spath, None, f"the shortest-path file that goes with {cpath.name}")
        heads = {}
        with cpath.open("rb") as f:
            for lineno, raw in text_lines(f, cpath):
                cols = raw.rstrip("\n").split("\t")
                if len(cols) != 6:
                    raise FormatError(
                        cpath,
                        lineno,
                        "6 tab-separated columns (id, root, time, n, edges, label)",
                        raw[:60],
                    )
                if cols[0] in heads:
                    raise FormatError(cpath, lineno, "each cascade id once", cols[0])
                at = {"path": cpath, "line": lineno}
                heads[cols[0]] = (
                    _number(cols[2], **at, what="publish time"),
                    int(_number(cols[3], **at, what="size", integral=True)),
                    _number(cols[5], **at, what="label (a count of new adoptions)", integral=True),
                )
        start = len(ids)
        with spath.open("rb") as f:
            for lineno, raw in text_lines(f, spath):
                cols = raw.rstrip("\n").split("\t")
                cid = cols[0]
                if cid not in heads:
                    raise FormatError(spath, lineno, f"a cascade id listed in {cpath.name}", cid)
                pub, n_obs, label = heads.pop(cid)
                u, t, p = _cascade_from_paths(
                    cols[1:], ",", pub, vocab, path=spath, line=lineno, repair=True, report=report
                )
                seqs.append(u)
                times.append(t)
                parents.append(p)
                ids.append(f"{split}:{cid}")
                roots.append(pub)
                labels.append(label)
                observed.append(n_obs)
        if heads:
            raise FormatError(
                spath,
                None,
                f"a shortest-path line for every cascade of {cpath.name}",
                ", ".join(list(heads)[:5]),
            )
        splits[split] = np.arange(start, len(ids), dtype=np.int64)
    if not splits:
        raise FormatError(folder, None, "cascade_{train,val,test}.txt files")
    cascades = CascadeSet.from_sequences(
        seqs, vocab, times=times, parents=parents, ids=ids, root_times=np.array(roots),
        meta={"label": np.array(labels), "n_observed": np.array(observed, dtype=np.int64)},
        attrs={"time_unit": "s", "observation_window_s": 3600},
    )  # fmt: skip
    return DatasetBundle(name=folder.name, cascades=cascades, splits=splits, report=report)
