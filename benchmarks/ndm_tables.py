"""NDM Tables 2/3 protocol (paper 001 §5.3, protocols §1): diffusion identification Macro/Micro-F1
(all users and first five) for datasets × models × seeds, mean ± std over seeds.

For every (dataset, seed): the shipped split (validation = 10 % carved from train with the seed,
cascades with 1 < length ≤ 500), each model fitted with selection on validation only, then
`tasks.identification.evaluate_identification` with S samples on the test cascades. Models:
``ndm_ref`` (reference-code preset — END never a target, as the numbers of Tables 2/3 were made —
50 epochs, the last one kept: validation NLL/MRR pick epochs 12/24 whose F1 is far lower, see
`NDMConfig.select_on`), ``ndm`` (paper preset: END is a target, ≤ 50 epochs,
early stopping on validation NLL) and ``lstm`` (Adam 1e-3, ≤ 50 epochs, early stopping on NLL). Results are written after every run, so an interrupted
sweep keeps what finished. Run on one core:

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/ndm_tables.py \\
        --datasets ndm_irvine ndm_memetracker ndm_lastfm --seeds 0 1 2 --n-samples 1000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cascadekit.models.lstm import LSTMConfig, LSTMModel
from cascadekit.models.ndm import NDM
from cascadekit.pipeline import load_bundle, protocol_split
from cascadekit.tasks.identification import evaluate_identification
from cascadekit.training import TrainConfig

OUT = Path(__file__).parent / "results" / "ndm_tables.json"
KEYS = ("macro_f1", "micro_f1", "macro_f1_first5", "micro_f1_first5")
# paper 001 Tables 2 and 3 (NDM row)
PAPER = {
    "ndm_lastfm": (0.056, 0.095, 0.048, 0.045),
    "ndm_memetracker": (0.139, 0.171, 0.122, 0.126),
    "ndm_irvine": (0.076, 0.108, 0.064, 0.065),
}


def build(model: str, seed: int, epochs: int) -> Any:
    if model == "ndm":
        return NDM.from_preset("paper", seed=seed, max_epochs=epochs, progress=False)
    if model == "ndm_ref":
        # the authors' training (END never a target) for `epochs` epochs, keeping the last
        return NDM.from_preset(
            "reference_code", seed=seed, max_epochs=epochs, patience=epochs, progress=False
        )
    if model == "lstm":
        tc = TrainConfig(max_epochs=epochs, lr=1e-3, patience=10, seed=seed, progress=False)
        return LSTMModel(LSTMConfig(), tc)
    raise ValueError(f"unknown model {model!r}")


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for r in runs:
        table.setdefault(r["dataset"], {}).setdefault(r["model"], []).append(r)
    out: dict[str, Any] = {}
    for data, models in table.items():
        for model, rs in models.items():
            vals = {k: np.array([r["metrics"][k] for r in rs]) for k in KEYS}
            out.setdefault(data, {})[model] = {
                "seeds": [r["seed"] for r in rs],
                **{k: f"{v.mean():.4f} ± {v.std():.4f}" for k, v in vals.items()},
            }
        if data in PAPER:
            out[data]["paper_ndm"] = dict(zip(KEYS, PAPER[data], strict=True))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["ndm_irvine"])
    ap.add_argument("--models", nargs="+", default=["ndm_ref", "ndm", "lstm"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--n-samples", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    runs: list[dict[str, Any]] = []
    if args.out.is_file():  # resume: keep finished runs with the same sample count
        old = json.loads(args.out.read_text())
        runs = [r for r in old.get("runs", []) if r["n_samples"] == args.n_samples]
    done = {(r["dataset"], r["model"], r["seed"]) for r in runs}
    for data in args.datasets:
        bundle = load_bundle(data, 0, {})
        for seed in args.seeds:
            split = protocol_split(bundle, seed)
            for model in args.models:
                if (data, model, seed) in done:
                    continue
                t0 = time.perf_counter()
                est = build(model, seed, args.epochs).fit(split.train, split.valid)
                fit_s = time.perf_counter() - t0
                metrics = evaluate_identification(
                    est.module_, split.test, n_samples=args.n_samples, seed=seed, progress=False
                )
                runs.append({
                    "dataset": data, "model": model, "seed": seed, "n_samples": args.n_samples,
                    "split_sizes": split.info["sizes"], "fit_seconds": round(fit_s, 1),
                    "epochs_run": est.fit_result_.epochs_run,
                    "best_epoch": est.fit_result_.best_epoch,
                    # the epoch whose weights were evaluated ("last" keeps the final one)
                    "kept_epoch": est.fit_result_.epochs_run - 1
                    if getattr(est.config, "select_on", "") == "last"
                    else est.fit_result_.best_epoch,
                    "metrics": {k: v for k, v in metrics.items()},
                })  # fmt: skip
                print(data, model, seed, {k: round(metrics[k], 4) for k in KEYS},
                      f"fit {fit_s:.0f}s eval {metrics['seconds']:.0f}s", flush=True)  # fmt: skip
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps({
                    "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                                "torch": torch.__version__, "threads": args.threads,
                                "loadavg_at_write": os.getloadavg()},
                    "protocol": "protocols.md §1; shipped split, valid carved 10% from train",
                    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    "summary": summarize(runs),
                    "runs": runs,
                }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
