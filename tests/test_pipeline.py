"""`cascadekit train` / `evaluate` on real data: JSON on stdout, same seed ⇒ same numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cascadekit import datasets
from cascadekit.cli import app

runner = CliRunner()


def train_eval(tmp: Path, name: str, seed: int) -> dict:
    run = tmp / name
    res = runner.invoke(
        app,
        [
            "train",
            "lstm",
            "--data",
            "ndm_irvine",
            "--out",
            str(run),
            "--set",
            "epochs=2",
            "--set",
            "progress=false",
            "--seed",
            str(seed),
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["evaluate", str(run), "--task", "next_user", "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_train_evaluate_is_deterministic(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    a, b, c = (
        train_eval(tmp_path, "a", 0),
        train_eval(tmp_path, "b", 0),
        train_eval(tmp_path, "c", 1),
    )
    assert a["metrics"] == b["metrics"]
    assert a["metrics"] != c["metrics"]
    # shipped irvine test split: 47 cascades, 663 prediction positions (616 users after the seed + 47 ENDs)
    assert a["test_cascades"] == 47 and a["metrics"]["positions"] == 663
    run = json.loads((tmp_path / "a" / "run.json").read_text())
    assert run["split"]["kind"] == "shipped" and run["split"]["valid_carved_from_train"] == 0.1
    assert (tmp_path / "a" / "metrics" / "next_user.json").is_file()


def test_clear_errors(tmp_path: Path) -> None:
    res = runner.invoke(app, ["train", "nope", "--data", "synthetic", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "unknown model 'nope'" in res.stderr
    res = runner.invoke(
        app,
        ["train", "lstm", "--data", "synthetic", "--out", str(tmp_path / "x"), "--set", "foo=1"],
    )
    assert (
        res.exit_code == 2 and "unknown option 'foo'" in res.stderr and "hidden_dim" in res.stderr
    )
    res = runner.invoke(app, ["evaluate", str(tmp_path), "--task", "next_user"])
    assert res.exit_code == 2 and "not a run directory" in res.stderr


def test_preset_sets_both_configs_and_options_override(tmp_path: Path) -> None:
    out = tmp_path / "ndm"
    args = ["train", "ndm", "--data", "synthetic", "--out", str(out), "--preset", "reference_code"]
    res = runner.invoke(app, [*args, "--set", "epochs=1", "--set", "progress=false"])
    assert res.exit_code == 0, res.output
    saved = json.loads((out / "model" / "model.json").read_text())
    # reference_code: END weight 0, Conv1d bias, last epoch, Noam; epochs overridden to 1
    assert saved["config"]["end_weight"] == 0.0 and saved["config"]["output_bias"] is True
    assert saved["config"]["select_on"] == "last"
    assert saved["train_config"]["schedule"] == "noam" and saved["train_config"]["max_epochs"] == 1
    res = runner.invoke(app, [*args[:-1], "nope"])
    assert res.exit_code == 2 and "unknown NDM preset 'nope'" in res.stderr
    res = runner.invoke(
        app, ["train", "lstm", "--data", "synthetic", "--out", str(out), "--preset", "x"]
    )
    assert res.exit_code == 2 and "has no presets" in res.stderr
