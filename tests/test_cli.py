"""The command line: exit codes and messages a person can act on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cascadekit import datasets
from cascadekit.cli import app

runner = CliRunner()


def test_unknown_dataset_exits_2_with_the_known_names() -> None:
    res = runner.invoke(app, ["datasets", "info", "no_such_data"])
    assert res.exit_code == 2
    assert "unknown dataset 'no_such_data'" in res.stderr and "ndm_lastfm" in res.stderr


def test_verify_all_on_the_mirror(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    res = runner.invoke(app, ["datasets", "verify", "--all"])
    assert res.exit_code == 0, res.output
    n_files = sum(len(datasets.get(n).files) for n in datasets.names())
    assert f"all {n_files} files verified" in res.stdout


def test_verify_reports_a_corrupt_file_and_exits_1(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "mirror"
    shutil.copytree(mirror / "ndm_irvine", root / "ndm_irvine")
    (root / "ndm_irvine" / "cascade.txt").write_text("1,2\n")
    monkeypatch.setenv(datasets.MIRROR_ENV, str(root))
    res = runner.invoke(app, ["datasets", "verify", "ndm_irvine"])
    assert res.exit_code == 1
    assert "cascade.txt: sha256" in res.stderr.replace("\n", "")
    # loading it is refused with the file named, exit 2
    res = runner.invoke(app, ["datasets", "stats", "ndm_irvine", "--json"])
    assert res.exit_code == 2 and "cascade.txt: sha256 mismatch" in res.stderr.replace("\n", "")


def test_list_and_info(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    res = runner.invoke(app, ["datasets", "list"], terminal_width=200)
    assert res.exit_code == 0
    for name in datasets.names():
        assert name in res.stdout
    res = runner.invoke(app, ["datasets", "info", "ndm_lastfm"], terminal_width=200)
    assert res.exit_code == 0
    assert "51b2985f5adf4ec8fe2f4a8e2af602c26caa7767" in res.stdout
    assert "Neural Diffusion Model" in res.stdout


def test_bad_set_option_is_a_clear_error() -> None:
    res = runner.invoke(app, ["datasets", "stats", "ndm_irvine", "--set", "oops"])
    assert res.exit_code == 2 and "expected key=value" in res.stderr


def test_stats_json_is_pure_json(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    res = runner.invoke(app, ["datasets", "stats", "ndm_irvine", "--json"])
    assert res.exit_code == 0, res.output
    stats = json.loads(res.stdout)
    # SOURCE.md: 471 cascades, 6,419 events, 540 users; train 424 / test 47
    assert stats["cascades"]["cascades"] == 471
    assert stats["cascades"]["events"] == 6419
    assert stats["cascades"]["users"] == 540
    assert stats["splits"]["train"]["cascades"] == 424 and stats["splits"]["test"]["cascades"] == 47
