"""`DatasetBundle`: everything a reader produced from one dataset, sharing one user vocabulary."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cascadekit.data.atomic import check_output, replace_folder, temporary_sibling
from cascadekit.data.cascades import CascadeSet, decode_column, encode_column
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

    # ------------------------------------------------------------------ Parquet folder
    def save(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write the bundle as a folder of Parquet files (+ small JSON sidecars); lossless.

        Atomic (`data.atomic`): everything is written into a temporary sibling folder that takes
        ``folder``'s place only when complete, so a killed process leaves the old bundle or the
        new one, never a half bundle or a mix. A non-empty ``folder`` is refused unless
        ``overwrite``, and even then only a saved bundle (``bundle.json``) is replaced: never a
        file or a folder of other files."""
        folder = Path(folder)
        check_output(folder, overwrite=overwrite, folder=True, marker="bundle.json")
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_sibling(folder)
        tmp.mkdir()  # not mkdtemp: the bundle gets the usual permissions, not 0700
        try:
            self._write(tmp)
            replace_folder(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return folder

    def _write(self, folder: Path) -> None:
        if self.cascades is not None:
            self.cascades.to_parquet(folder / "cascades.parquet")
        if self.events is not None:
            self.events.to_parquet(folder / "events.parquet")
        for k, ev in self.event_splits.items():
            ev.to_parquet(folder / f"events.{k}.parquet")
        if self.graph is not None:
            self.graph.to_parquet(folder / "graph.parquet")
        manifest = {
            "name": self.name,
            "splits": {k: v.tolist() for k, v in self.splits.items()},
            "event_splits": sorted(self.event_splits),
            "report": {"source": self.report.source, "counts": self.report.to_dict()},
            "info": self.info,
            "content": None if self.content is None else _content_to_json(self.content),
        }
        (folder / "bundle.json").write_text(json.dumps(manifest, ensure_ascii=False, default=str))

    @classmethod
    def load(cls, folder: str | Path) -> DatasetBundle:
        folder = Path(folder)
        manifest_path = folder / "bundle.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{folder}: no bundle.json (not a saved DatasetBundle)")
        m = json.loads(manifest_path.read_text())
        part = folder.joinpath
        return cls(
            name=m["name"],
            cascades=CascadeSet.from_parquet(part("cascades.parquet"))
            if part("cascades.parquet").is_file()
            else None,
            splits={k: np.asarray(v, dtype=np.int64) for k, v in m["splits"].items()},
            events=EventLog.from_parquet(part("events.parquet"))
            if part("events.parquet").is_file()
            else None,
            event_splits={
                k: EventLog.from_parquet(part(f"events.{k}.parquet")) for k in m["event_splits"]
            },
            graph=SocialGraph.from_parquet(part("graph.parquet"))
            if part("graph.parquet").is_file()
            else None,
            content=None if m["content"] is None else _content_from_json(m["content"]),
            report=ReadReport(m["report"]["source"], Counter(m["report"]["counts"])),
            info=m["info"],
        )


def _content_to_json(c: Content) -> dict[str, Any]:
    return {
        "cascade_ids": list(c.cascade_ids),
        "texts": c.texts,
        "profiles": {k: encode_column(v) for k, v in c.profiles.items()},
        "post_fields": {k: encode_column(v) for k, v in c.post_fields.items()},
        "image_features": None
        if c.image_features is None
        else encode_column(c.image_features.ravel()),
        "image_shape": None if c.image_features is None else list(c.image_features.shape),
        "image_mask": None if c.image_mask is None else encode_column(c.image_mask),
    }


def _content_from_json(d: dict[str, Any]) -> Content:
    feats = d["image_features"]
    return Content(
        cascade_ids=d["cascade_ids"],
        texts=d["texts"],
        profiles={k: decode_column(v) for k, v in d["profiles"].items()},
        post_fields={k: decode_column(v) for k, v in d["post_fields"].items()},
        image_features=None if feats is None else decode_column(feats).reshape(d["image_shape"]),
        image_mask=None if d["image_mask"] is None else decode_column(d["image_mask"]),
    )
