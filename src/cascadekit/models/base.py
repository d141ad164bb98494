"""Contracts shared by the sequential (next-adopter) diffusion models and the tasks that use them.

Token convention for every sequence model over a vocabulary of V users::

    0 .. V-1   users
    V          END (the virtual "Terminate" user: the cascade stops)
    V + 1      PAD (never predicted, never attended to)

A model scores, after each prefix, which token comes next: position t of ``logits(seq)`` scores the
adopter at position t+1 (END after the last real user). Tasks, not models, apply the protocol's masks
(already-infected users) so that every model is compared on exactly the same positions.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch


def end_token(n_users: int) -> int:
    return n_users


def pad_token(n_users: int) -> int:
    return n_users + 1


@runtime_checkable
class SequentialDiffusionModel(Protocol):
    """What `tasks.next_user` and `tasks.identification` need from a neural sequence model."""

    n_users: int

    def logits(self, seq: torch.Tensor) -> torch.Tensor:
        """Next-adopter scores after every prefix.

        Shapes:
            seq: (B, L) long tokens, PAD-padded on the right.
            return: (B, L, V + 1) unnormalised scores over users and END.
        """
        ...

    def begin(self, prefix: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """Start incremental decoding from observed prefixes (no PAD inside).

        Shapes:
            prefix: (B, L0) long tokens.
            return: logits (B, V + 1) for the next adopter, and an opaque decoding state.
        """
        ...

    def step(self, state: Any, tokens: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """Append one adopter per row and score the next one in O(current length).

        Shapes:
            tokens: (B,) long; return: logits (B, V + 1), new state.
        """
        ...
