"""`report_run` on real tiny runs: files written, one self-contained page with the kept epoch and
the metric values; report modules never touch matplotlib's backend."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cascadekit import pipeline
from cascadekit.errors import CascadeKitError
from cascadekit.report import run_report
from cascadekit.report.run_report import fmt, report_run
from cascadekit.runs import RunInfo
from cascadekit.simulate.synthetic import synthetic_mic

PNG = b"\x89PNG\r\n\x1a\n"
MIC_DATA = {"n_users": 10, "t_end": 100.0}


def self_contained(page: str) -> bool:
    return "data:image/png;base64," in page and 'src="http' not in page and 'src="file' not in page


@pytest.fixture(scope="module")
def lstm_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An LSTM trained 2 epochs, not evaluated (tests copy it before evaluating)."""
    run = tmp_path_factory.mktemp("runs") / "lstm"
    pipeline.train(
        "lstm", "synthetic", run, task="next_user", options={"epochs": 2, "progress": False},
        data_options={"n_users": 60, "n_cascades": 200},
    )  # fmt: skip
    return run


def test_sequence_run(lstm_run: Path, tmp_path: Path) -> None:
    run = shutil.copytree(lstm_run, tmp_path / "lstm")
    result = pipeline.evaluate(run, "next_user")
    paths = report_run(run)
    assert [p.name for p in paths] == ["training.png", "next_user.png", "report.html"]
    assert all(p.parent == run / "report" for p in paths)
    assert all(p.read_bytes()[:8] == PNG for p in paths[:-1])
    page = paths[-1].read_text()
    assert self_contained(page) and page.count("<img ") == 2
    kept = RunInfo.load(run).selection["kept_epoch"]
    assert f"kept epoch {kept + 1} of 2" in page and "max_epochs (2) reached" in page
    assert "lstm · preset default · task next_user · data synthetic · seed 0" in page
    assert "dropped_by_length.test" in page  # the split record
    for name in ("hits@10", "map@100", "mrr", "nll"):
        assert f"<td>{name}</td><td>{fmt(result['metrics'][name])}</td>" in page
    assert "No evaluation was run" not in page


def test_run_without_metrics(lstm_run: Path) -> None:
    paths = report_run(lstm_run)
    assert [p.name for p in paths] == ["training.png", "report.html"]
    page = paths[-1].read_text()
    assert self_contained(page) and "No evaluation was run" in page
    assert "train_config.max_epochs" in page  # the configuration is there all the same


def test_training_curves_panels(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Loss parts share the loss panel, hits@k share one panel, counts are not drawn, epochs
    without validation are skipped, and the kept epoch is marked (counted from 1)."""
    drawn: dict[str, Any] = {}

    def keep(panels: dict[str, Any], path: Path, **options: Any) -> None:
        drawn.update(panels=panels, **options)

    monkeypatch.setattr(run_report, "plot_curve_panels", keep)
    valid = {"valid_hits@10": 0.1, "valid_hits@50": 0.2, "valid_map@10": 0.05, "valid_positions": 9}
    history = [
        {"epoch": e, "train_loss": 3.0 - e, "train_nll": 2.0 - e, "seconds": 0.1}
        | ({k: v * e for k, v in valid.items()} if e % 2 else {})  # validated every 2nd epoch
        for e in range(4)
    ]
    selection = {"kept_epoch": 3, "best_epoch": 3, "best_score": 0.15, "monitor": ["map@10", "max"],
                 "stop_reason": "max_epochs (4) reached", "epochs_run": 4}  # fmt: skip
    info = RunInfo(model="lstm", data="synthetic", task="next_user", selection=selection)
    _, caption = run_report.training_curves(history, info, tmp_path / "t.png")
    panels = drawn["panels"]
    assert list(panels) == ["training loss", "valid hits@k", "valid map@k (monitored, max)"]
    assert list(panels["training loss"]) == ["loss", "nll"]
    assert panels["valid hits@k"]["hits@50"] == ([2, 4], [0.2, pytest.approx(0.6)])
    assert drawn["mark_x"] == 4
    assert "kept epoch 4 of 4 (best validation map@10 = 0.15, max)" in caption


def test_point_process_run(tmp_path: Path) -> None:
    """A MIC run not yet evaluated: the report evaluates it and embeds the bi-layer page."""
    run = tmp_path / "mic"
    pipeline.train(
        "mic", "synthetic_mic", run, options={"tau": 3.0, "beta": 5.0, "max_iter": 5},
        data_options=MIC_DATA,
    )  # fmt: skip
    _, truth = synthetic_mic(seed=0, **MIC_DATA)
    paths = report_run(run, truth=truth)
    names = [p.name for p in paths]
    assert names[0] == "test_counts.png" and names[-2:] == ["bilayer.html", "report.html"]
    assert {"counts.png", "intensity.png", "ranked_users.png", "bilayer.png"} <= set(names)
    metrics = json.loads((run / "metrics" / "point_process.json").read_text())["metrics"]
    page = paths[-1].read_text()
    assert self_contained(page) and page.count("<img ") == 6
    assert "had not been evaluated" in page and '<iframe sandbox="allow-scripts" srcdoc=' in page
    assert f"<td>test_loglik</td><td>{fmt(metrics['test_loglik'])}</td>" in page
    assert f"<td>overall.pearson</td><td>{fmt(metrics['overall']['pearson'])}</td>" in page


def test_errors(lstm_run: Path, tmp_path: Path) -> None:
    with pytest.raises(CascadeKitError, match="not a run directory"):
        report_run(tmp_path)
    _, truth = synthetic_mic(seed=0, **MIC_DATA)
    with pytest.raises(CascadeKitError, match="apply to point-process runs"):
        report_run(lstm_run, truth=truth)


def test_import_keeps_matplotlib_backend() -> None:
    """In a fresh interpreter (test order cannot matter): the modules that draw neither select a
    backend nor load pyplot (run_report draws only through them)."""
    code = (
        "import sys, matplotlib\n"
        "import cascadekit.report.plots, cascadekit.report.hawkes_plots\n"
        "import cascadekit.report.bilayer, cascadekit.report.point_process\n"
        "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)\n"
    )
    env = {**os.environ, "MPLBACKEND": "svg"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["svg", "False"]
