"""User-frequency baseline: every user scored by the log of how many training cascades they
adopted in (END by the number of cascades), whatever the prefix. The floor a next-user model must
beat; it also samples continuations (`begin`/`step`), so it runs through identification too.
(Not the *popularity* task of DMT-LIC / MMCAs, which predicts cascade sizes.)"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cascadekit.data.cascades import CascadeSet
from cascadekit.models.base import read_model_header, write_model_header


@dataclass
class UserFrequencyConfig:
    """``smoothing`` is added to every count, so users never seen in training keep a finite
    score."""

    smoothing: float = 1.0

    def __post_init__(self) -> None:
        if self.smoothing <= 0:
            raise ValueError(f"smoothing must be > 0, got {self.smoothing}")


class UserFrequency:
    """Implements `models.base.SequentialDiffusionModel` with no trained parameters:
    ``UserFrequency().fit(train)``."""

    name = "user_frequency"
    config_class = UserFrequencyConfig

    def __init__(self, config: UserFrequencyConfig | None = None) -> None:
        self.config = config or UserFrequencyConfig()

    def fit(self, train: CascadeSet, valid: CascadeSet | None = None, **_: Any) -> UserFrequency:
        """Counts adoptions in ``train`` (``valid`` and the pipeline's keywords are not used)."""
        counts = np.bincount(train.users, minlength=train.n_users).astype(np.float64)
        self.counts_ = np.append(counts, len(train))
        return self

    def use_bundle(self, bundle: Any) -> UserFrequency:
        return self

    @property
    def n_users(self) -> int:
        return len(self.counts_) - 1

    @property
    def scores(self) -> torch.Tensor:
        """log(count + smoothing) per user, END last. Shapes: (V + 1,)."""
        return torch.log(torch.tensor(self.counts_ + self.config.smoothing)).float()

    def logits(self, seq: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """Shapes: seq (B, L) → (B, L, V+1), or (N, V+1) at the true entries of ``positions``."""
        rows = seq.shape if positions is None else (int(positions.sum()),)
        return self.scores.expand(*rows, -1).clone()

    def begin(self, prefix: torch.Tensor, capacity: int | None = None) -> tuple[torch.Tensor, int]:
        """Shapes: prefix (B, L0) → logits (B, V+1); the state is just the row count."""
        return self.scores.expand(len(prefix), -1).clone(), len(prefix)

    def step(self, state: int, tokens: torch.Tensor) -> tuple[torch.Tensor, int]:
        return self.scores.expand(len(tokens), -1).clone(), len(tokens)

    def save(self, path: str | Path) -> Path:
        folder = Path(path)
        write_model_header(
            folder, self.name, {"config": asdict(self.config), "counts": self.counts_.tolist()}
        )
        return folder

    @classmethod
    def load(cls, path: str | Path) -> UserFrequency:
        header = read_model_header(Path(path), (cls.name,))
        model = cls(UserFrequencyConfig(**header["config"]))
        model.counts_ = np.asarray(header["counts"], dtype=np.float64)
        return model
