"""Next-user prediction (FOREST / DyHGCN / MS-HGAT protocol, protocols.md §2).

At every prefix position the model ranks all users + END for the next adopter; users already in the
prefix are excluded (masked, `models.sequence.mask_infected`), END after the last adopter is a
valid target. hits@k and MAP@k are micro-averaged over every prediction position of every
evaluated cascade. The same mask is in the loss that trains every sequence model (NDM, LSTM), so
they are compared on identical positions. The split (`cascade_split`) is shared with the
identification and size tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.splits import Split, random_by_cascade, shipped
from cascadekit.errors import CascadeKitError
from cascadekit.metrics import ranking_report
from cascadekit.models.base import NextUserScorer, pad_token
from cascadekit.models.batching import encode_padded
from cascadekit.models.sequence import mask_infected
from cascadekit.tasks.base import Task
from cascadekit.tasks.device import device_of, resolve_device, score_budget


@dataclass
class CascadeSplitOptions:
    """How the cascades of a dataset are split for the next-user, identification and size tasks
    (protocols §1–2): the shipped split when the dataset has one (validation carved from train,
    ``valid_fraction`` of it, when missing), else a seeded random split by cascade with
    ``fractions``; then cascades outside ``min_len ≤ length ≤ max_len`` are dropped from each
    part and counted (FOREST keeps 1 < len ≤ 500)."""

    min_len: int = 2
    max_len: int = 500
    valid_fraction: float = 0.1
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)

    def __post_init__(self) -> None:
        if not 1 <= self.min_len <= self.max_len:
            raise ValueError(f"need 1 <= min_len <= max_len, got {self.min_len}, {self.max_len}")
        if not 0 <= self.valid_fraction < 1:
            raise ValueError(f"valid_fraction must be in [0, 1), got {self.valid_fraction}")
        f = self.fractions
        if len(f) != 3 or min(f) < 0 or f[0] <= 0 or f[2] <= 0 or abs(sum(f) - 1) > 1e-9:
            raise ValueError(
                f"fractions must be (train, valid, test) >= 0 summing to 1, with train and test "
                f"> 0; got {f}"
            )


def cascade_split(bundle: DatasetBundle, seed: int, options: CascadeSplitOptions) -> Split:
    """The split every sequence model of a run is trained and scored on (see
    `CascadeSplitOptions`); ``info["dropped_by_length"]`` counts the drops per part."""
    if bundle.cascades is None:
        raise CascadeKitError(f"{bundle.name} has no cascades; this task needs cascades")
    if "train" in bundle.splits and "test" in bundle.splits:
        split = shipped(bundle, valid_fraction=options.valid_fraction, seed=seed)
    else:
        split = random_by_cascade(bundle.cascades, options.fractions, seed=seed)
    dropped = {}
    for part in ("train", "valid", "test"):
        cascades = getattr(split, part)
        kept = cascades.filter_length(options.min_len, options.max_len)
        setattr(split, part, kept)
        dropped[part] = len(cascades) - len(kept)
    split.info["dropped_by_length"] = dropped
    split.info["length_range"] = [options.min_len, options.max_len]
    split.info["sizes_after_length_filter"] = [len(split.train), len(split.valid), len(split.test)]
    if not len(split.train) or not len(split.test):
        raise CascadeKitError(
            f"{bundle.name}: no cascades left in train or test after the length filter "
            f"{options.min_len}…{options.max_len} (dropped {dropped})"
        )
    return split


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


def _logits(
    model: NextUserScorer,
    cascades: CascadeSet,
    idx: np.ndarray,
    inputs: torch.Tensor,
    positions: torch.Tensor,
) -> torch.Tensor:
    """``model.logits``; a model whose scores read more than the tokens (DMT-LIC: the cascade
    graph and times) sets ``needs_cascades`` and is also given the batch's cascades."""
    if getattr(model, "needs_cascades", False):
        return model.logits(inputs, positions, cascades=cascades.subset(idx))
    return model.logits(inputs, positions)


def _class_scores(
    model: Any,
    cascades: CascadeSet,
    idx: np.ndarray,
    inputs: torch.Tensor,
    target: torch.Tensor,
    valid: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For a model that scores in class space (``class_logits`` + ``known_classes``: C classes,
    END among them, then one score shared by every user without a class): (scores (N, C + 1)
    with infected classes at −inf, target classes (N,), log of how many class-less users are
    not yet infected (N,)). Ranks in this space equal the ranks over V + 1 columns — a class-less
    user ties every other one, and ties never push the target down — and the class-less column
    plus that log count gives the same normaliser, without materialising V + 1 scores."""
    scores = model.class_logits(inputs, valid, cascades=cascades.subset(idx))
    classes = model.known_classes(inputs)  # C for class-less users and PAD: never masked
    n_classes = scores.shape[-1] - 1
    lg = mask_infected(scores, classes, valid)
    v = model.n_users
    classless = ((inputs < v) & (classes == n_classes)).cumsum(dim=1)[valid]
    free = (v - (n_classes - 1)) - classless  # class-less users minus the infected ones
    return lg, model.known_classes(target)[valid], torch.log(free.double().clamp(min=0))


@torch.no_grad()
def evaluate_next_user(
    model: NextUserScorer,
    cascades: CascadeSet,
    *,
    ks: Sequence[int] = (10, 50, 100),
    batch_size: int = 64,
    max_len: int = 500,
    budget: int | None = None,
    device: str = "auto",
) -> dict[str, float]:
    """hits@k, MAP@k, MRR over every prediction position, plus ``nll`` (mean −log p of the true
    next token, infected users masked) and ``positions``.

    Each cascade is cut to its first ``max_len`` users (then END); ranks come from
    `metrics.rank_of_target` (1 + strictly better candidates, infected users excluded). A batch holds
    at most ``batch_size`` cascades and ``budget`` scores (rows × length × (V+1); None: as the
    device allows, `tasks.device.score_budget`). ``device="auto"``: a GPU when present.
    """
    was_training = getattr(model, "training", False)
    home = device_of(model)
    dev = resolve_device(model, device)
    if isinstance(model, torch.nn.Module):
        model.to(dev)
    if was_training:
        model.eval()
    try:
        return _ranked(model, cascades, ks, batch_size, max_len, budget or score_budget(dev), dev)
    finally:
        if isinstance(model, torch.nn.Module):
            model.to(home)
        if was_training:
            model.train()


def _ranked(
    model: NextUserScorer,
    cascades: CascadeSet,
    ks: Sequence[int],
    batch_size: int,
    max_len: int,
    budget: int,
    device: torch.device,
) -> dict[str, float]:
    v = model.n_users
    lengths = np.minimum(cascades.lengths, max_len) + 1
    compact = hasattr(model, "class_logits")
    width = model.n_known + 2 if compact else v + 1
    ranks, nll = [], 0.0
    for idx in _eval_batches(lengths, batch_size, max(1, budget // width)):
        seq = encode_padded(cascades, idx, max_len=max_len).to(device)
        inputs, target = seq[:, :-1], seq[:, 1:]
        valid = target != pad_token(v)
        if compact:
            lg, tg, log_free = _class_scores(model, cascades, idx, inputs, target, valid)
            normaliser = torch.logaddexp(
                torch.logsumexp(lg[:, :-1].double(), dim=1), lg[:, -1].double() + log_free
            )
        else:
            lg = mask_infected(_logits(model, cascades, idx, inputs, valid), inputs, valid)
            tg = target[valid]
            normaliser = torch.logsumexp(lg, dim=1)
        gold = lg.gather(1, tg[:, None]).squeeze(1)
        if torch.isinf(gold).any():
            row = valid.nonzero()[torch.isinf(gold).nonzero()[0, 0], 0].item()
            raise ValueError(
                f"cascade {cascades.ids[idx[row]]!r} repeats a user; next-user ranking needs "
                "distinct adopters (the readers drop repeats)"
            )
        if torch.isnan(lg).any():
            raise ValueError(f"{type(model).__name__} returned NaN scores")
        # `metrics.rank_of_target`'s rule (1 + candidates scored strictly higher), in torch: a
        # float64 numpy copy of (positions, V + 1) scores cost more than the model on large
        # vocabularies; infected users are already −inf, so they can never outrank the target
        ranks.append((1 + (lg > gold[:, None]).sum(dim=1)).cpu().numpy())
        nll -= float((gold - normaliser).sum())
    all_ranks = np.concatenate(ranks)
    return {
        **ranking_report(all_ranks, ks),
        "nll": nll / len(all_ranks),
        "positions": int(len(all_ranks)),
    }


@dataclass
class NextUserOptions:
    """``ks``: the cut-offs of hits@k and MAP@k; ``max_len``: each cascade is scored on its first
    ``max_len`` users; ``batch_size``: cascades per batch."""

    ks: tuple[int, ...] = (10, 50, 100)
    max_len: int = 500
    batch_size: int = 64

    def __post_init__(self) -> None:
        if not self.ks or min(self.ks) < 1 or self.max_len < 1 or self.batch_size < 1:
            raise ValueError("ks (a non-empty list), max_len and batch_size must be >= 1")


class NextUser(Task):
    """Teacher-forced next-adopter ranking (FOREST / DyHGCN / MS-HGAT protocol): hits@k, MAP@k,
    MRR over every position of every test cascade, infected users masked. Selects on validation
    MAP@10 (measured on a public Twitter split: the LSTM's NLL-selected epoch gives test hits@10
    .100, the MAP-selected one .21)."""

    name = "next_user"
    summary = "teacher-forced next-adopter ranking: hits@k, MAP@k, MRR"
    split_options = CascadeSplitOptions
    Options = NextUserOptions
    protocols = (NextUserScorer,)
    monitor = ("map@10", "max")

    def build(self, bundle: DatasetBundle, seed: int) -> Split:
        return cascade_split(bundle, seed, self.split)

    def validator(self) -> Any:
        return lambda net, valid: evaluate_next_user(net, valid, ks=(10,))

    def evaluate(
        self, model: Any, split: Split, *, seed: int = 0, progress: bool = False
    ) -> dict[str, Any]:
        o = self.options
        return evaluate_next_user(
            self.check(model), split.test, ks=o.ks, batch_size=o.batch_size, max_len=o.max_len
        )
