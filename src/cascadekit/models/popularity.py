"""Popularity baseline: every user scored by the log of how many training cascades they adopted
in (END by the number of cascades), whatever the prefix. The floor a next-user model must beat;
it also samples continuations (`begin`/`step`), so it runs through identification too."""

from __future__ import annotations

import numpy as np
import torch

from cascadekit.data.cascades import CascadeSet


class PopularityBaseline:
    """Implements `models.base.SequentialDiffusionModel` without parameters (no training)."""

    def __init__(self, train: CascadeSet) -> None:
        counts = np.bincount(train.users, minlength=train.n_users).astype(np.float64)
        self.n_users = train.n_users
        # +1: users never seen in training keep a finite score
        self.scores = torch.log(torch.tensor(np.append(counts, len(train)) + 1.0)).float()

    def logits(self, seq: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """Shapes: seq (B, L) → (B, L, V+1), or (N, V+1) at the true entries of ``positions``."""
        rows = seq.shape if positions is None else (int(positions.sum()),)
        return self.scores.expand(*rows, -1).clone()

    def begin(self, prefix: torch.Tensor, capacity: int | None = None) -> tuple[torch.Tensor, int]:
        """Shapes: prefix (B, L0) → logits (B, V+1); the state is just the row count."""
        return self.scores.expand(len(prefix), -1).clone(), len(prefix)

    def step(self, state: int, tokens: torch.Tensor) -> tuple[torch.Tensor, int]:
        return self.scores.expand(len(tokens), -1).clone(), len(tokens)
