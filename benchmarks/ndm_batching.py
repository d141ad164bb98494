"""Does length bucketing change what NDM learns? Train ndm/reference_code on ``ndm_lastfm``
(``--epochs``, default 20 as Tables 2/3, seed 0) with batches of the ``bucket_pool`` given by
``--pool``: 1 = plain random batches, as the authors' code; 50 or 200 (the library default) =
batches sorted by length within pools of that many batches (far less padding). Then the
identification protocol (S = 1000) on the test cascades of the identification task's split.

One JSON line per run in ``benchmarks/results/ndm_batching.jsonl``, keyed (dataset, bucket_pool,
epochs, seed, n_samples, threads): a re-run replaces its line. Each line records the resolved
configuration and its provenance (command, commit, threads, load). Run (one thread each,
≈ 25 + 10 min for pool 1, less for the bucketed ones):

    CASCADEKIT_MIRROR=/work/shared/data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ndm_batching.py --pool 1
    CASCADEKIT_MIRROR=/work/shared/data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ndm_batching.py --pool 200
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch
from _provenance import RESULTS, RunStore, run_config

from cascadekit import registry
from cascadekit.pipeline import load_bundle

OUT = RESULTS / "ndm_batching.jsonl"
RUN_KEY = ("dataset", "bucket_pool", "epochs", "seed", "n_samples", "threads")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pool", type=int, required=True, help="bucket_pool (1 = random batches)")
    ap.add_argument("--dataset", default="ndm_lastfm")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-samples", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    task = registry.task("identification", None, {"n_samples": args.n_samples})
    split = task.build(load_bundle(args.dataset, 0, {}), args.seed)
    options = {"bucket_pool": args.pool, "max_epochs": args.epochs, "seed": args.seed,
               "progress": False}  # fmt: skip
    est = registry.model("ndm").create("reference_code", options)
    load0 = list(os.getloadavg())
    t0 = time.perf_counter()
    est.fit(split.train, split.valid)
    fit_s = time.perf_counter() - t0
    res = task.evaluate(est, split, seed=args.seed)
    store = RunStore(args.out, RUN_KEY)
    run = store.add({
        "dataset": args.dataset, "bucket_pool": args.pool, "epochs": args.epochs,
        "seed": args.seed, "n_samples": args.n_samples, "threads": args.threads,
        "config": run_config("ndm", "reference_code", options, est),
        "fit_seconds": round(fit_s, 1),
        "epoch_seconds": [round(h["seconds"], 1) for h in est.history_],
        **{k: v for k, v in res.items() if "f1" in k}, "eval_seconds": round(res["seconds"], 1),
        "loadavg_run_start": load0,
    })  # fmt: skip
    store.write()
    print({k: v for k, v in run.items() if k not in ("config", "provenance")})


if __name__ == "__main__":
    main()
