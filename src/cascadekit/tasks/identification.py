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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch

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
from cascadekit.parallel import check_backend, map_shards, shard_ranges, shard_seed
from cascadekit.tasks.base import Task
from cascadekit.tasks.device import device_of, resolve_device, score_budget
from cascadekit.tasks.next_user import CascadeSplitOptions, cascade_split


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


@dataclass(frozen=True)
class Sharding:
    """How the Monte Carlo work is cut and where it runs (`cascadekit.parallel`).

    Cascades, sorted by prefix length and cap, are cut into shards of ``shard_size``; shard k
    draws from its own generator seeded `shard_seed(seed, k)`, so the numbers depend on the seed,
    ``shard_size`` and the batch limits only — never on ``backend`` or ``n_jobs``."""

    backend: str = "local"
    n_jobs: int = 1
    shard_size: int = 256
    address: str | None = None

    def __post_init__(self) -> None:
        check_backend(self.backend, self.n_jobs)
        if self.shard_size < 1:
            raise ValueError(f"shard_size must be >= 1, got {self.shard_size}")


ScoreFn = Callable[[CascadeSet, int, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class _Job:
    """The Monte Carlo work on ``test``: what every shard needs besides the model.
    ``prefix_len`` / ``caps``: (C,) users revealed / at most generated per cascade;
    ``score(test, i, samples)``: cascade i's row from its (S, W) samples."""

    test: CascadeSet
    prefix_len: np.ndarray
    caps: np.ndarray
    score: ScoreFn
    n_samples: int
    batch_rows: int
    batch_cells: int
    seed: int
    device: str


def _shard_rows(shard: tuple[int, np.ndarray], *, model: Any, job: _Job) -> np.ndarray:
    """One shard's cascades (indices ``idx``, already in decoding order) → their score rows."""
    k, idx = shard
    test = job.test
    dev = resolve_device(model, job.device)
    if isinstance(model, torch.nn.Module):
        model.to(dev).eval()
    gen = torch.Generator(device=dev).manual_seed(shard_seed(job.seed, k))
    rows = min(job.batch_rows, max(1, score_budget(dev) // (model.n_users + 1)))
    out: dict[int, np.ndarray] = {}
    for group in _groups(job.prefix_len[idx], job.caps[idx], job.n_samples, rows,
                         job.batch_cells):  # fmt: skip
        cascades = idx[group]
        width = int(job.prefix_len[cascades[0]])
        prefix = torch.from_numpy(
            np.stack([test.users[test.offsets[i] : test.offsets[i] + width] for i in cascades])
        ).to(dev)
        caps = torch.from_numpy(job.caps[cascades]).to(dev)
        samples = _draw(model, prefix, job.n_samples, caps, gen)
        for j, i in enumerate(cascades):
            out[int(i)] = job.score(test, int(i), samples[j])
    return np.stack([out[int(i)] for i in idx])


def _simulate(
    model: Any, job: _Job, *, sharding: Sharding, progress: bool, desc: str
) -> np.ndarray:
    """``job.score(test, i, samples)`` for every cascade i of ``job.test`` (its (S, W) samples),
    stacked in cascade order. Samples stay where they are drawn; only the score rows come back."""
    if job.n_samples < 1:
        raise ValueError("n_samples must be at least 1")
    order = np.lexsort((job.caps, job.prefix_len))
    shards = [(k, order[r.start : r.stop])
              for k, r in enumerate(shard_ranges(len(order), sharding.shard_size))]  # fmt: skip
    module = model if isinstance(model, torch.nn.Module) else None
    home = device_of(model)
    was_training = bool(module is not None and module.training)
    try:
        parts = map_shards(
            _shard_rows, shards, backend=sharding.backend, n_jobs=sharding.n_jobs,
            address=sharding.address, progress=progress, desc=desc,
            shared={"model": model, "job": job},
        )  # fmt: skip
    finally:
        if module is not None:
            module.to(home).train(was_training)
    rows = np.zeros((len(job.test), *parts[0].shape[1:])) if parts else np.zeros((0,))
    for (_, idx), part in zip(shards, parts, strict=True):
        rows[idx] = part
    return rows


def _identification_terms(
    test: CascadeSet, i: int, samples: np.ndarray, *, n_users: int, first_k: int
) -> np.ndarray:
    """(2, 3): (right, pred, n_true) on all of the cascade's users and on its first ``first_k``."""
    truth = test.users[test.offsets[i] + 1 : test.offsets[i + 1]]
    out = np.zeros((2, 3))
    for j, n_keep in enumerate((len(truth), min(first_k, len(truth)))):
        p = infection_frequencies(samples, n_users, n_keep)
        out[j] = identification_terms(p, truth[:n_keep])
    return out


def _generated_sizes(test: CascadeSet, i: int, samples: np.ndarray, *, n_users: int) -> np.ndarray:
    """(S,): users each sample generated (END and PAD are not users)."""
    return (samples < n_users).sum(axis=1)


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
    sharding: Sharding | None = None,
    progress: bool = True,
) -> dict[str, float]:
    """Seed-only diffusion identification (paper §5.3): Macro/Micro-F1 on all users and on the
    first ``first_k``. Cascades with fewer than 2 users (nothing to identify) are skipped and
    counted in ``skipped``. ``batch_rows`` bounds the rows (cascades × samples) decoded together,
    `score_budget` their rows × (V+1) scores and ``batch_cells`` their rows × positions (memory);
    same seed, limits and shard size ⇒ same numbers, on any ``sharding`` backend and worker count.
    ``device="auto"`` uses a GPU when present."""
    t0 = time.perf_counter()
    keep = np.flatnonzero(test.lengths >= 2)
    sub = test.subset(keep)
    caps = (sub.lengths - 1).astype(np.int64)
    score = partial(_identification_terms, n_users=model.n_users, first_k=first_k)
    job = _Job(sub, np.ones(len(sub), np.int64), caps, score, n_samples, batch_rows, batch_cells,
               seed, device)  # fmt: skip
    terms = _simulate(
        model, job, sharding=sharding or Sharding(), progress=progress, desc="identification"
    ).reshape(len(sub), 2, 3)
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
    sharding: Sharding | None = None,
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
    sizes_of = partial(_generated_sizes, n_users=model.n_users)
    job = _Job(test, prefix_len, caps, sizes_of, n_samples, batch_rows, batch_cells, seed, device)
    generated = _simulate(
        model, job, sharding=sharding or Sharding(), progress=progress, desc="size"
    ).reshape(len(test), n_samples)
    pred = prefix_len + generated.mean(axis=1)
    return {
        "msle_ln": size_msle_ln(pred, sizes),
        "mean_pred_size": float(pred.mean()),
        "mean_true_size": float(sizes.mean()),
        "capped_samples": int((generated == caps[:, None]).sum()),
        "n_cascades": len(test),
        "n_samples": n_samples,
        "seconds": time.perf_counter() - t0,
    }


@dataclass
class ShardOptions:
    """Where the Monte Carlo work runs (see `Sharding`): ``backend`` local | loky | threading |
    ray | dask, ``n_jobs`` workers, ``shard_size`` cascades a shard, ``address`` of a cluster."""

    backend: str = "local"
    n_jobs: int = 1
    shard_size: int = 256
    address: str | None = None

    def sharding(self) -> Sharding:
        return Sharding(self.backend, self.n_jobs, self.shard_size, self.address)


@dataclass
class IdentificationOptions(ShardOptions):
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
        self.sharding()  # refuse a bad backend or worker count before any work
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
            seed=seed if o.seed is None else o.seed, sharding=o.sharding(), progress=progress,
        )  # fmt: skip


@dataclass
class SizeOptions(ShardOptions):
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
        self.sharding()
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
            seed=seed if o.seed is None else o.seed, sharding=o.sharding(), progress=progress,
        )  # fmt: skip
