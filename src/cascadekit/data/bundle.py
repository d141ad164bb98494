"""`DatasetBundle`: everything a reader produced from one dataset, sharing one user vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cascadekit.data.cascades import CascadeSet
from cascadekit.data.content import Content
from cascadekit.data.events import EventLog
from cascadekit.data.graph import SocialGraph
from cascadekit.data.report import ReadReport


@dataclass
class DatasetBundle:
    """What a reader returns.

    ``cascades`` holds every cascade of the dataset; ``splits`` maps a split name
    (``"train"``, ``"valid"``, ``"test"``) to cascade indices into it when the dataset ships a split.
    ``events`` is set for marked event logs (MIC-style data), ``graph`` for a social graph over the
    same user vocabulary, ``content`` for text / profiles / images.
    """

    name: str
    cascades: CascadeSet | None = None
    splits: dict[str, np.ndarray] = field(default_factory=dict)
    events: EventLog | None = None
    event_splits: dict[str, EventLog] = field(default_factory=dict)
    graph: SocialGraph | None = None
    content: Content | None = None
    report: ReadReport = field(default_factory=ReadReport)
    info: dict[str, Any] = field(default_factory=dict)

    def split(self, name: str) -> CascadeSet:
        """The cascades of a shipped split."""
        if self.cascades is None:
            raise ValueError(f"{self.name} has no cascades")
        if name not in self.splits:
            raise KeyError(
                f"{self.name} ships no {name!r} split (has: {sorted(self.splits) or 'none'})"
            )
        return self.cascades.subset(self.splits[name])

    def statistics(self) -> dict[str, Any]:
        """Counts per component and per shipped split (the ``datasets stats`` payload)."""
        out: dict[str, Any] = {"name": self.name}
        if self.cascades is not None:
            out["cascades"] = self.cascades.statistics()
            out["splits"] = {
                k: self.cascades.subset(v).statistics() for k, v in self.splits.items()
            }
        if self.events is not None:
            out["events"] = self.events.statistics()
        if self.event_splits:
            out["event_splits"] = {k: v.statistics() for k, v in self.event_splits.items()}
        if self.graph is not None:
            out["graph"] = self.graph.statistics()
        if self.content is not None:
            out["content"] = self.content.statistics()
        out["dropped_or_repaired"] = self.report.to_dict()
        return out
