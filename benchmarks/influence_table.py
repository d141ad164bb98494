"""Influence results table (issue 12; paper 004 Table 3; protocols §5 and §7): DeepInf-GAT,
DeepInf-GCN, LR, SVM and PSCN × datasets × splits × seeds, mean ± std over the seeds of the test
AUC, precision, recall and F1 (threshold = argmax F1 on the validation PR curve).

Every run makes the same calls as `pipeline.train` + `pipeline.evaluate`: the influence task's
instances and split (`registry.task("influence", split options).build(bundle, seed)`: the
default build options, DeepWalk 64-d, seeded), the registry model with its default (``paper``)
preset, ``fit`` with the task's validator and monitor (selection on validation AUC), the task's
``evaluate`` on the test part. Each (dataset, split, seed) is built once for all models, so every
model of a cell is scored on identical instances. Splits (``--splits``): ``random`` — the paper's
75/12.5/12.5 over instances —, ``time`` — leakage-safe, every test instance later than every
training one —, ``item`` — no item in two parts. ``--epochs`` caps the neural models (the paper
runs up to 500 epochs with patience 20: a CPU budget, said in every run's record); ``--set
key=value`` sets a model option of every neural model. The table's setting: batches of 256
(these datasets have 5–13 thousand training instances, 5–13 steps an epoch at the paper's 1024)
and Adam 1e-3 without weight decay, because the paper's Adagrad 0.1 moves every weight by 0.1 on
its first step (Adagrad's first step is lr · sign(g)) and, in a budget of tens of epochs, does
not recover: DeepInf-GAT on MelCup17 has validation AUC 0.55 after 40 epochs (the
``adagrad_check`` command below), Adam 0.61 after 10.

Results: ``benchmarks/results/influence_table.json``, keyed (dataset, model, split, seed,
max_epochs, options); finished runs are skipped; rewritten atomically after every run with the summary,
each run's configuration, selection, epoch times, build counts and provenance. Run:

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/influence_table.py --epochs 20 \
        --set batch_size=256 --set optimizer=adam --set lr=0.001 --set weight_decay=0
    # adagrad_check: the paper's optimiser, 40 epochs, MelCup17
    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/influence_table.py --epochs 40 \
        --set batch_size=256 --models deepinf_gat --splits random \
        --datasets melcup17_darwin_twitter_influence
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _provenance import RESULTS, RunStore, peak_rss_mb, run_config, seeded

from cascadekit import registry
from cascadekit.cli import parse_options
from cascadekit.pipeline import load_bundle

DATASETS = ("melcup17_darwin_twitter_influence", "mshgat_android", "mshgat_christianity",
            "lastfm_hetrec2011_2k")  # fmt: skip
MODELS = ("deepinf_gat", "deepinf_gcn", "pscn", "influence_lr", "influence_svm")
METRICS = ("auc", "precision", "recall", "f1")
RUN_KEY = ("dataset", "model", "split", "seed", "max_epochs", "options")


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """``dataset, split=…`` → model → mean ± std of every metric over the seeds."""
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        label = r["model"] + "".join(f"+{k}={v}" for k, v in sorted(r["options"].items()))
        if r["max_epochs"] is not None:
            label += f", ≤ {r['max_epochs']} epochs"
        groups.setdefault((r["dataset"], r["split"], label), []).append(r)
    out: dict[str, Any] = {}
    for (data, split, model), rs in sorted(groups.items()):
        values = {k: 100 * np.array([r["metrics"][k] for r in rs]) for k in METRICS}
        out.setdefault(f"{data}, split={split}", {})[model] = {
            "seeds": [r["seed"] for r in rs],
            "test_instances": rs[0]["metrics"]["n_test"],
            **{k: f"{v.mean():.2f} ± {v.std():.2f}" for k, v in values.items()},
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--splits", nargs="+", default=["random", "time"],
                    choices=["random", "time", "item"])  # fmt: skip
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=20, help="max_epochs of the neural models")
    ap.add_argument("--set", dest="model_set", action="append", default=[],
                    help="model option key=value for every neural model")  # fmt: skip
    ap.add_argument("--results", type=Path, default=RESULTS / "influence_table.json")
    args = ap.parse_args()
    model_options = parse_options(args.model_set)
    torch.set_num_threads(1)
    specs = {m: registry.model(m) for m in args.models}  # an unknown name fails before any work
    store = RunStore(args.results, RUN_KEY)
    bundles: dict[str, Any] = {}
    # seeds outermost: a stopped sweep leaves whole seeds of every cell, not whole datasets
    for seed, data, split_kind in itertools.product(args.seeds, args.datasets, args.splits):
        if data not in bundles:
            bundles[data] = load_bundle(data)
        bundle = bundles[data]
        task = registry.task("influence", {"split": split_kind})
        split = None
        for model, spec in specs.items():
            epochs = args.epochs if spec.uses_training_loop else None
            key = {"dataset": data, "model": model, "split": split_kind, "seed": seed,
                   "max_epochs": epochs, "options": model_options if epochs else {}}  # fmt: skip
            if store.find(**key):
                continue
            split = split or task.build(bundle, seed)
            options = seeded(spec, seed)
            if epochs is not None:
                options |= {**model_options, "max_epochs": epochs, "progress": False}
            est = spec.create(spec.default_preset, options)
            load0 = list(os.getloadavg())
            t0 = time.perf_counter()
            est.fit(split.train, split.valid, validator=task.validator(),
                    monitor=task.monitor)  # fmt: skip
            fit_seconds = round(time.perf_counter() - t0, 2)
            result = getattr(est, "fit_result_", None)
            metrics = task.evaluate(est, split, seed=seed)
            store.add({
                **key, "config": run_config(model, spec.default_preset, options, est),
                "fit_seconds": fit_seconds,
                "selection": result.summary() if result is not None else None,
                "epoch_seconds": [round(h["seconds"], 2) for h in est.history_]
                if result is not None else [],
                "split_info": {k: v for k, v in split.info.items() if k != "build"},
                "build": split.info["build"], "loadavg_run_start": load0,
                "peak_rss_mb": round(peak_rss_mb(), 1), "metrics": metrics,
            })  # fmt: skip
            print(data, split_kind, seed, model,
                  {k: round(metrics[k], 4) for k in METRICS},
                  f"fit {fit_seconds:.0f}s", flush=True)  # fmt: skip
            store.write(
                protocol="protocols.md §5/§7: influence task defaults (authors' procedure "
                "without the Digg windows), DeepWalk 64-d; random = the paper's 75/12.5/"
                "12.5 over instances, time = every test instance after every training one",
                summary=summarize,
            )


if __name__ == "__main__":
    main()
