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
from torch import nn

from cascadekit.data.cascades import CascadeSet
from cascadekit.models.base import end_token, pad_token
from cascadekit.models.batching import iterate_batches
from cascadekit.models.estimator import TorchEstimator
from cascadekit.models.popularity import train_user_rows


@dataclass
class SequenceOptions:
    """Fields every sequence-model config has (first in each config).

    ``end_weight``: loss weight of END targets (NDM's reference code: 0, END is never a positive
    target). ``bucket_pool``: batches are sorted by length within pools of this many batches (less
    padding); 1 = plain random batches, as NDM's reference code. Measured on lastfm (NDM,
    reference preset, 20 epochs, S = 1000): pools of 1, 50 and 200 give Macro/Micro-F1
    .058/.100, .055/.099, .055/.098 — the same within seed noise — at 46–75 s, 12–14 s and
    10 s an epoch on one thread (`make bench NAME=ndm_batching`). ``min_user_count``: None, every
    user of the vocabulary is a class; k, only the users adopting in ≥ k training cascades are
    (`KnownUsers`: what makes NDM and LSTM fit CED's 1.07M users)."""

    end_weight: float = 1.0
    bucket_pool: int = 200
    min_user_count: int | None = None

    def __post_init__(self) -> None:
        if self.end_weight < 0:
            raise ValueError(f"end_weight must be >= 0, got {self.end_weight}")
        if self.min_user_count is not None and self.min_user_count < 1:
            raise ValueError(f"min_user_count must be >= 1 or None, got {self.min_user_count}")
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
    model: torch.nn.Module,
    batch: torch.Tensor,
    *,
    end_weight: float = 1.0,
    skip_target: int | None = None,
) -> torch.Tensor:
    """Masked cross-entropy of every next adopter, summed over the non-PAD positions of the batch
    (as NDM's reference code; Adam is insensitive to the scale).

    ``end_weight=0`` reproduces NDM's reference code, where END is never a positive target;
    positions whose target is ``skip_target`` are not scored (`KnownUsers`' OTHER token).

    Shapes:
        batch: (B, L) tokens from `encode_padded` (users, END, PAD); returns a scalar.
    """
    n_users = model.n_users
    inputs, target = batch[:, :-1], batch[:, 1:]
    positions = target != pad_token(n_users)
    if skip_target is not None:
        positions &= target != skip_target
    scores = mask_infected(model.logits(inputs, positions), inputs, positions)
    weight = None
    if end_weight != 1.0:
        weight = torch.ones(n_users + 1, device=scores.device)
        weight[end_token(n_users)] = end_weight
    return F.cross_entropy(scores, target[positions], weight=weight, reduction="sum")


class KnownUsers(nn.Module):
    """A next-user network over the K users known from training (``rows``: the dataset's user →
    1 … K, 0 for the rest; `models.popularity.train_user_rows`) and one OTHER token standing for
    every other user, seen from outside over the dataset's V users, as DMT-LIC is.

    Inside, ``inner`` has K + 1 users: known user row r → r − 1, OTHER → K, END → K + 1, PAD →
    K + 2 (`to_inner`). OTHER is an input like any user; as a target it is skipped (a next user
    unseen in training is no class). Outside, `class_logits` gives the K known scores, END, then
    one score every unseen user shares: the row's lowest known score − 1, so they rank behind
    every known candidate (`tasks.next_user` ranks these K + 2 columns instead of V + 1)."""

    def __init__(self, inner: nn.Module, n_users: int) -> None:
        super().__init__()
        self.inner, self.n_users, self.n_known = inner, n_users, inner.n_users - 1
        self.register_buffer("rows", torch.zeros(n_users, dtype=torch.long))

    def to_inner(self, tokens: torch.Tensor) -> torch.Tensor:
        """Dataset tokens → the inner network's. Shapes: any long → same."""
        v, k = self.n_users, self.n_known
        rows = self.rows[tokens.clamp(max=v - 1)]
        user = torch.where(rows > 0, rows - 1, torch.full_like(tokens, k))
        return torch.where(tokens < v, user, tokens - v + k + 1)

    def known_classes(self, tokens: torch.Tensor) -> torch.Tensor:
        """Dataset tokens → output classes: known user → its row − 1, END → K, unseen users and
        PAD → K + 1 (never a class). Shapes: any long → same."""
        inner = self.to_inner(tokens)
        k = self.n_known
        return torch.where(
            inner == k, k + 1, torch.where(inner == k + 1, k, inner.clamp(max=k + 1))
        )

    def class_logits(
        self, seq: torch.Tensor, positions: torch.Tensor | None = None, *, cascades: Any = None
    ) -> torch.Tensor:
        """Shapes: seq (B, L) dataset tokens → (B, L, K + 2) or (N, K + 2) (class docstring)."""
        scores = self.inner.logits(self.to_inner(seq), positions)
        k = self.n_known
        known = scores[..., :k]
        floor = known.min(dim=-1, keepdim=True).values.detach() - 1
        return torch.cat([known, scores[..., k + 1 : k + 2], floor], dim=-1)

    def logits(self, seq: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """`models.base.NextUserScorer` over the dataset's V users and END (unseen users at the
        shared floor score). Shapes: as `class_logits`, V + 1 columns."""
        c = self.class_logits(seq, positions)
        k, v = self.n_known, self.n_users
        full = c[..., -1:].expand(*c.shape[:-1], v + 1).clone()
        users = torch.nonzero(self.rows > 0).squeeze(1)
        full[..., users] = c[..., self.rows[users] - 1]
        full[..., v] = c[..., k]
        return full


class SequenceEstimator(TorchEstimator):
    """Length-bucketed batches of cascades and the masked next-user loss; validation without a
    task is the masked loss per scored position. A subclass implements ``_network(meta)``;
    with ``min_user_count`` its network is built over the known users and wrapped in
    `KnownUsers`."""

    default_monitor = ("nll", "min")
    loss_reduction = "sum"  # `next_user_loss` sums over positions

    def _network(self, meta: dict[str, Any]) -> nn.Module:
        raise NotImplementedError

    def _build_meta(self, train: CascadeSet) -> dict[str, Any]:
        meta = super()._build_meta(train)
        count = getattr(self.config, "min_user_count", None)
        if count is not None:
            self._train_rows = train_user_rows(train, count)
            meta["n_known_users"] = int(self._train_rows.max(initial=0))
        return meta

    def _build(self, meta: dict[str, Any]) -> nn.Module:
        if "n_known_users" not in meta:
            return self._network(meta)
        net = KnownUsers(self._network({**meta, "n_users": meta["n_known_users"] + 1}),
                         meta["n_users"])  # fmt: skip
        rows = getattr(self, "_train_rows", None)
        if rows is not None:  # fitting; `load` restores the buffer with the weights
            net.rows.copy_(torch.from_numpy(rows))
        return net

    def _objective(self, module: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        # duck-typed: in training the module arrives wrapped by Fabric, which forwards attributes
        if hasattr(module, "to_inner"):
            return next_user_loss(module.inner, module.to_inner(batch),
                                  end_weight=self.config.end_weight, skip_target=module.n_known)  # fmt: skip
        return next_user_loss(module, batch, end_weight=self.config.end_weight)

    def _batches(self, train: CascadeSet, epoch: int) -> Any:
        """Shuffled with ``seed + epoch`` for training; ``epoch = -1`` (validation): in order."""
        tc = self.train_config
        return iterate_batches(
            train, tc.batch_size, shuffle=epoch >= 0, seed=tc.seed + max(epoch, 0),
            pool=self.config.bucket_pool,
        )  # fmt: skip

    def _loss(self, module: torch.nn.Module, batch: torch.Tensor) -> torch.Tensor:
        return self._objective(module, batch)

    @torch.no_grad()
    def _validate(self, module: torch.nn.Module, valid: CascadeSet) -> dict[str, float]:
        """``nll``: the training objective per scored position (END weighted by ``end_weight``);
        the next-user task's validator adds ranking metrics when a task trains the model."""
        device = next(module.parameters()).device
        total, positions = 0.0, 0
        for batch in self._batches(valid, -1):
            batch = batch.to(device)
            total += float(self._objective(module, batch))
            target = batch[:, 1:]
            scored = target != pad_token(module.n_users)
            if hasattr(module, "known_classes"):
                scored &= module.known_classes(target) <= module.n_known
            positions += int(scored.sum())
        return {"nll": total / max(positions, 1)}
