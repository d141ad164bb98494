"""Marked Hawkes runs through the one pipeline and the CLI: train → evaluate → report →
simulate, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cascadekit import datasets, pipeline
from cascadekit.cli import app
from cascadekit.data.events import EventLog
from cascadekit.demos.mic import mic_demo
from cascadekit.models.hawkes import MarkedHawkes
from cascadekit.report.point_process import count_curves
from cascadekit.runs import RunInfo
from cascadekit.simulate.synthetic import synthetic_mic

runner = CliRunner()
DATA = ["--data", "synthetic_mic", "--data-set", "n_users=8", "--data-set", "t_end=100"]
FIT = ["--set", "tau=3", "--set", "beta=5", "--set", "max_iter=8"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "mic"
    res = runner.invoke(app, ["train", "mic", *DATA, *FIT, "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


def evaluate(run: Path) -> dict:
    res = runner.invoke(
        app, ["evaluate", str(run), "--task", "point_process", "--json", "--set", "n_simulations=2"]
    )
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)  # stdout is the JSON object and nothing else


def run_split(run: Path):  # noqa: ANN201
    return pipeline.run_data(RunInfo.load(run))[2]


def test_train_evaluate_round_trip(run: Path) -> None:
    info = json.loads((run / "run.json").read_text())
    assert info["model"] == "mic" and info["options"]["tau"] == 3
    assert info["task"] == "point_process" and info["config"]["model_config"]["variant"] == "mic"
    result = evaluate(run)
    split = run_split(run)
    assert result["test_size"] == len(split.test) > 0
    assert result["metrics"]["test_events"] == len(split.test)
    # the reported number is the saved model's exact log-likelihood of the test window
    model = MarkedHawkes.load(run / "model")
    expected = model.log_likelihood(split.test, history=split.train)
    assert result["metrics"]["test_loglik"] == pytest.approx(expected, rel=1e-12)
    assert json.loads((run / "metrics" / "point_process.json").read_text()) == result
    # same seed ⇒ same metrics (simulations included)
    again = evaluate(run)
    assert again["metrics"] == result["metrics"]


def test_fitted_mic_beats_a_homogeneous_poisson_fit(run: Path) -> None:
    """The data are self-exciting: MIC must score the test window better than constant per-user,
    per-cascade rates fitted by maximum likelihood on the training window."""
    split = run_split(run)
    train, test = split.train, split.test
    rate = train.counts() / train.duration
    n = test.counts()
    poisson = float(np.sum(n[n > 0] * np.log(rate[n > 0])) - rate.sum() * test.duration)
    assert evaluate(run)["metrics"]["test_loglik"] > poisson


def test_training_is_deterministic(run: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["train", "mic", *DATA, *FIT, "--out", str(tmp_path / "again")])
    assert res.exit_code == 0, res.output
    a = MarkedHawkes.load(run / "model").params_
    b = MarkedHawkes.load(tmp_path / "again" / "model").params_
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.Sigma, b.Sigma)


def test_report_writes_plots_and_bilayer(run: Path) -> None:
    res = runner.invoke(app, ["report", str(run)])
    assert res.exit_code == 0, res.output
    names = {
        "test_counts.png",
        "counts.png",
        "intensity.png",
        "ranked_users.png",
        "ranked_cascades.png",
        "bilayer.png",
        "bilayer.html",
    }
    for name in names:
        assert (run / "report" / name).stat().st_size > 0 and name in res.stdout
    html = (run / "report" / "bilayer.html").read_text()
    assert html.count('class="n"') == 8 + 3  # users + cascades
    assert (run / "report" / "report.html").is_file()


def test_simulate_from_run_and_from_parameters(run: Path, tmp_path: Path) -> None:
    path = tmp_path / "sim.parquet"
    cmd = ["simulate", "mic", "--run", str(run), "--t-end", "40", "--out", str(path)]
    assert runner.invoke(app, cmd).exit_code == 0
    sim = EventLog.from_parquet(path)
    assert sim.t_start == 0.0 and sim.t_end == 40.0 and len(sim) > 0
    assert sim.user_vocab.tokens == run_split(run).train.user_vocab.tokens
    assert runner.invoke(app, cmd[:-1] + [str(tmp_path / "b.parquet")]).exit_code == 0
    np.testing.assert_array_equal(EventLog.from_parquet(tmp_path / "b.parquet").times, sim.times)
    # bounded: an explosive fit stops at the cap and says so
    events, capped = pipeline.simulate(run, 40.0, tmp_path / "c.parquet", max_events=3)
    assert capped and len(events) == 3

    cmd = ["simulate", "mic", "--t-end", "20", "--out", str(tmp_path / "p.parquet")]
    res = runner.invoke(app, [*cmd, "--set", "n_users=5", "--set", "sigma21=1"])
    assert res.exit_code == 0, res.output
    assert EventLog.from_parquet(tmp_path / "p.parquet").n_users == 5
    # the model name is honoured without --run: IC has Σ = I, so it simulates other counts
    cmd = [*cmd[:-1], str(tmp_path / "ic.parquet")]
    cmd[1] = "ic"
    assert runner.invoke(app, [*cmd, "--set", "n_users=5", "--set", "sigma21=1"]).exit_code == 0
    ic = EventLog.from_parquet(tmp_path / "ic.parquet")
    assert not np.array_equal(ic.marks, EventLog.from_parquet(tmp_path / "p.parquet").marks)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["simulate", "hawkes", "--t-end", "5", "--out", "x.parquet"],
            "unknown variant 'hawkes'",
        ),
        (["train", "mic", *DATA, "--set", "tua=3", "--out", "r"], "unknown option 'tua'"),
        (["train", "mic", *DATA, "--set", "beta=nan", "--out", "r"], "finite"),
        (["train", "mic", *DATA, "--set", "variant=ic", "--out", "r"], "fixes variant"),
        (
            ["train", "mic", "--data", "synthetic_mic", "--data-set", "users=3", "--out", "r"],
            "users",
        ),
        (["simulate", "mic", "--t-end", "5", "--out", "x", "--set", "betta=1"], "betta"),
        (["report", "."], "not a run directory"),
    ],
)
def test_bad_input_is_a_clear_error(args: list[str], message: str, tmp_path: Path) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert message in res.stderr.replace("\n", "")


def test_wrong_task_for_a_mic_run(run: Path) -> None:
    res = runner.invoke(app, ["evaluate", str(run), "--task", "next_user"])
    assert res.exit_code == 2 and "use one of: point_process" in res.stderr.replace("\n", "")


def test_sequence_dataset_has_no_event_log(
    mirror: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    res = runner.invoke(app, ["train", "mic", "--data", "ndm_irvine", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2
    assert "ndm_irvine has no marked event log" in res.stderr.replace("\n", "")


def test_mic_demo_recovers_the_dominant_interaction(tmp_path: Path) -> None:
    summary = mic_demo(tmp_path, seed=0)
    report = tmp_path / "report"
    assert (report / "bilayer.html").is_file() and (report / "counts.png").is_file()
    # an ordinary run folder: `cascadekit evaluate` reads it
    assert evaluate(tmp_path)["metrics"]["test_loglik"] == pytest.approx(summary["test_loglik"])
    # σ21 = 0.7 is the demo's one interaction; 250 time units of 20 users pin it to ±0.1
    assert summary["Sigma_fitted"][1][0] == pytest.approx(0.7, abs=0.1)
    assert (
        summary["test_loglik"]
        == json.loads((tmp_path / "metrics" / "point_process.json").read_text())["metrics"][
            "test_loglik"
        ]
    )


def test_count_curves_totals_and_the_non_stationary_guard() -> None:
    bundle, truth = synthetic_mic(6, t_end=30.0, seed=1)
    events = bundle.events
    curves = count_curves(truth, events, truth=truth, n_points=5, n_simulations=2)
    assert set(curves) == {"t", "real", "sim_mean", "sim_std", "analytic_fitted", "analytic_true"}
    np.testing.assert_array_equal(curves["real"][-1], np.bincount(events.marks, minlength=3))
    np.testing.assert_array_equal(curves["real"][0], [0, 0, 0])
    exploding = truth.copy()
    exploding.W[np.diag_indices(6)] = 1.2 / truth.tau  # ρ(Wᵀ)·τ ≥ 1.2 (W ≥ 0)
    assert set(count_curves(exploding, events)) == {"t", "real"}
