"""Next-user ranking (protocols §2, FOREST / MS-HGAT lineage): hits@10/50/100 and MAP@10/50/100 of
NDM, NDM+SN (datasets with a social graph) and the LSTM on the test cascades, every model selected
on the validation cascades only (the next_user task's validator: MAP@10, early stopping with
``--patience``).

Split: the next_user task's (`registry.task("next_user")`): the dataset's shipped
train/valid/test when it has one, else seeded 80/10/10 by cascade; cascades with
1 < length ≤ 500. Rows (`ROWS`, registry model / preset / options): ``ndm`` = ndm/paper (END is
a target: the protocol scores END after the last adopter; Adam + Noam as the reference code)
with ``select="task"`` (the task's MAP@10 instead of the preset's NLL), ``ndm_sn`` =
ndm_sn/paper likewise, ``lstm`` = lstm/default (selects on the task's metric). ``--epochs`` and
``--patience`` set ``max_epochs`` / ``patience``. Runs are keyed (dataset, model, seed, epochs,
patience) in ``benchmarks/results/ndm_ranking.json``, written after every run; a finished run is
skipped unless ``--fresh``, a re-run replaces its entry. Run:

    .venv/bin/python benchmarks/ndm_ranking.py --datasets mshgat_christianity mshgat_android \\
        forest_memetracker forest_twitter --epochs 30
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch
from _provenance import RESULTS, RunStore, run_config
from ndm_tables import config_label

from cascadekit import registry
from cascadekit.pipeline import load_bundle

OUT = RESULTS / "ndm_ranking.json"
KS = (10, 50, 100)
RUN_KEY = ("dataset", "model", "seed", "max_epochs", "patience")
# row label → (registry model, preset, options on top of the preset)
ROWS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "ndm": ("ndm", "paper", {"select": "task"}),
    "ndm_sn": ("ndm_sn", "paper", {"select": "task"}),
    "lstm": ("lstm", "default", {}),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["mshgat_christianity"])
    ap.add_argument("--models", nargs="+", default=list(ROWS), choices=list(ROWS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--fresh", action="store_true", help="re-run runs already in --out")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    store = RunStore(args.out, RUN_KEY)
    task = registry.task("next_user", None, {"ks": KS})
    for data in args.datasets:
        bundle = load_bundle(data, 0, {})
        for seed in args.seeds:
            split = task.build(bundle, seed)
            for label in args.models:
                key = {"dataset": data, "model": label, "seed": seed, "max_epochs": args.epochs,
                       "patience": args.patience}  # fmt: skip
                if (label == "ndm_sn" and bundle.graph is None) or (
                    not args.fresh and store.find(**key)
                ):
                    continue
                model, preset, overrides = ROWS[label]
                options = {**overrides, "seed": seed, "max_epochs": args.epochs,
                           "patience": args.patience, "progress": False}  # fmt: skip
                est = registry.model(model).create(preset, options)
                est.use_bundle(bundle)
                t0 = time.perf_counter()
                est.fit(split.train, split.valid, validator=task.validator(), monitor=task.monitor)
                fit_s = time.perf_counter() - t0
                metrics = task.evaluate(est, split, seed=seed)
                store.add({
                    **key, "config": run_config(model, preset, options, est),
                    "label": config_label(model, preset, options, args.epochs),
                    "split": split.info["kind"], "split_info": split.info,
                    "n_users": split.train.n_users, "fit_seconds": round(fit_s, 1),
                    **est.fit_result_.summary(), "metrics": metrics,
                })  # fmt: skip
                shown = {k: round(v, 4) for k, v in metrics.items() if "@" in k}
                print(data, label, seed, shown, f"fit {fit_s:.0f}s", flush=True)
                store.write(protocol="protocols.md §2; selection on validation MAP@10 only")


if __name__ == "__main__":
    main()
