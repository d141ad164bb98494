"""Next-adopter sequence models (NDM, LSTM, Embedded IC): the masked next-user objective and the
estimator they share.

The protocol's mask (users already in the prefix cannot be next) is applied here once, to training
and — through `tasks.next_user` — to evaluation, so every model is trained and scored on exactly
the same positions. A subclass sets ``name``/``config_class`` and implements ``_build``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from cascadekit.data.cascades import CascadeSet
from cascadekit.models.base import end_token, pad_token
from cascadekit.models.batching import iterate_batches
from cascadekit.models.estimator import TorchEstimator


@dataclass
class SequenceOptions:
    """Fields every sequence-model config has (first in each config).

    ``end_weight``: loss weight of END targets (NDM's reference code: 0, END is never a positive
    target). ``bucket_pool``: batches are sorted by length within pools of this many batches (less
    padding); 1 = plain random batches, as NDM's reference code. Measured on lastfm (NDM,
    reference preset, 20 epochs, S = 1000): pools of 1, 50 and 200 give Macro/Micro-F1
    .058/.100, .055/.099, .055/.098 — the same within seed noise — at 46–75 s, 12–14 s and
    10 s an epoch on one thread (`make bench NAME=ndm_batching`)."""

    end_weight: float = 1.0
    bucket_pool: int = 200

    def __post_init__(self) -> None:
        if self.end_weight < 0:
            raise ValueError(f"end_weight must be >= 0, got {self.end_weight}")
        if self.bucket_pool < 1:
            raise ValueError(f"bucket_pool must be >= 1, got {self.bucket_pool}")


def check_dropout(**rates: float) -> None:
    """Dropout rates must lie in [0, 1)."""
    for name, rate in rates.items():
        if not 0 <= rate < 1:
            raise ValueError(f"{name} must be in [0, 1), got {rate}")


def mask_infected(
    scores: torch.Tensor, seq: torch.Tensor, positions: torch.Tensor | None = None
) -> torch.Tensor:
    """−inf at every user already in the prefix (positions ≤ t) of each scored position t.

    Shapes:
        scores: (B, L, V+1), or (N, V+1) rows for the N true entries of ``positions`` in row-major
        order (as ``model.logits(seq, positions)`` returns them); seq: (B, L) tokens; positions:
        (B, L) bool or None (every position). Returns a new tensor shaped like ``scores``.
    """
    width = scores.shape[-1]
    if positions is None:
        positions = torch.ones(seq.shape, dtype=torch.bool, device=seq.device)
    rows, t = positions.nonzero(as_tuple=True)
    prefix = seq[rows]  # (N, L): the tokens of each scored row's cascade
    upto = torch.arange(seq.shape[1], device=seq.device)[None, :] <= t[:, None]
    # END (V) and PAD (V+1) are never hidden; only the (row, user) pairs are touched
    r, j = (upto & (prefix < width - 1)).nonzero(as_tuple=True)
    flat = scores.reshape(-1, width)
    return flat.index_put((r, prefix[r, j]), flat.new_tensor(float("-inf"))).view(scores.shape)


def next_user_loss(
    model: torch.nn.Module, batch: torch.Tensor, *, end_weight: float = 1.0
) -> torch.Tensor:
    """Masked cross-entropy of every next adopter, summed over the non-PAD positions of the batch
    (as NDM's reference code; Adam is insensitive to the scale).

    ``end_weight=0`` reproduces NDM's reference code, where END is never a positive target.

    Shapes:
        batch: (B, L) tokens from `encode_padded` (users, END, PAD); returns a scalar.
    """
    n_users = model.n_users
    inputs, target = batch[:, :-1], batch[:, 1:]
    positions = target != pad_token(n_users)
    scores = mask_infected(model.logits(inputs, positions), inputs, positions)
    weight = None
    if end_weight != 1.0:
        weight = torch.ones(n_users + 1, device=scores.device)
        weight[end_token(n_users)] = end_weight
    return F.cross_entropy(scores, target[positions], weight=weight, reduction="sum")


class SequenceEstimator(TorchEstimator):
    """Length-bucketed batches of cascades and the masked next-user loss; validation without a
    task is the masked loss per scored position."""

    default_monitor = ("nll", "min")

    def _batches(self, train: CascadeSet, epoch: int) -> Any:
        """Shuffled with ``seed + epoch`` for training; ``epoch = -1`` (validation): in order."""
        tc = self.train_config
        return iterate_batches(
            train, tc.batch_size, shuffle=epoch >= 0, seed=tc.seed + max(epoch, 0),
            pool=self.config.bucket_pool,
        )  # fmt: skip

    def _loss(self, module: torch.nn.Module, batch: torch.Tensor) -> torch.Tensor:
        return next_user_loss(module, batch, end_weight=self.config.end_weight)

    @torch.no_grad()
    def _validate(self, module: torch.nn.Module, valid: CascadeSet) -> dict[str, float]:
        """``nll``: the training objective per scored position (END weighted by ``end_weight``);
        the next-user task's validator adds ranking metrics when a task trains the model."""
        device = next(module.parameters()).device
        total, positions = 0.0, 0
        for batch in self._batches(valid, -1):
            batch = batch.to(device)
            total += float(next_user_loss(module, batch, end_weight=self.config.end_weight))
            positions += int((batch[:, 1:] != pad_token(module.n_users)).sum())
        return {"nll": total / max(positions, 1)}
