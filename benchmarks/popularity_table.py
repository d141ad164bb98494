"""Popularity table (issue 13; protocols §3 and §7): size models × datasets × observation windows
× split orders × seeds, mean ± std over the seeds of MSLE and MAPE in both families (and DMT-LIC's
MSE of log2 sizes, which equals MSLE).

Every run makes the same calls as `pipeline.train` + `pipeline.evaluate` — the popularity task's
split (`registry.task("popularity", split options).build(bundle, seed)`), the registry model with
its preset, ``fit`` with the task's validator and monitor (selection on validation MSLE), the
task's ``evaluate`` on the test part — with each dataset loaded once and each split built once
for all models (CED takes seconds to load; every model of a cell is scored on identical cascades).

Rows (``--models``): a label of `ROWS` (registry model, preset, options on top of the preset) or
any registered popularity model under its own name with its default preset; a model helper adds
its model and ablations as `ROWS` entries. ``--epochs`` sets ``max_epochs`` of the neural models,
``--set key=value`` any model option of every neural row. Cells: for a dataset the task windows
itself (``ced_weibo_rumor``), every ``--obs`` × ``--orders`` (time = the leakage-safe
time-ordered 70/15/15, random = the seeded CasFlow/CasFT/CTCP convention); an already windowed
dataset (``weibo_deephawkes_obs1h``) is scored on its own window and shipped split only. Horizon
24 h and ≥ 10 observed adoptions unless ``--split-set`` says otherwise.

Results: ``benchmarks/results/popularity_<dataset>.json``, keyed (dataset, model, obs, order,
seed, max_epochs, options); finished runs are skipped (``--fresh`` re-runs them), the file is
rewritten atomically after every run with its ``summary`` (cell → row → mean ± std) and each
run's configuration, split filter counts, timings and provenance (`_provenance`). Run:

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/popularity_table.py \\
        --datasets ced_weibo_rumor weibo_deephawkes_obs1h --seeds 0 1 2 --epochs 5
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _provenance import RESULTS, RunStore, peak_rss_mb, run_config, seeded

from cascadekit import registry
from cascadekit.cli import parse_options
from cascadekit.models.mmcas import PRESETS as MMCAS_PRESETS
from cascadekit.pipeline import load_bundle
from cascadekit.tasks.popularity import is_windowed

# size metrics, then activation metrics (models implementing NextUserScorer): a row reports those
# its model's evaluation returns
METRICS = ("msle", "mape", "msle_casflow", "mape_casflow", "mse", "mrr", "a@5", "a@10")
RUN_KEY = ("dataset", "model", "obs", "order", "seed", "max_epochs", "options")
# row label → (registry model, preset, options on top of the preset)
ROWS: dict[str, tuple[str, str | None, dict[str, Any]]] = {
    "popularity_features": ("popularity_features", None, {}),
    "lstm_size": ("lstm_size", "paper", {}),
    "deephawkes": ("deephawkes", "paper", {}),
    # DMT-LIC (paper preset, γ = 0.5) and its ablations (presets of models/dmt_lic.py)
    "dmt_lic": ("dmt_lic", "paper", {}),
    **{
        f"dmt_lic_{ablation}": ("dmt_lic", ablation, {})
        for ablation in (
            "size_only",
            "activation_only",
            "no_shared_gate",
            "no_user_importance",
            "no_time_decay",
        )
    },  # fmt: skip
    # MMCAs (paper preset: MoE fusion, every modality the data has) and its variants and
    # ablations (presets of models/mmcas.py)
    "mmcas": ("mmcas", "paper", {}),
    **{f"mmcas_{v}": ("mmcas", v, {}) for v in MMCAS_PRESETS if v != "paper"},
    # activation baselines (next-user only: scored on MRR, A@5, A@10, selected on MAP@10)
    "ndm": ("ndm", "paper", {}),
    "lstm": ("lstm", "default", {}),
}


def row(label: str) -> tuple[str, str | None, dict[str, Any]]:
    if label in ROWS:
        return ROWS[label]
    spec = registry.model(label)  # an unknown name is a clear error listing the models
    if "popularity" not in spec.tasks:
        raise SystemExit(f"{label} does not serve the popularity task")
    return label, spec.default_preset, {}


def cells(data: str, bundle: Any, args: argparse.Namespace) -> list[tuple[float, str]]:
    """(obs, order) pairs to score on ``data``."""
    if is_windowed(bundle.cascades):
        return [(float(bundle.cascades.attrs["observation_window_s"]), "shipped")]
    return [(float(obs), order) for obs in args.obs for order in args.orders]


def fit(label: str, seed: int, args: argparse.Namespace, task: Any, split: Any) -> tuple[Any, dict]:
    """The fitted estimator and what to record about it (configuration, selection, timings)."""
    model, preset, overrides = row(label)
    spec = registry.model(model)
    options = {**overrides, **seeded(spec, seed)}
    if spec.uses_training_loop:
        options |= {**args.model_options, "max_epochs": args.epochs, "progress": False}
    est = spec.create(preset, options)
    t0 = time.perf_counter()
    validator, monitor = task.selection(est)  # as pipeline.train: per what the model predicts
    est.fit(split.train, split.valid, validator=validator, monitor=monitor)
    result = getattr(est, "fit_result_", None)
    info = {
        "config": run_config(model, preset, options, est),
        "fit_seconds": round(time.perf_counter() - t0, 2),
        "selection": result.summary() if result is not None else None,
        "epoch_seconds": [round(h["seconds"], 2) for h in est.history_] if result else [],
    }
    return est, info


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """``obs=…, order=…`` → row label (with its epochs) → mean ± std of every metric over seeds."""
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        epochs = "" if r["max_epochs"] is None else f", ≤ {r['max_epochs']} epochs"
        options = "".join(f"+{k}={v}" for k, v in sorted(r["options"].items()))
        groups.setdefault((r["obs"], r["order"], r["model"] + options + epochs), []).append(r)
    out: dict[str, Any] = {}
    for (obs, order, label), rs in sorted(groups.items()):
        keys = [k for k in METRICS if all(k in r["metrics"] for r in rs)]
        values = {k: np.array([r["metrics"][k] for r in rs]) for k in keys}
        out.setdefault(f"obs={obs:g}s, order={order}", {})[label] = {
            "seeds": [r["seed"] for r in rs],
            "test_cascades": rs[0]["test_size"],
            **{k: f"{v.mean():.4f} ± {v.std():.4f}" for k, v in values.items()},
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["ced_weibo_rumor", "weibo_deephawkes_obs1h"])
    ap.add_argument("--models", nargs="+", default=list(ROWS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=100, help="max_epochs of the neural models")
    ap.add_argument("--obs", nargs="+", type=float, default=[1800.0, 3600.0])
    ap.add_argument("--orders", nargs="+", default=["time", "random"], choices=["time", "random"])
    ap.add_argument(
        "--set",
        dest="model_set",
        action="append",
        default=[],
        help="model option key=value for every neural row (e.g. bucket_pool=200)",
    )
    ap.add_argument("--split-set", action="append", default=[], help="split option key=value")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--fresh", action="store_true", help="re-run runs already in the results")
    ap.add_argument("--results", type=Path, default=RESULTS, help="folder of the results files")
    args = ap.parse_args()
    args.model_options = parse_options(args.model_set)
    split_options = {"horizon": 86400.0, "min_observed": 10, **parse_options(args.split_set)}
    torch.set_num_threads(args.threads)
    for label in args.models:
        row(label)  # refuse an unknown row before any work
    for data in args.datasets:
        store = RunStore(args.results / f"popularity_{data}.json", RUN_KEY)
        bundle = load_bundle(data)
        for obs, order in cells(data, bundle, args):
            opts = {**split_options, "obs": obs, "order": order}
            task = registry.task("popularity", opts)
            for seed in args.seeds:
                split = None
                for label in args.models:
                    trained = registry.model(row(label)[0]).uses_training_loop
                    key = {"dataset": data, "model": label, "obs": obs, "order": order,
                           "seed": seed, "max_epochs": args.epochs if trained else None,
                           "options": args.model_options if trained else {}}  # fmt: skip
                    if not args.fresh and store.find(**key):
                        continue
                    split = split or task.build(bundle, seed)
                    load0 = list(os.getloadavg())
                    est, info = fit(label, seed, args, task, split)
                    metrics = task.evaluate(est, split, seed=seed)
                    metrics.pop("predictions", None)
                    store.add({
                        **key, **info, "split_options": task.split_record(),
                        "test_size": len(split.test),
                        "split": split.info, "loadavg_run_start": load0,
                        "peak_rss_mb": round(peak_rss_mb(), 1), "metrics": metrics,
                    })  # fmt: skip
                    print(data, f"obs={obs:g}", order, seed, label,
                          {k: round(metrics[k], 4) for k in METRICS if k in metrics},
                          f"fit {info['fit_seconds']:.0f}s", flush=True)  # fmt: skip
                    store.write(
                        protocol="protocols.md §3/§7: the popularity task's observed prefixes, "
                        "labels = adoptions in [obs, horizon); time = publish-time ordered "
                        "70/15/15, random = seeded random 70/15/15, shipped = the dataset's own",
                        summary=summarize,
                    )


if __name__ == "__main__":
    main()
