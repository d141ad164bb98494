"""The one pipeline: registry → task → fit → run folder → evaluate, for any model, with clear
errors, presets that reach the published configurations, and runs that are never overwritten."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from cascadekit import datasets, pipeline, registry
from cascadekit.cli import app
from cascadekit.errors import CascadeKitError
from cascadekit.models.base import Preset
from cascadekit.models.sequence import SequenceEstimator, SequenceOptions
from cascadekit.runs import RunInfo

runner = CliRunner()
SMALL = ["--data", "synthetic", "--data-set", "n_users=60", "--data-set", "n_cascades=200"]


def train_eval(tmp: Path, name: str, seed: int) -> dict:
    run = tmp / name
    args = ["train", "lstm", "--data", "ndm_irvine", "--out", str(run), "--task", "next_user"]
    res = runner.invoke(
        app, [*args, "--set", "epochs=2", "--set", "progress=false", "--seed", str(seed)]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["evaluate", str(run), "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_train_evaluate_is_deterministic_on_real_data(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    a, b, c = (train_eval(tmp_path, n, s) for n, s in (("a", 0), ("b", 0), ("c", 1)))
    assert a["metrics"] == b["metrics"] and a["metrics"] != c["metrics"]
    # shipped irvine test split: 47 cascades, 663 prediction positions (616 users + 47 ENDs)
    assert a["test_size"] == 47 and a["metrics"]["positions"] == 663
    run = json.loads((tmp_path / "a" / "run.json").read_text())
    assert run["split_info"]["kind"] == "shipped"
    assert run["split_info"]["valid_carved_from_train"] == 0.1


def test_same_seed_same_run_on_synthetic_data(tmp_path: Path) -> None:
    """Pure-logic twin of the real-data determinism test (runs without the mirror)."""
    results = []
    for name in ("a", "b"):
        args = ["train", "lstm", *SMALL, "--out", str(tmp_path / name), "--set", "epochs=2"]
        assert runner.invoke(app, [*args, "--set", "progress=false"]).exit_code == 0
        results.append(pipeline.evaluate(tmp_path / name, "next_user")["metrics"])
    assert results[0] == results[1]


def test_clear_errors(tmp_path: Path) -> None:
    res = runner.invoke(app, ["train", "nope", "--data", "synthetic", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "unknown model 'nope'" in res.stderr
    res = runner.invoke(
        app, ["train", "lstm", *SMALL, "--out", str(tmp_path / "x"), "--set", "foo=1"]
    )
    err = res.stderr.replace("\n", "")
    assert res.exit_code == 2 and "unknown option 'foo'" in err and "hidden_dim=64" in err
    res = runner.invoke(
        app, ["train", "lstm", *SMALL, "--out", str(tmp_path / "x"), "--set", "epochs=0"]
    )
    assert res.exit_code == 2 and "max_epochs must be >= 1" in res.stderr.replace("\n", "")
    res = runner.invoke(app, ["evaluate", str(tmp_path), "--task", "next_user"])
    assert res.exit_code == 2 and "not a run directory" in res.stderr
    res = runner.invoke(
        app, ["train", "lstm", *SMALL, "--out", str(tmp_path / "y"), "--preset", "x"]
    )
    assert res.exit_code == 2 and "lstm has no preset 'x'" in res.stderr.replace("\n", "")
    res = runner.invoke(
        app, ["train", "lstm", *SMALL, "--out", str(tmp_path / "y"), "--task", "point_process"]
    )
    assert res.exit_code == 2 and "does not serve task 'point_process'" in res.stderr.replace(
        "\n", ""
    )


def test_default_preset_is_the_reference_code_and_epochs_keep_the_last(tmp_path: Path) -> None:
    """`train ndm` with no preset is the reference code (the configuration behind the published
    numbers); overriding epochs on a keep-the-last-epoch preset still keeps the last one, and
    patience never cuts it short."""
    out = tmp_path / "ndm"
    res = runner.invoke(app, ["train", "ndm", *SMALL, "--out", str(out), "--set", "epochs=3",
                              "--set", "patience=1", "--set", "progress=false"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "kept epoch 3 of 3 (max_epochs (3) reached)" in res.stderr.replace("\n", " ")
    info = json.loads((out / "run.json").read_text())
    assert info["preset"] == "reference_code" and info["task"] == "identification"
    cfg = info["config"]
    assert cfg["model_config"]["end_weight"] == 0.0 and cfg["model_config"]["output_bias"] is True
    assert cfg["train_config"]["select"] == "last" and cfg["train_config"]["max_epochs"] == 3
    assert cfg["train_config"]["schedule"] == {"name": "noam", "warmup_steps": 1000, "d_model": 64}
    assert info["selection"] == {
        "kept_epoch": 2, "best_epoch": None, "best_score": None, "monitor": "last",
        "stop_reason": "max_epochs (3) reached", "epochs_run": 3,
    }  # fmt: skip
    assert len(json.loads((out / "history.json").read_text())) == 3


def test_selection_follows_the_task_metric(tmp_path: Path) -> None:
    info = pipeline.train(
        "lstm", "synthetic", tmp_path / "r", task="next_user",
        options={"epochs": 3, "progress": False}, data_options={"n_users": 60, "n_cascades": 200},
    )  # fmt: skip
    history = json.loads((tmp_path / "r" / "history.json").read_text())
    scores = [h["valid_map@10"] for h in history]
    assert info.selection["monitor"] == ["map@10", "max"]
    assert info.selection["kept_epoch"] == scores.index(max(scores))


def test_a_run_is_never_overwritten_and_resume_needs_a_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "r"
    args = ["train", "user_frequency", *SMALL, "--out", str(out), "--task", "next_user"]
    assert runner.invoke(app, args).exit_code == 0
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "already holds a finished run" in res.stderr.replace("\n", "")
    res = runner.invoke(app, [*args[:-4], "--out", str(tmp_path / "empty"), "--resume"])
    assert res.exit_code == 2 and "nothing to resume" in res.stderr.replace("\n", "")


def test_cli_resumes_a_killed_training_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run interrupted after its second epoch, resumed with --resume, ends exactly like an
    uninterrupted run."""
    opts = {"epochs": 4, "progress": False}
    data = {"n_users": 60, "n_cascades": 200}
    pipeline.train(
        "lstm", "synthetic", tmp_path / "full", task="next_user", options=opts, data_options=data
    )
    from cascadekit.models import lstm

    calls = {"n": 0}
    original = lstm.LSTM._batches

    def dies_in_epoch_3(self, train, epoch):  # noqa: ANN001, ANN202
        if epoch == 2:
            raise KeyboardInterrupt
        calls["n"] += 1
        return original(self, train, epoch)

    monkeypatch.setattr(lstm.LSTM, "_batches", dies_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        pipeline.train(
            "lstm", "synthetic", tmp_path / "cut", task="next_user", options=opts, data_options=data
        )
    monkeypatch.setattr(lstm.LSTM, "_batches", original)
    args = ["train", "lstm", "--data", "synthetic", "--data-set", "n_users=60", "--data-set",
            "n_cascades=200", "--task", "next_user", "--set", "epochs=4", "--set", "progress=false",
            "--out", str(tmp_path / "cut"), "--resume"]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    a = torch.load(tmp_path / "full" / "model" / "weights.pt", weights_only=True)
    b = torch.load(tmp_path / "cut" / "model" / "weights.pt", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_train_overwrite_replaces_a_run_whole_and_nothing_else(tmp_path: Path) -> None:
    """--overwrite clears the old run (no stale metrics survive); it never clears other data and
    is refused together with --resume."""
    args = ["train", "user_frequency", "--data", "synthetic", "--data-set", "n_users=40",
            "--data-set", "n_cascades=60", "--task", "next_user", "--out", str(tmp_path / "run")]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    stale = tmp_path / "run" / "metrics" / "stale.json"
    stale.parent.mkdir(exist_ok=True)
    stale.write_text("{}")
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "--overwrite" in refused.output
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0
    assert (tmp_path / "run" / "run.json").is_file() and not stale.exists()
    both = runner.invoke(app, [*args, "--overwrite", "--resume"])
    assert both.exit_code == 2 and "choose one" in both.output
    other = tmp_path / "photos"
    other.mkdir()
    (other / "a.jpg").write_text("x")
    res = runner.invoke(app, [*args[:-1], str(other), "--overwrite"])
    assert res.exit_code == 2 and "never other data" in res.output
    assert (other / "a.jpg").is_file()


def test_old_and_unknown_run_schemas_fail_clearly(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text(json.dumps({"model": "lstm", "data": "x", "options": {}}))
    with pytest.raises(CascadeKitError, match="run schema 1, written by an older cascadekit"):
        RunInfo.load(tmp_path)
    (tmp_path / "run.json").write_text(json.dumps({"schema": 99, "model": "lstm"}))
    with pytest.raises(CascadeKitError, match="run schema 99"):
        RunInfo.load(tmp_path)
    (tmp_path / "run.json").write_text("{not json")
    with pytest.raises(CascadeKitError, match="not valid JSON"):
        RunInfo.load(tmp_path)


def test_bool_options_are_parsed_not_truthy(tmp_path: Path) -> None:
    spec = registry.model("ndm")
    _, config, train = spec.configs(None, {"output_bias": "false", "progress": "False"})
    assert config.output_bias is False and train.progress is False
    with pytest.raises(CascadeKitError, match="expected true or false"):
        spec.configs(None, {"use_init": "maybe"})
    with pytest.raises(CascadeKitError, match="expected an integer"):
        spec.configs(None, {"window": 1.5})


def test_evaluate_rejects_unknown_task_options(tmp_path: Path) -> None:
    pipeline.train(
        "user_frequency",
        "synthetic",
        tmp_path / "r",
        data_options={"n_users": 60, "n_cascades": 200},
    )
    with pytest.raises(CascadeKitError, match="unknown identification task option.*n_sample"):
        pipeline.evaluate(tmp_path / "r", "identification", options={"n_sample": 5})


# ------------------------------------------------------------------ adding a model: one entry
@dataclass
class ToyConfig(SequenceOptions):
    """A toy next-user model: one embedding scored by a linear layer."""

    dim: int = 4


class ToyNet(torch.nn.Module):
    def __init__(self, n_users: int, dim: int) -> None:
        super().__init__()
        self.n_users = n_users
        self.embed = torch.nn.Embedding(n_users + 2, dim)
        self.out = torch.nn.Linear(dim, n_users + 1)

    def logits(self, seq: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        h = self.embed(seq)
        return self.out(h if positions is None else h[positions])

    def begin(self, prefix: torch.Tensor, capacity: int | None = None):  # noqa: ANN201
        return self.out(self.embed(prefix[:, -1])), None

    def step(self, state, tokens: torch.Tensor):  # noqa: ANN001, ANN201
        return self.out(self.embed(tokens)), None


class Toy(SequenceEstimator):
    name = "toy"
    config_class = ToyConfig

    def _build(self, meta: dict) -> ToyNet:
        return ToyNet(meta["n_users"], self.config.dim)


TOY_PRESETS = {"tiny": Preset("two dimensions", "toolkit", model={"dim": 2})}


def test_adding_a_model_is_one_registry_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole diff of adding a model: the module above plus this one entry."""
    entry = registry.ModelSpec(
        "toy", f"{__name__}:Toy", "toy next-user model", ("next_user", "identification"),
        presets=f"{__name__}:TOY_PRESETS", default_preset="tiny",
    )  # fmt: skip
    monkeypatch.setitem(registry.MODELS, "toy", entry)
    res = runner.invoke(app, ["train", "toy", *SMALL, "--out", str(tmp_path / "t"), "--set", "epochs=1",
                              "--set", "progress=false"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (
        json.loads((tmp_path / "t" / "run.json").read_text())["config"]["model_config"]["dim"] == 2
    )
    for task in ("next_user", "identification"):
        res = runner.invoke(app, ["evaluate", str(tmp_path / "t"), "--task", task, "--set",
                                  *(["n_samples=5"] if task == "identification" else ["ks=[1]"]), "--json"])  # fmt: skip
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["models", "toy"])
    assert res.exit_code == 0 and "tiny" in res.stdout and "dim" in res.stdout


def test_size_identification_is_bounded_and_refuses_models_that_never_stop(tmp_path: Path) -> None:
    data = {"n_users": 60, "n_cascades": 200}
    small = {"embedding_dim": 8, "n_heads": 2, "head_dim": 4, "epochs": 1, "progress": False}
    pipeline.train("ndm", "synthetic", tmp_path / "ref", options=small, data_options=data)
    with pytest.raises(CascadeKitError, match="END never a target"):
        pipeline.evaluate(tmp_path / "ref", "size_identification")
    pipeline.train(
        "ndm", "synthetic", tmp_path / "paper", preset="paper", options=small, data_options=data
    )
    out = pipeline.evaluate(tmp_path / "paper", "size_identification", options={"n_samples": 4})
    info = RunInfo.load(tmp_path / "paper")
    longest = int(pipeline.run_data(info)[2].train.lengths.max())
    # no sample outgrows the longest training cascade (the default bound)
    assert 1 <= out["metrics"]["mean_pred_size"] <= longest and out["metrics"]["msle_ln"] >= 0


@pytest.mark.parametrize(
    ("model", "option", "message"),
    [
        ("ndm", "dropout=5", "dropout must be in [0, 1)"),
        ("ndm", "embedding_dim=-3", "embedding_dim must be >= 1"),
        ("lstm", "hidden_dim=0", "hidden_dim must be >= 1"),
        ("embedded_ic", "embedding_dim=0", "embedding_dim and bucket_pool must be >= 1"),
        ("lstm", "batch_size=-4", "batch_size must be >= 1"),
        ("mic", "max_iter=-1", "max_iter must be >= 1"),
    ],
)
def test_out_of_range_options_are_clear_errors(
    model: str, option: str, message: str, tmp_path: Path
) -> None:
    data = "synthetic_mic" if model == "mic" else "synthetic"
    res = runner.invoke(
        app, ["train", model, "--data", data, "--out", str(tmp_path / "r"), "--set", option]
    )
    assert res.exit_code == 2 and message in res.stderr.replace("\n", ""), res.output
    assert not (tmp_path / "r").exists()  # refused before anything is written
