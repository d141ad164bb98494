"""The generic torch estimator: fit / select / save / load for every neural model.

A family subclasses `TorchEstimator`, sets ``name`` (its registry name) and ``config_class``, and
implements the hooks:

* ``_build(meta) -> nn.Module`` — the network from the build metadata (`_build_meta`: ``n_users``
  by default, anything else a family needs, e.g. input widths);
* ``_batches(train, epoch)`` — one epoch of training batches (seeded by epoch);
* ``_loss(module, batch)`` — a loss tensor, or a dict with ``"loss"`` and named parts (logged
  separately by the loop);
* ``_validate(module, valid)`` — validation metrics without a task (default: the mean loss
  ``"loss"``); a task passes its own validator and monitor to `fit` instead;
* ``_param_groups(module)`` — optimizer parameter groups (default: one; e.g. a separate learning
  rate for user embeddings).

Estimators follow scikit-learn's contract: ``__init__`` only stores configurations, ``fit``
returns self, learned state ends in ``_``, ``save``/``load`` round-trip exactly under the one
versioned header of `models.base.write_model_header`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

import torch

from cascadekit.data.splits import carve_validation
from cascadekit.errors import CascadeKitError
from cascadekit.models.base import read_model_header, write_model_header
from cascadekit.training import Monitor, TrainConfig, TrainResult, fit

Validator = Callable[[torch.nn.Module, Any], dict[str, float]]


class TorchEstimator:
    name: ClassVar[str] = "torch"
    config_class: ClassVar[type]
    default_monitor: ClassVar[Monitor] = ("loss", "min")
    # how `_loss` reduces a batch's rows: data-parallel ranks sum or average their gradients
    loss_reduction: ClassVar[str] = "mean"

    def __init__(self, config: Any = None, train_config: TrainConfig | None = None) -> None:
        self.config = config if config is not None else self.config_class()
        self.train_config = train_config or TrainConfig()

    # hooks ---------------------------------------------------------------------------------
    def _build(self, meta: dict[str, Any]) -> torch.nn.Module:
        raise NotImplementedError

    def _build_meta(self, train: Any) -> dict[str, Any]:
        return {"n_users": int(train.n_users)}

    def _batches(self, train: Any, epoch: int) -> Iterable[Any]:
        raise NotImplementedError

    def _loss(self, module: torch.nn.Module, batch: Any) -> torch.Tensor | dict[str, torch.Tensor]:
        raise NotImplementedError

    def _validate(self, module: torch.nn.Module, valid: Any) -> dict[str, float]:
        """Mean validation loss over the validation batches (no task needed)."""
        total, n = 0.0, 0
        for batch in self._batches(valid, -1):
            out = self._loss(module, batch.to(next(module.parameters()).device))
            total += float(out["loss"] if isinstance(out, dict) else out)
            n += 1
        return {"loss": total / max(n, 1)}

    def _param_groups(self, module: torch.nn.Module) -> list[dict[str, Any]] | None:
        return None

    def use_bundle(self, bundle: Any) -> TorchEstimator:
        """Take what the model needs beyond its training data from the dataset (e.g. a social
        graph); nothing by default."""
        return self

    # estimator API -------------------------------------------------------------------------
    def fit(
        self,
        train: Any,
        valid: Any = None,
        run_dir: str | Path | None = None,
        *,
        resume: bool = False,
        validator: Validator | None = None,
        monitor: Monitor | None = None,
    ) -> TorchEstimator:
        """Train on ``train``, select the epoch on ``valid`` (carved from train with the seed by
        `data.splits.carve_validation` when None). Test data never enters. ``validator`` and
        ``monitor`` come from the task (`tasks.base.Task`) and are used when
        ``TrainConfig.select == "task"``; otherwise (and without them) the model's own validation
        (`_validate`) is recorded and selects ("last": the final epoch; a metric name: that one)."""
        tc = self.train_config
        if valid is None:
            keep, held = carve_validation(len(train), seed=tc.seed)
            train, valid = train.subset(keep), train.subset(held)
        if len(train) == 0:
            raise ValueError("the training set is empty")
        torch.manual_seed(tc.seed)
        self.meta_ = self._build_meta(train)
        self.module_ = self._build(self.meta_)
        # only selection by the task's metric pays for the task's validator (identification
        # samples every epoch); "last" and named metrics use the model's own cheap validation
        if tc.select != "task":
            validator = None
        check = validator or (lambda m, v: self._validate(m, v))
        result: TrainResult = fit(
            self.module_,
            train_batches=lambda epoch: self._batches(train, epoch),
            loss_fn=self._loss,
            validate=lambda m: check(m, valid),
            monitor=monitor or self.default_monitor,
            config=tc,
            run_dir=run_dir,
            resume=resume,
            param_groups=self._param_groups(self.module_),
            extra_config={"model": self.name, "model_config": asdict(self.config)},
            loss_reduction=self.loss_reduction,
        )
        self.module_.eval()
        self.history_ = result.history
        self.fit_result_ = result
        return self

    def save(self, path: str | Path) -> Path:
        folder = Path(path)
        payload = {
            "meta": self.meta_,
            "config": asdict(self.config),
            "train_config": asdict(self.train_config),
            "selection": self.fit_result_.summary() if hasattr(self, "fit_result_") else None,
        }
        write_model_header(folder, self.name, payload)
        tmp = folder / "weights.pt.tmp"
        torch.save(self.module_.state_dict(), tmp)
        tmp.replace(folder / "weights.pt")
        return folder

    @classmethod
    def load(cls, path: str | Path) -> TorchEstimator:
        folder = Path(path)
        header = read_model_header(folder, (cls.name,))
        est = cls(cls.config_class(**header["config"]), TrainConfig(**header["train_config"]))
        est.meta_ = header["meta"]
        est.module_ = est._build(est.meta_)
        weights = folder / "weights.pt"
        try:
            with warnings.catch_warnings():  # a foreign pickle is refused below; no torch noise
                warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
                state = torch.load(weights, weights_only=True)
            est.module_.load_state_dict(state)
        except (OSError, RuntimeError, EOFError, ValueError) as exc:
            raise CascadeKitError(f"{weights}: unreadable or mismatched weights ({exc})") from None
        est.module_.eval()
        return est
