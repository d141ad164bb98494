"""Cascades → padded token tensors (users, END, PAD; see `models.base`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from cascadekit.data.cascades import CascadeSet
from cascadekit.models.base import end_token, pad_token


def encode_padded(
    cascades: CascadeSet,
    index: Sequence[int] | np.ndarray | None = None,
    *,
    add_end: bool = True,
    max_len: int | None = None,
) -> torch.Tensor:
    """Token rows for cascades ``index`` (all by default): users (first ``max_len``), then END.

    END follows complete cascades only: a cascade cut by ``max_len`` did not end there, so its row
    stops with PAD instead of teaching (or scoring) a false stop.

    Shapes:
        return: (B, L) long, PAD-padded on the right; L = longest row.
    """
    idx = np.arange(len(cascades)) if index is None else np.asarray(index, dtype=np.int64)
    v = cascades.n_users
    full = cascades.lengths[idx]
    lengths = full if max_len is None else np.minimum(full, max_len)
    width = int(lengths.max(initial=0)) + int(add_end)
    out = np.full((len(idx), max(width, 1)), pad_token(v), dtype=np.int64)
    starts = cascades.offsets[idx]
    for row, (a, n) in enumerate(zip(starts, lengths, strict=True)):
        out[row, :n] = cascades.users[a : a + n]
    if add_end:
        ended = np.flatnonzero(lengths == full)
        out[ended, lengths[ended]] = end_token(v)
    return torch.from_numpy(out)


def length_buckets(
    lengths: np.ndarray, batch_size: int, *, shuffle: bool, seed: int, pool: int = 200
) -> list[np.ndarray]:
    """Batches of indices with similar lengths (less padding): shuffle, sort within pools of
    ``pool`` batches by length, cut into batches, shuffle the batch order. Deterministic per seed."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths)) if shuffle else np.arange(len(lengths))
    batches = []
    span = batch_size * pool
    for a in range(0, len(order), span):
        chunk = order[a : a + span]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def iterate_batches(
    cascades: CascadeSet,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    max_len: int | None = None,
    pool: int = 200,
) -> Iterator[torch.Tensor]:
    """Length-bucketed (B, L) token batches (`length_buckets`; ``pool=1``: plain random batches);
    pass ``seed + epoch`` to reshuffle per epoch."""
    for idx in length_buckets(cascades.lengths, batch_size, shuffle=shuffle, seed=seed, pool=pool):
        yield encode_padded(cascades, idx, max_len=max_len)
