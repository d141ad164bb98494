"""NDM Tables 2/3 protocol (paper 001 §5.3, protocols §1): diffusion identification Macro/Micro-F1
(all users and first five) for datasets × models × seeds, mean ± std over seeds.

For every (dataset, seed): the shipped split (validation = 10 % carved from train with the seed,
cascades with 1 < length ≤ 500), each model fitted with selection on validation only, then
`tasks.identification.evaluate_identification` with S samples on the test cascades. Models:
``ndm_ref`` (reference-code preset — END never a target and the first user after the seed scored
before the LayerNorm, as the numbers of Tables 2/3 were made — 50 epochs, the last one kept: validation NLL/MRR pick epochs 12/24 whose F1 is far lower, see
`NDMConfig.select_on`), ``ndm`` (paper preset: END is a target, ≤ 50 epochs,
early stopping on validation NLL), ``lstm`` (Adam 1e-3, ≤ 50 epochs, early stopping on NLL),
``lstm_ref`` (the LSTM trained like ``ndm_ref``: END never a target, the last epoch kept — the
like-for-like baseline), ``embedded_ic`` (its IC likelihood, Adam 0.05, early stopping on the
validation likelihood) and ``popularity`` (no training: users drawn by training adoption counts).
On Twitter (``forest_twitter``) NDM uses the initial-user term (F_init = 1, paper §5.2);
``ndm_ref_noinit`` is ``ndm_ref`` without it (how much the seed term is worth there), and
``ndm_sn_ref`` is NDM+SN (§5.4, datasets with a social graph: ``mshgat_*``) trained like ``ndm_ref``.
Results are written after every run, so an interrupted sweep keeps what finished. Run:

    .venv/bin/python benchmarks/ndm_tables.py --datasets ndm_irvine ndm_memetracker \\
        --seeds 0 1 2 --n-samples 1000
    .venv/bin/python benchmarks/ndm_tables.py --datasets ndm_lastfm --epochs 20   # the code's 20
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

from cascadekit.data.bundle import DatasetBundle
from cascadekit.models.embedded_ic import EmbeddedIC, EmbeddedICConfig
from cascadekit.models.lstm import LSTMConfig, LSTMModel
from cascadekit.models.ndm import NDM, NDMSN
from cascadekit.models.popularity import PopularityBaseline
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
    "forest_twitter": (0.139, 0.087, 0.123, 0.118),
}


def build(model: str, data: str, seed: int, epochs: int, bundle: DatasetBundle) -> Any:
    # F_init = 1 for Twitter only (paper §5.2); ndm_ref_noinit is the ablation without it
    init = {"use_init": data == "forest_twitter" and model != "ndm_ref_noinit"}
    if model == "ndm":
        return NDM.from_preset("paper", seed=seed, max_epochs=epochs, progress=False, **init)
    if model in ("ndm_ref", "ndm_ref_noinit", "ndm_sn_ref"):
        # the authors' training (END never a target) for `epochs` epochs, keeping the last;
        # NDM+SN (§5.4): half of each user vector a frozen DeepWalk embedding of the graph
        sn = model == "ndm_sn_ref"
        est = (NDMSN if sn else NDM).from_preset(
            "reference_code", seed=seed, max_epochs=epochs, patience=epochs, progress=False, **init
        )
        return est.use_bundle(bundle) if sn else est
    if model in ("lstm", "lstm_ref"):
        ref = model == "lstm_ref"
        patience = epochs if ref else 10
        tc = TrainConfig(max_epochs=epochs, lr=1e-3, patience=patience, seed=seed, progress=False)
        cfg = LSTMConfig(end_weight=0.0, select_on="last") if ref else LSTMConfig()
        return LSTMModel(cfg, tc)
    if model == "embedded_ic":
        tc = TrainConfig(max_epochs=epochs, lr=0.05, patience=10, seed=seed, progress=False)
        return EmbeddedIC(EmbeddedICConfig(), tc)
    raise ValueError(f"unknown model {model!r}")


def fit_model(
    model: str, data: str, seed: int, epochs: int, bundle: DatasetBundle, split: Any
) -> tuple[Any, dict]:
    """The fitted scorer (a module) and what to record about its training."""
    if model == "popularity":
        return PopularityBaseline(split.train), {"epochs_run": 0, "kept_epoch": None}
    est = build(model, data, seed, epochs, bundle).fit(split.train, split.valid)
    last = getattr(est.config, "select_on", "") == "last"
    res = est.fit_result_
    # the epoch whose weights were evaluated ("last" keeps the final one)
    kept = res.epochs_run - 1 if last else res.best_epoch
    return est.module_, {
        "epochs_run": res.epochs_run,
        "best_epoch": res.best_epoch,
        "kept_epoch": kept,
    }


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
                scorer, fit_info = fit_model(model, data, seed, args.epochs, bundle, split)
                fit_s = time.perf_counter() - t0
                metrics = evaluate_identification(
                    scorer, split.test, n_samples=args.n_samples, seed=seed, progress=False
                )
                runs.append({
                    "dataset": data, "model": model, "seed": seed, "n_samples": args.n_samples,
                    "split_sizes": split.info["sizes"], "fit_seconds": round(fit_s, 1),
                    "max_epochs": args.epochs, **fit_info,
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
