"""The registry: names, checksums, mirror/cache resolution and clear errors."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import shutil
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from fake_registry import (
    FILES,
    FakeDataset,
    bundle_differences,
    count_reads,
    install_fake_dataset,
)
from typer.testing import CliRunner

from cascadekit import datasets
from cascadekit.cli import app
from cascadekit.data.bundle import DatasetBundle
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


# ---------------------------------------------------------------------------------------------
# The same logic on a tiny fake dataset (tests/fake_registry.py): runs with or without the mirror.

cli = CliRunner()


def test_fake_mirror_verifies_and_is_read_in_place(fake_dataset: FakeDataset) -> None:
    checks = datasets.verify(fake_dataset.name)
    assert [(c.path, c.status) for c in checks] == [
        ("cascade.txt", "ok"),
        ("cascadetest.txt", "ok"),
    ]
    assert datasets.locate(fake_dataset.name) == fake_dataset.mirror_folder.resolve()
    assert not fake_dataset.cache_folder.exists()  # nothing copied


def test_fake_checksum_mismatch_names_the_file(fake_dataset: FakeDataset) -> None:
    bad = fake_dataset.mirror_folder / "cascadetest.txt"
    bad.write_text("c,6 a,8\n")
    checks = {c.path: c.status for c in datasets.verify(fake_dataset.name)}
    assert checks == {"cascade.txt": "ok", "cascadetest.txt": "mismatch"}
    with pytest.raises(ChecksumError, match=r"cascadetest\.txt: sha256 mismatch") as e:
        datasets.load(fake_dataset.name)
    assert e.value.path == str(bad.resolve())


def test_a_same_size_edit_with_its_mtime_restored_is_still_caught(
    fake_dataset: FakeDataset,
) -> None:
    """The verified-hash cache cannot be fooled by a preserved mtime: one digit changed, size and
    mtime restored, and verify still says mismatch (ctime changed); --force re-hashes anyway."""
    import os

    path = fake_dataset.mirror_folder / "cascadetest.txt"
    assert {c.status for c in datasets.verify(fake_dataset.name)} == {"ok"}  # now cached
    before = path.stat()
    text = path.read_text()
    digit = next(ch for ch in text if ch.isdigit())
    path.write_text(text.replace(digit, str((int(digit) + 1) % 10), 1))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    statuses = {c.path: c.status for c in datasets.verify(fake_dataset.name)}
    assert statuses["cascadetest.txt"] == "mismatch"
    assert {c.status for c in datasets.verify(fake_dataset.name, force=True)} == {"ok", "mismatch"}


def test_fake_partial_mirror_falls_back_to_a_verified_cache(fake_dataset: FakeDataset) -> None:
    held_back = fake_dataset.mirror_folder / "cascade.txt"
    text = held_back.read_text()
    held_back.unlink()
    with pytest.raises(CascadeKitError, match=r"fake_lines/cascade\.txt is not in the cache"):
        datasets.locate(fake_dataset.name, download=False)
    # dropped into the cache by hand: verified and used; the other file is copied from the mirror
    fake_dataset.cache_folder.mkdir(parents=True)
    (fake_dataset.cache_folder / "cascade.txt").write_text(text)
    assert datasets.locate(fake_dataset.name, download=False) == fake_dataset.cache_folder
    for f in fake_dataset.spec.files:
        assert datasets.sha256_file(fake_dataset.cache_folder / f.path) == f.sha256
    assert len(datasets.load(fake_dataset.name, download=False).cascades) == 3
    # a corrupted cached file is an error, not a silent re-download
    (fake_dataset.cache_folder / "cascade.txt").write_text("tampered")
    with pytest.raises(ChecksumError, match="cascade.txt"):
        datasets.locate(fake_dataset.name)


def test_fake_missing_file_is_downloaded_and_verified(fake_dataset: FakeDataset) -> None:
    (fake_dataset.mirror_folder / "cascade.txt").unlink()  # origin is a file:// URL: offline
    assert datasets.locate(fake_dataset.name, progress=False) == fake_dataset.cache_folder
    assert (fake_dataset.cache_folder / "cascade.txt").read_text() == FILES["cascade.txt"]
    # an origin serving other bytes than pinned: refused, and nothing is left in the cache
    (fake_dataset.cache_folder / "cascade.txt").unlink()
    (fake_dataset.origin / "cascade.txt").write_text("a,1\n")
    with pytest.raises(ChecksumError, match="sha256 mismatch"):
        datasets.locate(fake_dataset.name, progress=False)
    assert sorted(p.name for p in fake_dataset.cache_folder.iterdir()) == ["cascadetest.txt"]
    # an origin that cannot be reached (offline): one clear error, no partial file left
    (fake_dataset.origin / "cascade.txt").unlink()
    with pytest.raises(CascadeKitError, match="cannot download .*without network access"):
        datasets.locate(fake_dataset.name, progress=False)
    assert sorted(p.name for p in fake_dataset.cache_folder.iterdir()) == ["cascadetest.txt"]


def test_fake_cli_verify_exits_1_and_stats_exits_2_on_a_corrupt_file(
    fake_dataset: FakeDataset,
) -> None:
    res = cli.invoke(app, ["datasets", "verify", fake_dataset.name])
    assert res.exit_code == 0 and "all 2 files verified" in res.stderr and not res.stdout
    res = CliRunner().invoke(app, ["datasets", "verify", fake_dataset.name, "--json"])
    assert [c["status"] for c in json.loads(res.stdout)] == ["ok", "ok"]
    (fake_dataset.mirror_folder / "cascade.txt").write_text("1,2\n")
    res = cli.invoke(app, ["datasets", "verify", fake_dataset.name])
    assert res.exit_code == 1
    assert "cascade.txt: sha256" in res.stderr.replace("\n", "")
    assert "1 file(s) missing or corrupt" in res.stderr
    res = cli.invoke(app, ["datasets", "stats", fake_dataset.name, "--json"])
    assert res.exit_code == 2 and res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1
    assert "error:" in res.stderr and "cascade.txt: sha256 mismatch" in res.stderr


def test_fake_cli_list_info_and_stats(fake_dataset: FakeDataset) -> None:
    res = cli.invoke(app, ["datasets", "list"], terminal_width=200)
    assert res.exit_code == 0
    assert any(fake_dataset.name in ln and "2/2 verified" in ln for ln in res.stdout.splitlines())
    res = cli.invoke(app, ["datasets", "info", fake_dataset.name], terminal_width=200)
    assert res.exit_code == 0 and "f" * 40 in res.stdout and "a tiny test dataset" in res.stdout
    for _ in range(2):  # parsed, then from the processed cache: the same pure JSON
        res = cli.invoke(app, ["datasets", "stats", fake_dataset.name, "--json"])
        assert res.exit_code == 0, res.output
        stats = json.loads(res.stdout)
        assert (stats["cascades"]["cascades"], stats["cascades"]["events"]) == (3, 7)
        assert stats["cascades"]["users"] == 4
        assert {k: v["cascades"] for k, v in stats["splits"].items()} == {"train": 2, "test": 1}
    assert len(fake_dataset.processed_entries()) == 1


def test_fake_convert_dataset_to_parquet_and_lines(
    fake_dataset: FakeDataset, tmp_path: Path
) -> None:
    res = cli.invoke(app, ["convert", fake_dataset.name, str(tmp_path / "pq")])
    assert res.exit_code == 0, res.output
    res = cli.invoke(
        app, ["convert", str(tmp_path / "pq"), str(tmp_path / "all.txt"), "--to", "ndm"]
    )
    assert res.exit_code == 0, res.output
    assert len((tmp_path / "all.txt").read_text().splitlines()) == 3
    res = cli.invoke(app, ["convert", fake_dataset.name, str(tmp_path / "x"), "--format", "nope"])
    assert res.exit_code == 2 and "unknown format 'nope'" in res.stderr


# ---------------------------------------------------------------------------------------------
# The processed cache


def test_second_load_reads_the_cached_bundle(
    fake_dataset: FakeDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_reads(monkeypatch)
    fresh = datasets.load(fake_dataset.name)
    assert len(reads) == 1
    [entry] = fake_dataset.processed_entries()
    assert len(entry.name) == 64 and (entry / "bundle.json").is_file()
    cached = datasets.load(fake_dataset.name)
    assert len(reads) == 1  # no second parse
    assert bundle_differences(fresh, cached) == []
    assert cached.name == fake_dataset.name and cached.info["source"].endswith("f" * 40)
    # cache=False parses and writes nothing
    assert bundle_differences(fresh, datasets.load(fake_dataset.name, cache=False)) == []
    assert len(reads) == 2 and fake_dataset.processed_entries() == [entry]


def test_reader_options_registry_hashes_and_cache_version_are_in_the_key(
    fake_dataset: FakeDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_reads(monkeypatch)
    datasets.load(fake_dataset.name)
    datasets.load(fake_dataset.name, repair=True)  # other options: a miss
    assert len(reads) == 2 and len(fake_dataset.processed_entries()) == 2
    datasets.load(fake_dataset.name)
    datasets.load(fake_dataset.name, repair=True)  # both entries now hit
    assert len(reads) == 2
    monkeypatch.setattr(datasets, "PROCESSED_CACHE_VERSION", datasets.PROCESSED_CACHE_VERSION + 1)
    datasets.load(fake_dataset.name)
    assert len(reads) == 3
    # a new pinned version of a file: a miss, and the new bytes are what is read
    fake_dataset.publish("cascadetest.txt", "c,6 a,7\nd,8 b,9\n")
    assert len(datasets.load(fake_dataset.name).cascades) == 4 and len(reads) == 4


def test_options_that_are_not_json_are_not_cached(
    fake_dataset: FakeDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_reads(monkeypatch)
    for _ in range(2):
        datasets.load(fake_dataset.name, repair=np.bool_(False))  # json.dumps refuses it
    assert len(reads) == 2 and fake_dataset.processed_entries() == []


def _module_from(path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def test_editing_the_reader_or_a_helper_it_uses_is_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a reader module of our own, so that its source (and its helper's) can be edited
    helper = tmp_path / "fake_helper.py"
    helper.write_text(
        "from cascadekit.data.formats import lines\n\n"
        "def read_folder(folder, **kwargs):\n"
        "    return lines.read_lines_dataset(folder, **kwargs)\n"
    )
    reader = tmp_path / "fake_reader.py"
    reader.write_text(
        "from cascadekit.data.formats.fake_helper import read_folder\n\n"
        "def read(folder, **kwargs):\n"
        "    return read_folder(folder, **kwargs)\n"
    )
    _module_from(helper, "cascadekit.data.formats.fake_helper", monkeypatch)
    module = _module_from(reader, "cascadekit.data.formats.fake_reader", monkeypatch)
    fake = install_fake_dataset(tmp_path / "data", monkeypatch, reader="fake_reader:read")
    reads = count_reads(monkeypatch)
    version = datasets.reader_version(module)
    datasets.load(fake.name)
    datasets.load(fake.name)
    assert len(reads) == 1
    reader.write_text(reader.read_text() + "# edited\n")
    assert datasets.reader_version(module) != version
    datasets.load(fake.name)
    assert len(reads) == 2
    version = datasets.reader_version(module)
    helper.write_text(helper.read_text() + "# edited\n")
    assert datasets.reader_version(module) != version  # found through the reader's imports
    datasets.load(fake.name)
    assert len(reads) == 3 and len(fake.processed_entries()) == 3


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGE = {
    "truncated parquet": lambda e: _truncate(e / "cascades.parquet"),
    "parquet deleted": lambda e: (e / "cascades.parquet").unlink(),
    "bundle.json garbage": lambda e: (e / "bundle.json").write_text("{not json"),
    "manifest deleted": lambda e: (e / "processed.json").unlink(),
    "manifest garbage": lambda e: (e / "processed.json").write_text("[]"),
    "emptied": lambda e: [p.unlink() for p in e.iterdir()],
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_cache_entry_is_rebuilt(
    damage: str,
    fake_dataset: FakeDataset,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    reads = count_reads(monkeypatch)
    fresh = datasets.load(fake_dataset.name)
    [entry] = fake_dataset.processed_entries()
    DAMAGE[damage](entry)
    with caplog.at_level(logging.WARNING, logger="cascadekit.datasets"):
        rebuilt = datasets.load(fake_dataset.name)
    assert len(reads) == 2 and "discarding unreadable processed cache entry" in caplog.text
    assert bundle_differences(fresh, rebuilt) == []
    assert fake_dataset.processed_entries() == [entry]
    datasets.load(fake_dataset.name)  # the rebuilt entry is whole again
    assert len(reads) == 2


def test_raw_files_are_verified_before_a_cached_bundle_is_used(fake_dataset: FakeDataset) -> None:
    datasets.load(fake_dataset.name)
    assert fake_dataset.processed_entries()
    (fake_dataset.mirror_folder / "cascade.txt").write_text("a,1 b,2 c,3\nb,4 d,6\n")
    with pytest.raises(ChecksumError, match=r"cascade\.txt: sha256 mismatch"):
        datasets.load(fake_dataset.name)


def test_a_failed_write_leaves_no_entry_and_the_load_still_succeeds(
    fake_dataset: FakeDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_save = DatasetBundle.save

    def crash_half_way(self: DatasetBundle, folder: str | Path) -> Path:
        real_save(self, folder)
        (Path(folder) / "bundle.json").unlink()
        raise OSError("disk full")

    monkeypatch.setattr(DatasetBundle, "save", crash_half_way)
    assert len(datasets.load(fake_dataset.name).cascades) == 3
    root = fake_dataset.home / "processed" / fake_dataset.name
    assert list(root.iterdir()) == []  # temporary folder removed, no entry
    # a temporary folder left by a killed process is never taken for an entry
    monkeypatch.setattr(DatasetBundle, "save", real_save)
    datasets.load(fake_dataset.name)
    [entry] = fake_dataset.processed_entries()
    leftover = root / f".{entry.name}.0123.tmp"
    shutil.copytree(entry, leftover)
    shutil.rmtree(entry)
    reads = count_reads(monkeypatch)
    datasets.load(fake_dataset.name)
    assert len(reads) == 1 and fake_dataset.processed_entries() == [entry]


def test_a_concurrent_writer_of_the_same_entry_is_kept(
    fake_dataset: FakeDataset, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reads = count_reads(monkeypatch)
    bundle = datasets.load(fake_dataset.name)
    [entry] = fake_dataset.processed_entries()
    before = (entry / "processed.json").stat().st_mtime_ns
    spec = datasets.get(fake_dataset.name)
    module = importlib.import_module("cascadekit.data.formats.lines")
    folder = datasets.locate(fake_dataset.name)
    same = datasets._processed_entry(spec, folder, module, dict(spec.reader_kwargs))
    assert same is not None and same.path == entry
    with caplog.at_level(logging.WARNING, logger="cascadekit.datasets"):
        datasets._write_processed(same, bundle)  # the rename finds the entry there
    assert caplog.text == "" and (entry / "processed.json").stat().st_mtime_ns == before
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]
    datasets.load(fake_dataset.name)
    assert len(reads) == 1


def test_cached_bundles_are_identical_on_real_data(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    monkeypatch.setenv(datasets.HOME_ENV, str(tmp_path))
    # c4: event splits and report counts whose order DatasetBundle.save does not keep
    for name in ("ndm_irvine", "c4_music2_url", "mshgat_android"):
        fresh = datasets.load(name, cache=False)
        assert bundle_differences(fresh, datasets.load(name)) == [], name  # writes the entry
        assert bundle_differences(fresh, datasets.load(name)) == [], name  # reads it


def test_unlisted_files_are_reported_and_never_read(fake_dataset: FakeDataset) -> None:
    """An extra `cascadevalid.txt` in a mirror folder would add a validation split: it is listed
    by verify as unlisted and the loaded bundle is the registered one, with the skip counted."""
    before = datasets.load(fake_dataset.name, cache=False)
    (fake_dataset.mirror_folder / "cascadevalid.txt").write_text("z,1 y,2\n")
    (fake_dataset.mirror_folder / "SOURCE.md").write_text("notes are not data\n")
    checks = {c.path: c.status for c in datasets.verify(fake_dataset.name)}
    assert checks["cascadevalid.txt"] == "unlisted" and "SOURCE.md" not in checks
    after = datasets.load(fake_dataset.name)
    assert set(after.splits) == set(before.splits) and "valid" not in after.splits
    assert after.report.counts["unlisted_file_ignored"] == 1
    res = CliRunner().invoke(app, ["datasets", "verify", fake_dataset.name])
    assert res.exit_code == 0 and "1 file(s) the registry does not list" in res.stderr
