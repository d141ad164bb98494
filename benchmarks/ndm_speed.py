"""NDM speed and memory against the authors' reference numbers (protocols §1). A speed figure:
run it on a quiet machine.

1. ``train``: seconds per training epoch on ``ndm_lastfm`` (the whole shipped train file, batches
   of 32, ndm/paper), once per ``--pools`` value of ``bucket_pool``: 200 = cascadekit's
   length-bucketed batches (sorted by length within pools of 200 batches: less padding), 1 =
   plain random batches, as the authors' code batches. The authors' code takes ≈ 46–50 s per
   epoch and 2.0 GB on these machines — with random batches, so the like-for-like comparison is
   the ``bucket_pool = 1`` row; target ≤ 10 s. The epoch is timed without validation (a
   20-cascade validation set).
2. ``identify``: diffusion identification of ``ndm_irvine``'s 47 test cascades with S = 1000
   (authors: 146 s, 3.2 GB) by a briefly trained NDM of each preset ("reference_code" never learns
   to stop, so its samples run to |G| — the worst case), and of a random subset of ``ndm_lastfm``'s
   2,380 test cascades (all of them by default; target < 5 minutes on 2 cores).

Each part runs in its own process so ``ru_maxrss`` is that part's peak; each records its model
configuration, the file records its provenance (`_provenance`). Writes
``benchmarks/results/ndm_speed.json``. Run:

    .venv/bin/python benchmarks/ndm_speed.py            # 2 threads, as the authors' timings
    .venv/bin/python benchmarks/ndm_speed.py --train-epochs 1 --max-train-cascades 200 \\
        --lastfm-cascades 5 --out /tmp/ndm_speed_smoke.json     # smoke check (seconds)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _provenance import RESULTS, load_json, peak_rss_mb, provenance, run_config, write_json

OUT = RESULTS / "ndm_speed.json"
AUTHORS = {
    "train_seconds_per_epoch": [46, 50],
    "train_peak_gb": 2.0,
    "train_batching": "random batches (the reference code shuffles and pads every batch of 32; "
    "= bucket_pool 1 here)",
    "irvine_identify_s1000_seconds": 146,
    "irvine_identify_s1000_gb": 3.2,
}
BATCHING = {1: "random batches, as the authors' code"}


def _cap(cascades: Any, n: int | None) -> Any:
    return cascades if n is None or n >= len(cascades) else cascades.subset(np.arange(n))


def part_train(epochs: int, pool: int, max_cascades: int | None) -> dict[str, Any]:
    from cascadekit import registry
    from cascadekit.pipeline import load_bundle
    from cascadekit.tasks.next_user import CascadeSplitOptions

    bundle = load_bundle("ndm_lastfm", 0, {})
    lengths = CascadeSplitOptions()
    train = bundle.cascades.subset(bundle.splits["train"])
    train = _cap(train.filter_length(lengths.min_len, lengths.max_len), max_cascades)
    options = {"max_epochs": epochs, "patience": epochs, "bucket_pool": pool, "progress": False}
    est = registry.model("ndm").create("paper", options)
    t0 = time.perf_counter()
    est.fit(train, train.subset(np.arange(20)))
    total = time.perf_counter() - t0
    per_epoch = [h["seconds"] for h in est.history_]  # the first one includes warm-up
    return {
        "dataset": "ndm_lastfm",
        "bucket_pool": pool,
        "batching": BATCHING.get(pool, f"length-bucketed within pools of {pool} batches"),
        "config": run_config("ndm", "paper", options, est),
        "train_cascades": len(train),
        "batches_per_epoch": int(np.ceil(len(train) / est.train_config.batch_size)),
        "n_users": train.n_users,
        "seconds_per_epoch": per_epoch,
        "seconds_per_epoch_median": float(np.median(per_epoch)),
        "fit_seconds_total": round(total, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def part_identify(
    data: str, preset: str, n_cascades: int | None, epochs: int, max_cascades: int | None
) -> dict[str, Any]:
    from cascadekit import registry
    from cascadekit.pipeline import load_bundle

    task = registry.task("identification", None, {"n_samples": 1000})
    split = task.build(load_bundle(data, 0, {}), 0)
    options = {"max_epochs": epochs, "patience": epochs, "progress": False}
    est = registry.model("ndm").create(preset, options)
    est.fit(_cap(split.train, max_cascades), split.valid)
    test = split.test
    if n_cascades is not None and n_cascades < len(test):
        pick = np.sort(np.random.default_rng(0).choice(len(test), n_cascades, replace=False))
        test = test.subset(pick)
    res = task.evaluate(est, dataclasses.replace(split, test=test), seed=0)
    positions = float((test.lengths - 1).sum())
    all_positions = float((split.test.lengths - 1).sum())
    return {
        "dataset": data,
        "preset": preset,
        "config": run_config("ndm", preset, options, est),
        "train_epochs": epochs,
        "train_cascades": min(len(split.train), max_cascades or len(split.train)),
        "test_cascades_timed": len(test),
        "test_cascades_all": len(split.test),
        "n_samples": 1000,
        "seconds": round(res["seconds"], 2),
        "projected_seconds_all": round(res["seconds"] * all_positions / positions, 1),
        "macro_f1": res["macro_f1"],
        "micro_f1": res["micro_f1"],
        "peak_rss_mb": peak_rss_mb(),
    }


def run_part(args: list[str], threads: int) -> dict[str, Any]:
    load0 = list(os.getloadavg())
    out = subprocess.run(
        [sys.executable, __file__, "--threads", str(threads), "--part", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return {**res, "loadavg_start_end": [load0, list(os.getloadavg())], "provenance": provenance()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", nargs="*", help=argparse.SUPPRESS)
    ap.add_argument("--train-epochs", type=int, default=3)
    ap.add_argument(
        "--pools", nargs="+", type=int, default=[200, 1],
        help="bucket_pool values timed in the train part (1 = random batches, as the authors')",
    )  # fmt: skip
    ap.add_argument("--lastfm-cascades", default="all", help="'all' or a number to time")
    ap.add_argument(
        "--max-train-cascades", type=int, default=None,
        help="train on the first N cascades only (smoke checks; the figure uses all)",
    )  # fmt: skip
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--only", choices=["train", "identify"], help="re-measure one part, keep the other's"
    )
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cap = "all" if args.max_train_cascades is None else str(args.max_train_cascades)
    if args.part:
        kind, *rest = args.part
        limit = None if rest[-1] == "all" else int(rest[-1])
        if kind == "train":
            res = part_train(int(rest[0]), int(rest[1]), limit)
        else:
            n = None if rest[2] == "all" else int(rest[2])
            res = part_identify(rest[0], rest[1], n, int(rest[3]), limit)
        print(json.dumps(res))
        return
    old = load_json(args.out) if args.only else {}
    results = {k: v for k, v in old.items() if k in ("train", "identify")}
    if args.only != "identify":
        results["train"] = [
            run_part(["train", str(args.train_epochs), str(pool), cap], args.threads)
            for pool in args.pools
        ]
    if args.only != "train":
        results["identify"] = [
            run_part(["identify", "ndm_irvine", "reference_code", "all", "5", cap], args.threads),
            run_part(["identify", "ndm_irvine", "paper", "all", "5", cap], args.threads),
            run_part(
                ["identify", "ndm_lastfm", "reference_code", args.lastfm_cascades, "1", cap],
                args.threads,
            ),
        ]
    results["authors"] = AUTHORS
    results["quiet_machine_needed"] = True
    write_json(args.out, results, threads_requested=args.threads)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
