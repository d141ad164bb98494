"""The one training loop every neural model in cascadekit uses.

Built on Lightning Fabric: Fabric picks the device (a GPU automatically when present) and moves
modules and batches there; the loop itself stays explicit so that models keep their own fast,
length-bucketed batching (measured: no overhead beyond noise against a plain PyTorch loop on CPU).
Fabric's multi-device strategies (DDP, multi-node) are not wired yet: the loop runs on one device.
Python, numpy and torch RNGs are seeded from ``TrainConfig.seed``. Model selection and early
stopping use the validation callback only — the test set never enters ``fit``.

Run directory (when given): ``config.json`` (TrainConfig + extra), ``metrics.jsonl`` and
``history.json`` (one entry per epoch: train loss, validation metrics, seconds), ``best.ckpt`` (best
weights) and ``last.ckpt`` (everything needed to resume: weights, optimizer, scheduler, RNG states,
early-stopping state). Checkpoints hold tensors and plain Python values only and are read back
with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn


@dataclass
class TrainConfig:
    """Everything the loop needs; saved to ``config.json``. ``schedule="noam"`` multiplies ``lr`` by
    `noam_factor` (NDM's reference code: lr=1, warmup 1000, d_model 64, betas (0.9, 0.98), eps 1e-9)."""

    max_epochs: int = 50
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 10  # validation checks without improvement before stopping
    seed: int = 0
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "mps"
    grad_clip: float | None = None
    val_every: int = 1
    progress: bool = True
    deterministic: bool = True
    threads: int | None = None
    optimizer: str = "adam"  # "adam" | "adamw" | "sgd" | "adagrad"
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    schedule: str | None = None  # None | "noam"
    warmup_steps: int = 1000
    d_model: int = 64
    max_steps: int | None = None
    # sequence models: batches sorted by length within pools of this many batches (less padding);
    # 1 = plain random batches, as NDM's reference code. Measured on lastfm (NDM, reference preset):
    # pools of 1, 50 and 200 give the same identification F1 (benchmarks/results/ndm_batching.jsonl).
    bucket_pool: int = 200


@dataclass
class TrainResult:
    """Outcome of `fit`: the selected epoch (0-based) and its validation score, per-epoch history."""

    best_epoch: int
    best_score: float
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    epochs_run: int = 0
    run_dir: Path | None = None


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _optimizer(module: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in module.parameters() if p.requires_grad]
    if cfg.optimizer == "adam":
        return torch.optim.Adam(
            params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay
        )
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(
            params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay
        )
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}")


def noam_factor(step: int, d_model: int, warmup: int) -> float:
    """Transformer ("Noam") schedule multiplier d^-0.5 · min(s^-0.5, s · w^-1.5), s ≥ 1."""
    s = max(step, 1)
    return d_model**-0.5 * min(s**-0.5, s * warmup**-1.5)


def _scheduler(
    opt: torch.optim.Optimizer, cfg: TrainConfig
) -> torch.optim.lr_scheduler.LRScheduler | None:
    if cfg.schedule is None:
        return None
    if cfg.schedule == "noam":
        return torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: noam_factor(s + 1, cfg.d_model, cfg.warmup_steps)
        )
    raise ValueError(f"unknown schedule {cfg.schedule!r}")


def _rng_state() -> dict[str, Any]:
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": torch.from_numpy(np.random.get_state()[1].astype(np.int64)),
        "numpy_pos": int(np.random.get_state()[2]),
        "python": json.dumps(random.getstate()),
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])
    np.random.set_state(
        ("MT19937", state["numpy"].numpy().astype(np.uint32), state["numpy_pos"], 0, 0.0)
    )
    version, internal, gauss = json.loads(state["python"])
    random.setstate((version, tuple(internal), gauss))


def _improved(score: float, best: float, mode: str) -> bool:
    if math.isnan(score):
        return False
    return score > best if mode == "max" else score < best


def fit(
    module: nn.Module,
    *,
    train_batches: Callable[[int], Iterable[Any]],
    loss_fn: Callable[[nn.Module, Any], torch.Tensor],
    validate: Callable[[nn.Module], dict[str, float]] | None = None,
    monitor: str = "loss",
    mode: str = "max",
    config: TrainConfig | None = None,
    run_dir: str | Path | None = None,
    resume: bool = False,
    extra_config: dict[str, Any] | None = None,
) -> TrainResult:
    """Train ``module`` in place; the best weights (by ``validate()[monitor]``) are restored at the end.

    ``train_batches(epoch)`` yields batches for one epoch (the model's own collation; reshuffle with
    the epoch number for reproducibility). Without ``validate`` the last epoch is "best" and
    ``monitor`` reads the mean training loss (``mode`` should then be "min"). ``resume=True``
    continues from ``run_dir/last.ckpt`` (a finished or early-stopped run is not trained further) and
    ends with the same weights and history as an uninterrupted run.
    """
    cfg = config or TrainConfig()
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    if cfg.val_every < 1 or cfg.patience < 1:
        raise ValueError("val_every and patience must be >= 1")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(cfg.deterministic, warn_only=True)
    try:
        return _fit(
            module, train_batches, loss_fn, validate, monitor, mode, cfg, run_dir, resume, extra_config
        )  # fmt: skip
    finally:
        torch.use_deterministic_algorithms(was_deterministic)


def _fit(
    module: nn.Module,
    train_batches: Callable[[int], Iterable[Any]],
    loss_fn: Callable[[nn.Module, Any], torch.Tensor],
    validate: Callable[[nn.Module], dict[str, float]] | None,
    monitor: str,
    mode: str,
    cfg: TrainConfig,
    run_dir: str | Path | None,
    resume: bool,
    extra_config: dict[str, Any] | None,
) -> TrainResult:
    # imported here: lightning takes ~1 s to import and most of the toolkit never trains
    from lightning.fabric import Fabric
    from tqdm.auto import tqdm

    seed_everything(cfg.seed)
    fabric = Fabric(accelerator=cfg.device, devices=1)
    run = Path(run_dir) if run_dir is not None else None
    if run is not None:
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(
            json.dumps({"train": asdict(cfg), **(extra_config or {})}, indent=2, default=str)
        )
    opt = _optimizer(module, cfg)
    sched = _scheduler(opt, cfg)
    model, opt = fabric.setup(module, opt)
    best = -math.inf if mode == "max" else math.inf
    best_epoch, start_epoch, step, bad_checks, stopped = -1, 0, 0, 0, False
    history: list[dict[str, Any]] = []
    best_state: dict[str, torch.Tensor] | None = None

    if resume and run is not None and (run / "last.ckpt").is_file():
        ck = torch.load(run / "last.ckpt", weights_only=True, map_location=fabric.device)
        module.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        if sched is not None:
            sched.load_state_dict(ck["scheduler"])
        best, best_epoch, start_epoch = ck["best"], ck["best_epoch"], ck["epoch"] + 1
        step, bad_checks, stopped = ck["step"], ck["bad_checks"], ck["stopped"]
        history = json.loads(ck["history"])
        best_state = ck["best_state"]
        _set_rng_state(ck["rng"])

    t0 = time.perf_counter()
    end_epoch = start_epoch if stopped else cfg.max_epochs
    for epoch in range(start_epoch, end_epoch):
        model.train()
        total, n_batches, e0 = 0.0, 0, time.perf_counter()
        bar = tqdm(
            train_batches(epoch),
            desc=f"epoch {epoch + 1}/{cfg.max_epochs}",
            disable=not cfg.progress,
            leave=False,
        )
        for batch in bar:
            batch = fabric.to_device(batch)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model, batch)
            fabric.backward(loss)
            if cfg.grad_clip:
                fabric.clip_gradients(model, opt, max_norm=cfg.grad_clip)
            opt.step()
            if sched is not None:
                sched.step()
            step += 1
            total += float(loss.detach())
            n_batches += 1
            if cfg.progress:
                bar.set_postfix(loss=f"{total / n_batches:.4f}")
            if cfg.max_steps is not None and step >= cfg.max_steps:
                break
        entry: dict[str, Any] = {
            "epoch": epoch,
            "train_loss": total / max(n_batches, 1),
            "step": step,
        }
        checked = validate is not None and (
            (epoch + 1) % cfg.val_every == 0 or epoch + 1 == cfg.max_epochs
        )
        if checked:
            model.eval()
            with torch.no_grad():
                entry.update({f"valid_{k}": float(v) for k, v in validate(module).items()})
            if f"valid_{monitor}" not in entry:
                raise KeyError(f"validate() returned no {monitor!r} (got {sorted(entry)})")
            score = entry[f"valid_{monitor}"]
        elif validate is None:
            score, checked = entry["train_loss"], True
        if checked:
            if _improved(score, best, mode) or best_state is None:
                best, best_epoch, bad_checks = score, epoch, 0
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                if run is not None:
                    torch.save(best_state, run / "best.ckpt")
            else:
                bad_checks += 1
        entry["seconds"] = time.perf_counter() - e0
        history.append(entry)
        stopped = bad_checks >= cfg.patience or (
            cfg.max_steps is not None and step >= cfg.max_steps
        )
        if run is not None:
            (run / "history.json").write_text(json.dumps(history, indent=1))
            (run / "metrics.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))
            torch.save(
                {
                    "model": module.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict() if sched is not None else {},
                    "best": best,
                    "best_epoch": best_epoch,
                    "epoch": epoch,
                    "step": step,
                    "bad_checks": bad_checks,
                    "stopped": stopped,
                    "history": json.dumps(history),
                    "best_state": best_state,
                    "rng": _rng_state(),
                },
                run / "last.ckpt",
            )
        if cfg.progress:
            shown = {k: round(v, 4) for k, v in entry.items() if k.startswith("valid_")}
            tqdm.write(f"epoch {epoch + 1}: train_loss={entry['train_loss']:.4f} {shown}")
        if stopped:
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    return TrainResult(
        best_epoch=best_epoch,
        best_score=float(best),
        history=history,
        seconds=time.perf_counter() - t0,
        epochs_run=len(history),
        run_dir=run,
    )
