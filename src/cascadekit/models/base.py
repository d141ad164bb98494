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
    """What `tasks.next_user` and `tasks.identification` need from a neural sequence model.

    The logits ``begin`` and ``step`` return are new tensors the caller owns (samplers mask them in
    place)."""

    n_users: int

    def logits(self, seq: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """Next-adopter scores after every prefix, or only at ``positions`` (training and
        evaluation skip the padding this way).

        Shapes:
            seq: (B, L) long tokens, PAD-padded on the right; positions: (B, L) bool or None.
            return: (B, L, V + 1) unnormalised scores over users and END, or (N, V + 1) for the N
            true entries of ``positions`` in row-major order.
        """
        ...

    def begin(self, prefix: torch.Tensor, capacity: int | None = None) -> tuple[torch.Tensor, Any]:
        """Start incremental decoding from observed prefixes (no PAD inside). ``capacity``: the
        length decoding will reach at most (prefix + new tokens), so a cache can be sized once.

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
