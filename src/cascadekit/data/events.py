"""`EventLog`: a time-sorted marked event stream (user, mark, time) for multi-cascade point processes.

Arrays (N events)::

    users (N,) int64   index into ``user_vocab``
    marks (N,) int64   index into ``mark_vocab`` (cascade / product / tag the event belongs to)
    times (N,) float64 non-decreasing
    t_start, t_end     observation window [t_start, t_end] (defaults: first and last event time)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cascadekit.data.vocab import Vocabulary


class EventLog:
    def __init__(
        self,
        users: np.ndarray,
        marks: np.ndarray,
        times: np.ndarray,
        user_vocab: Vocabulary,
        mark_vocab: Vocabulary,
        *,
        t_start: float | None = None,
        t_end: float | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        self.users = np.ascontiguousarray(users, dtype=np.int64)
        self.marks = np.ascontiguousarray(marks, dtype=np.int64)
        self.times = np.ascontiguousarray(times, dtype=np.float64)
        self.user_vocab = user_vocab
        self.mark_vocab = mark_vocab
        n = len(self.times)
        if not len(self.users) == len(self.marks) == n:
            raise ValueError("users, marks and times must have the same length")
        if n and np.any(np.diff(self.times) < 0):
            raise ValueError("EventLog times must be sorted (non-decreasing)")
        if n and (self.users.min() < 0 or self.users.max() >= len(user_vocab)):
            raise ValueError("user indices must lie in [0, len(user_vocab))")
        if n and (self.marks.min() < 0 or self.marks.max() >= len(mark_vocab)):
            raise ValueError("mark indices must lie in [0, len(mark_vocab))")
        self.t_start = (
            float(t_start) if t_start is not None else (float(self.times[0]) if n else 0.0)
        )
        self.t_end = float(t_end) if t_end is not None else (float(self.times[-1]) if n else 0.0)
        if n and (self.times[0] < self.t_start or self.times[-1] > self.t_end):
            raise ValueError("events fall outside [t_start, t_end]")
        self.attrs = dict(attrs or {})

    @classmethod
    def from_unsorted(
        cls,
        users: np.ndarray,
        marks: np.ndarray,
        times: np.ndarray,
        user_vocab: Vocabulary,
        mark_vocab: Vocabulary,
        **kwargs: Any,
    ) -> EventLog:
        """Stable-sort by time first (ties keep their input order)."""
        order = np.argsort(np.asarray(times, dtype=np.float64), kind="stable")
        return cls(
            np.asarray(users)[order],
            np.asarray(marks)[order],
            np.asarray(times)[order],
            user_vocab,
            mark_vocab,
            **kwargs,
        )

    def __len__(self) -> int:
        return len(self.times)

    @property
    def n_users(self) -> int:
        return len(self.user_vocab)

    @property
    def n_marks(self) -> int:
        return len(self.mark_vocab)

    @property
    def duration(self) -> float:
        return self.t_end - self.t_start

    def __repr__(self) -> str:
        return (
            f"EventLog({len(self)} events, {self.n_users} users, {self.n_marks} marks, "
            f"t=[{self.t_start:g}, {self.t_end:g}])"
        )

    def window(self, t0: float, t1: float) -> EventLog:
        """Events with ``t0 <= time < t1``; the window becomes [t0, t1]."""
        a, b = np.searchsorted(self.times, [t0, t1], side="left")
        return EventLog(
            self.users[a:b], self.marks[a:b], self.times[a:b], self.user_vocab, self.mark_vocab,
            t_start=t0, t_end=t1, attrs=self.attrs,
        )  # fmt: skip

    @staticmethod
    def concat(first: EventLog, second: EventLog) -> EventLog:
        """``first`` then ``second`` (same vocabularies, ``second`` not earlier): e.g. train + test
        history for evaluating a test window with the training events as its past."""
        if first.user_vocab != second.user_vocab or first.mark_vocab != second.mark_vocab:
            raise ValueError("event logs must share their user and mark vocabularies")
        if len(first) and len(second) and second.times[0] < first.times[-1]:
            raise ValueError("the second log starts before the first ends")
        return EventLog(
            np.concatenate([first.users, second.users]),
            np.concatenate([first.marks, second.marks]),
            np.concatenate([first.times, second.times]),
            first.user_vocab,
            first.mark_vocab,
            t_start=first.t_start,
            t_end=max(first.t_end, second.t_end),
            attrs=first.attrs,
        )

    def split_fraction(self, fraction: float = 0.8) -> tuple[EventLog, EventLog]:
        """First ``fraction`` of events / the rest, cut at the time of the first held-out event.

        Events tied with the cut time all go to the second part, so no test event precedes (or
        shares a time with) a training event's history.
        """
        if not 0 < fraction < 1:
            raise ValueError("fraction must be in (0, 1)")
        k = int(round(fraction * len(self)))
        k = min(max(k, 1), len(self) - 1)
        cut = float(self.times[k])
        return self.window(self.t_start, cut), self.window(cut, np.nextafter(self.t_end, np.inf))

    def counts(self) -> np.ndarray:
        """(n_users, n_marks) number of events per user and mark."""
        out = np.zeros((self.n_users, self.n_marks), dtype=np.int64)
        np.add.at(out, (self.users, self.marks), 1)
        return out

    def statistics(self) -> dict[str, Any]:
        return {
            "events": len(self),
            "users": int(len(np.unique(self.users))),
            "marks": int(len(np.unique(self.marks))),
            "vocabulary": self.n_users,
            "t_start": self.t_start,
            "t_end": self.t_end,
            "events_per_mark": np.bincount(self.marks, minlength=self.n_marks).tolist(),
        }

    def to_parquet(self, path: str | Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        users = np.asarray(self.user_vocab.tokens, dtype=object)
        marks = np.asarray(self.mark_vocab.tokens, dtype=object)
        table = pa.table(
            {
                "user": pa.array(users[self.users].tolist(), pa.string()),
                "mark": pa.array(marks[self.marks].tolist(), pa.string()),
                "time": pa.array(self.times),
                "user_index": pa.array(self.users),
                "mark_index": pa.array(self.marks),
            }
        )
        meta = {
            "kind": "EventLog",
            "user_vocab": self.user_vocab.tokens,
            "mark_vocab": self.mark_vocab.tokens,
            "t_start": self.t_start,
            "t_end": self.t_end,
            "attrs": self.attrs,
        }
        pq.write_table(table.replace_schema_metadata({"cascadekit": json.dumps(meta)}), str(path))

    @classmethod
    def from_parquet(cls, path: str | Path) -> EventLog:
        import pyarrow.parquet as pq

        table = pq.read_table(str(path))
        raw = (table.schema.metadata or {}).get(b"cascadekit")
        if raw is None or json.loads(raw).get("kind") != "EventLog":
            raise ValueError(f"{path}: not a cascadekit EventLog Parquet file")
        meta = json.loads(raw)
        return cls(
            table.column("user_index").to_numpy(),
            table.column("mark_index").to_numpy(),
            table.column("time").to_numpy(),
            Vocabulary(meta["user_vocab"]),
            Vocabulary(meta["mark_vocab"]),
            t_start=meta["t_start"],
            t_end=meta["t_end"],
            attrs=meta["attrs"],
        )
