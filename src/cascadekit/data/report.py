"""Counts of what a reader dropped or repaired, so that no filter is silent."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

log = logging.getLogger("cascadekit.data")


@dataclass
class ReadReport:
    """What a reader saw, dropped and repaired.

    ``counts`` keys are short snake_case reasons (``"duplicate_user_dropped"``,
    ``"unsorted_cascade_sorted"``, ``"short_cascade_dropped"`` ...); values are how many items
    (events, cascades, lines) each reason touched. ``source`` names the file(s) read.
    """

    source: str = ""
    counts: Counter = field(default_factory=Counter)

    def add(self, reason: str, n: int = 1) -> None:
        if n:
            self.counts[reason] += int(n)

    def merge(self, other: ReadReport) -> ReadReport:
        self.counts.update(other.counts)
        if other.source and other.source not in self.source:
            self.source = f"{self.source}; {other.source}" if self.source else other.source
        return self

    @property
    def clean(self) -> bool:
        return not self.counts

    def log(self) -> None:
        """Log every non-zero count at WARNING level (drops are never silent)."""
        for reason, n in sorted(self.counts.items()):
            log.warning("%s: %s = %d", self.source or "input", reason, n)

    def to_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))

    def __str__(self) -> str:
        if self.clean:
            return f"{self.source}: nothing dropped or repaired"
        body = ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        return f"{self.source}: {body}"
