"""Planted-modality benchmark of MMCAs (issue 14): `simulate.synthetic.synthetic_multimodal`
cascades whose growth factor k ∈ {0.5, 2} is set by the source text (``driver=text``), by the
poster's followers (``driver=profile``) or, with ``--drivers image``, by the source image's colour
(the other modalities carrying no information).

* ``growth=scaled`` (label = round(n_observed · k)): the observed dynamics and the driver are
  both needed, so MMCAs should beat every single-modality model (rows ``cascade_only``,
  ``user_only``, ``text_only``);
* ``growth=alone`` (label = round(30 · k)): the driver alone decides, and the reweighting should
  put more weight on the driver's uniqueness expert than on the other content modality's.

Every MoE run records the mean test expert weights and each expert's own test MSLE
(`models.mmcas.MMCAsNet.explain`); ``--set key=value`` runs a variant of every row (kept apart
in the key: ``--set perturbation=shuffle``, ``--set lambda1=0.1 --set lambda2=0.1``). Split:
the popularity task at T_o = 0.5 h, time-ordered 70/15/15. ``--cascades`` per dataset (400),
``--epochs`` (10) with the paper preset otherwise. Results:
``benchmarks/results/mmcas_planted.json``, keyed (driver, growth, model, seed, max_epochs,
cascades, options); finished runs are skipped.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/mmcas_planted.py
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _provenance import RESULTS, RunStore, peak_rss_mb

from cascadekit import registry
from cascadekit.cli import parse_options
from cascadekit.pipeline import load_bundle

RUN_KEY = ("driver", "growth", "model", "seed", "max_epochs", "cascades", "options")
ROWS = ("mmcas", "cascade_only", "user_only", "text_only")
PLAN = {"scaled": ROWS, "alone": ("mmcas",)}


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        options = "".join(f"+{k}={v}" for k, v in sorted(r.get("options", {}).items()))
        groups.setdefault((r["driver"], r["growth"], r["model"] + options), []).append(r)
    out: dict[str, Any] = {}
    for (driver, growth, model), rs in sorted(groups.items()):
        msle = np.array([r["metrics"]["msle"] for r in rs])
        row: dict[str, Any] = {"seeds": [r["seed"] for r in rs],
                               "msle": f"{msle.mean():.4f} ± {msle.std():.4f}"}  # fmt: skip
        if rs[0].get("expert_weights"):
            names = list(rs[0]["expert_weights"])
            w = np.array([[r["expert_weights"][n] for n in names] for r in rs])
            row["expert_weights"] = {n: f"{m:.3f} ± {s:.3f}"
                                     for n, m, s in zip(names, w.mean(0), w.std(0), strict=True)}  # fmt: skip
        if rs[0].get("expert_msle"):
            names = list(rs[0]["expert_msle"])
            e = np.array([[r["expert_msle"][n] for n in names] for r in rs])
            row["expert_msle"] = {n: f"{m:.3f}" for n, m in zip(names, e.mean(0), strict=True)}
        out.setdefault(f"driver={driver}, growth={growth}", {})[model] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--drivers", nargs="+", default=["text", "profile"],
                    choices=["text", "profile", "image"])  # fmt: skip
    ap.add_argument("--growth", nargs="+", default=list(PLAN), choices=list(PLAN))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--cascades", type=int, default=400)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument(
        "--set",
        dest="model_set",
        action="append",
        default=[],
        help="model option key=value of every row (a variant: kept apart in the key)",
    )
    ap.add_argument("--results", type=Path, default=RESULTS / "mmcas_planted.json")
    args = ap.parse_args()
    variant = parse_options(args.model_set) if args.model_set else {}
    torch.set_num_threads(1)
    store = RunStore(args.results, RUN_KEY)
    cache = tempfile.mkdtemp(prefix="mmcas_features_")
    task = registry.task("popularity", {"obs": 1800.0, "order": "time"})
    for growth in args.growth:
        for driver in args.drivers:
            for seed in args.seeds:
                data = {"n_cascades": args.cascades, "n_users": 8 * args.cascades,
                        "driver": driver, "growth": growth, "images": driver == "image"}  # fmt: skip
                split = task.build(load_bundle("synthetic_multimodal", seed, data), seed)
                for label in PLAN[growth]:
                    key = {"driver": driver, "growth": growth, "model": label, "seed": seed,
                           "max_epochs": args.epochs, "cascades": args.cascades,
                           "options": variant}  # fmt: skip
                    if store.find(**key):
                        continue
                    preset = "paper" if label == "mmcas" else label
                    options = {**variant, "seed": seed, "max_epochs": args.epochs,
                               "progress": False, "cache_dir": cache}  # fmt: skip
                    est = registry.create("mmcas", preset, **options)
                    validator, monitor = task.selection(est)
                    t0 = time.perf_counter()
                    est.fit(split.train, split.valid, validator=validator, monitor=monitor)
                    fit_seconds = round(time.perf_counter() - t0, 2)
                    metrics = task.evaluate(est, split)
                    weights = expert_msle = None
                    if est.module_.fusion.fusion == "moe":
                        ex = est.module_.explain(split.test)
                        weights = dict(zip(ex["experts"], ex["weights"].mean(0).round(4).tolist(),
                                           strict=True))  # fmt: skip
                        y = np.log2(split.test.meta["label"] + 1.0)[:, None]
                        errors = ((ex["outputs"] - y) ** 2).mean(0).round(4).tolist()
                        expert_msle = dict(zip(ex["experts"], errors, strict=True))
                    store.add({**key, "preset": preset, "data_options": data,
                               "modalities": est.meta_["modalities"], "fit_seconds": fit_seconds,
                               "epoch_seconds": [round(h["seconds"], 2) for h in est.history_],
                               "metrics": {k: v for k, v in metrics.items() if k != "predictions"},
                               "expert_weights": weights, "expert_msle": expert_msle,
                               "peak_rss_mb": round(peak_rss_mb(), 1)})  # fmt: skip
                    print(driver, growth, seed, label, round(metrics["msle"], 4), weights,
                          f"fit {fit_seconds:.0f}s", flush=True)  # fmt: skip
                    store.write(
                        protocol="synthetic_multimodal (k set by the driver), popularity task "
                        "T_o = 0.5 h, time-ordered 70/15/15, mmcas presets",
                        summary=summarize,
                    )


if __name__ == "__main__":
    main()
