"""Monte Carlo diffusion identification (NDM paper 001 §5.3 and §5.5; protocols.md §1).

Seed-only identification: each test cascade reveals only its seed u_0; S continuations are drawn by
ancestral sampling from the model's softmax over users + END with already-infected users masked.
Each sample keeps its first |G| generated users (G = the true users after the seed; a sample stops
at END), P_u = fraction of samples containing u, and per cascade right = Σ_{u∈G} P_u,
pred = Σ_u P_u, n_true = |G| feed `metrics.identification_f1` (Macro/Micro-F1). "First five" cuts G
and the samples to min(5, |G|) users.

Size identification (§5.5): the first ``n_observed`` users are revealed, samples run until END (or
``max_size``), the predicted size is the mean simulated size, scored by `metrics.size_msle_ln`.

All S samples of a cascade, and several cascades at once, advance together as ONE batch of rows
through ``begin``/``step`` (`models.base.SequentialDiffusionModel`), so a draw costs one model call
per generated position, not per sample. A model may instead provide its own simulator
``sample_continuations(prefix, n_samples, max_new, generator)`` (e.g. Embedded IC's IC simulation);
both paths return the same token layout and are scored identically.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.splits import Split
from cascadekit.errors import CascadeKitError
from cascadekit.metrics import (
    identification_f1,
    identification_terms,
    infection_frequencies,
    size_msle_ln,
)
from cascadekit.models.base import CascadeSimulator, SequenceSampler, end_token, pad_token
from cascadekit.tasks.base import Task
from cascadekit.tasks.next_user import CascadeSplitOptions, cascade_split

# rows × (V + 1) scores one decoding step may hold (≈ 80 MB per float tensor): with large
# vocabularies (Twitter: 12,627 users) this, not ``batch_rows``, bounds the batch
SCORE_BUDGET = 20_000_000


def _device_of(model: Any) -> torch.device:
    params = list(model.parameters()) if isinstance(model, torch.nn.Module) else []
    return params[0].device if params else torch.device("cpu")


def sample_categorical(scores: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One draw per row from softmax(``scores``) by inverse CDF: one uniform per row instead of
    the one exponential per category `torch.multinomial` draws (its main cost). −inf
    scores are never drawn: the first index whose cumulative mass exceeds u has positive mass.

    Shapes: scores (R, C) float, every row with a finite entry → (R,) long."""
    cdf = (scores - scores.max(dim=1, keepdim=True).values).exp_().cumsum(dim=1)
    u = torch.rand(len(scores), 1, generator=generator, device=scores.device) * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).squeeze(1).clamp_(max=scores.shape[1] - 1)


@torch.no_grad()
def sample_protocol(
    model: Any,
    prefix: torch.Tensor,
    n_samples: int,
    max_new: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor:
    """Ancestral sampling through ``begin``/``step`` for all B·S rows at once.

    Row r = b·S + s is sample s of prefix b. At each step the model's logits get −inf at every user
    the row has already infected (prefix included); a row stops at END or once it generated
    ``max_new[b]`` users, after which its entries are PAD. Finished rows leave the batch, once half
    of the rows are finished, when the model has ``select_state(state, rows)`` (NDM): a step costs
    at most twice the rows still running; otherwise (opaque state) they ride along to the end.
    A finished row's draws are ignored.

    Shapes:
        prefix: (B, L0) long users (no END/PAD); max_new: (B,) long ≥ 0;
        return: (B·S, max(max_new)) long: generated users, then END if sampled, then PAD.
    """
    v = model.n_users
    end, pad = end_token(v), pad_token(v)
    device = prefix.device
    b, _ = prefix.shape
    rows = prefix.repeat_interleave(n_samples, dim=0)
    cap = max_new.to(device).repeat_interleave(n_samples)
    width = int(max_new.max()) if b else 0
    out = torch.full((b * n_samples, width), pad, dtype=torch.long, device=device)
    if width == 0:
        return out
    select = getattr(model, "select_state", None)
    where = torch.arange(b * n_samples, device=device)  # output row of each decoding row
    # one scratch column (index v + 1) absorbs writes of finished rows
    infected = torch.zeros(b * n_samples, v + 2, dtype=torch.bool, device=device)
    infected.scatter_(1, rows, True)
    infected[:, end] = False
    done = cap <= 0
    logits, state = model.begin(rows, capacity=prefix.shape[1] + width)
    for t in range(width):
        scores = logits.float().masked_fill_(infected[:, : v + 1], float("-inf"))
        tok = sample_categorical(scores, generator)
        tok = tok.masked_fill(done, pad)
        out[where, t] = tok
        infected.scatter_(1, tok[:, None], True)
        infected[:, end] = False
        done = done | (tok == end) | (cap <= t + 1)
        if t + 1 == width or bool(done.all()):
            break
        # compact once half the rows are done: each copy of the decoding cache then pays for itself
        if select is not None and int(done.sum()) * 2 >= len(done):
            keep = (~done).nonzero().squeeze(1)
            where, tok, infected = where[keep], tok[keep], infected[keep]
            cap, done = cap[keep], done[keep]
            state = select(state, keep)
        logits, state = model.step(state, tok.masked_fill(done, end))
    return out


def _draw(
    model: Any, prefix: torch.Tensor, n_samples: int, max_new: torch.Tensor, gen: torch.Generator
) -> np.ndarray:
    """(B, S, W) samples from the model's own simulator if it has one, else `sample_protocol`."""
    sampler = getattr(model, "sample_continuations", None)
    if sampler is not None:
        out = sampler(prefix, n_samples, max_new, gen)
    else:
        out = sample_protocol(model, prefix, n_samples, max_new, gen)
    return out.reshape(len(prefix), n_samples, -1).cpu().numpy()


def _groups(
    prefix_len: np.ndarray, caps: np.ndarray, n_samples: int, batch_rows: int, batch_cells: int
) -> Iterator[np.ndarray]:
    """Cascades with equal prefix length and similar caps, at most ``batch_rows`` rows and
    ``batch_cells`` rows × (prefix + cap) decoding positions (the KV cache) a batch, always ≥ 1
    cascade: sorting by cap keeps rows that run long together."""
    order = np.lexsort((caps, prefix_len))
    start = 0
    while start < len(order):
        stop = start + 1
        while (
            stop < len(order)
            and (stop - start + 1) * n_samples <= batch_rows
            and (stop - start + 1) * n_samples * (prefix_len[order[stop]] + caps[order[stop]])
            <= batch_cells
            and prefix_len[order[stop]] == prefix_len[order[start]]
        ):
            stop += 1
        yield order[start:stop]
        start = stop


def _resolve_device(model: Any, device: str) -> torch.device:
    if device == "auto":
        if torch.cuda.is_available() and isinstance(model, torch.nn.Module):
            return torch.device("cuda")
        return _device_of(model)
    return torch.device(device)


def _simulate(
    model: Any,
    test: CascadeSet,
    prefix_len: np.ndarray,
    caps: np.ndarray,
    *,
    n_samples: int,
    batch_rows: int,
    batch_cells: int,
    seed: int,
    device: str,
    progress: bool,
    desc: str,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (cascade index, (S, W) samples) for every cascade of ``test``, batched."""
    if n_samples < 1:
        raise ValueError("n_samples must be at least 1")
    dev = _resolve_device(model, device)
    module = model if isinstance(model, torch.nn.Module) else None
    home = _device_of(model)
    was_training = bool(module is not None and module.training)
    if module is not None:
        module.to(dev).eval()
    gen = torch.Generator(device=dev).manual_seed(seed)
    bar = tqdm(total=len(test), desc=desc, disable=not progress, leave=False)
    try:
        rows = min(batch_rows, max(1, SCORE_BUDGET // (model.n_users + 1)))
        for idx in _groups(prefix_len, caps, n_samples, rows, batch_cells):
            k = int(prefix_len[idx[0]])
            prefix = torch.from_numpy(
                np.stack([test.users[test.offsets[i] : test.offsets[i] + k] for i in idx])
            ).to(dev)
            samples = _draw(model, prefix, n_samples, torch.from_numpy(caps[idx]).to(dev), gen)
            for j, i in enumerate(idx):
                yield int(i), samples[j]
            bar.update(len(idx))
    finally:
        bar.close()
        if module is not None:
            module.to(home).train(was_training)


def evaluate_identification(
    model: Any,
    test: CascadeSet,
    *,
    n_samples: int = 1000,
    first_k: int = 5,
    batch_rows: int = 50_000,
    batch_cells: int = 300_000,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
) -> dict[str, float]:
    """Seed-only diffusion identification (paper §5.3): Macro/Micro-F1 on all users and on the
    first ``first_k``. Cascades with fewer than 2 users (nothing to identify) are skipped and
    counted in ``skipped``. ``batch_rows`` bounds the rows (cascades × samples) decoded together,
    `SCORE_BUDGET` their rows × (V+1) scores and ``batch_cells`` their rows × positions (memory);
    same seed and limits ⇒ same numbers. ``device="auto"`` uses a GPU when present."""
    t0 = time.perf_counter()
    lengths = test.lengths
    keep = np.flatnonzero(lengths >= 2)
    sub = test.subset(keep)
    caps = (sub.lengths - 1).astype(np.int64)
    terms = np.zeros((len(sub), 2, 3))  # [cascade, all/first_k, (right, pred, n_true)]
    for i, samples in _simulate(
        model, sub, np.ones(len(sub), np.int64), caps, n_samples=n_samples,
        batch_rows=batch_rows, batch_cells=batch_cells, seed=seed, device=device,
        progress=progress, desc="identification",
    ):  # fmt: skip
        truth = sub.users[sub.offsets[i] + 1 : sub.offsets[i + 1]]
        for j, n_keep in enumerate((len(truth), min(first_k, len(truth)))):
            p = infection_frequencies(samples, model.n_users, n_keep)
            terms[i, j] = identification_terms(p, truth[:n_keep])
    all_users = identification_f1(*terms[:, 0].T)
    early = identification_f1(*terms[:, 1].T)
    return {
        "macro_f1": all_users["macro_f1"],
        "micro_f1": all_users["micro_f1"],
        f"macro_f1_first{first_k}": early["macro_f1"],
        f"micro_f1_first{first_k}": early["micro_f1"],
        "n_cascades": len(sub),
        "skipped": int(len(test) - len(sub)),
        "n_samples": n_samples,
        "seconds": time.perf_counter() - t0,
    }


def evaluate_size(
    model: Any,
    test: CascadeSet,
    *,
    n_observed: int = 5,
    n_samples: int = 1000,
    max_size: int = 1000,
    batch_rows: int = 50_000,
    batch_cells: int = 300_000,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
) -> dict[str, float]:
    """Size identification (paper §5.5): reveal the first ``n_observed`` users (the whole cascade
    if shorter), simulate until END or ``max_size`` users in all; predicted size = mean simulated
    size over the samples; MSLE = mean (ln|c| − ln pred)² (`metrics.size_msle_ln`). ``capped`` counts
    samples that reached ``max_size`` without END (their size is a lower bound)."""
    t0 = time.perf_counter()
    sizes = test.lengths
    if np.any(sizes < 1):
        raise ValueError("size identification needs non-empty cascades")
    if max_size < n_observed:
        raise ValueError(f"max_size ({max_size}) must be ≥ n_observed ({n_observed})")
    prefix_len = np.minimum(sizes, n_observed).astype(np.int64)
    caps = (max_size - prefix_len).astype(np.int64)
    pred = np.zeros(len(test))
    capped = 0
    for i, samples in _simulate(
        model, test, prefix_len, caps, n_samples=n_samples, batch_rows=batch_rows,
        batch_cells=batch_cells, seed=seed, device=device, progress=progress, desc="size",
    ):  # fmt: skip
        generated = (samples < model.n_users).sum(axis=1)
        capped += int((generated == caps[i]).sum())
        pred[i] = prefix_len[i] + generated.mean()
    return {
        "msle_ln": size_msle_ln(pred, sizes),
        "mean_pred_size": float(pred.mean()),
        "mean_true_size": float(sizes.mean()),
        "capped_samples": capped,
        "n_cascades": len(test),
        "n_samples": n_samples,
        "seconds": time.perf_counter() - t0,
    }


@dataclass
class IdentificationOptions:
    """``n_samples``: Monte Carlo continuations per test cascade (S; the paper's 1000, the authors'
    evaluator 100); ``first_k``: the early-stage variant's cut; ``seed``: None = the run's seed;
    ``valid_samples``: S of the per-epoch validation when a model selects on this task;
    ``batch_rows`` / ``batch_cells``: decoding batch limits (memory, not results)."""

    n_samples: int = 1000
    first_k: int = 5
    seed: int | None = None
    valid_samples: int = 100
    batch_rows: int = 50_000
    batch_cells: int = 300_000

    def __post_init__(self) -> None:
        if self.n_samples < 1 or self.valid_samples < 1 or self.first_k < 1:
            raise ValueError("n_samples, valid_samples and first_k must be >= 1")


class Identification(Task):
    """Seed-only diffusion identification (NDM §5.3): Macro/Micro-F1 on all users and on the
    first five. Selects on validation Macro-F1 with ``valid_samples`` samples (next-user metrics
    do not track identification: on Irvine validation NLL picks epoch 12, .030/.062, the last
    epoch gives .090/.114 — the NDM/LSTM reference presets keep the last epoch)."""

    name = "identification"
    summary = "seed-only Monte Carlo diffusion identification: Macro/Micro-F1"
    split_options = CascadeSplitOptions
    Options = IdentificationOptions
    protocols = (SequenceSampler, CascadeSimulator)
    monitor = ("macro_f1", "max")

    def build(self, bundle: DatasetBundle, seed: int) -> Split:
        return cascade_split(bundle, seed, self.split)

    def validator(self) -> Any:
        n = self.options.valid_samples
        return lambda net, valid: evaluate_identification(net, valid, n_samples=n, progress=False)

    def evaluate(
        self, model: Any, split: Split, *, seed: int = 0, progress: bool = False
    ) -> dict[str, Any]:
        o = self.options
        return evaluate_identification(
            self.check(model), split.test, n_samples=o.n_samples, first_k=o.first_k,
            batch_rows=o.batch_rows, batch_cells=o.batch_cells,
            seed=seed if o.seed is None else o.seed, progress=progress,
        )  # fmt: skip


@dataclass
class SizeOptions:
    """``n_observed``: users revealed per test cascade (paper: 5); ``n_samples``: simulations per
    cascade; ``max_size``: a sample stops there if it never draws END (None: the longest training
    cascade, so sampling is bounded by what the data shows); ``seed``: None = the run's seed."""

    n_samples: int = 100
    n_observed: int = 5
    max_size: int | None = None
    seed: int | None = None
    valid_samples: int = 20
    batch_rows: int = 50_000
    batch_cells: int = 300_000

    def __post_init__(self) -> None:
        if self.n_samples < 1 or self.n_observed < 1 or self.valid_samples < 1:
            raise ValueError("n_samples, n_observed and valid_samples must be >= 1")


class SizeIdentification(Task):
    """Cascade size from the first users (NDM §5.5): simulate until END, MSLE with natural logs
    (``msle_ln``). Needs a model that learned to stop: one trained with END never a target
    (``end_weight=0``, the reference presets) is refused, its samples would run to ``max_size``."""

    name = "size_identification"
    summary = "final cascade size from the first users by simulation: MSLE (natural log)"
    split_options = CascadeSplitOptions
    Options = SizeOptions
    protocols = (SequenceSampler, CascadeSimulator)
    monitor = ("msle_ln", "min")

    def build(self, bundle: DatasetBundle, seed: int) -> Split:
        return cascade_split(bundle, seed, self.split)

    def _max_size(self, split: Split) -> int:
        o = self.options
        longest = int(split.train.lengths.max(initial=o.n_observed))
        return max(o.max_size if o.max_size is not None else longest, o.n_observed)

    def validator(self) -> Any:
        o = self.options

        def check(net: Any, valid: CascadeSet) -> dict[str, Any]:
            cap = max(o.max_size or int(valid.lengths.max(initial=1)), o.n_observed)
            return evaluate_size(
                net, valid, n_observed=o.n_observed, n_samples=o.valid_samples, max_size=cap,
                progress=False,
            )  # fmt: skip

        return check

    def check(self, model: Any) -> Any:
        net = super().check(model)
        if getattr(getattr(model, "config", None), "end_weight", 1.0) == 0:
            raise CascadeKitError(
                "this model was trained with END never a target (end_weight=0, e.g. the "
                "reference_code preset): its samples never stop, so size identification cannot "
                "score it; train with --preset paper (or --set end_weight=1)"
            )
        return net

    def evaluate(
        self, model: Any, split: Split, *, seed: int = 0, progress: bool = False
    ) -> dict[str, Any]:
        o = self.options
        return evaluate_size(
            self.check(model), split.test, n_observed=o.n_observed, n_samples=o.n_samples,
            max_size=self._max_size(split), batch_rows=o.batch_rows, batch_cells=o.batch_cells,
            seed=seed if o.seed is None else o.seed, progress=progress,
        )  # fmt: skip
