"""The registry: names, checksums, mirror/cache resolution and clear errors."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from cascadekit import datasets
from cascadekit.errors import CascadeKitError, ChecksumError, UnknownDatasetError

SHARED_FOLDERS = {
    "c4_music2_url",
    "ced_weibo_rumor",
    "forest_memetracker",
    "forest_twitter",
    "lastfm_hetrec2011_2k",
    "melcup17_darwin_twitter_influence",
    "mshgat_android",
    "mshgat_christianity",
    "ndm_irvine",
    "ndm_lastfm",
    "ndm_memetracker",
    "weibo_casflow_sample",
    "weibo_deephawkes_obs1h",
}


def test_registry_names_are_the_mirror_folders() -> None:
    assert set(datasets.names()) == SHARED_FOLDERS


def test_every_file_has_a_pinned_origin_and_checksum() -> None:
    for name in datasets.names():
        spec = datasets.get(name)
        assert len(spec.commit) == 40 and spec.license_and_citation
        for f in spec.files:
            assert len(f.sha256) == 64
            if f.url is None:
                assert f.note, f"{name}/{f.path}: a file without URL must say how to obtain it"
            else:
                assert spec.commit in f.url and f.url.startswith("https://")


def test_unknown_name_is_a_clear_error() -> None:
    with pytest.raises(UnknownDatasetError, match="unknown dataset 'nope'.*ndm_irvine"):
        datasets.get("nope")


def test_mirror_verifies(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    for name in datasets.names():
        assert {c.status for c in datasets.verify(name)} == {"ok"}, name
    assert datasets.locate("ndm_irvine") == mirror.resolve() / "ndm_irvine"


def _fake_mirror(mirror: Path, tmp: Path, corrupt: bool) -> Path:
    root = tmp / "mirror"
    shutil.copytree(mirror / "ndm_irvine", root / "ndm_irvine")
    if corrupt:
        p = root / "ndm_irvine" / "cascadetest.txt"
        p.write_bytes(p.read_bytes()[:-10])
    return root


def test_checksum_mismatch_names_the_file(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(_fake_mirror(mirror, tmp_path, corrupt=True)))
    checks = {c.path: c.status for c in datasets.verify("ndm_irvine")}
    assert checks == {"cascade.txt": "ok", "cascadetest.txt": "mismatch"}
    with pytest.raises(ChecksumError, match=r"cascadetest\.txt: sha256 mismatch"):
        datasets.locate("ndm_irvine")


def test_partial_mirror_falls_back_to_a_verified_cache(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv(datasets.HOME_ENV, str(home))
    root = _fake_mirror(mirror, tmp_path, corrupt=False)
    (root / "ndm_irvine" / "cascade.txt").rename(tmp_path / "held_back.txt")
    monkeypatch.setenv(datasets.MIRROR_ENV, str(root))
    # cascade.txt is in neither mirror nor cache and may not be downloaded → error naming it
    with pytest.raises(CascadeKitError, match=r"ndm_irvine/cascade\.txt is not in the cache"):
        datasets.locate("ndm_irvine", download=False)
    # a user drops the file into the cache by hand: it is verified and used, and the other file is
    # copied from the mirror after verification
    (home / "ndm_irvine").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tmp_path / "held_back.txt", home / "ndm_irvine" / "cascade.txt")
    assert datasets.locate("ndm_irvine", download=False) == home / "ndm_irvine"
    for f in ("cascade.txt", "cascadetest.txt"):
        got = hashlib.sha256((home / "ndm_irvine" / f).read_bytes()).hexdigest()
        assert got == hashlib.sha256((mirror / "ndm_irvine" / f).read_bytes()).hexdigest()
    # a corrupted cached file is an error, not a silent re-download
    (home / "ndm_irvine" / "cascade.txt").write_text("tampered")
    with pytest.raises(ChecksumError, match="cascade.txt"):
        datasets.locate("ndm_irvine", download=False)
