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
    assert f"all {n_files} files verified" in res.stderr and not res.stdout


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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a,1 b,2\nc,3 d\n",
            "bad.txt, line 2: expected tokens of the form user,timestamp, found 'd'",
        ),
        (
            "a,1 b,noon\n",
            "bad.txt, line 1: expected a numeric timestamp after the comma, found 'noon'",
        ),
        ("a,1 b,2 a,3\n", "bad.txt, line 1: expected each user at most once per cascade"),
        ("a,5 b,2\n", "bad.txt, line 1: expected non-decreasing times within a cascade"),
    ],
)
def test_convert_rejects_bad_lines_with_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    src = tmp_path / "bad.txt"
    src.write_text(text)
    res = runner.invoke(app, ["convert", str(src), str(tmp_path / "out"), "--format", "lines-file"])
    assert res.exit_code == 2
    assert message in res.stderr.replace("\n", " ").replace("  ", " ")
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_convert_repair_reports_what_it_changed(tmp_path: Path) -> None:
    src = tmp_path / "fixable.txt"
    src.write_text("a,5 b,2 a,9\n")
    res = runner.invoke(
        app,
        [
            "convert",
            str(src),
            str(tmp_path / "out"),
            "--format",
            "lines-file",
            "--set",
            "repair=true",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "repeated_user_dropped=1" in res.stderr and "unsorted_cascade_sorted=1" in res.stderr


def test_convert_dataset_to_parquet_and_lines(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    res = runner.invoke(app, ["convert", "ndm_irvine", str(tmp_path / "pq")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app, ["convert", str(tmp_path / "pq"), str(tmp_path / "all.txt"), "--to", "ndm"]
    )
    assert res.exit_code == 0, res.output
    assert len((tmp_path / "all.txt").read_text().splitlines()) == 471
    res = runner.invoke(app, ["convert", "ndm_irvine", str(tmp_path / "x"), "--format", "nope"])
    assert res.exit_code == 2 and "unknown format 'nope'" in res.stderr


def test_tar_member_escaping_the_folder_is_refused(tmp_path: Path) -> None:
    import io
    import tarfile

    bad = tmp_path / "CED_Dataset.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        data = b"{}"
        info = tarfile.TarInfo("CED_Dataset/../../evil.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    res = runner.invoke(app, ["convert", str(bad), str(tmp_path / "out"), "--format", "ced"])
    assert res.exit_code == 2
    assert "CED_Dataset/../../evil.json" in res.stderr
    assert not (tmp_path / "evil.json").exists() and not (tmp_path.parent / "evil.json").exists()


def test_convert_never_merges_into_an_existing_bundle(tmp_path: Path) -> None:
    """Converting into a folder that holds another bundle is refused (nothing merged or
    overwritten unasked); --overwrite replaces it whole, leaving none of the old files."""
    from cascadekit.simulate.synthetic import synthetic_cascades, synthetic_mic

    out = tmp_path / "x"
    synthetic_mic(5, t_end=20.0)[0].save(out)  # an event-log bundle
    assert (out / "events.parquet").is_file()
    synthetic_cascades(n_users=30, n_cascades=50).save(tmp_path / "c")
    res = CliRunner().invoke(app, ["convert", str(tmp_path / "c"), str(out)])
    assert res.exit_code == 2 and "refusing to overwrite" in res.stderr.replace("\n", "")
    res = CliRunner().invoke(app, ["convert", str(tmp_path / "c"), str(out), "--overwrite"])
    assert res.exit_code == 0, res.output
    assert not (out / "events.parquet").exists() and (out / "cascades.parquet").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_non_utf8_input_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "events.csv"
    bad.write_bytes("cascade,user,time\nc,caf\xe9,1\n".encode("latin-1"))
    res = CliRunner().invoke(app, ["convert", str(bad), str(tmp_path / "o"), "--format", "csv"])
    err = res.stderr.replace("\n", "")
    assert res.exit_code == 2 and "events.csv, line 2: expected UTF-8 text" in err


@pytest.mark.parametrize(("fmt", "name"), [("c4", "music2.mat"), ("ced", "CED_Dataset.tar.gz")])
def test_truncated_binary_input_is_a_clear_error(tmp_path: Path, fmt: str, name: str) -> None:
    import gzip

    data = gzip.compress(b"x" * 10_000) if name.endswith(".gz") else b"MATLAB 5.0 MAT-file"
    target = tmp_path / name
    target.write_bytes(data[: len(data) // 2])
    source = tmp_path if fmt == "c4" else target
    res = CliRunner().invoke(app, ["convert", str(source), str(tmp_path / "o"), "--format", fmt])
    assert res.exit_code == 2, res.output
    assert "cannot be read as" in res.stderr or "expected" in res.stderr


def test_a_truncated_bundle_folder_is_a_clear_error(tmp_path: Path) -> None:
    from cascadekit.simulate.synthetic import synthetic_cascades

    folder = synthetic_cascades(n_users=30, n_cascades=50).save(tmp_path / "b")
    parquet = folder / "cascades.parquet"
    parquet.write_bytes(parquet.read_bytes()[:100])
    res = CliRunner().invoke(app, ["datasets", "stats", str(folder)])
    assert res.exit_code == 2 and "cannot be read as a saved bundle" in res.stderr.replace("\n", "")
