"""Arrays computed once and kept on disk, keyed by what they were computed from (MMCAs' content
encodings: a second run with the same encoder and the same content encodes nothing).

The key is any JSON-able description (encoder name, its fitted state's hash, the content's hash);
its sha256 names ``<folder>/<sha>.npy``. Files are written atomically and read with
``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from cascadekit.data.atomic import atomic_file


def content_hash(parts: Iterable[str | bytes | np.ndarray]) -> str:
    """sha256 of a sequence of strings, bytes or arrays (each length-prefixed, so the split
    between parts counts)."""
    h = hashlib.sha256()
    for p in parts:
        data = (p.encode() if isinstance(p, str)
                else np.ascontiguousarray(p).tobytes() if isinstance(p, np.ndarray) else p)  # fmt: skip
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


class ArrayCache:
    """``get(key, compute)``: the array stored under ``key``, or ``compute()`` stored there.
    ``hits`` / ``misses`` count what each call did."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.hits = self.misses = 0

    def path(self, key: dict[str, Any]) -> Path:
        text = json.dumps(key, sort_keys=True, ensure_ascii=False)
        return self.folder / f"{hashlib.sha256(text.encode()).hexdigest()}.npy"

    def get(self, key: dict[str, Any], compute: Callable[[], np.ndarray]) -> np.ndarray:
        path = self.path(key)
        if path.is_file():
            self.hits += 1
            return np.load(path, allow_pickle=False)
        self.misses += 1
        array = np.asarray(compute())
        with atomic_file(path, overwrite=True) as tmp, open(tmp, "wb") as f:
            np.save(f, array, allow_pickle=False)
        return array
