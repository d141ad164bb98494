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
    tmp: Path | None, seed: int = 0, epochs: int = 6, resume: bool = False
) -> tuple[torch.nn.Module, dict]:
    model, data = problem(seed)
    xv, yv = data[0]
    cfg = TrainConfig(max_epochs=epochs, lr=0.01, seed=seed, progress=False)

    def validate(m: torch.nn.Module) -> dict[str, float]:
        return {"mse": float(((m(xv).squeeze(1) - yv) ** 2).mean())}

    res = fit(
        model, train_batches=lambda e: data, loss_fn=loss_fn, validate=validate,
        monitor="mse", mode="min", config=cfg, run_dir=tmp, resume=resume,
    )  # fmt: skip
    return model, {"best_epoch": res.best_epoch, "best": res.best_score, "history": res.history}


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
    best = torch.load(tmp_path / "best.ckpt", weights_only=True)
    for k, v in model.state_dict().items():
        assert torch.equal(v, best[k])
    assert json.loads((tmp_path / "config.json").read_text())["train"]["lr"] == 0.01
    assert len(json.loads((tmp_path / "history.json").read_text())) == 6


def test_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    full, r_full = run(tmp_path / "full", epochs=6)
    run(tmp_path / "cut", epochs=3)  # interrupted after 3 epochs
    resumed, r_res = run(tmp_path / "cut", epochs=6, resume=True)
    assert [h["train_loss"] for h in r_res["history"]] == [
        h["train_loss"] for h in r_full["history"]
    ]
    assert all(torch.equal(x, y) for x, y in zip(weights(full), weights(resumed), strict=True))


def test_noam_schedule_values() -> None:
    # d = 64, warmup 4: step 1 → 64^-.5 · 1 · 4^-1.5 = 1/8 · 1/8; step 16 → 1/8 · 16^-.5 = 1/32
    assert noam_factor(1, 64, 4) == pytest.approx(1 / 64)
    assert noam_factor(16, 64, 4) == pytest.approx(1 / 32)
    assert noam_factor(4, 64, 4) == pytest.approx(noam_factor(4, 64, 4))  # peak at the warm-up end
    assert noam_factor(4, 64, 4) > noam_factor(3, 64, 4) and noam_factor(4, 64, 4) > noam_factor(
        5, 64, 4
    )
