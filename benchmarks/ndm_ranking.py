"""Next-user ranking (protocols §2, FOREST / MS-HGAT lineage): hits@10/50/100 and MAP@10/50/100 of
NDM, NDM+SN (datasets with a social graph) and the LSTM on the test cascades, every model selected
on the validation cascades only (MAP@10, early stopping with ``--patience``).

Split: the dataset's shipped train/valid/test when it has one, else seeded 80/10/10 by cascade;
cascades with 1 < length ≤ 500. NDM uses the paper preset (END is a target: the protocol scores END
after the last adopter), Adam + Noam as the reference code. Writes
``benchmarks/results/ndm_ranking.json`` after every run (re-running skips finished runs). Run:

    .venv/bin/python benchmarks/ndm_ranking.py --datasets mshgat_christianity mshgat_android \\
        forest_memetracker forest_twitter --epochs 30
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch

from cascadekit.models.lstm import LSTMConfig, LSTMModel
from cascadekit.models.ndm import NDM, NDMSN
from cascadekit.pipeline import load_bundle, protocol_split
from cascadekit.tasks.next_user import evaluate_next_user
from cascadekit.training import TrainConfig

OUT = Path(__file__).parent / "results" / "ndm_ranking.json"
KS = (10, 50, 100)


def build(model: str, seed: int, epochs: int, patience: int) -> Any:
    common = dict(seed=seed, max_epochs=epochs, patience=patience, progress=False)
    if model == "ndm":
        return NDM.from_preset("paper", select_on="map@10", **common)
    if model == "ndm_sn":
        return NDMSN.from_preset("paper", select_on="map@10", **common)
    if model == "lstm":
        return LSTMModel(LSTMConfig(select_on="map@10"), TrainConfig(lr=1e-3, **common))
    raise ValueError(f"unknown model {model!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["mshgat_christianity"])
    ap.add_argument("--models", nargs="+", default=["ndm", "ndm_sn", "lstm"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    runs = json.loads(args.out.read_text())["runs"] if args.out.is_file() else []
    done = {(r["dataset"], r["model"], r["seed"]) for r in runs}
    for data in args.datasets:
        bundle = load_bundle(data, 0, {})
        for seed in args.seeds:
            split = protocol_split(bundle, seed)
            for model in args.models:
                if (data, model, seed) in done or (model == "ndm_sn" and bundle.graph is None):
                    continue
                est = build(model, seed, args.epochs, args.patience)
                if model == "ndm_sn":
                    est.use_bundle(bundle)
                t0 = time.perf_counter()
                est.fit(split.train, split.valid)
                fit_s = time.perf_counter() - t0
                metrics = evaluate_next_user(est.module_, split.test, ks=KS)
                runs.append({
                    "dataset": data, "model": model, "seed": seed, "split": split.info["kind"],
                    "split_sizes": split.info["sizes"], "n_users": split.train.n_users,
                    "fit_seconds": round(fit_s, 1), "epochs_run": est.fit_result_.epochs_run,
                    "best_epoch": est.fit_result_.best_epoch, "metrics": metrics,
                })  # fmt: skip
                shown = {k: round(v, 4) for k, v in metrics.items() if "@" in k}
                print(data, model, seed, shown, f"fit {fit_s:.0f}s", flush=True)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps({
                    "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                                "torch": torch.__version__, "threads": args.threads},
                    "protocol": "protocols.md §2; selection on validation MAP@10 only",
                    "runs": runs,
                }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
