"""Shared fixtures: the real-data mirror (from CASCADEKIT_MIRROR) and an isolated cache home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


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
