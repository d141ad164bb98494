"""LSTM next-adopter baseline (NDM paper §5.1: an RNN over the infected users with a softmax over
the next one). Implements `models.base.SequentialDiffusionModel`; O(1) per decoding step."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cascadekit.models.base import Preset, pad_token
from cascadekit.models.sequence import SequenceEstimator, SequenceOptions, check_dropout


@dataclass
class LSTMConfig(SequenceOptions):
    """NDM §5.1 tunes the embedding and hidden sizes over {16, 32, 64, 128} and states no dropout;
    64 / 64 (NDM's own d) with dropout 0.1 on the LSTM output are the defaults here."""

    embedding_dim: int = 64
    hidden_dim: int = 64
    dropout: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        if min(self.embedding_dim, self.hidden_dim) < 1:
            raise ValueError("embedding_dim and hidden_dim must be >= 1")
        check_dropout(dropout=self.dropout)


PRESETS: dict[str, Preset] = {
    "default": Preset(
        "Adam 1e-3, ≤ 50 epochs, selection and early stopping on the training task's metric "
        "(next_user: validation MAP@10)",
        "toolkit",
        train={"lr": 1e-3, "max_epochs": 50, "patience": 10},
    ),
    "reference_code": Preset(
        "trained as NDM's reference code trains NDM (END never a target, the last of 50 epochs "
        "kept): the like-for-like baseline of the NDM tables (`lstm_ref`)",
        "code",
        model={"end_weight": 0.0},
        train={"lr": 1e-3, "max_epochs": 50, "select": "last"},
    ),
    "nll_selection": Preset(
        "END a target, early stopping and selection on validation NLL (the `lstm` rows of the "
        "NDM tables)",
        "toolkit",
        train={"lr": 1e-3, "max_epochs": 50, "patience": 10, "select": "nll"},
    ),
}


class LSTMNet(nn.Module):
    """Embedding → one-layer LSTM → dropout → linear scores over users + END."""

    def __init__(self, n_users: int, config: LSTMConfig) -> None:
        super().__init__()
        self.n_users = n_users
        self.embed = nn.Embedding(n_users + 2, config.embedding_dim, padding_idx=pad_token(n_users))
        self.rnn = nn.LSTM(config.embedding_dim, config.hidden_dim, batch_first=True)
        self.drop = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.hidden_dim, n_users + 1)

    def logits(self, seq: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """Shapes: seq (B, L) → (B, L, V+1), or (N, V+1) at the true entries of ``positions``."""
        h, _ = self.rnn(self.embed(seq))
        return self.out(self.drop(h if positions is None else h[positions]))

    def begin(
        self, prefix: torch.Tensor, capacity: int | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Shapes: prefix (B, L0) → logits (B, V+1), state (h, c) each (1, B, H); the state has a
        fixed size, so ``capacity`` is not needed."""
        h, state = self.rnn(self.embed(prefix))
        return self.out(self.drop(h[:, -1])), state

    def step(
        self, state: tuple[torch.Tensor, torch.Tensor], tokens: torch.Tensor
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Shapes: tokens (B,) → logits (B, V+1), new state."""
        h, state = self.rnn(self.embed(tokens)[:, None, :], state)
        return self.out(self.drop(h[:, 0])), state


class LSTM(SequenceEstimator):
    """Estimator: ``LSTM(LSTMConfig(), TrainConfig()).fit(train, valid)``."""

    name = "lstm"
    config_class = LSTMConfig

    def _network(self, meta: dict) -> LSTMNet:
        return LSTMNet(meta["n_users"], self.config)
