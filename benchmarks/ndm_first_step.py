"""The Lastfm gap: how the first generated user is scored (``NDMConfig.first_step_layernorm``).

The authors' LayerNormalization returns a length-1 input unchanged, so generating from the seed
alone their code scores the first user from act(u_0) *before* the LayerNorm (every later step,
and all of training, is normalised). ndm/reference_code does the same (``first_step_layernorm``
False). This trains ndm/reference_code once (``--epochs``, default 20 as Tables 2/3) on
``--dataset`` and scores the *same weights* both ways with the identification protocol: first
step un-normalised (the reference code) and normalised (the paper's equations).

Replaces the hand-assembled ``ndm_lastfm_diagnostics.json``. Writes
``benchmarks/results/ndm_first_step.json``, keyed (dataset, seed, epochs, n_samples). Run (one
thread, ≈ 10 min + 2 × 5 min):

    CASCADEKIT_MIRROR=/work/shared/data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ndm_first_step.py
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import torch
from _provenance import RESULTS, RunStore, run_config
from ndm_tables import KEYS, PAPER

from cascadekit import registry
from cascadekit.pipeline import load_bundle

OUT = RESULTS / "ndm_first_step.json"
RUN_KEY = ("dataset", "seed", "epochs", "n_samples")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="ndm_lastfm")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--n-samples", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    task = registry.task("identification", None, {"n_samples": args.n_samples})
    split = task.build(load_bundle(args.dataset, 0, {}), args.seed)
    options = {"max_epochs": args.epochs, "seed": args.seed, "progress": False}
    est = registry.model("ndm").create("reference_code", options)
    t0 = time.perf_counter()
    est.fit(split.train, split.valid)
    fit_s = time.perf_counter() - t0
    scores = {}
    for name, normalised in (("first step un-normalised (reference code)", False),
                             ("normalised (paper eq.)", True)):  # fmt: skip
        # the same weights; only how the length-1 prefix is scored changes
        est.module_.config = dataclasses.replace(est.config, first_step_layernorm=normalised)
        res = task.evaluate(est, split, seed=args.seed)
        scores[name] = {**{k: res[k] for k in KEYS}, "eval_seconds": round(res["seconds"], 1)}
        print(name, {k: round(res[k], 4) for k in KEYS}, flush=True)
    if args.dataset in PAPER:
        scores["paper"] = dict(zip(KEYS, PAPER[args.dataset], strict=True))
    store = RunStore(args.out, RUN_KEY)
    store.add({
        "dataset": args.dataset, "seed": args.seed, "epochs": args.epochs,
        "n_samples": args.n_samples, "config": run_config("ndm", "reference_code", options, est),
        "fit_seconds": round(fit_s, 1), "scores": scores,
    })  # fmt: skip
    store.write(what=__doc__.split("\n\n")[1].replace("\n", " "))


if __name__ == "__main__":
    main()
