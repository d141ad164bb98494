"""Next-user prediction (FOREST / DyHGCN / MS-HGAT protocol, protocols.md §2).

At every prefix position the model ranks all users + END for the next adopter; users already in the
prefix are excluded (masked), END after the last adopter is a valid target. hits@k and MAP@k are
micro-averaged over every prediction position of every evaluated cascade. The same masked
cross-entropy trains every sequence model (NDM, LSTM), so they are compared on identical positions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from cascadekit.data.cascades import CascadeSet
from cascadekit.metrics import ranking_report
from cascadekit.models.base import SequentialDiffusionModel, end_token, pad_token
from cascadekit.tasks.batching import encode_padded, length_buckets


def filter_protocol(
    cascades: CascadeSet, min_len: int = 2, max_len: int = 500
) -> tuple[CascadeSet, int]:
    """Keep cascades with ``min_len <= length <= max_len`` (FOREST keeps 1 < len ≤ 500)."""
    kept = cascades.filter_length(min_len, max_len)
    return kept, len(cascades) - len(kept)


def mask_infected(logits: torch.Tensor, seq: torch.Tensor) -> torch.Tensor:
    """−inf at every user already in the prefix (positions ≤ t) of each position t.

    Shapes:
        logits: (B, L, V+1); seq: (B, L) tokens; returns (B, L, V+1).
    """
    b, length, width = logits.shape
    tri = torch.ones(length, length, dtype=torch.bool, device=seq.device).tril()  # [t, j]: j ≤ t
    # index of the user to hide at (t, j); hidden entries point to a scratch column (width)
    idx = seq[:, None, :].expand(b, length, length).masked_fill(~tri, width)
    idx = torch.where(
        idx >= width - 1, torch.full_like(idx, width), idx
    )  # END/PAD are never hidden
    scratch = torch.cat([logits, logits.new_zeros(b, length, 1)], dim=2)
    return scratch.scatter(2, idx, float("-inf"))[..., :width]


def next_user_loss(
    model: torch.nn.Module, batch: torch.Tensor, *, end_weight: float = 1.0
) -> torch.Tensor:
    """Masked cross-entropy of every next adopter, summed over positions, averaged over cascades.

    ``end_weight=0`` reproduces NDM's reference code, where END is never a positive target.
    """
    n_users = model.n_users
    logits = mask_infected(model.logits(batch[:, :-1]), batch[:, :-1])
    target = batch[:, 1:]
    weight = None
    if end_weight != 1.0:
        weight = torch.ones(n_users + 1, device=logits.device)
        weight[end_token(n_users)] = end_weight
    loss = F.cross_entropy(
        logits.reshape(-1, n_users + 1),
        target.reshape(-1),
        weight=weight,
        ignore_index=pad_token(n_users),
        reduction="sum",
    )
    return loss / batch.shape[0]


@torch.no_grad()
def evaluate_next_user(
    model: SequentialDiffusionModel,
    cascades: CascadeSet,
    *,
    ks: Sequence[int] = (10, 50, 100),
    max_len: int = 500,
    token_budget: int = 20_000_000,
) -> dict[str, float]:
    """hits@k, MAP@k, MRR over every position, plus ``nll`` (mean −log p of the true next token)
    and ``positions``. Ranks follow `metrics.rank_of_target` (1 + strictly better candidates)."""
    was_training = getattr(model, "training", False)
    if was_training:
        model.eval()
    v = model.n_users
    device = (
        next(model.parameters()).device if hasattr(model, "parameters") else torch.device("cpu")
    )
    lengths = np.minimum(cascades.lengths, max_len) + 1
    rows = max(1, token_budget // (int(lengths.max(initial=1)) * (v + 1)))
    ranks, nll = [], 0.0
    for idx in length_buckets(lengths, rows, shuffle=False, seed=0):
        seq = encode_padded(cascades, idx, max_len=max_len).to(device)
        logits = mask_infected(model.logits(seq[:, :-1]), seq[:, :-1])
        target = seq[:, 1:]
        valid = target != pad_token(v)
        lg, tg = logits[valid], target[valid]
        gold = lg.gather(1, tg[:, None])
        ranks.append((1 + (lg > gold).sum(dim=1)).cpu().numpy())
        nll -= float((gold.squeeze(1) - torch.logsumexp(lg, dim=1)).sum())
    if was_training:
        model.train()
    all_ranks = np.concatenate(ranks)
    return {
        **ranking_report(all_ranks, ks),
        "nll": nll / len(all_ranks),
        "positions": int(len(all_ranks)),
    }
