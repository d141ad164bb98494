"""Shared fixtures: the real-data mirror (from CASCADEKIT_MIRROR) and an isolated cache home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fake_registry import FakeDataset, install_fake_dataset


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    # tests never write into the user's real cache
    os.environ["CASCADEKIT_HOME"] = str(tmp_path_factory.mktemp("cascadekit_home"))


@pytest.fixture(scope="session")
def mirror() -> Path:
    """Root of the real-data mirror (CI sets CASCADEKIT_MIRROR=../shared/data)."""
    env = os.environ.get("CASCADEKIT_MIRROR")
    if not env:
        pytest.skip("CASCADEKIT_MIRROR is not set: real-data tests need the dataset mirror")
    return Path(env)


@pytest.fixture
def fake_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeDataset:
    """A tiny registered dataset with its own mirror and cache home (see tests/fake_registry.py)."""
    return install_fake_dataset(tmp_path, monkeypatch)
