"""The training loop: seeded determinism, validation-only selection, exact resume, Noam schedule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from cascadekit.training import TrainConfig, fit, noam_factor


def problem(seed: int = 0) -> tuple[torch.nn.Module, list[tuple[torch.Tensor, torch.Tensor]]]:
    g = torch.Generator().manual_seed(123)
    x = torch.randn(64, 4, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0]) + 0.1 * torch.randn(64, generator=g)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.1), torch.nn.Linear(8, 1))
    return model, [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]


def loss_fn(m: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = batch
    return ((m(x).squeeze(1) - y) ** 2).mean()


def run(
    tmp: Path | None,
    seed: int = 0,
    epochs: int = 6,
    resume: bool = False,
    crash_at: int | None = None,
    patience: int = 10,
    validate=None,  # noqa: ANN001
) -> tuple[torch.nn.Module, dict]:
    model, data = problem(seed)
    xv, yv = data[0]
    cfg = TrainConfig(max_epochs=epochs, lr=0.01, seed=seed, progress=False, patience=patience)

    def mse(m: torch.nn.Module) -> dict[str, float]:
        return {"mse": float(((m(xv).squeeze(1) - yv) ** 2).mean())}

    def batches(epoch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        if epoch == crash_at:
            raise KeyboardInterrupt  # the process dies at the start of this epoch
        return data

    res = fit(
        model, train_batches=batches, loss_fn=loss_fn, validate=validate or mse,
        monitor=("mse", "min"), config=cfg, run_dir=tmp, resume=resume,
    )  # fmt: skip
    return model, {
        "best_epoch": res.best_epoch, "best": res.best_score, "history": res.history,
        "kept": res.kept_epoch, "stop": res.stop_reason,
    }  # fmt: skip


def weights(m: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in m.parameters()]


def test_same_seed_same_numbers_other_seed_differs() -> None:
    a, ra = run(None, seed=0)
    b, rb = run(None, seed=0)
    c, _ = run(None, seed=1)
    assert all(torch.equal(x, y) for x, y in zip(weights(a), weights(b), strict=True))
    assert [h["train_loss"] for h in ra["history"]] == [h["train_loss"] for h in rb["history"]]
    assert not all(torch.equal(x, y) for x, y in zip(weights(a), weights(c), strict=True))


def test_best_weights_restored_and_run_dir_written(tmp_path: Path) -> None:
    model, r = run(tmp_path)
    scores = [h["valid_mse"] for h in r["history"]]
    assert r["best"] == min(scores) and r["best_epoch"] == scores.index(min(scores))
    assert r["kept"] == r["best_epoch"] and r["stop"] == "max_epochs (6) reached"
    best = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["best_state"]
    for k, v in model.state_dict().items():
        assert torch.equal(v, best[k])
    assert json.loads((tmp_path / "config.json").read_text())["train"]["lr"] == 0.01
    assert len(json.loads((tmp_path / "history.json").read_text())) == 6
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["valid_mse"] for line in lines] == scores
    assert not torch.are_deterministic_algorithms_enabled()  # global flag restored after fit


def test_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    full, r_full = run(tmp_path / "full", epochs=6)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "cut", epochs=6, crash_at=3)
    assert len(json.loads((tmp_path / "cut" / "history.json").read_text())) == 3
    resumed, r_res = run(tmp_path / "cut", epochs=6, resume=True)
    assert r_res["history"] == [
        {**h, "seconds": r_res["history"][i]["seconds"]} for i, h in enumerate(r_full["history"])
    ]
    assert all(torch.equal(x, y) for x, y in zip(weights(full), weights(resumed), strict=True))


def test_early_stopping_and_resume_of_a_stopped_run(tmp_path: Path) -> None:
    flat = lambda m: {"mse": 1.0}  # noqa: E731 — never improves after the first check
    _, r = run(tmp_path, epochs=6, patience=2, validate=flat)
    assert r["best_epoch"] == 0 and len(r["history"]) == 3  # best, then 2 checks without gain
    assert r["stop"] == "early stopping: valid_mse did not improve for 2 checks"
    _, again = run(tmp_path, epochs=6, patience=2, validate=flat, resume=True)
    assert len(again["history"]) == 3  # a stopped run is not trained further


def test_noam_schedule_values() -> None:
    # d = 64, warmup 4: step 1 → 64^-.5 · 1 · 4^-1.5 = 1/8 · 1/8; step 16 → 1/8 · 16^-.5 = 1/32
    assert noam_factor(1, 64, 4) == pytest.approx(1 / 64)
    assert noam_factor(16, 64, 4) == pytest.approx(1 / 32)
    # peak at the end of warm-up: 1/8 · 4^-.5 = 1/16, above both neighbours
    assert noam_factor(4, 64, 4) == pytest.approx(1 / 16)
    assert noam_factor(3, 64, 4) < 1 / 16 and noam_factor(5, 64, 4) < 1 / 16


def test_noam_schedule_drives_the_optimizer() -> None:
    # loss = w has gradient 1, so plain SGD moves w by exactly -lr · noam(step) at each step
    module = torch.nn.Module()
    module.w = torch.nn.Parameter(torch.zeros(()))
    cfg = TrainConfig(
        max_epochs=1, lr=2.0, optimizer="sgd", progress=False,
        schedule={"name": "noam", "warmup_steps": 4, "d_model": 64},
    )  # fmt: skip
    res = fit(
        module, train_batches=lambda e: [None] * 3, loss_fn=lambda m, b: m.w * 1.0,
        validate=None, monitor=("loss", "min"), config=cfg,
    )  # fmt: skip
    expected = -2.0 * sum(noam_factor(s, 64, 4) for s in (1, 2, 3))
    assert module.w.item() == pytest.approx(expected, rel=1e-6)
    assert res.history[0]["step"] == 3 and res.history[0]["train_loss"] == pytest.approx(
        -2.0 * (2 * noam_factor(1, 64, 4) + noam_factor(2, 64, 4)) / 3  # losses 0, w1, w2
    )


def test_keep_last_ignores_patience_and_loss_parts_are_logged() -> None:
    """select="last": never stopped early, the final weights kept; dict losses log each part."""
    model, data = problem()
    cfg = TrainConfig(max_epochs=5, lr=0.01, progress=False, patience=1, select="last")

    def parts(m: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> dict:
        mse = loss_fn(m, batch)
        return {"loss": 2 * mse, "mse": mse}

    res = fit(
        model, train_batches=lambda e: data, loss_fn=parts, validate=lambda m: {"mse": 1.0},
        monitor=("mse", "min"), config=cfg,
    )  # fmt: skip
    assert res.kept_epoch == 4 and res.epochs_run == 5 and res.monitor is None
    assert all(h["train_loss"] == pytest.approx(2 * h["train_mse"]) for h in res.history)


def test_bad_configs_are_refused() -> None:
    for bad in ({"max_epochs": 0}, {"batch_size": -4}, {"lr": 0.0}, {"optimizer": "adamax"}):
        with pytest.raises(ValueError):
            TrainConfig(**bad)
