"""Bad options for every command — unknown keys, wrong types, non-finite and out-of-range values,
bad seeds — are one clear line (exit 2) before any work, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cascadekit import pipeline
from cascadekit.cli import app
from cascadekit.data.bundle import DatasetBundle
from cascadekit.errors import CascadeKitError
from cascadekit.options import coerce
from faults import assert_clear_error

runner = CliRunner()
SMALL = ["--data", "synthetic", "--data-set", "n_users=40", "--data-set", "n_cascades=120"]
MIC = ["--data", "synthetic_mic", "--data-set", "n_users=5", "--data-set", "t_end=50"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    data = {"n_users": 40, "n_cascades": 120}
    pipeline.train("user_frequency", "synthetic", root / "uf", task="next_user", data_options=data)
    pipeline.train("mic", "synthetic_mic", root / "mic", options={"max_iter": 2},
                   data_options={"n_users": 5, "t_end": 50.0})  # fmt: skip
    return {"uf": root / "uf", "mic": root / "mic"}


TRAIN_CASES = [
    ("lstm", SMALL, "bogus=1", "unknown"),
    ("lstm", SMALL, "embedding_dim=abc", "embedding_dim: expected an integer"),
    ("lstm", SMALL, "embedding_dim=1.5", "embedding_dim: expected an integer"),
    ("lstm", SMALL, "dropout=NaN", "dropout: expected a finite number"),
    ("lstm", SMALL, "progress=maybe", "progress: expected true or false"),
    ("lstm", SMALL, "epochs=0", "max_epochs must be >= 1"),
    ("lstm", SMALL, "max_steps=0", "max_steps must be None or >= 1"),
    ("lstm", SMALL, "threads=0", "threads must be None or >= 1"),
    ("lstm", SMALL, "grad_clip=-1", "grad_clip must be None or > 0"),
    ("lstm", SMALL, "weight_decay=-1", "weight_decay must be >= 0"),
    ("lstm", SMALL, "eps=0", "eps > 0"),
    ("lstm", SMALL, "betas=[0.9]", "betas must be two numbers in [0, 1)"),
    ("lstm", SMALL, "betas=[1.5, 0.9]", "betas must be two numbers in [0, 1)"),
    ("lstm", SMALL, "device=bogus", "device must be one of auto, cpu"),
    ("mic", MIC, "taus=[]", "taus must be a non-empty list of positive numbers"),
    ("mic", MIC, "taus=[-1]", "taus must be a non-empty list of positive numbers"),
    ("mic", MIC, "betas=[0]", "betas must be a non-empty list of positive numbers"),
    ("mic", MIC, "backend=bogus", "backend must be one of"),
]


@pytest.mark.parametrize(("model", "data", "option", "message"), TRAIN_CASES)
def test_train_options(tmp_path: Path, model: str, data: list, option: str, message: str) -> None:
    res = runner.invoke(app, ["train", model, *data, "--out", str(tmp_path / "r"), "--set", option])
    assert_clear_error(res, message)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--split-set", "fractions=[0.5, 0.5]"], "fractions must be (train, valid, test)"),
        (["--split-set", "fractions=[1.2, -0.1, -0.1]"], "fractions must be (train, valid, test)"),
        (["--split-set", "fractions=[0, 0, 1]"], "fractions must be (train, valid, test)"),
        (["--split-set", "valid_fraction=1.5"], "valid_fraction must be in [0, 1)"),
        (["--data-set", "n_users=0"], "synthetic option n_users must be > 0, got 0"),
        (["--data-set", "n_users=abc"], "synthetic option n_users: expected an integer"),
        (["--data-set", "rate=NaN"], "synthetic option rate: expected a finite number"),
        (["--data-set", "edge_prob=2"], "synthetic option edge_prob must be in [0, 1]"),
        (["--data-set", "graph_kind=bogus"], "invalid synthetic options: kind must be"),
        (["--data-set", "bogus=1"], "unknown synthetic option(s) bogus"),
        (["--data-set", "seed=3"], "the seed is not an option; give it with --seed"),
        (["--seed", "-1"], "seed must be an integer in 0…4294967295, got -1"),
        (["--seed", str(2**70)], "seed must be an integer in 0…4294967295"),
    ],
)
def test_split_data_and_seed_options(tmp_path: Path, args: list, message: str) -> None:
    base = ["train", "user_frequency", "--data", "synthetic", "--task", "next_user"]
    res = runner.invoke(app, [*base, "--out", str(tmp_path / "r"), *args])
    assert_clear_error(res, message)
    assert not (tmp_path / "r" / "run.json").exists()


@pytest.mark.parametrize(
    ("run", "args", "message"),
    [
        ("uf", ["--set", "bogus=1"], "bogus"),
        ("uf", ["--set", "ks=[0]"], "ks (a non-empty list), max_len and batch_size must be >= 1"),
        ("uf", ["--task", "identification", "--set", "n_samples=0"], "n_samples"),
        ("uf", ["--task", "identification", "--set", "n_sample=5"], "n_sample"),
        ("uf", ["--task", "point_process"], "'point_process' is not available for user_frequency"),
        ("mic", ["--set", "max_simulated_events=0"], "max_simulated_events must be >= 1"),
        ("mic", ["--set", "n_simulations=abc"], "n_simulations: expected an integer"),
    ],
)
def test_evaluate_options(runs: dict[str, Path], run: str, args: list, message: str) -> None:
    res = runner.invoke(app, ["evaluate", str(runs[run]), *args])
    assert_clear_error(res, message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--t-end", "nan"], "finite times with t-end > 0, got t-end nan"),
        (["--t-end", "inf"], "finite times with t-end > 0"),
        (["--t-end", "0"], "finite times with t-end > 0"),
        (["--t-end", "5", "--set", "n_users=0"], "n_users must be > 0"),
        (["--t-end", "5", "--set", "tau=abc"], "tau: expected a number"),
        (["--t-end", "5", "--set", "p=1.5"], "p must be in [0, 1]"),
        (["--t-end", "5", "--set", "branching=5"], "branching must be in (0, 1)"),
        (["--t-end", "5", "--set", "bogus=1"], "unknown synthetic_params option(s) bogus"),
        (["--t-end", "5", "--max-events", "0"], "max-events must be >= 1"),
        (["--t-end", "5", "--seed", "-1"], "seed must be an integer in 0…4294967295"),
    ],
)
def test_simulate_options(tmp_path: Path, args: list, message: str) -> None:
    res = runner.invoke(app, ["simulate", "mic", "--out", str(tmp_path / "s.parquet"), *args])
    assert_clear_error(res, message)
    assert not (tmp_path / "s.parquet").exists()


def test_simulate_names_the_run_model_and_caps_a_long_window(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "s.parquet"
    res = runner.invoke(app, ["simulate", "ic", "--t-end", "5", "--out", str(out), "--run",
                              str(runs["mic"])])  # fmt: skip
    assert_clear_error(res, "holds a mic run, not ic")
    res = runner.invoke(app, ["simulate", "mic", "--t-end", "1e300", "--max-events", "500",
                              "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0 and "stopped at 500 events" in res.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "bogus=1"], "unknown lines-file reader option(s) bogus; known: repair=False"),
        (["--set", "repair=maybe"], "repair: expected true or false (or 1 / 0), got 'maybe'"),
        (["--set", "repair=[1]"], "repair: expected true or false"),
        (["--set", "=5"], "expected key=value"),
        (["--set", "repair=False"], "c.txt, line 1: expected non-decreasing times"),
        (["--to", "bogus"], "unknown output format 'bogus'"),
    ],
)
def test_convert_options(tmp_path: Path, args: list, message: str) -> None:
    (tmp_path / "c.txt").write_text("a,5 b,2\n")
    res = runner.invoke(app, ["convert", str(tmp_path / "c.txt"), str(tmp_path / "o"),
                              "--format", "lines-file", *args])  # fmt: skip
    assert_clear_error(res, message)
    assert not (tmp_path / "o").exists()


def test_a_bool_option_is_true_false_1_or_0(tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_text("a,5 b,2\n")
    for value, repaired in (("true", True), ("1", True), ("0", False), ("false", False)):
        out = tmp_path / value
        res = runner.invoke(app, ["convert", str(tmp_path / "c.txt"), str(out), "--format",
                                  "lines-file", "--set", f"repair={value}"])  # fmt: skip
        assert (res.exit_code == 0) is repaired, res.output
        if repaired:
            assert DatasetBundle.load(out).report.counts == {"unsorted_cascade_sorted": 1}
    assert coerce("auto", bool | str, "x") == "auto"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["quickstart", "--scenario", "bogus"], "unknown scenario 'bogus'"),
        (["quickstart", "--seed", "-3"], "seed must be an integer in 0…4294967295"),
        (["formats", "bogus"], "unknown format 'bogus'"),
        (["models", "bogus"], "bogus"),
        (["datasets", "info", "bogus"], "unknown dataset 'bogus'"),
        (["datasets", "verify"], "give a dataset name or --all"),
        (["datasets", "stats", "bogus"], "unknown dataset 'bogus'"),
        (["report", "/nonexistent/run"], "not a run directory"),
    ],
)
def test_other_commands(argv: list, message: str) -> None:
    assert_clear_error(runner.invoke(app, argv), message)


def test_infvae_literal_options_are_checked(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("s a 1\n")
    (tmp_path / "test.txt").write_text("s b 2\n")
    base = ["convert", str(tmp_path), str(tmp_path / "o"), "--format", "infvae", "--set"]
    res = runner.invoke(app, [*base, "seed_column=sometimes"])
    assert_clear_error(res, "seed_column: cannot read 'sometimes' as 'auto' | bool")
    res = runner.invoke(app, [*base, "seed_time=first"])
    assert res.exit_code == 0, res.output
    with pytest.raises(CascadeKitError, match="seed_time: cannot read"):
        pipeline.load_bundle(str(tmp_path), options={"seed_time": "last"}, fmt="infvae")
