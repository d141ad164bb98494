"""`cascadekit train` / `cascadekit evaluate`: any registered model on any compatible dataset.

``train`` loads the data through the registry (or the synthetic generator), builds the protocol
split (the dataset's shipped split, else a seeded random split by cascade), fits the model with
selection on validation only, and writes a run folder (see `runs`). ``evaluate`` rebuilds the
exact same split from run.json and scores the saved model on the test part with a task protocol.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.splits import Split, random_by_cascade, shipped
from cascadekit.errors import CascadeKitError
from cascadekit.models.hawkes.params import VARIANTS
from cascadekit.runs import RunInfo, write_metrics
from cascadekit.training import TrainConfig


@dataclass(frozen=True)
class ModelEntry:
    target: str  # "module:Class" of the estimator
    config: str  # "module:Class" of its hyper-parameter dataclass
    summary: str
    tasks: tuple[str, ...]

    def load_class(self, which: str = "target") -> type:
        module, name = getattr(self, which).split(":")
        return getattr(importlib.import_module(module), name)


MODELS: dict[str, ModelEntry] = {
    "lstm": ModelEntry(
        "cascadekit.models.lstm:LSTMModel",
        "cascadekit.models.lstm:LSTMConfig",
        "LSTM next-adopter baseline (NDM paper §5.1)",
        ("next_user", "identification", "size"),
    ),
    "ndm": ModelEntry(
        "cascadekit.models.ndm:NDM",
        "cascadekit.models.ndm:NDMConfig",
        "Neural Diffusion Model (NDM, TKDE)",
        ("next_user", "identification", "size"),
    ),
    "ndm_sn": ModelEntry(
        "cascadekit.models.ndm:NDMSN",
        "cascadekit.models.ndm:NDMConfig",
        "NDM+SN: NDM with half of each user vector a frozen DeepWalk embedding of the social graph",
        ("next_user", "identification", "size"),
    ),
    "embedded_ic": ModelEntry(
        "cascadekit.models.embedded_ic:EmbeddedIC",
        "cascadekit.models.embedded_ic:EmbeddedICConfig",
        "Embedded IC baseline (Bourigault et al., WSDM 2016; NDM paper §5.1)",
        ("identification", "size"),
    ),
    **{
        name: ModelEntry(
            "cascadekit.models.hawkes:MIC",
            "cascadekit.hawkes_runs:HawkesConfig",
            f"{label} marked Hawkes model on an event log (MIC paper 002, Table 1)",
            ("point_process",),
        )
        for name, label in (("ic", "IC"), ("linmic", "linMIC"), ("cc", "CC"), ("mic", "MIC"))
    },
}


def load_bundle(data: str, seed: int, options: dict[str, Any]) -> DatasetBundle:
    if data == "synthetic":
        from cascadekit.data.synthetic import synthetic_cascades

        return synthetic_cascades(seed=seed, **options)
    from cascadekit import datasets

    return datasets.load(data, **options)


def protocol_split(
    bundle: DatasetBundle, seed: int, *, min_len: int = 2, max_len: int = 500
) -> Split:
    """The split every sequence model of a run is trained and scored on (protocols §1–2): shipped
    if the dataset has one (valid carved from train when missing), else random 80/10/10 by cascade;
    then cascades outside ``min_len ≤ length ≤ max_len`` are dropped from each part and counted."""
    if bundle.cascades is None:
        raise CascadeKitError(f"{bundle.name} has no cascades; sequence models need cascades")
    if "train" in bundle.splits and "test" in bundle.splits:
        split = shipped(bundle, seed=seed)
    else:
        split = random_by_cascade(bundle.cascades, seed=seed)
    from cascadekit.tasks.next_user import filter_protocol

    dropped = {}
    for part in ("train", "valid", "test"):
        kept, n = filter_protocol(getattr(split, part), min_len, max_len)
        setattr(split, part, kept)
        dropped[part] = n
    split.info["dropped_by_length"] = dropped
    split.info["length_range"] = [min_len, max_len]
    return split


def _split_options(entry: ModelEntry, options: dict[str, Any]) -> tuple[Any, TrainConfig]:
    """``--set`` options → (model config, TrainConfig); unknown keys are an error naming both lists.
    ``preset`` (e.g. NDM's "paper" / "reference_code") picks both base configs, which the other
    options then override."""
    config_cls = entry.load_class("config")
    options = dict(options)
    base_model, base_train = {}, {}
    if "preset" in options:
        name, estimator = options.pop("preset"), entry.load_class()
        if not hasattr(config_cls, "preset"):
            raise CascadeKitError(f"{entry.target} has no presets")
        try:
            base_model = asdict(config_cls.preset(name))
            base_train = asdict(estimator.preset_train_config(name))
        except ValueError as exc:
            raise CascadeKitError(str(exc)) from exc
    model_keys = {f.name for f in fields(config_cls)}
    train_keys = {f.name for f in fields(TrainConfig)}
    aliases = {"epochs": "max_epochs"}
    model_opts, train_opts = {}, {}
    for key, value in options.items():
        key = aliases.get(key, key)
        if key in model_keys:
            model_opts[key] = value
        elif key in train_keys:
            train_opts[key] = tuple(value) if key == "betas" else value
        else:
            raise CascadeKitError(
                f"unknown option {key!r}; model options: {', '.join(sorted(model_keys))}; "
                f"training options: {', '.join(sorted(train_keys))}"
            )
    return config_cls(**{**base_model, **model_opts}), TrainConfig(**{**base_train, **train_opts})


def get_entry(model: str) -> ModelEntry:
    if model not in MODELS:
        raise CascadeKitError(f"unknown model {model!r}; available: {', '.join(sorted(MODELS))}")
    return MODELS[model]


def train(
    model: str,
    data: str,
    out: str | Path,
    *,
    options: dict[str, Any] | None = None,
    data_options: dict[str, Any] | None = None,
    seed: int = 0,
) -> RunInfo:
    if model in VARIANTS:  # event-log models have their own run layout and split
        from cascadekit.hawkes_runs import train_run

        return train_run(model, data, out, options=options, data_options=data_options, seed=seed)
    entry = get_entry(model)
    opts = dict(options or {})
    opts.setdefault("seed", seed)
    config, train_config = _split_options(entry, opts)
    bundle = load_bundle(data, train_config.seed, data_options or {})
    split = protocol_split(bundle, train_config.seed)
    out = Path(out)
    t0 = time.perf_counter()
    estimator = entry.load_class()(config, train_config)
    if hasattr(estimator, "use_bundle"):  # e.g. NDM+SN: graph embeddings from the bundle's graph
        estimator.use_bundle(bundle)
    estimator.fit(split.train, split.valid, run_dir=out)
    estimator.save(out / "model")
    info = RunInfo(
        model=model,
        data=data,
        options=opts,
        data_options=data_options or {},
        seed=train_config.seed,
        split=split.info,
        fit_seconds=time.perf_counter() - t0,
    )
    info.save(out)
    return info


TaskFn = Callable[[Any, Split, dict[str, Any]], dict[str, Any]]


def _next_user(estimator: Any, split: Split, options: dict[str, Any]) -> dict[str, Any]:
    from cascadekit.tasks.next_user import evaluate_next_user

    ks = tuple(options.get("ks", (10, 50, 100)))
    return evaluate_next_user(estimator.module_, split.test, ks=ks)


def _identification(estimator: Any, split: Split, options: dict[str, Any]) -> dict[str, Any]:
    from cascadekit.tasks.identification import evaluate_identification

    return evaluate_identification(
        estimator.module_, split.test, n_samples=int(options.get("n_samples", 1000)),
        seed=int(options.get("seed", 0)), progress=False,
    )  # fmt: skip


def _size(estimator: Any, split: Split, options: dict[str, Any]) -> dict[str, Any]:
    from cascadekit.tasks.identification import evaluate_size

    return evaluate_size(
        estimator.module_, split.test, n_samples=int(options.get("n_samples", 100)),
        seed=int(options.get("seed", 0)), progress=False,
    )  # fmt: skip


TASKS: dict[str, TaskFn] = {
    "next_user": _next_user,
    "identification": _identification,
    "size": _size,
}


def evaluate(
    run: str | Path, task: str, *, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Score the run's model on its own test split; also writes ``metrics/<task>.json``."""
    run = Path(run)
    info = RunInfo.load(run)
    if info.model in VARIANTS:
        from cascadekit.hawkes_runs import evaluate_run

        return evaluate_run(run, task, options=options)
    entry = get_entry(info.model)
    if task not in TASKS or task not in entry.tasks:
        usable = [t for t in entry.tasks if t in TASKS]
        raise CascadeKitError(
            f"task {task!r} is not available for {info.model}; use one of: {', '.join(usable)}"
        )
    estimator = entry.load_class().load(run / "model")
    bundle = load_bundle(info.data, info.seed, info.data_options)
    lo, hi = info.split.get("length_range", [2, 500])
    split = protocol_split(bundle, info.seed, min_len=lo, max_len=hi)
    t0 = time.perf_counter()
    metrics = TASKS[task](estimator, split, dict(options or {}))
    result = {
        "model": info.model,
        "data": info.data,
        "task": task,
        "seed": info.seed,
        "test_cascades": len(split.test),
        "seconds": round(time.perf_counter() - t0, 3),
        "metrics": metrics,
    }
    write_metrics(run, task, result)
    return result
