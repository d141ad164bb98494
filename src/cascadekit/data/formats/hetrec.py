"""HetRec 2011 Last.fm (hetrec2011-lastfm-2k): tag assignments as a marked event log + friend graph.

Files (tab-separated, one header line each): ``user_taggedartists.dat``
(``userID artistID tagID day month year``), ``user_friends.dat`` (``userID friendID``, every
friendship listed once per direction), ``tags.dat`` (``tagID tagValue``, Latin-1 encoded),
``artists.dat`` (``id name url pictureURL``, UTF-8).

Bundle:

* ``events``: one event per tag assignment: user, mark = the tag (``marks="tags"``) or the
  tagged artist (``marks="artists"``), time = unix seconds at 00:00 UTC of the day (the files have
  day resolution, so many events tie; ties keep file order). Users and marks are raw ids.
* ``top``: keep only the ``top`` most used marks (ties broken by first appearance); the events of
  the other marks are dropped and counted (``events_outside_top_marks``). The user vocabulary is
  the same whatever ``top`` is (every tagging user, then friend-only users).
* ``cascades``: the same events as one cascade per kept mark (ids = mark ids, in mark-vocabulary
  order), users in time order, each user's first use only (later uses counted as
  ``repeated_user_dropped``), no parents.
* ``graph``: the undirected friend graph; ``n_edges`` counts a friendship once, ``n_arcs`` counts
  the stored (user, friend) pairs, i.e. the file's rows.
* ``info["mark_names"]``: tag / artist names aligned with the mark vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.events import EventLog
from cascadekit.data.graph import SocialGraph
from cascadekit.data.report import ReadReport
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import FormatError

_EPOCH = date(1970, 1, 1).toordinal()
_MARK_FILES = {"tags": ("tags.dat", 2), "artists": ("artists.dat", 4)}


def _rows(path: Path, n_cols: int) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of a tab-separated file after its header line (line 1 is the
    header only when its first field is not an integer id: a file without one loses no row).

    Lines are decoded as UTF-8, falling back to Latin-1 (tags.dat is Latin-1); the id columns are
    ASCII either way.
    """
    if not path.is_file():
        raise FormatError(path.parent, None, f"a {path.name} file")
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            text = text.lstrip("\ufeff").rstrip("\r\n")
            if not text or (lineno == 1 and not text.split("\t")[0].strip().isdigit()):
                continue  # blank line / header
            fields = text.split("\t")
            if len(fields) != n_cols:
                raise FormatError(path, lineno, f"{n_cols} tab-separated columns", text)
            yield lineno, fields


def _ints(path: Path, lineno: int, fields: list[str]) -> list[int]:
    try:
        return [int(x) for x in fields]
    except ValueError:
        raise FormatError(path, lineno, "integer columns", "\t".join(fields)) from None


def read_hetrec_lastfm(
    folder: str | Path, *, marks: str = "tags", top: int | None = None
) -> DatasetBundle:
    """Read the HetRec Last.fm folder (see module docstring for what each part holds).

    Options:
        marks: what an event's mark is, "tags" (the tag used) or "artists" (the tagged artist).
        top: keep only the events of the ``top`` most used marks (None: all; drops counted).
    """
    if marks not in _MARK_FILES:
        raise ValueError(f"marks must be 'tags' or 'artists', got {marks!r}")
    if top is not None and top < 1:
        raise ValueError(f"top must be a positive number of marks, got {top}")
    folder = Path(folder)
    report = ReadReport(source=str(folder))
    user_vocab = Vocabulary()
    users, mark_ids, times = [], [], []
    path = folder / "user_taggedartists.dat"
    for lineno, fields in _rows(path, 6):
        user, artist, tag, day, month, year = _ints(path, lineno, fields)
        try:
            t = (date(year, month, day).toordinal() - _EPOCH) * 86400
        except ValueError:
            raise FormatError(
                path, lineno, "a valid day month year", " ".join(fields[3:])
            ) from None
        users.append(user_vocab.add(str(user)))
        mark_ids.append(tag if marks == "tags" else artist)
        times.append(t)

    # marks ranked by use, ties by first appearance (np.unique sorts ids, so re-rank stably)
    raw_marks = np.asarray(mark_ids, dtype=np.int64)
    ids, first, counts = np.unique(raw_marks, return_index=True, return_counts=True)
    by_first = np.argsort(first, kind="stable")
    ids, counts = ids[by_first], counts[by_first]
    if top is not None:
        keep_ids = ids[np.argsort(-counts, kind="stable")[:top]]
        keep_ids = ids[np.isin(ids, keep_ids)]  # back to first-appearance order
    else:
        keep_ids = ids
    keep = np.isin(raw_marks, keep_ids)
    if not users:
        raise FormatError(path, None, "at least one tag assignment row", "none")
    report.add("events_outside_top_marks", int((~keep).sum()))
    mark_vocab = Vocabulary(str(i) for i in keep_ids)
    events = EventLog.from_unsorted(
        np.asarray(users, dtype=np.int64)[keep],
        mark_vocab.encode((str(i) for i in raw_marks[keep]), add=False),
        np.asarray(times, dtype=np.float64)[keep],
        user_vocab,
        mark_vocab,
        attrs={"time_unit": "s", "resolution": "day", "marks": marks},
    )

    n_taggers = len(user_vocab)
    src, dst = [], []
    path = folder / "user_friends.dat"
    for lineno, fields in _rows(path, 2):
        u, v = _ints(path, lineno, fields)
        if u == v:
            report.add("friend_self_loop_dropped")
            continue
        src.append(user_vocab.add(str(u)))
        dst.append(user_vocab.add(str(v)))
    report.add("friend_only_users", len(user_vocab) - n_taggers)
    pairs = set(zip(src, dst, strict=True))
    report.add("friend_pair_without_reverse", sum((v, u) not in pairs for u, v in pairs))
    graph = SocialGraph.from_edges(np.asarray(src), np.asarray(dst), user_vocab, directed=False)

    path, n_cols = folder / _MARK_FILES[marks][0], _MARK_FILES[marks][1]
    names = {fields[0]: fields[1] for _, fields in _rows(path, n_cols)}
    mark_names = [names.get(t, "") for t in mark_vocab.tokens]
    report.add("mark_without_name", sum(not n for n in mark_names))

    cascades = _first_use_cascades(events, report)
    info = {
        "marks": marks,
        "top": top,
        "time_unit": "s",
        "time_resolution": "day (00:00 UTC of day/month/year)",
        "mark_names": mark_names,
        "graph_edges": "undirected; n_arcs = stored (user, friend) pairs, n_edges = friendships",
    }
    return DatasetBundle(
        name="lastfm_hetrec2011_2k",
        cascades=cascades,
        events=events,
        graph=graph,
        report=report,
        info=info,
    )


def _first_use_cascades(events: EventLog, report: ReadReport) -> CascadeSet:
    """One cascade per mark (mark-vocabulary order): users in time order, first use only."""
    # stable sort by mark keeps the time order (and file order for ties) within a mark
    order = np.argsort(events.marks, kind="stable")
    marks, users, times = events.marks[order], events.users[order], events.times[order]
    key = marks * events.n_users + users
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(key), dtype=bool)
    keep[first] = True
    report.add("repeated_user_dropped", int((~keep).sum()))
    lengths = np.bincount(marks[keep], minlength=events.n_marks)
    return CascadeSet(
        users[keep],
        np.concatenate([[0], np.cumsum(lengths)]),
        events.user_vocab,
        times=times[keep],
        ids=events.mark_vocab.tokens,
        attrs={"name": "lastfm_hetrec2011_2k", "time_unit": "s"},
    )
