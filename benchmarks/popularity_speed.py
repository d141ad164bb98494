"""Training time per epoch and peak memory of DMT-LIC, DeepHawkes and MMCAs on CED (issues 13,
14): T_o = 1 h, horizon 24 h, ≥ 10 observed adoptions, the time-ordered 70/15/15 split, seed 0,
each model's ``paper`` preset for ``--epochs`` epochs (early stopping off), one thread.

Rows: ``deephawkes``; ``dmt_lic`` with ``min_user_count`` 2 (the table's setting: a user seen
once in the training prefixes gets no embedding row or output class) and 1 (every training user
a class: the next-user softmax then spans ≈ 160 thousand users and dominates the cost); ``mmcas``
(its first epoch includes encoding every adoption into a cold feature cache), with the reference
code's adaptive dopri5 and with one fixed RK4 step per inter-event interval. Each row
runs in its own process, so ``peak_rss_mb`` (``ru_maxrss``) is that model's peak with the data
loaded; every row records its configuration, the file its provenance (`_provenance`). Run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/popularity_speed.py [--rows mmcas]

``--rows`` re-measures those rows and keeps the others of the file.

Writes ``benchmarks/results/popularity_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from _provenance import RESULTS, dumps, load_json, peak_rss_mb, provenance, run_config, write_json

from cascadekit import registry
from cascadekit.pipeline import load_bundle

ROWS: dict[str, tuple[str, dict[str, Any]]] = {
    "deephawkes": ("deephawkes", {}),
    "dmt_lic+min_user_count=2": ("dmt_lic", {"min_user_count": 2}),
    "dmt_lic+min_user_count=1": ("dmt_lic", {"min_user_count": 1}),
    "mmcas": ("mmcas", {}),
    "mmcas+ode_method=rk4": ("mmcas", {"ode_method": "rk4"}),
}
SPLIT = {"obs": 3600.0, "horizon": 86400.0, "min_observed": 10, "order": "time"}


def part(label: str, epochs: int) -> dict[str, Any]:
    """One row, in this process."""
    torch.set_num_threads(1)
    task = registry.task("popularity", SPLIT)
    split = task.build(load_bundle("ced_weibo_rumor"), 0)
    rss_data = peak_rss_mb()
    model, extra = ROWS[label]
    options = {**extra, "max_epochs": epochs, "patience": epochs, "seed": 0, "progress": False}
    if model == "mmcas":  # a cold feature cache: the first epoch pays for the encodings
        options["cache_dir"] = tempfile.mkdtemp(prefix="mmcas_speed_")
    est = registry.model(model).create("paper", options)
    validator, monitor = task.selection(est)
    t0 = time.perf_counter()
    est.fit(split.train, split.valid, validator=validator, monitor=monitor)
    seconds = [h["seconds"] for h in est.history_]
    return {
        "config": run_config(model, "paper", options, est),
        "train_cascades": len(split.train),
        "fit_seconds": round(time.perf_counter() - t0, 2),
        "epoch_seconds": [round(s, 2) for s in seconds],
        "median_epoch_seconds": round(statistics.median(seconds), 2),
        "parameters": sum(p.numel() for p in est.module_.parameters()),
        "peak_rss_mb_after_data": round(rss_data, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    ap.add_argument("--part", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=RESULTS / "popularity_speed.json")
    args = ap.parse_args()
    if args.part:
        print(dumps(part(args.part, args.epochs), indent=None))
        return
    # rows measured earlier stay (each carries its own provenance); the named ones are redone
    rows = load_json(args.out).get("rows", {})
    for label in args.rows:
        cmd = [sys.executable, __file__, "--part", label, "--epochs", str(args.epochs)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows[label] = {**json.loads(out.stdout.strip().splitlines()[-1]),
                       "provenance": provenance()}  # fmt: skip
        print(label, rows[label]["median_epoch_seconds"], "s/epoch",
              rows[label]["peak_rss_mb"], "MB", flush=True)  # fmt: skip
    write_json(args.out, {"data": "ced_weibo_rumor", "split": SPLIT, "seed": 0,
                          "epochs": args.epochs, "rows": rows})  # fmt: skip


if __name__ == "__main__":
    main()
