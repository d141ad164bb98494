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
from cascadekit.data.report import ReadReport
from cascadekit.metrics import rank_of_target, ranking_report
from cascadekit.models.base import SequentialDiffusionModel, end_token, pad_token
from cascadekit.tasks.batching import encode_padded


def filter_protocol(
    cascades: CascadeSet, min_len: int = 2, max_len: int = 500, report: ReadReport | None = None
) -> tuple[CascadeSet, int]:
    """Keep cascades with ``min_len <= length <= max_len`` (FOREST keeps 1 < len ≤ 500); returns
    them and the number dropped, also counted in ``report`` when given."""
    kept = cascades.filter_length(min_len, max_len)
    dropped = len(cascades) - len(kept)
    if report is not None:
        report.add(f"next_user_length_outside_{min_len}_{max_len}", dropped)
    return kept, dropped


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


def _eval_batches(lengths: np.ndarray, batch_size: int, cell_budget: int) -> list[np.ndarray]:
    """Cascades sorted by length, cut into batches of at most ``batch_size`` rows and at most
    ``cell_budget`` (row × padded length) cells, so long cascades never blow up the memory."""
    order = np.argsort(lengths, kind="stable")
    batches, start = [], 0
    while start < len(order):
        end = start + 1
        while (
            end < len(order)
            and end - start < batch_size
            and (end - start + 1) * lengths[order[end]] <= cell_budget
        ):
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


@torch.no_grad()
def evaluate_next_user(
    model: SequentialDiffusionModel,
    cascades: CascadeSet,
    *,
    ks: Sequence[int] = (10, 50, 100),
    batch_size: int = 64,
    max_len: int = 500,
    score_budget: int = 20_000_000,
) -> dict[str, float]:
    """hits@k, MAP@k, MRR over every prediction position, plus ``nll`` (mean −log p of the true
    next token, infected users masked) and ``positions``.

    Each cascade is cut to its first ``max_len`` users (then END); ranks come from
    `metrics.rank_of_target` (1 + strictly better candidates, infected users excluded). A batch holds
    at most ``batch_size`` cascades and ``score_budget`` scores (rows × length × (V+1)).
    """
    was_training = getattr(model, "training", False)
    if was_training:
        model.eval()
    v = model.n_users
    params = list(model.parameters()) if isinstance(model, torch.nn.Module) else []
    device = params[0].device if params else torch.device("cpu")
    lengths = np.minimum(cascades.lengths, max_len) + 1
    ranks, nll = [], 0.0
    for idx in _eval_batches(lengths, batch_size, max(1, score_budget // (v + 1))):
        seq = encode_padded(cascades, idx, max_len=max_len).to(device)
        inputs, target = seq[:, :-1], seq[:, 1:]
        valid = target != pad_token(v)
        lg = mask_infected(model.logits(inputs, valid), inputs, valid)
        tg = target[valid]
        gold = lg.gather(1, tg[:, None]).squeeze(1)
        if torch.isinf(gold).any():
            row = valid.nonzero()[torch.isinf(gold).nonzero()[0, 0], 0].item()
            raise ValueError(
                f"cascade {cascades.ids[idx[row]]!r} repeats a user; next-user ranking needs "
                "distinct adopters (the readers drop repeats)"
            )
        # infected users are already −inf, so they can never outrank the target
        ranks.append(rank_of_target(lg.float().cpu().numpy(), tg.cpu().numpy()))
        nll -= float((gold - torch.logsumexp(lg, dim=1)).sum())
    if was_training:
        model.train()
    all_ranks = np.concatenate(ranks)
    return {
        **ranking_report(all_ranks, ks),
        "nll": nll / len(all_ranks),
        "positions": int(len(all_ranks)),
    }
