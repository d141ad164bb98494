"""Mapping between raw ids (strings) and contiguous integer indices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


class Vocabulary:
    """Raw id (str) ↔ contiguous int, in first-seen order.

    Raw ids are always stored as strings so that a Parquet round trip is exact. Index ``i`` maps to
    ``tokens[i]``; ``index[token]`` is the inverse.
    """

    __slots__ = ("_tokens", "_index")

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        self._tokens: list[str] = []
        self._index: dict[str, int] = {}
        for t in tokens:
            self.add(t)

    def add(self, token: str) -> int:
        """Index of ``token``, adding it at the end if new."""
        token = str(token)
        i = self._index.get(token)
        if i is None:
            i = len(self._tokens)
            self._index[token] = i
            self._tokens.append(token)
        return i

    def encode(self, tokens: Iterable[str], *, add: bool = True) -> np.ndarray:
        """Indices of ``tokens`` (int64). With ``add=False`` unknown tokens map to -1."""
        if add:
            return np.fromiter((self.add(t) for t in tokens), dtype=np.int64)
        get = self._index.get
        return np.fromiter((get(str(t), -1) for t in tokens), dtype=np.int64)

    def decode(self, idx: Sequence[int] | np.ndarray) -> list[str]:
        return [self._tokens[int(i)] for i in idx]

    def __contains__(self, token: object) -> bool:
        return str(token) in self._index

    def __getitem__(self, token: str) -> int:
        return self._index[str(token)]

    def get(self, token: str, default: int = -1) -> int:
        return self._index.get(str(token), default)

    def __len__(self) -> int:
        return len(self._tokens)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self._tokens == other._tokens

    def __repr__(self) -> str:
        head = ", ".join(self._tokens[:3])
        return f"Vocabulary({len(self)} ids: {head}{', ...' if len(self) > 3 else ''})"

    @property
    def tokens(self) -> list[str]:
        """The raw ids in index order (a copy)."""
        return list(self._tokens)

    def copy(self) -> Vocabulary:
        return Vocabulary(self._tokens)

    @classmethod
    def range(cls, n: int) -> Vocabulary:
        """Identity vocabulary ``"0" … "n-1"`` (synthetic data, already-indexed ids)."""
        return cls(str(i) for i in range(n))
