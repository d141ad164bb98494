"""NDM Tables 2/3 protocol (paper 001 §5.3, protocols §1): diffusion identification Macro/Micro-F1
(all users and first five) for datasets × models × seeds, mean ± std over seeds.

For every (dataset, seed): the identification task's split (`registry.task("identification")`:
the shipped split, validation = 10 % carved from train with the seed, cascades with
1 < length ≤ 500), each model fitted with selection on validation only, then the task's
`evaluate` with S samples on the test cascades. Every row label is a registry model and preset
(`ROWS`; the configuration lives in the library's presets, ``--epochs`` sets ``max_epochs``):

* ``ndm_ref`` — ndm/reference_code (the authors' code, which made Tables 2/3: END never a target,
  the first generated user scored before the LayerNorm, Noam schedule, the last epoch kept);
  on Twitter (``forest_twitter``) ndm/reference_code_init (F_init = 1, paper §5.2);
* ``ndm_ref_noinit`` — ndm/reference_code everywhere (on Twitter: how much F_init is worth);
* ``ndm`` — ndm/paper (END a target, early stopping and selection on validation NLL; on Twitter
  with ``use_init=True``, as the paper uses F_init there — no preset has both);
* ``ndm_sn_ref`` — ndm_sn/reference_code (NDM+SN §5.4, datasets with a social graph: mshgat_*);
* ``lstm`` — lstm/nll_selection; ``lstm_ref`` — lstm/reference_code (trained like ``ndm_ref``);
* ``embedded_ic`` — embedded_ic/reference; ``user_frequency`` — no training (users drawn by
  their training adoption counts; was ``popularity``).

Runs are keyed (dataset, label, seed, S, epochs) in the ``--out`` file, which is written after
every run: an interrupted sweep keeps what finished, a finished run made by this code is skipped
(``--fresh`` re-runs it), and a re-run replaces the old entry instead of adding a second one. Each
run records its full configuration and provenance (`_provenance`). Run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ndm_tables.py --datasets ndm_irvine \\
        --models ndm_ref --seeds 0 1 2 --n-samples 1000 --out benchmarks/results/ndm_tables_ref_small.json
    .venv/bin/python benchmarks/bench.py          # every results file and the command that made it
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _provenance import RESULTS, RunStore, peak_rss_mb, run_config, seeded

from cascadekit import registry
from cascadekit.pipeline import load_bundle

OUT = RESULTS / "ndm_tables.json"
KEYS = ("macro_f1", "micro_f1", "macro_f1_first5", "micro_f1_first5")
RUN_KEY = ("dataset", "model", "seed", "n_samples", "max_epochs")
# paper 001 Tables 2 and 3 (NDM row)
PAPER = {
    "ndm_lastfm": (0.056, 0.095, 0.048, 0.045),
    "ndm_memetracker": (0.139, 0.171, 0.122, 0.126),
    "ndm_irvine": (0.076, 0.108, 0.064, 0.065),
    "forest_twitter": (0.139, 0.087, 0.123, 0.118),
}
# row label → (registry model, preset, options on top of the preset)
ROWS: dict[str, tuple[str, str | None, dict[str, Any]]] = {
    "ndm_ref": ("ndm", "reference_code", {}),
    "ndm_ref_noinit": ("ndm", "reference_code", {}),
    "ndm": ("ndm", "paper", {}),
    "ndm_sn_ref": ("ndm_sn", "reference_code", {}),
    "lstm": ("lstm", "nll_selection", {}),
    "lstm_ref": ("lstm", "reference_code", {}),
    "embedded_ic": ("embedded_ic", "reference", {}),
    "user_frequency": ("user_frequency", None, {}),
}
# Twitter: the paper's F_init = 1 (§5.2); ndm_ref_noinit is the ablation without it
PER_DATASET = {
    "forest_twitter": {
        "ndm_ref": ("ndm", "reference_code_init", {}),
        "ndm": ("ndm", "paper", {"use_init": True}),
    },
}
RENAMED = {"popularity": "user_frequency"}


def row(label: str, data: str) -> tuple[str, str | None, dict[str, Any]]:
    """(registry model, preset, options) of a row label on a dataset."""
    if label not in ROWS:
        raise SystemExit(f"unknown model label {label!r}; known: {', '.join(ROWS)}")
    return PER_DATASET.get(data, {}).get(label, ROWS[label])


def config_label(model: str, preset: str | None, options: dict[str, Any], epochs: Any) -> str:
    """``model/preset[+k=v…], N epochs``: the one name of one configuration (reports use it)."""
    shown = {k: v for k, v in options.items() if k not in ("seed", "progress", "max_epochs")}
    name = model + (f"/{preset}" if preset else "")
    name += "".join(f"+{k}={v}" for k, v in sorted(shown.items()))
    return name + (f", {epochs} epochs" if epochs is not None else "")


def legacy(run: dict[str, Any]) -> dict[str, Any]:
    """A run written before the registry: renamed labels, no epochs for the untrained baseline."""
    label = RENAMED.get(run["model"], run["model"])
    out = {**run, "model": label}
    if label == "user_frequency":
        out["max_epochs"] = None
    return out


def fit(label: str, data: str, seed: int, epochs: int, bundle: Any, split: Any) -> tuple[Any, dict]:
    """The fitted estimator and what to record about it (configuration, selection)."""
    model, preset, overrides = row(label, data)
    spec = registry.model(model)
    options = {**overrides, **seeded(spec, seed)}
    if spec.uses_training_loop:
        options |= {"max_epochs": epochs, "progress": False}
    est = spec.create(preset, options)
    est.use_bundle(bundle)  # NDM+SN: DeepWalk of the social graph; the others take nothing
    est.fit(split.train, split.valid)
    result = getattr(est, "fit_result_", None)
    info = {
        "config": run_config(model, preset, options, est),
        "label": config_label(model, preset, options, epochs if spec.uses_training_loop else None),
        **(result.summary() if result is not None else {"epochs_run": 0, "kept_epoch": None}),
    }
    return est, info


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """dataset → configuration label → mean ± std over the seeds at each S."""
    table: dict[tuple, list[dict]] = {}
    for r in runs:
        label = r.get("label") or f"{r['model']} (legacy run, no recorded configuration)"
        table.setdefault((r["dataset"], label, r["n_samples"]), []).append(r)
    out: dict[str, Any] = {}
    for (data, label, n), rs in sorted(table.items()):
        vals = {k: np.array([r["metrics"][k] for r in rs]) for k in KEYS}
        out.setdefault(data, {})[f"{rs[0]['model']} = {label}, S={n}"] = {
            "seeds": [r["seed"] for r in rs],
            **{k: f"{v.mean():.4f} ± {v.std():.4f}" for k, v in vals.items()},
        }
    for data in out:
        if data in PAPER:
            out[data]["paper_ndm"] = dict(zip(KEYS, PAPER[data], strict=True))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["ndm_irvine"])
    ap.add_argument("--models", nargs="+", default=["ndm_ref", "ndm", "lstm"], choices=list(ROWS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--n-samples", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=50, help="max_epochs of every trained model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--fresh", action="store_true", help="re-run runs already in --out")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    store = RunStore(args.out, RUN_KEY, legacy=legacy)
    task = registry.task("identification", None, {"n_samples": args.n_samples})
    for data in args.datasets:
        bundle = load_bundle(data, 0, {})
        for seed in args.seeds:
            split = task.build(bundle, seed)
            for label in args.models:
                trained = registry.model(row(label, data)[0]).uses_training_loop
                key = {"dataset": data, "model": label, "seed": seed, "n_samples": args.n_samples,
                       "max_epochs": args.epochs if trained else None}  # fmt: skip
                if not args.fresh and store.find(**key):
                    continue
                load0 = list(os.getloadavg())
                t0 = time.perf_counter()
                est, info = fit(label, data, seed, args.epochs, bundle, split)
                fit_s = time.perf_counter() - t0
                metrics = task.evaluate(est, split, seed=seed)
                store.add({
                    **key, **info, "task": {"name": task.name, "split": task.split_record(),
                                            "options": dataclasses.asdict(task.options)},
                    "split": split.info, "fit_seconds": round(fit_s, 1),
                    "eval_seconds": round(metrics["seconds"], 1), "loadavg_run_start": load0,
                    "peak_rss_mb": round(peak_rss_mb(), 1), "metrics": metrics,
                })  # fmt: skip
                print(data, label, seed, {k: round(metrics[k], 4) for k in KEYS},
                      f"fit {fit_s:.0f}s eval {metrics['seconds']:.0f}s", flush=True)  # fmt: skip
                store.write(
                    protocol="protocols.md §1; the identification task's split (shipped split, "
                    "valid carved 10 % from train, 1 < length ≤ 500)",
                    summary=summarize,
                )


if __name__ == "__main__":
    main()
