"""Run directories: what was trained on what, with which options and seed, and what it scored.

Layout of a run folder::

    run.json             model, dataset, options, seed, split description, versions, timings
    model/               the fitted estimator (its own save format)
    history.json, *.ckpt written by the training loop for neural models
    metrics/<task>.json  one file per evaluation
    *.png                plots

Everything needed to rebuild the exact data split lives in run.json, so ``evaluate`` scores a model
on the same test cascades it was held out from.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cascadekit.errors import CascadeKitError


def versions() -> dict[str, str]:
    import numpy
    import torch

    import cascadekit

    return {
        "cascadekit": getattr(cascadekit, "__version__", "0"),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": torch.__version__,
    }


@dataclass
class RunInfo:
    model: str
    data: str
    options: dict[str, Any] = field(default_factory=dict)
    data_options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    split: dict[str, Any] = field(default_factory=dict)
    fit_seconds: float | None = None
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    versions: dict[str, str] = field(default_factory=versions)

    def save(self, run_dir: Path) -> Path:
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / "run.json"
        path.write_text(json.dumps(asdict(self), indent=2, default=str))
        return path

    @classmethod
    def load(cls, run_dir: Path) -> RunInfo:
        path = Path(run_dir) / "run.json"
        if not path.is_file():
            raise CascadeKitError(
                f"{run_dir}: not a run directory (no run.json); create one with `cascadekit train`"
            )
        return cls(**json.loads(path.read_text()))


def write_metrics(run_dir: Path, task: str, metrics: dict[str, Any]) -> Path:
    folder = Path(run_dir) / "metrics"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{task}.json"
    path.write_text(json.dumps(metrics, indent=2, default=float))
    return path
