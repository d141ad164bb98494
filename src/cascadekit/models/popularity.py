"""What the size regressors of the popularity task share (`tasks.popularity`): log targets, views
of the observed cascades (times since publication, the repost tree's ancestor chains, padded
per-adoption columns), the training users' embedding with one UNK row, and `SizeEstimator`, the
torch estimator the neural ones (`lstm_size`, `deephawkes`, ...) subclass.

Inputs are the task's observed prefixes: `CascadeSet` parts whose ``attrs["observation_window_s"]``
is the window T_o and whose ``meta["label"]`` is the increment. Every model regresses
z = log2(label + 1) and predicts the increment 2^ẑ − 1 (at least 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cascadekit.data.cascades import CascadeSet
from cascadekit.errors import CascadeKitError
from cascadekit.metrics import msle_log2
from cascadekit.models.base import Preset
from cascadekit.models.batching import length_buckets
from cascadekit.models.estimator import TorchEstimator


def log_labels(cascades: CascadeSet) -> np.ndarray:
    """Shapes: (C,) float32 log2(label + 1), the regression target."""
    if "label" not in cascades.meta:
        raise CascadeKitError("size regressors train on labelled cascades (the popularity task)")
    return np.log2(cascades.meta["label"].astype(np.float64) + 1).astype(np.float32)


def increments(log_pred: np.ndarray) -> np.ndarray:
    """Predicted increments 2^ẑ − 1, at least 0. Shapes: (C,) → (C,) float64."""
    return np.maximum(np.exp2(np.asarray(log_pred, dtype=np.float64)) - 1, 0.0)


def observation_window_of(cascades: CascadeSet) -> float:
    """T_o in seconds, from the task's observed cascades."""
    window = cascades.attrs.get("observation_window_s")
    if window is None:
        raise CascadeKitError(
            "these cascades carry no observation window: size models take the observed "
            "cascades of the popularity task (attrs['observation_window_s'])"
        )
    return float(window)


def relative_times(cascades: CascadeSet) -> np.ndarray:
    """Seconds since publication of every adoption, at least 0 (CED dates two reposts before
    their source: they count as at publication). Shapes: (N,) float64."""
    return np.maximum(cascades.times - np.repeat(cascades.start_times(), cascades.lengths), 0.0)


def parent_positions(cascades: CascadeSet) -> np.ndarray:
    """Each adoption's parent as a position in its cascade, −1 for none; without parents every
    adopter hangs from the first (the star `data.cascades.Cascade.edges` assumes too).

    Shapes: (N,) int64."""
    if cascades.parents is None:
        return np.where(cascades.positions > 0, 0, -1).astype(np.int64)
    return cascades.parents


def ancestor_rows(cascades: CascadeSet) -> np.ndarray:
    """Each adoption's chain up the repost tree as global row numbers: column 0 the adoption
    itself, column k its k-th ancestor, −1 past the top. A chain stops at an adoption with no
    known parent (the root, or a parent the data could not resolve). Without parents every
    adopter hangs from the first (the star `data.cascades.Cascade.edges` assumes too).

    Shapes: returns (N, D + 1) int64, D = the deepest chain."""
    n = cascades.n_events
    parent = parent_positions(cascades)
    start = np.repeat(cascades.offsets[:-1], cascades.lengths)
    up = np.where(parent >= 0, start + parent, -1)
    chains = [np.arange(n, dtype=np.int64)]
    while n and np.any(chains[-1] >= 0):
        last = chains[-1]
        chains.append(np.where(last >= 0, up[np.maximum(last, 0)], -1))
    return np.stack(chains[:-1] if n else chains, axis=1)


def padded(cascades: CascadeSet, values: np.ndarray, fill: float | int = 0) -> np.ndarray:
    """Per-adoption ``values`` as one row per cascade, right-padded with ``fill``.

    Shapes: values (N, ...) → (C, L, ...) with L = the longest cascade (at least 1)."""
    width = max(int(cascades.lengths.max(initial=0)), 1)
    out = np.full((len(cascades), width, *values.shape[1:]), fill, values.dtype)
    out[cascades.cascade_index, cascades.positions] = values
    return out


def last_states(outputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each row's RNN output at its last real step. A unidirectional RNN over right-padded rows
    gives there exactly the state a packed pass ends with; the fused padded pass is several
    times faster on CPU (measured: LSTM, 32 × 800 steps, forward + backward 0.32 s padded,
    2.8 s packed).

    Shapes: outputs (B, L, H), lengths (B,) long in 1 … L → (B, H)."""
    return outputs[torch.arange(len(outputs), device=outputs.device), lengths - 1]


def train_user_rows(train: CascadeSet, min_count: int = 1) -> np.ndarray:
    """Embedding row of every user of the vocabulary: 1 … K for the K users adopting in at least
    ``min_count`` of the training part's observed prefixes (in vocabulary order), 0 (UNK) for
    everyone else — users unseen in training among them.

    Shapes: (V,) int64."""
    known = np.bincount(train.users, minlength=train.n_users) >= min_count
    rows = np.zeros(train.n_users, dtype=np.int64)
    rows[known] = np.arange(1, int(known.sum()) + 1)
    return rows


class TrainUsers(nn.Module):
    """Embedding of the training users (`train_user_rows`); everyone else shares row 0 (UNK).
    ``rows`` (a buffer, saved with the weights) maps the dataset vocabulary to embedding rows."""

    def __init__(self, n_users: int, n_known: int, dim: int) -> None:
        super().__init__()
        self.register_buffer("rows", torch.zeros(n_users, dtype=torch.long))
        self.embed = nn.Embedding(n_known + 1, dim)

    def forward(self, users: torch.Tensor) -> torch.Tensor:
        """Shapes: users (...) long vocabulary indices → (..., dim)."""
        return self.embed(self.rows[users])


class SizeNet(nn.Module):
    """A network of the popularity task. Subclasses implement ``encode`` (observed cascades → a
    dict of tensors, no target) and ``forward`` (that dict → predicted log2(increment + 1)) and
    end in ``head``, an ``nn.Sequential`` whose last layer is the output ``nn.Linear`` (its bias
    starts at the mean training target; a network with other outputs overrides
    `init_output_bias`). `predict_increment` is
    `models.base.PopularityRegressor`; it clamps log2(ŷ + 1) to the largest training value +
    ``max_log_margin`` (`SizeOptions`)."""

    head: nn.Sequential

    def __init__(self, meta: dict[str, Any], config: SizeOptions) -> None:
        super().__init__()
        self.users = TrainUsers(meta["n_users"], meta["n_known_users"], config.embedding_dim)
        self.observation_window = float(meta["observation_window_s"])
        margin = config.max_log_margin
        self.max_log = math.inf if margin is None else meta["max_log_label"] + margin

    def encode(self, cascades: CascadeSet) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def init_output_bias(self, value: float) -> None:
        """Start the output layer's bias at ``value`` (the mean training target)."""
        self.head[-1].bias.fill_(value)

    def check_input(self, cascades: CascadeSet) -> None:
        """Refuse cascades of another vocabulary or observation window than training's."""
        if cascades.n_users != len(self.users.rows):
            raise CascadeKitError(
                f"cascades over {cascades.n_users} users, the model was trained over "
                f"{len(self.users.rows)}: predict on the dataset it was trained on"
            )
        window = observation_window_of(cascades)
        if window != self.observation_window:
            raise CascadeKitError(
                f"cascades observed for {window:g} s, the model was trained on "
                f"{self.observation_window:g} s windows"
            )

    @torch.no_grad()
    def predict_increment(self, cascades: CascadeSet, batch_size: int = 256) -> np.ndarray:
        """Shapes: C observed cascades → (C,) float64 predicted adoptions in [T_o, T_p), ≥ 0."""
        self.check_input(cascades)
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        out = np.zeros(len(cascades), dtype=np.float64)
        for idx in length_buckets(cascades.lengths, batch_size, shuffle=False, seed=0):
            batch = self.encode(cascades.subset(idx))
            out[idx] = self({k: v.to(device) for k, v in batch.items()}).double().cpu().numpy()
        self.train(was_training)
        return increments(np.minimum(out, self.max_log))


@dataclass
class SizeOptions:
    """Fields every neural size regressor has (first in each config). DMT-LIC §3.1 uses these
    settings for every baseline: user embeddings of 50, learned at 1e-4 (1e-3 for the rest:
    ``TrainConfig.lr``). ``min_user_count``: users adopting in fewer training cascades share the
    UNK row with the users never seen in training. A toolkit choice, default 2: with 1 no
    training row ever reaches UNK, so the row most test adoptions use is never trained (on CED
    at T_o = 1 h, 94 % of test adoptions are by users absent from training); with 2 the UNK row
    learns from the users seen once (95 % of CED's 232k training users) and the table shrinks
    19-fold (only 1.6 % of CED's test adoptions are by users seen twice or more in training).
    ``bucket_pool``: training batches are sorted by length within pools of this many batches
    (`models.batching.length_buckets`; 1 = plain random batches), which matters for models that
    run over the adoption sequence. ``max_log_margin``: predictions are clamped to
    log2(ŷ + 1) ≤ the largest training log2(y + 1) + this (None: no clamp). A toolkit choice:
    a sum over paths (DeepHawkes) grows linearly with the cascade, so one test cascade larger
    than every training cascade was predicted 3·10^7 adoptions on the planted problem (label
    336), which alone added 4.5 to the test MSLE."""

    embedding_dim: int = 50
    embedding_lr: float = 1e-4
    min_user_count: int = 2
    bucket_pool: int = 1
    max_log_margin: float | None = 1.0

    def __post_init__(self) -> None:
        if self.embedding_dim < 1:
            raise ValueError(f"embedding_dim must be >= 1, got {self.embedding_dim}")
        if self.embedding_lr <= 0:
            raise ValueError(f"embedding_lr must be > 0, got {self.embedding_lr}")
        if self.min_user_count < 1:
            raise ValueError(f"min_user_count must be >= 1, got {self.min_user_count}")
        if self.bucket_pool < 1:
            raise ValueError(f"bucket_pool must be >= 1, got {self.bucket_pool}")
        if self.max_log_margin is not None and self.max_log_margin < 0:
            raise ValueError(f"max_log_margin must be >= 0 or None, got {self.max_log_margin}")


class SizeEstimator(TorchEstimator):
    """Batches of cascades (seeded per epoch), MSE on log2(label + 1), validation MSLE
    without a task, and the user embedding in its own parameter group. A subclass sets ``name``
    and ``config_class`` (a `SizeOptions`) and implements ``_network(meta)``."""

    default_monitor = ("loss", "min")

    def _network(self, meta: dict[str, Any]) -> SizeNet:
        raise NotImplementedError

    def _build_meta(self, train: CascadeSet) -> dict[str, Any]:
        # the vocabulary map lives in the network's `rows` buffer (saved with the weights)
        self._train_rows = train_user_rows(train, self.config.min_user_count)
        target = log_labels(train)
        return {
            "n_users": int(train.n_users),
            "n_known_users": int(self._train_rows.max(initial=0)),
            "observation_window_s": observation_window_of(train),
            "mean_log_label": float(target.mean()),
            "max_log_label": float(target.max()),
        }

    def _build(self, meta: dict[str, Any]) -> SizeNet:
        net = self._network(meta)
        rows = getattr(self, "_train_rows", None)
        if rows is not None:  # fitting; `load` fills both from the weights instead
            net.users.rows.copy_(torch.from_numpy(rows))
            net.init_output_bias(meta["mean_log_label"])
        return net

    def _batches(self, train: CascadeSet, epoch: int) -> Any:
        """Batches (``bucket_pool``), reshuffled with ``seed + epoch``; ``epoch = -1``: in order."""
        tc = self.train_config
        order = length_buckets(
            train.lengths, tc.batch_size, shuffle=epoch >= 0, seed=tc.seed + max(epoch, 0),
            pool=self.config.bucket_pool,
        )  # fmt: skip
        for idx in order:
            part = train.subset(idx)
            yield {**self.module_.encode(part), "target": torch.from_numpy(log_labels(part))}

    def _loss(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return F.mse_loss(module(batch), batch["target"])

    def _validate(self, module: nn.Module, valid: CascadeSet) -> dict[str, float]:
        """``loss``: validation MSLE (the task's validator reports the same as ``msle``)."""
        return {"loss": msle_log2(module.predict_increment(valid), valid.meta["label"])}

    def _param_groups(self, module: nn.Module) -> list[dict[str, Any]]:
        embedding = list(module.users.parameters())
        ids = {id(p) for p in embedding}
        rest = [p for p in module.parameters() if id(p) not in ids]
        return [{"params": embedding, "lr": self.config.embedding_lr}, {"params": rest}]


# the training settings DMT-LIC §3.1 gives its baselines, shared by every size regressor
SIZE_PAPER_PRESET = Preset(
    "DMT-LIC §3.1 baseline settings: Adam 1e-3 (user embeddings 1e-4), batch 32, stop after "
    "10 validation checks without improvement (≤ 100 epochs), selection on validation MSLE",
    "paper",
    train={"lr": 1e-3, "batch_size": 32, "patience": 10, "max_epochs": 100},
)
