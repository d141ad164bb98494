"""The CLI's one error boundary: expected failures are one ``error:`` line and exit 2 (verify's
failed check keeps 1), a bug keeps its traceback and adds one line asking to report it (exit 70),
results go to stdout and messages to stderr."""

from __future__ import annotations

import errno
import urllib.error
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cascadekit import __version__, pipeline
from cascadekit.cli import EXIT_BUG, _BoundaryGroup, app, user_error_message
from cascadekit.data.bundle import DatasetBundle
from cascadekit.errors import CascadeKitError
from cascadekit.simulate.synthetic import synthetic_cascades
from faults import assert_clear_error

runner = CliRunner()
TRAIN = ["train", "user_frequency", "--data", "synthetic", "--out"]


def test_a_bug_keeps_its_traceback_and_asks_to_be_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("an internal invariant broke")

    monkeypatch.setattr(pipeline, "train", broken)
    res = runner.invoke(app, [*TRAIN, str(tmp_path / "r")])
    assert res.exit_code == EXIT_BUG == 70
    assert "Traceback (most recent call last)" in res.stderr
    assert "RuntimeError: an internal invariant broke" in res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: this is a bug in cascadekit") and __version__ in last


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/d/x.parquet"),
         "error: /d/x.parquet: No space left on device (free some space or write elsewhere)"),
        (PermissionError(errno.EACCES, "Permission denied", "/d"),
         "error: /d: Permission denied (check the permissions or choose another path)"),
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "/a", None, "/b"),
         "error: /a -> /b: No such file or directory"),
        (urllib.error.URLError("[Errno -3] Temporary failure in name resolution"),
         "error: <urlopen error [Errno -3] Temporary failure in name resolution>"),
        (EOFError("Compressed file ended before the end-of-stream marker was reached"),
         "error: the input ended early (a truncated file?): Compressed file ended before the "
         "end-of-stream marker was reached"),
        (UnicodeDecodeError("utf-8", b"\xe9", 0, 1, "invalid continuation byte"),
         "error: input is not UTF-8 text (byte 0: invalid continuation byte); convert the file "
         "to UTF-8 first"),
        (CascadeKitError("data.csv, line 3: expected a [bold]number[/bold]"),
         "error: data.csv, line 3: expected a [bold]number[/bold]"),  # never read as markup
    ],
)  # fmt: skip
def test_expected_failures_are_one_line_and_exit_2(
    exc: BaseException, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(pipeline, "train", fails)
    res = runner.invoke(app, [*TRAIN, str(tmp_path / "r")])
    assert assert_clear_error(res) == line


def test_only_expected_failures_have_a_message() -> None:
    assert user_error_message(KeyError("x")) is None
    assert user_error_message(ZeroDivisionError()) is None
    assert user_error_message(OSError("plain")) == "plain"


def test_a_command_without_the_decorator_is_inside_the_boundary() -> None:
    """New commands get the boundary from the group: nothing to remember."""
    cli = typer.Typer(cls=_BoundaryGroup)

    @cli.command()
    def read() -> None:
        Path("/nonexistent/cascadekit/x.txt").read_text()

    @cli.command()
    def crash() -> None:
        raise ValueError("a bug")

    res = runner.invoke(cli, ["read"])
    assert_clear_error(res, "/nonexistent/cascadekit/x.txt: No such file or directory")
    res = runner.invoke(cli, ["crash"])
    assert res.exit_code == EXIT_BUG and "ValueError: a bug" in res.stderr


def test_disk_full_during_convert_overwrite_keeps_the_old_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = synthetic_cascades(30, 50, seed=0).save(tmp_path / "b")
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    new = synthetic_cascades(60, 90, seed=1).save(tmp_path / "new")
    real = DatasetBundle._write

    def full_disk(self: DatasetBundle, folder: Path) -> None:
        real(self, folder)
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "graph.parquet"))

    monkeypatch.setattr(DatasetBundle, "_write", full_disk)
    res = runner.invoke(app, ["convert", str(new), str(old), "--overwrite"])
    assert_clear_error(res, "graph.parquet: No space left on device")
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "new"]  # no temporary left


@pytest.mark.skipif(Path("/sys").is_dir() is False, reason="needs /sys")
def test_an_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    bundle = synthetic_cascades(30, 50, seed=0).save(tmp_path / "b")
    res = runner.invoke(app, ["convert", str(bundle), "/sys/cascadekit_test_out"])
    if res.exit_code == 0:
        pytest.skip("/sys is writable here")
    assert_clear_error(res, "/sys")


def test_results_on_stdout_messages_on_stderr(tmp_path: Path) -> None:
    bundle = synthetic_cascades(30, 50, seed=0).save(tmp_path / "b")
    res = runner.invoke(app, ["convert", str(bundle), str(tmp_path / "c.txt"), "--to", "ndm"])
    assert res.exit_code == 0
    assert res.stdout.startswith("wrote ") and res.stderr.startswith("read ")
    res = runner.invoke(app, ["--version"])
    assert res.stdout == f"cascadekit {__version__}\n" and not res.stderr
