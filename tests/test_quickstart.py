"""`make demo` end to end: data, training, protocol, run folder, plots — and it must beat the floor."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cascadekit.cli import app


def test_quickstart_cli(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["quickstart", "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    run = tmp_path / "run"
    for f in (
        "summary.json",
        "training.png",
        "next_user.png",
        "identification.png",
        "lstm/run.json",
        "lstm/metrics/next_user.json",
        "ndm/model/weights.pt",
        "ndm/metrics/identification.json",
        "user_frequency/model/model.json",
    ):
        assert (run / f).is_file(), f
    # weights are kept once: no training checkpoint left beside the saved model
    assert not list(run.glob("*/*.ckpt")) and not list(run.glob("*/checkpoint.pt"))
    summary = json.loads((run / "summary.json").read_text())
    lstm, floor = summary["next_user"]["LSTM"], summary["next_user"]["user frequency"]
    assert lstm["positions"] == floor["positions"] > 500
    # the IC structure is learnable: clearly above the user-frequency floor
    assert lstm["hits@10"] > floor["hits@10"] + 0.1 and lstm["map@10"] > floor["map@10"]
    info = json.loads((run / "lstm" / "run.json").read_text())
    assert info["split_info"]["kind"] == "shipped" and info["selection"]["monitor"] == [
        "map@10",
        "max",
    ]
    # the quickstart's run folders are ordinary runs
    cmd = ["evaluate", str(run / "ndm"), "--task", "next_user", "--set", "ks=[1,5,10,50]", "--json"]
    res = CliRunner().invoke(app, cmd)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["metrics"] == summary["next_user"]["NDM"]


def test_quickstart_mic_prints_tables(tmp_path: Path, monkeypatch) -> None:
    from cascadekit.demos import mic

    summary = {
        "test_loglik": -1767.31, "test_loglik_per_event": -2.3754,
        "overall": {"inverse_l1": 0.1383, "pearson": 0.0173, "real_events": 744,
                    "simulated_events_mean": 705.8, "capped_simulations": 0},
        "Sigma_true": [[1.0, 0.0], [0.7, 0.3]], "Sigma_fitted": [[1.0, 0.0], [0.7625, 0.2375]],
        "max_abs_Sigma_error": 0.0625,
    }  # fmt: skip
    monkeypatch.setattr(mic, "mic_demo", lambda out_dir, seed: summary)
    res = CliRunner().invoke(app, ["quickstart", "--scenario", "mic", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    for text in ("-1,767.3", "-2.375", "705.8", "0.138", "max abs error 0.062", "0.76  0.24"):
        assert text in res.output, text


def test_unknown_scenario_is_refused(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["quickstart", "--scenario", "bogus", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "unknown scenario 'bogus'" in res.stderr
