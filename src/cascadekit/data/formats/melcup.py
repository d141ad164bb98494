"""MelCup17 / Darwin Twitter data (Zhang et al., WWW'19 Companion): follow graph + retweet cascades.

Folder root holds ``MelCup17/`` and ``Darwin/`` (or pass one of them). Files (CSV with a header):
``<W>_user_ids_<N>.csv`` (``uid,nuid``), ``<W>_following_network.csv``
(``nuid_followee_u,nuid_follower_v``), ``<W>_{lrn,eva}_status_<N>.csv`` (13 columns: ``t_id,
timestamp_ms, uid, nuid, is_reply, is_retweet, is_quote`` then the replied / retweeted / quoted
``uid, t_id`` pairs). ``period`` picks the learning (``"lrn"``), evaluation (``"eva"``) or both
(``"all"``) status files. The public Darwin copy lacks ``Darwin_lrn_status_69323.csv``: with
``period="all"`` Darwin is read from its evaluation period only (``info["missing_files"]``,
counted as ``status_file_missing``); ``period="lrn"`` raises.

Bundle:

* user vocabulary: the closed user set, tokens = ``nuid`` strings in file order;
  ``content.profiles["uid"]`` holds the Twitter uid of every user.
* ``graph``: directed arcs followee → follower, the direction in which influence flows (a
  follower sees the followee's tweets). Self-loops and repeated rows are dropped and counted.
* ``cascades``: one per original tweet that at least one user acted on with one of ``actions``
  (``"retweet"`` by default; ``"reply"`` / ``"quote"`` may be added), ids = the original tweet id,
  ordered by first action. Adopters are the acting users in time order (ms, as in the files),
  each user's first action only. When the original author is in the user set the cascade starts
  with the author (position 0, parents of every adopter = 0, as a retweet points at the original);
  otherwise it has no root (``meta["has_root"]`` False, parents -1) and is counted as
  ``cascade_author_outside_user_set``. ``root_times`` is the original tweet's time: from the
  status files when the tweet is in them, otherwise decoded from its Twitter (snowflake) id,
  ``(id >> 22) + 1288834974657`` ms (counted ``root_time_from_tweet_id``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.content import Content
from cascadekit.data.formats.lines import text_lines
from cascadekit.data.graph import SocialGraph
from cascadekit.data.report import ReadReport
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import FormatError

TWITTER_EPOCH_MS = 1288834974657
STATUS_COLUMNS = 13
# action → (flag column, target uid column, target tweet id column) in a status row
ACTIONS = {"reply": (4, 7, 8), "retweet": (5, 9, 10), "quote": (6, 11, 12)}


def _csv_rows(path: Path, n_cols: int) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` after the header; wrong column counts raise FormatError."""
    with path.open("rb") as f:
        rows = csv.reader(line for _, line in text_lines(f, path))
        for lineno, fields in enumerate(rows, start=1):
            if lineno == 1 or not fields:
                continue
            if len(fields) != n_cols:
                raise FormatError(
                    path, lineno, f"{n_cols} comma-separated columns", ",".join(fields)
                )
            yield lineno, fields


def _int(path: Path, lineno: int, value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise FormatError(path, lineno, f"an integer {what}", value) from None


def _one(folder: Path, pattern: str) -> Path | None:
    found = sorted(folder.glob(pattern))
    if len(found) > 1:
        raise FormatError(folder, None, f"one file matching {pattern}", ", ".join(map(str, found)))
    return found[0] if found else None


def read_melcup(
    folder: str | Path,
    which: str = "MelCup17",
    period: str = "all",
    *,
    actions: tuple[str, ...] = ("retweet",),
) -> DatasetBundle:
    """Read one of the two datasets (see module docstring).

    Options:
        which: the dataset to read, "MelCup17" or "Darwin".
        period: status files to read, "lrn" (learning), "eva" (evaluation) or "all" (both).
        actions: which actions make a user adopt: any of "retweet", "reply", "quote".
    """
    if which not in ("MelCup17", "Darwin"):
        raise ValueError(f"which must be 'MelCup17' or 'Darwin', got {which!r}")
    if period not in ("all", "lrn", "eva"):
        raise ValueError(f"period must be 'all', 'lrn' or 'eva', got {period!r}")
    unknown = set(actions) - set(ACTIONS)
    if unknown or not actions:
        raise ValueError(f"actions must be a non-empty subset of {sorted(ACTIONS)}, got {actions}")
    folder = Path(folder)
    if (folder / which).is_dir():
        folder = folder / which
    report = ReadReport(source=str(folder))

    ids_path = _one(folder, f"{which}_user_ids_*.csv")
    if ids_path is None:
        raise FormatError(folder, None, f"a {which}_user_ids_*.csv file")
    vocab = Vocabulary()
    uid_of: list[str] = []
    nuid_of_uid: dict[str, str] = {}
    for lineno, (uid, nuid) in _csv_rows(ids_path, 2):
        _int(ids_path, lineno, nuid, "nuid")
        if nuid in vocab or uid in nuid_of_uid:
            raise FormatError(ids_path, lineno, "each uid and nuid once", f"{uid},{nuid}")
        vocab.add(nuid)
        uid_of.append(uid)
        nuid_of_uid[uid] = nuid

    if not uid_of:
        raise FormatError(ids_path, None, "at least one uid,nuid row", "none")
    graph = _follow_graph(folder / f"{which}_following_network.csv", vocab, report)

    periods = ("lrn", "eva") if period == "all" else (period,)
    missing: list[str] = []
    status_paths = []
    for p in periods:
        found = _one(folder, f"{which}_{p}_status_*.csv")
        if found is None:
            if period != "all":
                raise FormatError(
                    folder,
                    None,
                    f"a {which}_{p}_status_*.csv file"
                    + (" (absent from the public Darwin copy)" if which == "Darwin" else ""),
                )
            missing.append(f"{which}_{p}_status_*.csv")
            report.add("status_file_missing")
        else:
            status_paths.append(found)

    tweet_time: dict[str, float] = {}
    acts: list[tuple[float, int, str, str]] = []  # (time, user index, target tweet, target uid)
    for path in status_paths:
        for lineno, f in _csv_rows(path, STATUS_COLUMNS):
            t = float(_int(path, lineno, f[1], "timestamp_ms"))
            tweet_time[f[0]] = t
            u = vocab.get(f[3])
            if u < 0:
                report.add("status_by_unknown_user_dropped")
                continue
            for a in actions:
                flag, uid_col, tid_col = ACTIONS[a]
                if f[flag] not in ("0", "1"):
                    raise FormatError(path, lineno, f"0 or 1 in column {flag + 1}", f[flag])
                if f[flag] == "1":
                    if not f[tid_col].isdigit():  # the id also dates tweets outside the files
                        raise FormatError(path, lineno, f"the {a} target's tweet id", ",".join(f))
                    acts.append((t, u, f[tid_col], f[uid_col]))

    cascades = _cascades(acts, tweet_time, nuid_of_uid, vocab, report)
    cascades.attrs.update(name=which, time_unit="ms", actions=list(actions), period=period)
    info = {
        "which": which,
        "period": period,
        "actions": list(actions),
        "time_unit": "ms",
        "graph_direction": "followee -> follower (influence flow)",
        "missing_files": missing,
        "status_files": [p.name for p in status_paths],
    }
    return DatasetBundle(
        name=f"melcup17_darwin_twitter_influence/{which}",
        cascades=cascades,
        graph=graph,
        content=Content(profiles={"uid": np.asarray(uid_of, dtype=object)}),
        report=report,
        info=info,
    )


def _follow_graph(path: Path, vocab: Vocabulary, report: ReadReport) -> SocialGraph:
    if not path.is_file():
        raise FormatError(path.parent, None, f"a {path.name} file")
    src, dst = [], []
    for lineno, (followee, follower) in _csv_rows(path, 2):
        u, v = vocab.get(followee), vocab.get(follower)
        if u < 0 or v < 0:
            bad = followee if u < 0 else follower
            _int(path, lineno, bad, "nuid")
            raise FormatError(path, lineno, "nuids listed in the user_ids file", bad)
        if u == v:
            report.add("follow_self_loop_dropped")
            continue
        src.append(u)
        dst.append(v)
    graph = SocialGraph.from_edges(np.asarray(src), np.asarray(dst), vocab, directed=True)
    report.add("follow_duplicate_dropped", len(src) - graph.n_arcs)
    return graph


def _cascades(
    acts: list[tuple[float, int, str, str]],
    tweet_time: dict[str, float],
    nuid_of_uid: dict[str, str],
    vocab: Vocabulary,
    report: ReadReport,
) -> CascadeSet:
    """Group actions by target tweet (ordered by first action), root = author when known."""
    acts.sort(key=lambda a: a[0])  # stable: file order among equal times
    groups: dict[str, list[tuple[float, int]]] = {}
    author: dict[str, str] = {}
    for t, u, tid, auid in acts:
        groups.setdefault(tid, []).append((t, u))
        author.setdefault(tid, auid)
    seqs, times, parents, roots, has_root = [], [], [], [], []
    for tid, adopters in groups.items():
        if tid in tweet_time:
            t0 = tweet_time[tid]
        else:
            t0 = float((int(tid) >> 22) + TWITTER_EPOCH_MS)
            report.add("root_time_from_tweet_id")
        root = vocab.get(nuid_of_uid.get(author[tid], ""))
        users, ts = ([root], [t0]) if root >= 0 else ([], [])
        if root < 0:
            report.add("cascade_author_outside_user_set")
        seen = set(users)
        for t, u in adopters:
            if u in seen:
                report.add("repeated_user_dropped")
                continue
            seen.add(u)
            users.append(u)
            ts.append(t)
        report.add("adoption_before_root", sum(t < t0 for t in ts))
        seqs.append(users)
        times.append(ts)
        parents.append([-1] + [0] * (len(users) - 1) if root >= 0 else [-1] * len(users))
        roots.append(t0)
        has_root.append(root >= 0)
    return CascadeSet.from_sequences(
        seqs,
        vocab,
        times=times,
        parents=parents,
        ids=list(groups),
        root_times=np.asarray(roots, dtype=np.float64),
        meta={
            "has_root": np.asarray(has_root, dtype=bool),
            "author_uid": np.asarray([author[t] for t in groups], dtype=object),
        },
    )
