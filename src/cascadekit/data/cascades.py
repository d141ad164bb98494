"""`CascadeSet`: many cascades stored as flat columns plus offsets (one vocabulary of users).

Layout (C cascades, N adoptions in all)::

    offsets  (C+1,) int64   cascade i is rows offsets[i]:offsets[i+1]
    users    (N,)   int64   user index into ``vocab``, in adoption order within a cascade
    times    (N,)   float64 adoption time (dataset units; NaN where unknown) or None
    parents  (N,)   int64   position *within the cascade* of the adopter this one came through,
                            -1 for a root / unknown parent; or None when no tree is known
    ids      (C,)   str     cascade identifiers (raw, as in the source)
    root_times (C,) float64 publication time of the root post, or None
    meta     dict name -> (C,) array of per-cascade values (labels, split tags, ...)
    events   dict name -> (N,) array of per-adoption values (the repost's text, ...), row-aligned
             with ``users``: every slice, prefix and concatenation keeps them aligned

Every view (sequences, trees, flat event logs) is computed from these arrays; slicing by cascade
copies only the selected rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cascadekit.data.vocab import Vocabulary

if TYPE_CHECKING:
    from cascadekit.data.events import EventLog


@dataclass(frozen=True)
class Cascade:
    """One cascade as a light view: ``users`` (L,), ``times`` (L,) or None, ``parents`` (L,) or None."""

    id: str
    users: np.ndarray
    times: np.ndarray | None
    parents: np.ndarray | None
    root_time: float | None = None

    def __len__(self) -> int:
        return len(self.users)

    def edges(self) -> np.ndarray:
        """Repost tree edges as (E, 2) positions ``(parent, child)`` within the cascade.

        Without known parents every adopter is attached to the first one (a star), the usual
        convention for cascades given as bare sequences.
        """
        n = len(self.users)
        if n < 2:
            return np.zeros((0, 2), dtype=np.int64)
        child = np.arange(1, n, dtype=np.int64)
        if self.parents is None:
            parent = np.zeros(n - 1, dtype=np.int64)
        else:
            parent = self.parents[1:]
            keep = parent >= 0
            child, parent = child[keep], parent[keep]
        return np.stack([parent, child], axis=1)


def _as_int(a: Sequence[int] | np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.int64))


class CascadeSet:
    """A collection of cascades over one user vocabulary (see module docstring for the layout)."""

    def __init__(
        self,
        users: np.ndarray,
        offsets: np.ndarray,
        vocab: Vocabulary,
        *,
        times: np.ndarray | None = None,
        parents: np.ndarray | None = None,
        ids: Sequence[str] | np.ndarray | None = None,
        root_times: np.ndarray | None = None,
        meta: dict[str, np.ndarray] | None = None,
        attrs: dict[str, Any] | None = None,
        events: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.users = _as_int(users)
        self.offsets = _as_int(offsets)
        self.vocab = vocab
        self.times = None if times is None else np.ascontiguousarray(times, dtype=np.float64)
        self.parents = None if parents is None else _as_int(parents)
        n_c = len(self.offsets) - 1
        self.ids = (
            np.array([str(i) for i in range(n_c)], dtype=object)
            if ids is None
            else np.asarray([str(i) for i in ids], dtype=object)
        )
        self.root_times = None if root_times is None else np.asarray(root_times, dtype=np.float64)
        self.meta = {k: np.asarray(v) for k, v in (meta or {}).items()}
        self.events = {k: np.asarray(v) for k, v in (events or {}).items()}
        self.attrs = dict(attrs or {})
        self._validate()

    # ------------------------------------------------------------------ construction
    def _validate(self) -> None:
        n, n_c = len(self.users), len(self.offsets) - 1
        if n_c < 0 or self.offsets[0] != 0 or self.offsets[-1] != n:
            raise ValueError(f"offsets must start at 0 and end at len(users)={n}")
        if np.any(np.diff(self.offsets) < 0):
            raise ValueError("offsets must be non-decreasing")
        for name, col in (("times", self.times), ("parents", self.parents)):
            if col is not None and len(col) != n:
                raise ValueError(f"{name} has {len(col)} rows, users has {n}")
        if len(self.ids) != n_c:
            raise ValueError(f"ids has {len(self.ids)} entries for {n_c} cascades")
        if self.root_times is not None and len(self.root_times) != n_c:
            raise ValueError(f"root_times has {len(self.root_times)} entries for {n_c} cascades")
        for k, v in self.meta.items():
            if len(v) != n_c:
                raise ValueError(f"meta[{k!r}] has {len(v)} entries for {n_c} cascades")
        for k, v in self.events.items():
            if len(v) != n:
                raise ValueError(f"events[{k!r}] has {len(v)} rows, users has {n}")
        if n and (self.users.min() < 0 or self.users.max() >= len(self.vocab)):
            raise ValueError("user indices must lie in [0, len(vocab))")

    @classmethod
    def from_sequences(
        cls,
        sequences: Sequence[Sequence[int]],
        vocab: Vocabulary,
        *,
        times: Sequence[Sequence[float]] | None = None,
        parents: Sequence[Sequence[int]] | None = None,
        **kwargs: Any,
    ) -> CascadeSet:
        """Build from per-cascade lists of user indices (and optional times / parents)."""
        lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
        offsets = np.concatenate([[0], np.cumsum(lengths)])

        def flat(cols: Sequence[Sequence[Any]] | None, dtype: type) -> np.ndarray | None:
            if cols is None:
                return None
            if len(cols) == 0:
                return np.zeros(0, dtype=dtype)
            return np.concatenate([np.asarray(c, dtype=dtype) for c in cols])

        users = flat(sequences, np.int64)
        return cls(
            users if users is not None else np.zeros(0, np.int64),
            offsets,
            vocab,
            times=flat(times, np.float64),
            parents=flat(parents, np.int64),
            **kwargs,
        )

    # ------------------------------------------------------------------ basic views
    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_users(self) -> int:
        return len(self.vocab)

    @property
    def n_events(self) -> int:
        return len(self.users)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def cascade_index(self) -> np.ndarray:
        """(N,) cascade number of every row."""
        return np.repeat(np.arange(len(self), dtype=np.int64), self.lengths)

    @property
    def positions(self) -> np.ndarray:
        """(N,) position of every row within its cascade."""
        return np.arange(self.n_events, dtype=np.int64) - np.repeat(self.offsets[:-1], self.lengths)

    def __getitem__(self, i: int) -> Cascade:
        if not -len(self) <= i < len(self):
            raise IndexError(f"cascade {i} out of range for {len(self)} cascades")
        i %= len(self)
        a, b = self.offsets[i], self.offsets[i + 1]
        return Cascade(
            id=str(self.ids[i]),
            users=self.users[a:b],
            times=None if self.times is None else self.times[a:b],
            parents=None if self.parents is None else self.parents[a:b],
            root_time=None if self.root_times is None else float(self.root_times[i]),
        )

    def __iter__(self) -> Iterator[Cascade]:
        for i in range(len(self)):
            yield self[i]

    def sequences(self) -> list[np.ndarray]:
        """Per-cascade user index arrays (views, no copy)."""
        return np.split(self.users, self.offsets[1:-1])

    def start_times(self) -> np.ndarray:
        """(C,) time of each cascade's first adoption (root time if given, NaN if empty)."""
        if self.root_times is not None:
            return self.root_times.copy()
        if self.times is None:
            raise ValueError("this CascadeSet has no timestamps")
        out = np.full(len(self), np.nan)
        nonempty = self.lengths > 0
        out[nonempty] = self.times[self.offsets[:-1][nonempty]]
        return out

    def __repr__(self) -> str:
        name = self.attrs.get("name", "")
        extra = [c for c, v in (("times", self.times), ("parents", self.parents)) if v is not None]
        return (
            f"CascadeSet({name + ': ' if name else ''}{len(self)} cascades, {self.n_events} events, "
            f"{self.n_users} users{', with ' + ' + '.join(extra) if extra else ''})"
        )

    def with_columns(
        self,
        *,
        meta: dict[str, np.ndarray] | None = None,
        attrs: dict[str, Any] | None = None,
        events: dict[str, np.ndarray] | None = None,
    ) -> CascadeSet:
        """The same cascades (arrays shared, not copied) with other per-cascade columns, attrs
        or per-adoption columns (each None: kept)."""
        return CascadeSet(
            self.users, self.offsets, self.vocab, times=self.times, parents=self.parents,
            ids=self.ids, root_times=self.root_times,
            meta=self.meta if meta is None else meta,
            attrs=self.attrs if attrs is None else attrs,
            events=self.events if events is None else events,
        )  # fmt: skip

    # ------------------------------------------------------------------ slicing
    def subset(self, index: Sequence[int] | np.ndarray) -> CascadeSet:
        """Cascades ``index`` (ints or a boolean mask over cascades), same vocabulary, in that order."""
        idx = np.asarray(index)
        if idx.dtype == bool:
            if len(idx) != len(self):
                raise ValueError(f"mask has {len(idx)} entries for {len(self)} cascades")
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64)
        lengths = self.lengths[idx]
        starts = self.offsets[:-1][idx]
        rows = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        rows = rows + np.arange(lengths.sum(), dtype=np.int64)
        return CascadeSet(
            self.users[rows],
            np.concatenate([[0], np.cumsum(lengths)]),
            self.vocab,
            times=None if self.times is None else self.times[rows],
            parents=None if self.parents is None else self.parents[rows],
            ids=self.ids[idx],
            root_times=None if self.root_times is None else self.root_times[idx],
            meta={k: v[idx] for k, v in self.meta.items()},
            attrs=self.attrs,
            events={k: v[rows] for k, v in self.events.items()},
        )

    def filter_length(self, min_len: int = 0, max_len: int | None = None) -> CascadeSet:
        """Cascades with ``min_len <= length <= max_len``; the number dropped is in ``attrs``."""
        lengths = self.lengths
        keep = lengths >= min_len
        if max_len is not None:
            keep &= lengths <= max_len
        out = self.subset(keep)
        out.attrs = {**self.attrs, "dropped_by_length": int((~keep).sum())}
        return out

    def prefix(
        self, max_len: int | None = None, before: np.ndarray | float | None = None
    ) -> CascadeSet:
        """Per-cascade prefixes: the first ``max_len`` adopters and/or those with time < ``before``.

        ``before`` is a scalar or a (C,) array of absolute cut times (strictly earlier rows kept).
        Parents pointing past the cut cannot occur (a parent precedes its child).
        """
        keep = np.ones(self.n_events, dtype=bool)
        if max_len is not None:
            keep &= self.positions < max_len
        if before is not None:
            if self.times is None:
                raise ValueError("a time cut needs timestamps")
            cut = np.broadcast_to(np.asarray(before, dtype=np.float64), (len(self),))
            keep &= self.times < np.repeat(cut, self.lengths)
        counts = (
            np.add.reduceat(keep.astype(np.int64), self.offsets[:-1]) if self.n_events else None
        )
        if counts is None:
            counts = np.zeros(len(self), np.int64)
        counts = np.where(self.lengths > 0, counts, 0)
        return CascadeSet(
            self.users[keep],
            np.concatenate([[0], np.cumsum(counts)]),
            self.vocab,
            times=None if self.times is None else self.times[keep],
            parents=None if self.parents is None else self.parents[keep],
            ids=self.ids,
            root_times=self.root_times,
            meta=self.meta,
            attrs=self.attrs,
            events={k: v[keep] for k, v in self.events.items()},
        )

    @staticmethod
    def concat(parts: Sequence[CascadeSet]) -> CascadeSet:
        """Concatenate cascade sets; vocabularies are merged (first one's order kept, new ids appended)."""
        if not parts:
            raise ValueError("nothing to concatenate")
        vocab = parts[0].vocab.copy()
        users, times, parents, ids, roots, lengths = [], [], [], [], [], []
        has_t = all(p.times is not None for p in parts)
        has_p = all(p.parents is not None for p in parts)
        has_r = all(p.root_times is not None for p in parts)
        meta_keys = set.intersection(*(set(p.meta) for p in parts))
        event_keys = set.intersection(*(set(p.events) for p in parts))
        for p in parts:
            remap = vocab.encode(p.vocab.tokens) if p.vocab is not parts[0].vocab else None
            users.append(p.users if remap is None else remap[p.users])
            lengths.append(p.lengths)
            ids.append(p.ids)
            if has_t:
                times.append(p.times)
            if has_p:
                parents.append(p.parents)
            if has_r:
                roots.append(p.root_times)
        all_len = np.concatenate(lengths)
        return CascadeSet(
            np.concatenate(users),
            np.concatenate([[0], np.cumsum(all_len)]),
            vocab,
            times=np.concatenate(times) if has_t else None,
            parents=np.concatenate(parents) if has_p else None,
            ids=np.concatenate(ids),
            root_times=np.concatenate(roots) if has_r else None,
            meta={k: np.concatenate([p.meta[k] for p in parts]) for k in sorted(meta_keys)},
            attrs=parts[0].attrs,
            events={k: np.concatenate([p.events[k] for p in parts]) for k in sorted(event_keys)},
        )

    # ------------------------------------------------------------------ other views
    def to_event_log(self) -> EventLog:
        """Flat (user, mark = cascade, time) log sorted by time: the multi-cascade point-process view."""
        from cascadekit.data.events import EventLog

        if self.times is None:
            raise ValueError("an event log needs timestamps")
        marks = self.cascade_index
        order = np.lexsort((marks, self.times))
        return EventLog(
            self.users[order],
            marks[order],
            self.times[order],
            self.vocab,
            Vocabulary(self.ids.tolist()),
        )

    def statistics(self) -> dict[str, Any]:
        """Counts a user reports about a dataset (users = distinct adopters present)."""
        lengths = self.lengths
        return {
            "cascades": len(self),
            "events": self.n_events,
            "users": int(len(np.unique(self.users))),
            "vocabulary": self.n_users,
            "mean_length": round(float(lengths.mean()), 2) if len(self) else 0.0,
            "median_length": float(np.median(lengths)) if len(self) else 0.0,
            "max_length": int(lengths.max()) if len(self) else 0,
            "has_times": self.times is not None,
            "has_parents": self.parents is not None,
        }

    # ------------------------------------------------------------------ Parquet
    def to_parquet(self, path: str | Path) -> None:
        """One row per adoption (cascade id, raw user id, time, parent); everything else in metadata.

        The file is readable by any Parquet tool; ``from_parquet`` restores the exact object.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols: dict[str, Any] = {
            "cascade": pa.array(self.cascade_index.astype(np.int32)),
            "cascade_id": pa.array(np.repeat(self.ids, self.lengths).tolist(), pa.string()),
            "user": pa.array(
                np.asarray(self.vocab.tokens, dtype=object)[self.users].tolist(), pa.string()
            ),
            "user_index": pa.array(self.users),
        }
        if self.times is not None:
            cols["time"] = pa.array(self.times)
        if self.parents is not None:
            cols["parent"] = pa.array(self.parents)
        meta = {
            "kind": "CascadeSet",
            "vocab": self.vocab.tokens,
            "ids": self.ids.tolist(),
            "lengths": self.lengths.tolist(),
            "root_times": None if self.root_times is None else self.root_times.tolist(),
            "meta": {k: encode_column(v) for k, v in self.meta.items()},
            "attrs": self.attrs,
            "events": sorted(self.events),
        }
        for k, v in self.events.items():  # per-adoption columns are Parquet columns
            cols[f"event:{k}"] = pa.array(v.tolist() if v.dtype == object else v)
        table = pa.table(cols).replace_schema_metadata({"cascadekit": json.dumps(meta)})
        pq.write_table(table, str(path))

    @classmethod
    def from_parquet(cls, path: str | Path) -> CascadeSet:
        import pyarrow.parquet as pq

        table = pq.read_table(str(path))
        raw = (table.schema.metadata or {}).get(b"cascadekit")
        if raw is None:
            raise ValueError(f"{path}: not a cascadekit CascadeSet Parquet file (no metadata)")
        meta = json.loads(raw)
        if meta.get("kind") != "CascadeSet":
            raise ValueError(f"{path}: holds a {meta.get('kind')}, not a CascadeSet")
        names = table.column_names
        lengths = np.asarray(meta["lengths"], dtype=np.int64)
        return cls(
            table.column("user_index").to_numpy(),
            np.concatenate([[0], np.cumsum(lengths)]),
            Vocabulary(meta["vocab"]),
            times=table.column("time").to_numpy() if "time" in names else None,
            parents=table.column("parent").to_numpy() if "parent" in names else None,
            ids=meta["ids"],
            root_times=None if meta["root_times"] is None else np.asarray(meta["root_times"]),
            meta={k: decode_column(v) for k, v in meta["meta"].items()},
            attrs=meta["attrs"],
            events={k: _event_column(table.column(f"event:{k}")) for k in meta.get("events", [])},
        )


def encode_column(v: np.ndarray) -> dict[str, Any]:
    """A 1-d array as JSON (dtype + values; NaN kept as null) for Parquet metadata and sidecars."""
    kind = "object" if v.dtype == object else v.dtype.str
    values = v.tolist()
    if v.dtype.kind == "f":  # JSON has no NaN; keep them exactly
        values = [None if x != x else x for x in values]
    return {"dtype": kind, "values": values}


def _event_column(column: Any) -> np.ndarray:
    """A Parquet column back as the array it was: strings as an object array."""
    import pyarrow as pa

    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return np.asarray(column.to_pylist(), dtype=object)
    return column.to_numpy()


def decode_column(d: dict[str, Any]) -> np.ndarray:
    if d["dtype"] == "object":
        return np.asarray(d["values"], dtype=object)
    dtype = np.dtype(d["dtype"])
    if dtype.kind == "f":
        return np.asarray([np.nan if x is None else x for x in d["values"]], dtype=dtype)
    return np.asarray(d["values"], dtype=dtype)
