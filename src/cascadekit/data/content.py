"""`Content`: side information keyed to cascades and users (post text, user profiles, image features).

Fields::

    texts          dict cascade id -> source-post text
    profiles       dict field -> (V,) array over the user vocabulary (NaN / "" where unknown)
    post_fields    dict field -> (C,) array over cascades (likes, comments, image count, ...)
    image_features (C, D) float32 or None, rows aligned with ``cascade_ids``; ``image_mask`` (C,) bool
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Content:
    cascade_ids: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    profiles: dict[str, np.ndarray] = field(default_factory=dict)
    post_fields: dict[str, np.ndarray] = field(default_factory=dict)
    image_features: np.ndarray | None = None
    image_mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        n_c = len(self.cascade_ids)
        for k, v in self.post_fields.items():
            if len(v) != n_c:
                raise ValueError(f"post field {k!r} has {len(v)} rows for {n_c} cascades")
        if self.image_features is not None and len(self.image_features) != n_c:
            raise ValueError("image_features must have one row per cascade")
        sizes = {len(v) for v in self.profiles.values()}
        if len(sizes) > 1:
            raise ValueError("all profile fields must cover the same users")

    def text(self, cascade_id: str) -> str:
        return self.texts.get(str(cascade_id), "")

    def statistics(self) -> dict[str, int]:
        return {
            "texts": sum(bool(t) for t in self.texts.values()),
            "profile_fields": len(self.profiles),
            "post_fields": len(self.post_fields),
            "images": 0 if self.image_mask is None else int(self.image_mask.sum()),
        }
