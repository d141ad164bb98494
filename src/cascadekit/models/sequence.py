"""Shared estimator machinery for next-adopter sequence models (NDM, LSTM, ...).

A subclass sets ``name`` and implements ``_build(n_users) -> nn.Module`` (a
`models.base.SequentialDiffusionModel`); fitting, validation-based selection, saving and loading
are the same for all of them.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from cascadekit.data.cascades import CascadeSet
from cascadekit.tasks.batching import iterate_batches
from cascadekit.tasks.next_user import evaluate_next_user, next_user_loss
from cascadekit.training import TrainConfig, TrainResult, fit

SELECT_ON = ("nll", "mrr", "hits@10", "map@10", "last")


def check_select_on(value: str) -> None:
    if value not in SELECT_ON:
        raise ValueError(f"select_on must be one of {', '.join(SELECT_ON)}; got {value!r}")


class SequenceEstimator:
    name: ClassVar[str] = "sequence"
    config_class: ClassVar[type]

    def __init__(self, config: Any = None, train_config: TrainConfig | None = None) -> None:
        self.config = config if config is not None else self.config_class()
        self.train_config = train_config or TrainConfig()

    # subclasses ---------------------------------------------------------------
    def _build(self, n_users: int) -> torch.nn.Module:
        raise NotImplementedError

    @property
    def end_weight(self) -> float:
        """Loss weight of END targets (``config.end_weight``; NDM's reference code: 0)."""
        return getattr(self.config, "end_weight", 1.0)

    @property
    def select_on(self) -> str:
        """``config.select_on``: the validation metric that picks the epoch ("nll" lowest; "mrr",
        "hits@10", "map@10" highest) or "last" (the final epoch, as NDM's reference code)."""
        return getattr(self.config, "select_on", "nll")

    @property
    def monitor(self) -> tuple[str, str]:
        """Validation metric and direction used for early stopping / best checkpoint ("last"
        still records validation NLL per epoch; the weights then come from last.ckpt)."""
        metric = "nll" if self.select_on == "last" else self.select_on
        return metric, "min" if metric == "nll" else "max"

    def _loss(self, module: torch.nn.Module, batch: torch.Tensor) -> torch.Tensor:
        """Training objective of one batch (default: the shared masked next-user loss)."""
        return next_user_loss(module, batch, end_weight=self.end_weight)

    def _validate(self, module: torch.nn.Module, valid: CascadeSet) -> dict[str, float]:
        """Validation metrics; must contain ``monitor[0]``."""
        return evaluate_next_user(module, valid, ks=(10,))

    # estimator API --------------------------------------------------------------
    def fit(
        self,
        train: CascadeSet,
        valid: CascadeSet | None = None,
        run_dir: str | Path | None = None,
        *,
        resume: bool = False,
    ) -> SequenceEstimator:
        """Train on ``train``; select the epoch on ``valid`` (10 % of train carved with the seed if
        None). Test data never enters. ``resume`` continues an interrupted run in ``run_dir``. With
        ``select_on="last"`` the final epoch's weights (``last.ckpt``) replace the selected ones."""
        if self.select_on == "last":
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(run_dir) if run_dir is not None else Path(tmp)
                self._fit(train, valid, folder, resume)
                last = torch.load(folder / "last.ckpt", weights_only=True)
                self.module_.load_state_dict(last["model"])
                self.module_.eval()
            return self
        return self._fit(train, valid, run_dir, resume)

    def _fit(
        self, train: CascadeSet, valid: CascadeSet | None, run_dir: str | Path | None, resume: bool
    ) -> SequenceEstimator:
        tc = self.train_config
        if valid is None:
            perm = np.random.default_rng(tc.seed).permutation(len(train))
            n_valid = max(1, len(train) // 10)
            valid, train = (
                train.subset(np.sort(perm[:n_valid])),
                train.subset(np.sort(perm[n_valid:])),
            )
        torch.manual_seed(tc.seed)
        self.module_ = self._build(train.n_users)
        metric, mode = self.monitor
        result: TrainResult = fit(
            self.module_,
            train_batches=lambda epoch: iterate_batches(
                train, tc.batch_size, shuffle=True, seed=tc.seed + epoch, pool=tc.bucket_pool
            ),
            loss_fn=self._loss,
            validate=lambda m: self._validate(m, valid),
            monitor=metric,
            mode=mode,
            config=tc,
            run_dir=run_dir,
            resume=resume,
            extra_config={"model": self.name, "model_config": asdict(self.config)},
        )
        self.module_.eval()
        self.history_ = result.history
        self.fit_result_ = result
        return self

    def save(self, path: str | Path) -> Path:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(self.module_.state_dict(), folder / "weights.pt")
        meta = {
            "model": self.name,
            "n_users": self.module_.n_users,
            "config": asdict(self.config),
            "train_config": asdict(self.train_config),
        }
        (folder / "model.json").write_text(json.dumps(meta, indent=2))
        return folder

    @classmethod
    def load(cls, path: str | Path) -> SequenceEstimator:
        folder = Path(path)
        meta = json.loads((folder / "model.json").read_text())
        if meta["model"] != cls.name:
            raise ValueError(f"{folder} holds a {meta['model']} model, not {cls.name}")
        tc = meta["train_config"]
        tc["betas"] = tuple(tc["betas"])
        est = cls(cls.config_class(**meta["config"]), TrainConfig(**tc))
        est.module_ = est._build(meta["n_users"])
        est.module_.load_state_dict(torch.load(folder / "weights.pt", weights_only=True))
        est.module_.eval()
        return est
