"""Run directories: what was trained on what, with which options and seed, and what it scored.

Layout of a run folder::

    run.json             schema, model, preset, task, dataset, options, seed, split, resolved
                         configuration, selection, versions, timings (`RunInfo`)
    model/               the fitted estimator (model.json header + weights or parameters)
    config.json, history.json, metrics.jsonl   written by the training loop for neural models
                         (checkpoint.pt too while training: `cascadekit train --resume`)
    metrics/<task>.json  one file per evaluation
    report/              `cascadekit report`: PNGs and report.html

Everything needed to rebuild the exact data split lives in run.json, so ``evaluate`` scores a model
on the same test cascades it was held out from.
"""

from __future__ import annotations

import json
import math
import platform
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from cascadekit.errors import CascadeKitError
from cascadekit.options import build


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


RUN_SCHEMA = 2


@dataclass
class RunInfo:
    """``run.json``: everything needed to rebuild the run's data split and reload its model.

    ``task`` is the task the model was trained for and ``split`` its split options (evaluation on
    any task of the same split kind rebuilds the identical split); ``config`` is the resolved
    model (+ training) configuration; ``selection`` says which epoch was kept and why training
    stopped (neural models)."""

    model: str
    data: str
    task: str
    preset: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    data_options: dict[str, Any] = field(default_factory=dict)
    data_format: str | None = None
    seed: int = 0
    split: dict[str, Any] = field(default_factory=dict)
    split_info: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    selection: dict[str, Any] | None = None
    fit_seconds: float | None = None
    schema: int = RUN_SCHEMA
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    versions: dict[str, str] = field(default_factory=versions)

    def save(self, run_dir: Path) -> Path:
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / "run.json"
        tmp = run_dir / "run.json.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=2, default=str))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, run_dir: Path) -> RunInfo:
        path = Path(run_dir) / "run.json"
        if not path.is_file():
            raise CascadeKitError(
                f"{run_dir}: not a run directory (no run.json); create one with `cascadekit train`"
            )
        try:
            raw = json.loads(path.read_text())
        except ValueError as exc:
            raise CascadeKitError(f"{path}: not valid JSON ({exc})") from None
        schema = raw.get("schema", 1) if isinstance(raw, dict) else None
        if schema != RUN_SCHEMA:
            when = "an older" if isinstance(schema, int) and schema < RUN_SCHEMA else "another"
            raise CascadeKitError(
                f"{path}: run schema {schema}, written by {when} cascadekit "
                f"({raw.get('versions', {}).get('cascadekit', '?') if isinstance(raw, dict) else '?'}"
                f"); this version ({versions()['cascadekit']}) reads schema {RUN_SCHEMA}. "
                "Re-train the run with this version, or use the version that wrote it."
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise CascadeKitError(
                f"{path}: unknown fields {', '.join(unknown)} for schema {schema}"
            )
        return build(cls, raw, str(path))  # every field of its declared type, none missing


def write_metrics(run_dir: Path, task: str, metrics: dict[str, Any]) -> Path:
    """``metrics/<task>.json``, strict JSON (NaN and ±inf written as null), atomically."""
    folder = Path(run_dir) / "metrics"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{task}.json"
    tmp = folder / f"{task}.json.tmp"
    tmp.write_text(json.dumps(strict_json(metrics), indent=2, allow_nan=False))
    tmp.replace(path)
    return path


def strict_json(obj: Any) -> Any:
    """``obj`` with numpy values as Python ones and non-finite floats as None."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): strict_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [strict_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return strict_json(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
