"""`train` / `evaluate` / `simulate`: any registered model on any task it serves, on any data.

``train`` resolves the model (registry entry + preset + options) and the task (the model's first
task unless told), loads the data (a registered name, a bundle folder written by ``convert``, a
file or folder with ``data_format``, or a synthetic generator), lets the task build its split,
fits with the task's validator and monitor (validation only, never test) and writes a run folder
(`runs`). ``evaluate`` rebuilds the identical split from ``run.json`` and scores the saved model
with any task of the same split kind. Nothing here knows a model family.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

from cascadekit import registry
from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.events import EventLog
from cascadekit.data.splits import Split
from cascadekit.errors import CascadeKitError
from cascadekit.runs import RunInfo, write_metrics
from cascadekit.tasks.base import Task
from cascadekit.training import CHECKPOINT, TrainConfig


def load_bundle(
    data: str, seed: int = 0, options: dict[str, Any] | None = None, fmt: str | None = None
) -> DatasetBundle:
    """``data`` as a bundle: a synthetic generator name (`simulate.synthetic.GENERATORS`, options
    = its arguments), a bundle folder (``bundle.json`` inside), a file/folder read with format
    ``fmt``, or a registered dataset (options = its reader's)."""
    from cascadekit.simulate.synthetic import GENERATORS

    options = dict(options or {})
    path = Path(data)
    if fmt is not None:
        from cascadekit.data import formats

        formats.reader(fmt)  # an unknown format is the first thing to say
        if not path.exists():
            raise CascadeKitError(f"{data}: no such file or folder to read as {fmt}")
        return formats.read(path, fmt, **options)
    if data in GENERATORS:
        generator = GENERATORS[data]
        known = set(inspect.signature(generator).parameters) - {"seed"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise CascadeKitError(
                f"unknown {data} option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return generator(seed=seed, **options)
    if (path / "bundle.json").is_file():
        if options:
            raise CascadeKitError(f"{data} is a saved bundle; it takes no reader options")
        from cascadekit.data.formats import call_reader

        return call_reader(DatasetBundle.load, path, "a saved bundle")
    from cascadekit import datasets

    if data not in datasets.names() and path.exists():
        raise CascadeKitError(
            f"{data} is not a registered dataset or a bundle folder; to read your own file or "
            "folder, give its format with --format (see `cascadekit formats`)"
        )
    return datasets.load(data, **options)


def _prepare_out(out: Path, resume: bool) -> None:
    """A run is never overwritten: a finished run (run.json) or a folder with other content is
    refused; ``resume`` continues an interrupted run (its checkpoint)."""
    if (out / "run.json").is_file():
        raise CascadeKitError(
            f"{out} already holds a finished run; choose another --out (or delete it yourself)"
        )
    if resume:
        if not (out / CHECKPOINT).is_file():
            raise CascadeKitError(f"{out}: nothing to resume (no {CHECKPOINT})")
        return
    if out.exists() and any(out.iterdir()):
        hint = " (an interrupted run: add --resume)" if (out / CHECKPOINT).is_file() else ""
        raise CascadeKitError(f"{out} exists and is not empty{hint}; choose another --out")


def train(
    model: str,
    data: str,
    out: str | Path,
    *,
    task: str | None = None,
    preset: str | None = None,
    options: dict[str, Any] | None = None,
    data_options: dict[str, Any] | None = None,
    data_format: str | None = None,
    split_options: dict[str, Any] | None = None,
    seed: int = 0,
    resume: bool = False,
) -> RunInfo:
    """Fit ``model`` for ``task`` on ``data``'s training part; write the run folder ``out``."""
    spec = registry.model(model)
    task_name = task or spec.tasks[0]
    if task_name not in spec.tasks:
        raise CascadeKitError(f"{model} does not serve task {task_name!r}; it serves {spec.tasks}")
    the_task = registry.task(task_name, split_options)
    out = Path(out)
    _prepare_out(out, resume)
    opts = dict(options or {})
    estimator = spec.create(preset, {**_seeded(spec, seed), **opts})
    bundle = load_bundle(data, seed, data_options, data_format)
    split = the_task.build(bundle, seed)
    estimator.use_bundle(bundle)
    t0 = time.perf_counter()
    estimator.fit(
        split.train, split.valid, run_dir=out, resume=resume,
        validator=the_task.validator(), monitor=the_task.monitor,
    )  # fmt: skip
    fit_seconds = time.perf_counter() - t0
    estimator.save(out / "model")
    result = getattr(estimator, "fit_result_", None)
    train_config = getattr(estimator, "train_config", None)
    preset_name = spec.preset(preset)[0]
    info = RunInfo(
        model=model, data=data, task=task_name, preset=preset_name, options=opts,
        data_options=dict(data_options or {}), data_format=data_format, seed=seed,
        split=the_task.split_record(), split_info=split.info,
        config=registry.resolved(preset_name, estimator.config, train_config),
        selection=result.summary() if result is not None else None, fit_seconds=fit_seconds,
    )  # fmt: skip
    info.save(out)
    (out / CHECKPOINT).unlink(missing_ok=True)  # the weights now live in model/ (kept once)
    return info


def _seeded(spec: registry.ModelSpec, seed: int) -> dict[str, Any]:
    """The run seed as an option, for whichever config has a seed field."""
    names = {f.name for f in fields(spec.config_class)}
    if spec.uses_training_loop:
        names |= {f.name for f in fields(TrainConfig)}
    return {"seed": seed} if "seed" in names else {}


def load_run(run: str | Path) -> tuple[RunInfo, Any]:
    """A run's record and its fitted model."""
    info = RunInfo.load(Path(run))
    spec = registry.model(info.model)
    return info, spec.estimator_class.load(Path(run) / "model")


def run_data(
    info: RunInfo, task: str | None = None, options: dict[str, Any] | None = None
) -> tuple[Task, DatasetBundle, Split]:
    """(the task with evaluation ``options``, the bundle, the identical data split the run was
    trained on) for ``task`` (default: the run's own); a task of another split kind is refused."""
    name = task or info.task
    spec = registry.model(info.model)
    if name not in spec.tasks:
        raise CascadeKitError(
            f"task {name!r} is not available for {info.model}; use one of: {', '.join(spec.tasks)}"
        )
    cls, trained = registry.task_class(name), registry.task_class(info.task)
    if cls.split_options is not trained.split_options:
        raise CascadeKitError(
            f"{name} uses another kind of split than the run's task {info.task}; train for it"
        )
    the_task = cls(info.split, options)
    bundle = load_bundle(info.data, info.seed, info.data_options, info.data_format)
    return the_task, bundle, the_task.build(bundle, info.seed)


def evaluate(
    run: str | Path,
    task: str | None = None,
    *,
    options: dict[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Score the run's model on its own test split with ``task`` (default: the run's own task);
    also writes ``metrics/<task>.json``."""
    info, model = load_run(run)
    the_task, _, split = run_data(info, task, options)
    t0 = time.perf_counter()
    metrics = the_task.evaluate(model, split, seed=info.seed, progress=progress)
    result = {
        "model": info.model, "preset": info.preset, "data": info.data, "task": the_task.name,
        "seed": info.seed, "options": the_task.options.__dict__, "test_size": len(split.test),
        "seconds": round(time.perf_counter() - t0, 3), "metrics": metrics,
    }  # fmt: skip
    write_metrics(Path(run), the_task.name, result)
    return result


def simulate(
    run: str | Path,
    t_end: float,
    out: str | Path,
    *,
    t_start: float = 0.0,
    seed: int = 0,
    max_events: int | None = None,
) -> tuple[EventLog, bool]:
    """Simulate a run's fitted point-process model on [t_start, t_end] (empty history) into a
    Parquet event log whose users and marks carry the training data's names. Bounded: at most
    ``max_events`` events (default 20 × the training events), since a supercritical fit
    (ρ(Wᵀ)·τ ≥ 1, common on real data) explodes. Returns the events and whether the cap stopped the simulation."""
    from cascadekit.simulate.hawkes import simulate as simulate_hawkes
    from cascadekit.tasks.point_process import FittedHawkes

    info, model = load_run(run)
    if not isinstance(model, FittedHawkes):
        raise CascadeKitError(f"{info.model} runs cannot be simulated as event logs")
    train = run_data(info)[2].train
    cap = max_events if max_events is not None else 20 * max(len(train), 1)
    events = simulate_hawkes(
        model.params_, t_end, t_start=t_start, seed=seed, user_vocab=train.user_vocab,
        mark_vocab=train.mark_vocab, max_events=cap,
    )  # fmt: skip
    events.to_parquet(out)
    return events, len(events) >= cap
