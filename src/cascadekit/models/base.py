"""Contracts between models and tasks: the protocols tasks evaluate, presets, the saved-model header.

Token convention for every sequence model over a vocabulary of V users::

    0 .. V-1   users
    V          END (the virtual "Terminate" user: the cascade stops)
    V + 1      PAD (never predicted, never attended to)

A model scores, after each prefix, which token comes next: position t of ``logits(seq)`` scores the
adopter at position t+1 (END after the last real user). Tasks, not models, apply the protocol's masks
(already-infected users) so that every model is compared on exactly the same positions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch

from cascadekit.errors import CascadeKitError


def end_token(n_users: int) -> int:
    return n_users


def pad_token(n_users: int) -> int:
    return n_users + 1


@runtime_checkable
class NextUserScorer(Protocol):
    """What `tasks.next_user` needs: teacher-forced next-adopter scores."""

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


@runtime_checkable
class SequenceSampler(Protocol):
    """What `tasks.identification` needs from a softmax decoder: incremental decoding. The
    logits ``begin`` and ``step`` return are new tensors the caller owns (samplers mask them in
    place)."""

    n_users: int

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


@runtime_checkable
class SequentialDiffusionModel(NextUserScorer, SequenceSampler, Protocol):
    """A neural next-adopter model (NDM, LSTM, user frequency): both of the above."""


@runtime_checkable
class CascadeSimulator(Protocol):
    """A model that samples continuations itself (Embedded IC's IC simulation) instead of
    ``begin``/``step``; scored by `tasks.identification` exactly like a softmax decoder."""

    n_users: int

    def sample_continuations(
        self, prefix: torch.Tensor, n_samples: int, max_new: Any, generator: torch.Generator
    ) -> torch.Tensor:
        """Shapes: prefix (B, L0) long users; return (B·S, max(max_new)) generated users, then END
        if the sample stopped, then PAD."""
        ...


@runtime_checkable
class InfluenceScorer(Protocol):
    """What `tasks.influence` needs: the probability that each instance's ego adopts."""

    def influence_scores(self, instances: Any) -> Any:
        """Shapes: ``instances`` a `data.influence.InfluenceInstances` of N rows; return (N,)
        float numpy array in [0, 1], read at the ego."""
        ...


@runtime_checkable
class PopularityRegressor(Protocol):
    """What `tasks.popularity` needs: each observed cascade's predicted increment."""

    def predict_increment(self, cascades: Any) -> Any:
        """Shapes: ``cascades`` a `data.cascades.CascadeSet` of N observed prefixes (what was seen
        before the observation time, ``meta["observed_size"]``); return (N,) float numpy array,
        the predicted number of adoptions in [t_obs, t_pred), ≥ 0."""
        ...


def network_of(model: Any) -> Any:
    """What a task evaluates: a fitted torch estimator's network (``module_``, which implements
    the protocol), or the model itself when it implements the protocol directly."""
    return getattr(model, "module_", model)


@dataclass(frozen=True)
class Preset:
    """A named configuration: field overrides of the model config and of `TrainConfig`.

    ``source`` says where the values come from — "code" (the authors' code, which made the
    published numbers), "paper" (the text), or "toolkit" (our choice, measured) — so
    `cascadekit models` can say which is which."""

    doc: str
    source: str
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)


MODEL_FORMAT = "cascadekit.model"
MODEL_SCHEMA = 1


def write_model_header(folder: Path, name: str, payload: dict[str, Any]) -> Path:
    """``folder/model.json``: the one versioned header every saved model has (format, schema,
    registered model name) plus the family's own ``payload``; written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.json"
    header = {"format": MODEL_FORMAT, "schema": MODEL_SCHEMA, "model": name, **payload}
    tmp = path.with_name("model.json.tmp")
    tmp.write_text(json.dumps(header, indent=2, default=_plain))
    tmp.replace(path)
    return path


def read_model_header(folder: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """The header of a saved model, checked: a cascadekit model, a schema this version reads, and
    one of the registered ``names`` the loading class can build."""
    path = Path(folder) / "model.json"
    if not path.is_file():
        raise CascadeKitError(f"{folder}: no saved model (model.json missing)")
    header = json.loads(path.read_text())
    if header.get("format") != MODEL_FORMAT:
        raise CascadeKitError(f"{path}: not a cascadekit model (format {header.get('format')!r})")
    schema = header.get("schema")
    if schema != MODEL_SCHEMA:
        raise CascadeKitError(
            f"{path}: model schema {schema}, this cascadekit reads schema {MODEL_SCHEMA}; "
            "re-train it with this version (or use the cascadekit version that wrote it)"
        )
    if header.get("model") not in names:
        raise CascadeKitError(
            f"{path} holds a {header.get('model')!r} model, not one of {', '.join(names)}"
        )
    return header


def _plain(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    return str(o)
