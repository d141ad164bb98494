"""NDM speed and memory against the authors' reference numbers (protocols §1).

1. ``train``: seconds per training epoch on ``ndm_lastfm`` (the whole shipped train file, batches
   of 32, paper preset; authors' code ≈ 46–50 s per epoch and 2.0 GB on these machines; target
   ≤ 10 s). The epoch is timed without validation (a 20-cascade validation set).
2. ``identify``: diffusion identification of ``ndm_irvine``'s 47 test cascades with S = 1000
   (authors: 146 s, 3.2 GB) by a briefly trained NDM of each preset ("reference_code" never learns
   to stop, so its samples run to |G| — the worst case), and of a random subset of ``ndm_lastfm``'s
   2,380 test cascades (all of them by default; target < 5 minutes on 2 cores).

Each part runs in its own process so ``ru_maxrss`` is that part's peak. Writes
``benchmarks/results/ndm_speed.json``. Run:

    .venv/bin/python benchmarks/ndm_speed.py            # 2 threads, as the authors' timings
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

OUT = Path(__file__).parent / "results" / "ndm_speed.json"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def part_train(epochs: int) -> dict[str, Any]:
    from cascadekit.models.ndm import NDM
    from cascadekit.pipeline import load_bundle
    from cascadekit.tasks.next_user import filter_protocol

    bundle = load_bundle("ndm_lastfm", 0, {})
    train, _ = filter_protocol(bundle.cascades.subset(bundle.splits["train"]))
    est = NDM.from_preset("paper", max_epochs=epochs, patience=epochs, progress=False)
    t0 = time.perf_counter()
    est.fit(train, train.subset(np.arange(20)))
    total = time.perf_counter() - t0
    per_epoch = [h["seconds"] for h in est.history_]  # the first one includes warm-up
    return {
        "dataset": "ndm_lastfm",
        "train_cascades": len(train),
        "batches_per_epoch": int(np.ceil(len(train) / 32)),
        "n_users": train.n_users,
        "seconds_per_epoch": per_epoch,
        "seconds_per_epoch_median": float(np.median(per_epoch)),
        "fit_seconds_total": round(total, 2),
        "authors_seconds_per_epoch": [46, 50],
        "peak_rss_mb": _peak_mb(),
    }


def part_identify(data: str, preset: str, n_cascades: int | None, epochs: int) -> dict[str, Any]:
    from cascadekit.models.ndm import NDM
    from cascadekit.pipeline import load_bundle, protocol_split
    from cascadekit.tasks.identification import evaluate_identification

    split = protocol_split(load_bundle(data, 0, {}), 0)
    est = NDM.from_preset(preset, max_epochs=epochs, patience=epochs, progress=False)
    est.fit(split.train, split.valid)
    test = split.test
    if n_cascades is not None and n_cascades < len(test):
        pick = np.sort(np.random.default_rng(0).choice(len(test), n_cascades, replace=False))
        test = test.subset(pick)
    res = evaluate_identification(est.module_, test, n_samples=1000, progress=False)
    positions = float((test.lengths - 1).sum())
    all_positions = float((split.test.lengths - 1).sum())
    return {
        "dataset": data,
        "preset": preset,
        "train_epochs": epochs,
        "test_cascades_timed": len(test),
        "test_cascades_all": len(split.test),
        "n_samples": 1000,
        "seconds": round(res["seconds"], 2),
        "projected_seconds_all": round(res["seconds"] * all_positions / positions, 1),
        "macro_f1": res["macro_f1"],
        "micro_f1": res["micro_f1"],
        "peak_rss_mb": _peak_mb(),
    }


def run_part(args: list[str], threads: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--threads", str(threads), "--part", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", nargs="*", help=argparse.SUPPRESS)
    ap.add_argument("--train-epochs", type=int, default=3)
    ap.add_argument("--lastfm-cascades", default="all", help="'all' or a number to time")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--only", choices=["train", "identify"], help="re-measure one part, keep the other's"
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.part:
        kind, *rest = args.part
        if kind == "train":
            res = part_train(int(rest[0]))
        else:
            n = None if rest[2] == "all" else int(rest[2])
            res = part_identify(rest[0], rest[1], n, int(rest[3]))
        print(json.dumps(res))
        return
    results = json.loads(OUT.read_text()) if args.only and OUT.is_file() else {}
    if args.only != "identify":
        load0 = os.getloadavg()
        results["train"] = run_part(["train", str(args.train_epochs)], args.threads)
        results["train"]["loadavg_start_end"] = [load0, os.getloadavg()]
    if args.only != "train":
        load0 = os.getloadavg()
        results["identify"] = [
            run_part(["identify", "ndm_irvine", "reference_code", "all", "5"], args.threads),
            run_part(["identify", "ndm_irvine", "paper", "all", "5"], args.threads),
            run_part(
                ["identify", "ndm_lastfm", "reference_code", args.lastfm_cascades, "1"],
                args.threads,
            ),
        ]
        results["identify_loadavg_start_end"] = [load0, os.getloadavg()]
    results["authors"] = {"irvine_identify_s1000_seconds": 146, "irvine_identify_s1000_gb": 3.2}
    results["machine"] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "threads": args.threads,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
