"""`train` / `evaluate` / `simulate`: any registered model on any task it serves, on any data.

``train`` resolves the model (registry entry + preset + options) and the task (the model's first
task unless told), loads the data (a registered name, a bundle folder written by ``convert``, a
file or folder with ``data_format``, or a synthetic generator), lets the task build its split,
fits with the task's validator and monitor (validation only, never test) and writes a run folder
(`runs`). ``evaluate`` rebuilds the identical split from ``run.json`` and scores the saved model
with any task of the same split kind. Nothing here knows a model family.
"""

from __future__ import annotations

import math
import os
import pickle
import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from cascadekit import registry
from cascadekit.data.atomic import atomic_file, check_output, temporary_sibling
from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.events import EventLog
from cascadekit.data.splits import Split
from cascadekit.errors import CascadeKitError
from cascadekit.options import checked_kwargs
from cascadekit.runs import RunInfo, write_metrics
from cascadekit.tasks.base import Task
from cascadekit.training import CHECKPOINT, TrainConfig, launched_main

SEED_MAX = 2**32 - 1  # numpy's legacy seeding and torch both take every seed up to here
# a synthetic simulation without a fitted run to size its cap stops after this many events
SYNTHETIC_EVENT_CAP = 100_000
# options of the synthetic generators (`simulate.synthetic`) that must be positive, non-negative
# or a probability, checked before a generator runs (name → what is required, the test)
_SYNTHETIC_RANGES: dict[str, tuple[str, Callable[[float], bool]]] = {
    **dict.fromkeys(
        ("n_users", "n_cascades", "t_end", "tau", "rate", "avg_degree", "obs", "horizon"),
        ("> 0", lambda v: v > 0),
    ),
    **dict.fromkeys(("beta", "branching"), (">= 0", lambda v: v >= 0)),
    **dict.fromkeys(("p", "edge_prob", "sigma21"), ("in [0, 1]", lambda v: 0 <= v <= 1)),
}


def check_seed(seed: int) -> int:
    """``seed`` if it is an integer in 0…`SEED_MAX`, else a CascadeKitError."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise CascadeKitError(f"seed must be an integer in 0…{SEED_MAX}, got {seed!r}")
    return seed


def run_generator(
    generator: Callable[..., Any],
    options: dict[str, Any],
    what: str,
    *,
    signature: Callable[..., Any] | None = None,
    **fixed: Any,
) -> Any:
    """``generator(**fixed, **options)`` with ``options`` checked first against the parameters
    of ``signature`` (default: the generator): names, annotated types and `_SYNTHETIC_RANGES`;
    a ValueError the generator raises about its arguments becomes a CascadeKitError."""
    if "seed" in options:
        raise CascadeKitError(f"{what}: the seed is not an option; give it with --seed")
    values = checked_kwargs(signature or generator, options, what)
    for key, value in values.items():
        rule = _SYNTHETIC_RANGES.get(key)
        if rule is not None and not rule[1](value):
            raise CascadeKitError(f"{what} option {key} must be {rule[0]}, got {value!r}")
    try:
        return generator(**fixed, **values)
    except ValueError as exc:
        raise CascadeKitError(f"invalid {what} options: {exc}") from None


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
        return run_generator(GENERATORS[data], options, data, seed=check_seed(seed))
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


def _is_run(out: Path) -> bool:
    return (out / "run.json").is_file() or (out / CHECKPOINT).is_file()


def _prepare_out(out: Path, resume: bool, overwrite: bool = False) -> None:
    """A run is never overwritten unasked: a finished run (run.json) or a folder with other content
    is refused; ``resume`` continues an interrupted run (its checkpoint); ``overwrite`` allows
    replacing a run folder (finished or interrupted), never a folder of other files."""
    if resume and overwrite:
        raise CascadeKitError("--resume continues a run and --overwrite discards it: choose one")
    if overwrite:
        if out.exists() and any(out.iterdir()) and not _is_run(out):
            raise CascadeKitError(
                f"{out} holds other files (no run.json or {CHECKPOINT}); --overwrite only "
                "replaces a run folder, never other data: choose another --out"
            )
        return
    if (out / "run.json").is_file():
        raise CascadeKitError(
            f"{out} already holds a finished run; choose another --out (or add --overwrite)"
        )
    if resume:
        if not (out / CHECKPOINT).is_file():
            raise CascadeKitError(f"{out}: nothing to resume (no {CHECKPOINT})")
        return
    if out.exists() and any(out.iterdir()):
        hint = " (an interrupted run: add --resume)" if (out / CHECKPOINT).is_file() else ""
        raise CascadeKitError(f"{out} exists and is not empty{hint}; choose another --out")


def _clear_run(out: Path) -> None:
    """Delete the run folder ``out`` (checked by `_prepare_out`): renamed away first, so a kill
    leaves the old run whole or no run, never half of one."""
    if out.exists():
        old = temporary_sibling(out)
        os.rename(out, old)
        shutil.rmtree(old)


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
    overwrite: bool = False,
) -> RunInfo | None:
    """Fit ``model`` for ``task`` on ``data``'s training part; write the run folder ``out``
    (``overwrite``: replace a run already there, once the options and data have been read).
    With data-parallel training, rank 0 writes the run; the other ranks return None."""
    spec = registry.model(model)
    task_name = task or spec.tasks[0]
    if task_name not in spec.tasks:
        raise CascadeKitError(f"{model} does not serve task {task_name!r}; it serves {spec.tasks}")
    the_task = registry.task(task_name, split_options)
    check_seed(seed)
    out = Path(out)
    main = launched_main()  # data-parallel ranks > 0 train beside rank 0 but write nothing
    if main:
        _prepare_out(out, resume, overwrite)
    opts = dict(options or {})
    estimator = spec.create(preset, {**_seeded(spec, seed), **opts})
    bundle = load_bundle(data, seed, data_options, data_format)
    split = the_task.build(bundle, seed)
    estimator.use_bundle(bundle)
    validator, monitor = the_task.selection(estimator)
    if overwrite and main:
        _clear_run(out)
    t0 = time.perf_counter()
    estimator.fit(
        split.train, split.valid, run_dir=out, resume=resume, validator=validator, monitor=monitor
    )
    fit_seconds = time.perf_counter() - t0
    if not launched_main():  # a rank Fabric started inside fit, or one a launcher started
        return None
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
    """A run's record and its fitted model; a model folder that cannot be loaded (damaged,
    truncated, pickled objects, written by another version) is a CascadeKitError naming it."""
    info = RunInfo.load(Path(run))
    spec = registry.model(info.model)
    folder = Path(run) / "model"
    try:
        return info, spec.estimator_class.load(folder)
    except CascadeKitError:
        raise
    except pickle.UnpicklingError:  # torch.load(weights_only=True) refused a pickled object
        raise CascadeKitError(
            f"{folder}: the saved weights hold pickled Python objects, which cascadekit never "
            "loads; this is not a model cascadekit wrote"
        ) from None
    except (OSError, EOFError, ValueError, KeyError, TypeError, RuntimeError,
            zipfile.BadZipFile) as exc:  # fmt: skip
        first_line = (str(exc).splitlines() or [""])[0]
        raise CascadeKitError(
            f"{folder}: the saved model cannot be loaded ({type(exc).__name__}: {first_line}); "
            "it is damaged or was written by another version: train the run again"
        ) from None


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
    check_seed(info.seed)
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
    model: str | None = None,
    overwrite: bool = False,
) -> tuple[EventLog, bool]:
    """Simulate a run's fitted point-process model on [t_start, t_end] (empty history) into a
    Parquet event log whose users and marks carry the training data's names. Bounded: at most
    ``max_events`` events (default 20 × the training events), since a supercritical fit
    (ρ(Wᵀ)·τ ≥ 1, common on real data) explodes. ``model``: the model the caller expects the
    run to hold (another is refused). ``out`` is written atomically, an existing file only with
    ``overwrite``. Returns the events and whether the cap stopped the simulation."""
    from cascadekit.simulate.hawkes import simulate as simulate_hawkes
    from cascadekit.tasks.point_process import FittedHawkes

    _check_simulation(t_start, t_end, seed, max_events, Path(out), overwrite)
    info, fitted = load_run(run)
    if model is not None and model != info.model:
        raise CascadeKitError(f"{run} holds a {info.model} run, not {model}")
    if not isinstance(fitted, FittedHawkes):
        raise CascadeKitError(f"{info.model} runs cannot be simulated as event logs")
    train = run_data(info)[2].train
    cap = max_events if max_events is not None else 20 * max(len(train), 1)
    events = simulate_hawkes(
        fitted.params_, t_end, t_start=t_start, seed=seed, user_vocab=train.user_vocab,
        mark_vocab=train.mark_vocab, max_events=cap,
    )  # fmt: skip
    _write_events(events, Path(out), overwrite)
    return events, len(events) >= cap


def simulate_synthetic(
    variant: str,
    t_end: float,
    out: str | Path,
    *,
    seed: int = 0,
    options: dict[str, Any] | None = None,
    max_events: int | None = None,
    overwrite: bool = False,
) -> tuple[EventLog, bool]:
    """Simulate Table 1's ``variant`` (ic, linmic, cc, mic) with `synthetic_params` ``options``
    (names, types and ranges checked; a non-stationary ``branching`` is refused) on [0, t_end]
    into a Parquet event log, at most ``max_events`` events (default `SYNTHETIC_EVENT_CAP`).
    Returns the events and whether the cap stopped the simulation."""
    from cascadekit.simulate.hawkes import simulate as simulate_hawkes
    from cascadekit.simulate.synthetic import synthetic_params, synthetic_variant_params

    _check_simulation(0.0, t_end, seed, max_events, Path(out), overwrite)
    params = run_generator(
        synthetic_variant_params, dict(options or {}), "synthetic_params",
        signature=synthetic_params, variant=variant, seed=seed,
    )  # fmt: skip
    cap = max_events if max_events is not None else SYNTHETIC_EVENT_CAP
    events = simulate_hawkes(params, t_end, seed=seed, max_events=cap)
    _write_events(events, Path(out), overwrite)
    return events, len(events) >= cap


def _check_simulation(
    t_start: float, t_end: float, seed: int, max_events: int | None, out: Path, overwrite: bool
) -> None:
    """What a simulation is asked is refused before any work: a window that is not finite or
    empty, a bad seed or cap, an output that exists (without ``overwrite``)."""
    if not (math.isfinite(t_start) and math.isfinite(t_end) and t_end > t_start):
        raise CascadeKitError(
            f"the simulated window needs finite times with t-end > {t_start:g}, got t-end {t_end}"
        )
    check_seed(seed)
    if max_events is not None and max_events < 1:
        raise CascadeKitError(f"max-events must be >= 1, got {max_events}")
    check_output(out, overwrite=overwrite, folder=False)


def _write_events(events: EventLog, out: Path, overwrite: bool) -> None:
    with atomic_file(out, overwrite=overwrite) as tmp:
        events.to_parquet(tmp)
