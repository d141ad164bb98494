"""A tiny registered dataset in a temp folder, so the registry's logic is tested without the mirror.

``install_fake_dataset`` writes a few lines-format files into an "origin" folder, registers them
(size, sha256 and a ``file://`` URL, so even a download stays offline) beside the real registry,
copies them into a fresh mirror and points ``$CASCADEKIT_MIRROR`` / ``$CASCADEKIT_HOME`` at temp
folders. ``bundle_differences`` compares two bundles field by field (the processed cache must give
back exactly what the reader built).
"""

from __future__ import annotations

import hashlib
import math
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cascadekit import datasets
from cascadekit.data.formats import lines

NAME = "fake_lines"
# 3 cascades, 7 adoptions, users a–d; shipped split train (2) / test (1)
FILES = {"cascade.txt": "a,1 b,2 c,3\nb,4 d,5\n", "cascadetest.txt": "c,6 a,7\n"}


@dataclass
class FakeDataset:
    """Where the fake dataset's copies live; ``registry`` is the patched registry (mutable)."""

    name: str
    origin: Path
    mirror: Path
    home: Path
    registry: dict[str, datasets.DatasetSpec]

    @property
    def spec(self) -> datasets.DatasetSpec:
        return self.registry[self.name]

    @property
    def mirror_folder(self) -> Path:
        return self.mirror / self.name

    @property
    def cache_folder(self) -> Path:
        return self.home / self.name

    def processed_entries(self) -> list[Path]:
        """Finished processed-cache entries of this dataset (temporary folders excluded)."""
        root = self.home / "processed" / self.name
        if not root.is_dir():
            return []
        return sorted(p for p in root.iterdir() if not p.name.startswith("."))

    def publish(self, path: str, text: str) -> None:
        """A new pinned version of one file: new bytes in origin and mirror, new registry hash."""
        for folder in (self.origin, self.mirror_folder):
            (folder / path).write_text(text)
        files = tuple(
            _remote(self.origin, f.path) if f.path == path else f for f in self.spec.files
        )
        self.registry[self.name] = replace(self.spec, files=files)


def _remote(origin: Path, path: str) -> datasets.RemoteFile:
    data = (origin / path).read_bytes()
    return datasets.RemoteFile(
        path=path,
        url=(origin / path).as_uri(),
        origin_path=path,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def install_fake_dataset(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    name: str = NAME,
    files: dict[str, str] = FILES,
    reader: str = "lines:read_lines_dataset",
    reader_kwargs: dict[str, Any] | None = None,
) -> FakeDataset:
    """Register ``files`` as dataset ``name`` (read with ``reader``) for the current test only."""
    origin = tmp_path / "origin"
    origin.mkdir(parents=True)
    for path, text in files.items():
        (origin / path).write_text(text)
    spec = datasets.DatasetSpec(
        name=name,
        title=f"{name} — a tiny test dataset",
        repository="https://example.invalid/fake",
        commit="f" * 40,
        license_and_citation="test data, no license needed",
        reader=reader,
        reader_path=".",
        reader_kwargs=dict(reader_kwargs or {}),
        tasks=("next_user",),
        files=tuple(_remote(origin, path) for path in files),
    )
    mirror, home = tmp_path / "mirror", tmp_path / "home"
    shutil.copytree(origin, mirror / name)
    registry = {**datasets.registry(), name: spec}
    monkeypatch.setattr(datasets, "registry", lambda: registry)
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    monkeypatch.setenv(datasets.HOME_ENV, str(home))
    return FakeDataset(name, origin, mirror, home, registry)


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every call of the lines reader (a processed-cache hit makes none)."""
    calls: list[Path] = []
    real = lines.read_lines_dataset

    def spy(folder: Path, **kwargs: Any) -> Any:
        calls.append(Path(folder))
        return real(folder, **kwargs)

    monkeypatch.setattr(lines, "read_lines_dataset", spy)
    return calls


def bundle_differences(a: Any, b: Any, where: str = "bundle") -> list[str]:
    """Where ``a`` and ``b`` differ: types, dtypes, shapes, values and dict key order, recursively."""
    if type(a) is not type(b):
        return [f"{where}: {type(a).__name__} != {type(b).__name__}"]
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return [f"{where}: {a.dtype}{a.shape} != {b.dtype}{b.shape}"]
        same = (
            a.tolist() == b.tolist()
            if a.dtype == object
            else np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
        return [] if same else [f"{where}: values differ"]
    if isinstance(a, dict):
        if list(a) != list(b):
            return [f"{where}: keys {list(a)} != {list(b)}"]
        return [d for k in a for d in bundle_differences(a[k], b[k], f"{where}[{k!r}]")]
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return [f"{where}: length {len(a)} != {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in bundle_differences(x, y, f"{where}[{i}]")
        ]
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return []
    fields = list(vars(a)) if hasattr(a, "__dict__") else getattr(type(a), "__slots__", None)
    if fields:
        return [
            d
            for f in fields
            for d in bundle_differences(getattr(a, f), getattr(b, f), f"{where}.{f}")
        ]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]
