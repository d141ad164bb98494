"""Does length bucketing change what NDM learns? Train the reference-code preset on ``ndm_lastfm``
(20 epochs, seed 0) with random batches (``bucket_pool=1``, as the authors' code) and with batches
sorted by length within pools of 50 (cascadekit's default, far less padding), then run the
identification protocol (S = 1000) on the shipped test set. Appends one JSON line per setting to
``benchmarks/results/ndm_batching.jsonl``. Run (one thread each, ≈ 25 + 10 min):

    CASCADEKIT_MIRROR=/work/shared/data .venv/bin/python benchmarks/ndm_batching.py --pool 1
    CASCADEKIT_MIRROR=/work/shared/data .venv/bin/python benchmarks/ndm_batching.py --pool 50
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from cascadekit.models.ndm import NDM
from cascadekit.pipeline import load_bundle, protocol_split
from cascadekit.tasks.identification import evaluate_identification

OUT = Path(__file__).parent / "results" / "ndm_batching.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pool", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--n-samples", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    split = protocol_split(load_bundle("ndm_lastfm", 0, {}), 0)
    t0 = time.perf_counter()
    est = NDM.from_preset(
        "reference_code", seed=0, max_epochs=args.epochs, patience=args.epochs, progress=False,
        bucket_pool=args.pool,
    ).fit(split.train, split.valid)  # fmt: skip
    fit_s = time.perf_counter() - t0
    res = evaluate_identification(
        est.module_, split.test, n_samples=args.n_samples, seed=0, progress=False
    )
    row = {
        "dataset": "ndm_lastfm", "bucket_pool": args.pool, "epochs": args.epochs,
        "threads": args.threads, "fit_seconds": round(fit_s), "epoch_seconds":
        [round(h["seconds"], 1) for h in est.history_], "n_samples": args.n_samples,
        **{k: v for k, v in res.items() if "f1" in k}, "eval_seconds": round(res["seconds"]),
    }  # fmt: skip
    with OUT.open("a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
