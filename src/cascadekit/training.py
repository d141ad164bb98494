"""The one training loop every neural model in cascadekit uses.

Built on Lightning Fabric: Fabric picks the device (a GPU automatically when present) and moves
modules and batches there; the loop itself stays explicit so that models keep their own fast,
length-bucketed batching (measured: no overhead beyond noise against a plain PyTorch loop on CPU).
Data-parallel training (``devices`` > 1 or ``num_nodes`` > 1, ``strategy="ddp"``): Fabric starts or
joins the processes (``torchrun``, a cluster's launcher, or Fabric's own re-launch of the command)
and the process group; every rank draws the same seeded batches and takes its own disjoint slice
of each batch's rows (`rank_rows`), gradients are summed (losses reduced by sum) or averaged
(means) over the ranks after each backward, so a step equals the single-process step on the
whole batch. Gradients are reduced by the loop, not by a DDP wrapper: the models' losses call
methods other than ``forward`` (``logits``, encoders), which DDP's hooks would not see.
Validation and selection run on rank 0 and are broadcast; only rank 0 writes the run folder, and
a checkpoint resumes on any world size.
Python, numpy and torch RNGs are seeded from ``TrainConfig.seed``. Model selection and early
stopping use the validation callback only — the test set never enters ``fit``.

Selection (``TrainConfig.select``): ``"task"`` follows the monitor the caller passes (the task's
own metric and direction), a metric name (e.g. ``"nll"``, ``"map@10"``; direction from
`metrics.direction`) overrides it, ``"last"`` keeps the final epoch and never stops early —
a run asked to keep its last epoch is never cut by patience.

Run directory (when given): ``config.json`` (TrainConfig + extra), ``history.json`` and
``metrics.jsonl`` (one entry per epoch: train loss and its parts, validation metrics, seconds) and
``checkpoint.pt`` (everything needed to resume: weights, optimizer, scheduler, RNG states, selection
state, the selected weights). Checkpoints hold tensors and plain Python values only and are read
back with ``torch.load(weights_only=True)``; `pipeline.train` deletes the checkpoint once the
finished model is saved, so a run folder keeps its weights once.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cascadekit.errors import CascadeKitError
from cascadekit.metrics import direction

CHECKPOINT = "checkpoint.pt"
Monitor = tuple[str, str]  # (validation metric, "max" | "min")


@dataclass
class TrainConfig:
    """Everything the loop needs and nothing model-specific; saved to ``config.json``.

    ``schedule``: None or ``{"name": "noam", "warmup_steps": w, "d_model": d}`` (lr multiplied by
    `noam_factor`; NDM's reference code: lr 1, warmup 1000, d 64, betas (0.9, 0.98), eps 1e-9).
    ``select``: "task" | "last" | a validation metric name (see the module docstring).
    """

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
    schedule: dict[str, Any] | None = None
    max_steps: int | None = None
    select: str = "task"
    devices: int = 1
    num_nodes: int = 1
    strategy: str = "auto"  # Fabric's strategy name: "auto", "ddp", ...

    def __post_init__(self) -> None:
        self.betas = tuple(self.betas)  # JSON gives lists
        for name in ("max_epochs", "batch_size", "patience", "val_every", "devices", "num_nodes"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        for name in ("max_steps", "threads"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be None or >= 1, got {getattr(self, name)}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"grad_clip must be None or > 0, got {self.grad_clip}")
        if self.weight_decay < 0 or not self.eps > 0:
            raise ValueError(
                f"weight_decay must be >= 0 and eps > 0, got {self.weight_decay}, {self.eps}"
            )
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas}")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        if self.schedule is not None and self.schedule.get("name") != "noam":
            raise ValueError(
                f"schedule must be None or {{'name': 'noam', ...}}, got {self.schedule}"
            )


@dataclass
class TrainResult:
    """Outcome of `fit`: the kept epoch (0-based), why training stopped, per-epoch history.

    ``best_epoch``/``best_score``: the best validation check by the monitor (None without one);
    ``kept_epoch``: whose weights the module holds now (``best_epoch``, or the last epoch when
    selection is "last")."""

    kept_epoch: int
    best_epoch: int | None
    best_score: float | None
    stop_reason: str
    monitor: Monitor | None
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    epochs_run: int = 0
    run_dir: Path | None = None

    def summary(self) -> dict[str, Any]:
        """What `run.json` records about selection."""
        return {
            "kept_epoch": self.kept_epoch,
            "best_epoch": self.best_epoch,
            "best_score": self.best_score,
            "monitor": list(self.monitor) if self.monitor else "last",
            "stop_reason": self.stop_reason,
            "epochs_run": self.epochs_run,
        }


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


OPTIMIZERS = ("adam", "adamw", "sgd", "adagrad")
DEVICES = ("auto", "cpu", "cuda", "gpu", "mps", "tpu")  # Fabric's accelerator names


def _optimizer(groups: list[dict[str, Any]], cfg: TrainConfig) -> torch.optim.Optimizer:
    """``groups``: torch parameter groups (each may set its own ``lr``, e.g. embeddings)."""
    common = {"lr": cfg.lr, "weight_decay": cfg.weight_decay}
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, betas=cfg.betas, eps=cfg.eps, **common)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, betas=cfg.betas, eps=cfg.eps, **common)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, **common)
    return torch.optim.Adagrad(groups, **common)


def noam_factor(step: int, d_model: int, warmup: int) -> float:
    """Transformer ("Noam") schedule multiplier d^-0.5 · min(s^-0.5, s · w^-1.5), s ≥ 1."""
    s = max(step, 1)
    return d_model**-0.5 * min(s**-0.5, s * warmup**-1.5)


def _scheduler(
    opt: torch.optim.Optimizer, cfg: TrainConfig
) -> torch.optim.lr_scheduler.LRScheduler | None:
    if cfg.schedule is None:
        return None
    d, warmup = int(cfg.schedule["d_model"]), int(cfg.schedule["warmup_steps"])
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: noam_factor(s + 1, d, warmup))


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


def launched_main() -> bool:
    """Whether this process is rank 0 (or alone), from what a launcher set before any process
    group exists: torchrun's ``RANK``, SLURM's ``SLURM_PROCID``, or Fabric's ``NODE_RANK`` /
    ``LOCAL_RANK``."""
    for name in ("RANK", "SLURM_PROCID"):
        if name in os.environ:
            return int(os.environ[name]) == 0
    return int(os.environ.get("NODE_RANK", 0)) == 0 and int(os.environ.get("LOCAL_RANK", 0)) == 0


def rank_rows(batch: Any, rank: int, world: int) -> Any:
    """Rank ``rank``'s contiguous slice of a batch's rows (of ``world`` near-equal slices): a
    tensor, or a tuple / list / dict of them with the batch dimension first (other values are
    kept whole)."""
    if isinstance(batch, torch.Tensor):
        return torch.tensor_split(batch, world)[rank]
    if isinstance(batch, (tuple, list)):
        return type(batch)(rank_rows(b, rank, world) for b in batch)
    if isinstance(batch, dict):
        return {k: rank_rows(v, rank, world) for k, v in batch.items()}
    return batch


def _leading_sizes(batch: Any) -> set[int]:
    if isinstance(batch, torch.Tensor):
        return {len(batch)} if batch.dim() else set()
    if isinstance(batch, (tuple, list, dict)):
        parts = batch.values() if isinstance(batch, dict) else batch
        return set().union(*map(_leading_sizes, parts))
    return set()


def _rows(batch: Any) -> int | None:
    """Rows of a batch as `rank_rows` splits it: None when no tensor has a batch dimension or
    its tensors disagree on it (a split would cut something that is not rows)."""
    sizes = _leading_sizes(batch)
    return sizes.pop() if len(sizes) == 1 else None


def resolve_monitor(select: str, task_monitor: Monitor | None) -> Monitor | None:
    """The (metric, mode) that picks the epoch, or None to keep the last one."""
    if select == "last":
        return None
    if select == "task":
        return task_monitor
    return select, direction(select)


@dataclass
class _State:
    """Selection and progress state of one fit, saved in the checkpoint for exact resumption."""

    mode: str = "max"
    best: float = -math.inf
    best_epoch: int | None = None
    epoch: int = -1
    step: int = 0
    bad_checks: int = 0
    stop_reason: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] | None = None

    def improved(self, score: float) -> bool:
        if math.isnan(score):
            return False
        return score > self.best if self.mode == "max" else score < self.best


LossFn = Callable[[nn.Module, Any], "torch.Tensor | dict[str, torch.Tensor]"]


def fit(
    module: nn.Module,
    *,
    train_batches: Callable[[int], Iterable[Any]],
    loss_fn: LossFn,
    validate: Callable[[nn.Module], dict[str, float]] | None = None,
    monitor: Monitor | None = ("loss", "min"),
    config: TrainConfig | None = None,
    run_dir: str | Path | None = None,
    resume: bool = False,
    param_groups: list[dict[str, Any]] | None = None,
    extra_config: dict[str, Any] | None = None,
    loss_reduction: str = "mean",
) -> TrainResult:
    """Train ``module`` in place and leave it holding the kept epoch's weights.

    ``train_batches(epoch)`` yields one epoch's batches (reshuffle with the epoch number for
    reproducibility). ``loss_fn`` returns the loss or a dict with ``"loss"`` (optimised) and named
    parts (logged separately as ``train_<part>``). ``monitor`` = (metric of ``validate()``, mode)
    is what `TrainConfig.select` = "task" follows; without ``validate`` the metric is read from
    the epoch's mean training loss (``"loss"``). ``param_groups``: torch parameter groups (default:
    every trainable parameter, one group). ``resume=True`` continues from ``run_dir/checkpoint.pt``
    (a finished or early-stopped run is not trained further) and ends with the same weights and
    history as an uninterrupted run. ``loss_reduction``: "sum" when the loss sums over a batch's
    rows (ranks' gradients are then summed), "mean" when it averages them (averaged).
    """
    if loss_reduction not in ("sum", "mean"):
        raise ValueError(f"loss_reduction must be 'sum' or 'mean', got {loss_reduction!r}")
    cfg = config or TrainConfig()
    monitor = resolve_monitor(cfg.select, monitor)
    if monitor is not None and monitor[1] not in ("max", "min"):
        raise ValueError(f"monitor mode must be 'max' or 'min', got {monitor[1]!r}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(cfg.deterministic, warn_only=True)
    try:
        loop = _Loop(module, cfg, monitor, run_dir, param_groups, extra_config, loss_reduction)
        return loop.run(train_batches, loss_fn, validate, resume)
    finally:
        torch.use_deterministic_algorithms(was_deterministic)


class _Loop:
    """One fit: setup (`__init__`), resume, epochs (`_train_epoch`, `_check`), checkpoints."""

    def __init__(
        self,
        module: nn.Module,
        cfg: TrainConfig,
        monitor: Monitor | None,
        run_dir: str | Path | None,
        param_groups: list[dict[str, Any]] | None,
        extra_config: dict[str, Any] | None,
        loss_reduction: str = "mean",
    ) -> None:
        # imported here: lightning takes ~1 s to import and most of the toolkit never trains
        from lightning.fabric import Fabric

        seed_everything(cfg.seed)
        self.cfg, self.monitor, self.module = cfg, monitor, module
        self.fabric = Fabric(accelerator=cfg.device, devices=cfg.devices,
                             num_nodes=cfg.num_nodes, strategy=cfg.strategy)  # fmt: skip
        self.world, self.reduction = self.fabric.world_size, loss_reduction
        if self.world > 1:
            self.fabric.launch()  # joins torchrun's / a cluster's processes, or starts them
        self.main = self.fabric.is_global_zero
        self.run_dir = Path(run_dir) if run_dir is not None else None
        if self.run_dir is not None and self.main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            config = {"train": asdict(cfg), **(extra_config or {})}
            _write_atomic(self.run_dir / "config.json", json.dumps(config, indent=2, default=str))
        groups = param_groups or [{"params": [p for p in module.parameters() if p.requires_grad]}]
        self.params = [p for g in groups for p in g["params"]]
        self.opt = _optimizer(groups, cfg)
        self.sched = _scheduler(self.opt, cfg)
        if self.world == 1:
            self.model, self.opt = self.fabric.setup(module, self.opt)
        else:  # a plain module on this rank's device, rank 0's weights (see the module docstring)
            self.model = module.to(self.fabric.device)
            for tensor in module.state_dict().values():
                torch.distributed.broadcast(tensor, src=0)
        mode = monitor[1] if monitor else "max"
        self.state = _State(mode=mode, best=-math.inf if mode == "max" else math.inf)

    def run(
        self,
        train_batches: Callable[[int], Iterable[Any]],
        loss_fn: LossFn,
        validate: Callable[[nn.Module], dict[str, float]] | None,
        resume: bool,
    ) -> TrainResult:
        from tqdm.auto import tqdm

        if resume and self.run_dir is not None and (self.run_dir / CHECKPOINT).is_file():
            self._load_checkpoint()
        st, cfg = self.state, self.cfg
        if st.stop_reason.startswith("max_epochs") and st.epoch + 1 < cfg.max_epochs:
            st.stop_reason = ""  # resumed with more epochs: continue
        t0 = time.perf_counter()
        for epoch in range(st.epoch + 1, cfg.max_epochs):
            if st.stop_reason:
                break
            e0 = time.perf_counter()
            entry = self._train_epoch(epoch, train_batches(epoch), loss_fn)
            if validate is not None and (
                (epoch + 1) % cfg.val_every == 0 or epoch + 1 == cfg.max_epochs
            ):
                self.model.eval()
                with torch.no_grad():
                    scores = validate(self.module) if self.main else None
                if self.world > 1:
                    scores = self.fabric.broadcast(scores, src=0)
                entry.update({f"valid_{k}": float(v) for k, v in scores.items()})
                self._check(entry, f"valid_{self.monitor[0]}" if self.monitor else None)
            elif validate is None:
                self._check(entry, f"train_{self.monitor[0]}" if self.monitor else None)
            entry["seconds"] = time.perf_counter() - e0
            st.history.append(entry)
            st.epoch = epoch
            if cfg.max_steps is not None and st.step >= cfg.max_steps:
                st.stop_reason = f"max_steps ({cfg.max_steps}) reached"
            elif epoch + 1 == cfg.max_epochs:
                st.stop_reason = f"max_epochs ({cfg.max_epochs}) reached"
            self._save_checkpoint()
            if cfg.progress and self.main:
                shown = {k: round(v, 4) for k, v in entry.items() if k.startswith("valid_")}
                tqdm.write(f"epoch {epoch + 1}: train_loss={entry['train_loss']:.4f} {shown}")
        if self.monitor is not None and st.best_state is not None:
            self.module.load_state_dict(st.best_state)
            kept = st.best_epoch
        else:
            kept = st.epoch
        return TrainResult(
            kept_epoch=int(kept), best_epoch=st.best_epoch,
            best_score=None if st.best_epoch is None else float(st.best),
            stop_reason=st.stop_reason or "not finished", monitor=self.monitor,
            history=st.history, seconds=time.perf_counter() - t0, epochs_run=len(st.history),
            run_dir=self.run_dir,
        )  # fmt: skip

    def _train_epoch(self, epoch: int, batches: Iterable[Any], loss_fn: LossFn) -> dict[str, Any]:
        from tqdm.auto import tqdm

        cfg, st = self.cfg, self.state
        self.model.train()
        totals: dict[str, float] = {}
        n_batches = 0
        bar = tqdm(
            batches, desc=f"epoch {epoch + 1}/{cfg.max_epochs}",
            disable=not (cfg.progress and self.main), leave=False,
        )  # fmt: skip
        for batch in bar:
            self.opt.zero_grad(set_to_none=True)
            mine = self.world == 1 or self._my_rows(batch)
            if self.world > 1:
                batch = rank_rows(batch, self.fabric.global_rank, self.world)
            parts: dict[str, torch.Tensor] = {}
            if mine:
                batch = self.fabric.to_device(batch)
                out = loss_fn(self.model, batch)
                parts = out if isinstance(out, dict) else {"loss": out}
                self.fabric.backward(parts["loss"])
            if self.world > 1:
                self._reduce_gradients()
                if cfg.grad_clip:
                    torch.nn.utils.clip_grad_norm_(self.params, cfg.grad_clip)
            elif cfg.grad_clip:
                self.fabric.clip_gradients(self.model, self.opt, max_norm=cfg.grad_clip)
            self.opt.step()
            if self.sched is not None:
                self.sched.step()
            st.step += 1
            n_batches += 1
            for k, v in parts.items():
                totals[k] = totals.get(k, 0.0) + float(v.detach())
            if cfg.progress and "loss" in totals:
                bar.set_postfix(loss=f"{totals['loss'] / n_batches:.4f}")
            if cfg.max_steps is not None and st.step >= cfg.max_steps:
                break
        if not n_batches:
            raise ValueError(f"epoch {epoch + 1} had no training batches (empty training set?)")
        if self.world > 1:
            totals = self._reduce_totals(totals)
        entry: dict[str, Any] = {"epoch": epoch, "step": st.step}
        entry.update({f"train_{k}": v / n_batches for k, v in totals.items()})
        return entry

    # data parallel (world > 1) ------------------------------------------------------------------
    def _my_rows(self, batch: Any) -> bool:
        """Whether this rank gets any of the rows of the batch every rank drew."""
        rows = _rows(batch)
        if rows is None:
            raise CascadeKitError(
                f"data-parallel training splits each batch's rows over the ranks, but this "
                f"model's batches ({type(batch).__name__}) have no common first dimension; "
                "train it with devices=1"
            )
        return self.fabric.global_rank < rows  # tensor_split gives the first ranks the rows

    def _reduce_gradients(self) -> None:
        """Sum (or average) every gradient over the ranks in one collective; a parameter no rank
        used keeps no gradient, as in a single-process step."""
        dev = self.fabric.device
        used = torch.tensor(
            [p.grad is not None for p in self.params], dtype=torch.float32, device=dev
        )
        used = self.fabric.all_reduce(used, reduce_op="sum")
        params = [p for p, u in zip(self.params, used.tolist(), strict=True) if u > 0]
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        if not params:
            return
        flat = torch.cat([p.grad.reshape(-1) for p in params])
        flat = self.fabric.all_reduce(flat, reduce_op=self.reduction)
        offset = 0
        for p in params:
            p.grad.copy_(flat[offset : offset + p.numel()].view_as(p))
            offset += p.numel()

    def _reduce_totals(self, totals: dict[str, float]) -> dict[str, float]:
        """The epoch's loss parts over all ranks: summed (sum losses) or averaged (means)."""
        keys: list[Any] = [None] * self.world
        torch.distributed.all_gather_object(keys, sorted(totals))
        names = sorted(set().union(*keys))
        values = torch.tensor([totals.get(k, 0.0) for k in names], dtype=torch.float64)
        values = self.fabric.all_reduce(values.to(self.fabric.device), reduce_op=self.reduction)
        return dict(zip(names, values.tolist(), strict=True))

    def _check(self, entry: dict[str, Any], key: str | None) -> None:
        """Selection and early stopping after one validation check (no-op when keeping the last)."""
        st = self.state
        if key is None:
            return
        if key not in entry:  # a `select` metric this model's validation does not compute
            name = key.split("_", 1)[1]
            raise CascadeKitError(
                f"select={name!r}: the validation returns no {name!r}; it returns "
                f"{', '.join(sorted(k.split('_', 1)[1] for k in entry if '_' in k))}"
            )
        score = entry[key]
        if st.improved(score) or st.best_state is None:
            st.best, st.best_epoch, st.bad_checks = score, entry["epoch"], 0
            st.best_state = {k: v.detach().clone() for k, v in self.module.state_dict().items()}
        else:
            st.bad_checks += 1
            if st.bad_checks >= self.cfg.patience:
                st.stop_reason = (
                    f"early stopping: {key} did not improve for {self.cfg.patience} checks"
                )

    def _save_checkpoint(self) -> None:
        if self.run_dir is None or not self.main:
            return
        st = self.state
        history = json.dumps(st.history, indent=1)
        _write_atomic(self.run_dir / "history.json", history)
        _write_atomic(
            self.run_dir / "metrics.jsonl", "".join(json.dumps(h) + "\n" for h in st.history)
        )
        ck = {
            "model": self.module.state_dict(),
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict() if self.sched is not None else {},
            "state": json.dumps({k: v for k, v in asdict(st).items() if k != "best_state"}),
            "best_state": st.best_state,
            "rng": _rng_state(),
        }
        tmp = self.run_dir / (CHECKPOINT + ".tmp")
        torch.save(ck, tmp)
        tmp.replace(self.run_dir / CHECKPOINT)

    def _load_checkpoint(self) -> None:
        ck = torch.load(
            self.run_dir / CHECKPOINT, weights_only=True, map_location=self.fabric.device
        )
        self.module.load_state_dict(ck["model"])
        self.opt.load_state_dict(ck["optimizer"])
        if self.sched is not None:
            self.sched.load_state_dict(ck["scheduler"])
        saved = json.loads(ck["state"])
        self.state = _State(**{**saved, "best_state": ck["best_state"]})
        _set_rng_state(ck["rng"])


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
