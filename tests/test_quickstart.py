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
        "run.json",
        "metrics/next_user.json",
        "training.png",
        "next_user.png",
        "lstm/best.ckpt",
        "data/bundle.json",
    ):
        assert (run / f).is_file(), f
    metrics = json.loads((run / "metrics" / "next_user.json").read_text())
    lstm, pop = metrics["LSTM"], metrics["popularity"]
    assert lstm["positions"] == pop["positions"] > 500
    # the IC structure is learnable: clearly above the popularity floor
    assert lstm["hits@10"] > pop["hits@10"] + 0.1 and lstm["map@10"] > pop["map@10"]
    assert json.loads((run / "run.json").read_text())["split"]["kind"] == "shipped"
    # NDM learns the IC structure better than the LSTM for seed-only identification
    ident = json.loads((run / "metrics" / "identification.json").read_text())
    assert ident["NDM"]["macro_f1"] > ident["LSTM"]["macro_f1"]
    assert (run / "identification.png").is_file() and (
        run / "ndm" / "model" / "weights.pt"
    ).is_file()


def test_quickstart_mic_prints_tables(tmp_path: Path, monkeypatch) -> None:
    from cascadekit import hawkes_runs

    summary = {
        "test_loglik": -1767.31, "test_loglik_per_event": -2.3754,
        "overall": {"inverse_l1": 0.1383, "pearson": 0.0173, "real_events": 744,
                    "simulated_events_mean": 705.8, "capped_simulations": 0},
        "Sigma_true": [[1.0, 0.0], [0.7, 0.3]], "Sigma_fitted": [[1.0, 0.0], [0.7625, 0.2375]],
        "max_abs_Sigma_error": 0.0625,
    }  # fmt: skip
    monkeypatch.setattr(hawkes_runs, "mic_demo", lambda out_dir, seed: summary)
    res = CliRunner().invoke(app, ["quickstart", "--scenario", "mic", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    for text in ("-1,767.3", "-2.375", "705.8", "0.138", "max abs error 0.062", "0.76  0.24"):
        assert text in res.output, text
