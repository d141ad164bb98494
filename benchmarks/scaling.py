"""Scale-out on this machine (issue 15): the same work in this process and on 1 and 2 workers of
joblib (loky), a local Ray cluster and a local Dask cluster, with each engine's overhead and a
projection to 8 and 64 workers from the measured per-shard cost.

1. Identification (NDM, seed-only Monte Carlo) on ``ndm_lastfm``'s test cascades: an NDM trained
   ``--epochs`` epochs (reference_code preset; its quality does not matter for timing), then
   `evaluate_identification` with S = ``--samples`` and shards of ``--shard-size`` cascades.
   Every engine and worker count must give bit-identical F1 (checked, recorded).
2. MIC fit (Alg. 1, ``--mic-iter`` alternations whatever the gain) on the largest C4 log
   (``url``: the point-process task's training part of the whole log, or of its last
   ``--url-events``), the per-user step on each engine; the fitted parameters' largest
   difference from the local fit is recorded.

Per engine and worker count: wall seconds of the first call (cluster start included) and of a
second call (the cluster already up: the steady cost), speed-up against the local run; per
engine, its overhead = steady 1-worker seconds − local seconds, and a projection to 8 and 64
workers by Amdahl's law through its measured 1- and 2-worker points (`project`) — an estimate
that assumes the cluster's cores are like this machine's and that the network moves the model
and the results as fast as loopback.

Writes ``benchmarks/results/scaling.json`` with provenance. A speed figure: run it on a quiet
machine (2 cores here, so 2 workers is the ceiling). Run:

    CASCADEKIT_MIRROR=/work/shared/data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/scaling.py
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from _provenance import RESULTS, write_json

from cascadekit import parallel, pipeline, registry
from cascadekit.tasks.identification import Sharding, evaluate_identification

OUT = RESULTS / "scaling.json"
ENGINES = (("loky", 1), ("loky", 2), ("ray", 1), ("ray", 2), ("dask", 1), ("dask", 2))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def scaling_rows(run: Callable[[str, int], Any], units: int, same: Callable[..., Any]) -> dict:
    """Local, then every (engine, workers): first and steady seconds, speed-up, agreement, and
    the projection. ``units``: the finest pieces the work can be cut into (shards, users)."""
    timed(lambda: run("local", 1))  # warm-up: first-call costs (allocator, caches) not counted
    local_s, local = timed(lambda: run("local", 1))
    rows = []
    for backend, workers in ENGINES:
        parallel.shutdown()  # each row starts with no cluster: its first call pays the start
        first_s, _ = timed(lambda b=backend, w=workers: run(b, w))
        steady_s, out = timed(lambda b=backend, w=workers: run(b, w))
        rows.append({"backend": backend, "workers": workers, "first_call_s": round(first_s, 2),
                     "start_s": round(first_s - steady_s, 2), "steady_s": round(steady_s, 2),
                     "speedup_vs_local": round(local_s / steady_s, 3),
                     "agreement": same(out, local)})  # fmt: skip
        print(backend, workers, rows[-1], flush=True)
    parallel.shutdown()
    engines = {}
    for backend in dict(ENGINES):
        t1, t2 = (next(r["steady_s"] for r in rows if r["backend"] == backend and r["workers"] == w)
                  for w in (1, 2))  # fmt: skip
        engines[backend] = {"overhead_vs_local_s": round(t1 - local_s, 2),
                            "overhead_fraction": round((t1 - local_s) / local_s, 3),
                            **project(t1, t2, units)}  # fmt: skip
    return {"local_s": round(local_s, 2), "units": units, "rows": rows, "engines": engines}


def project(t1: float, t2: float, units: int) -> dict[str, Any]:
    """Amdahl's law through the two measured points, serial + parallel = T(1 worker) with
    T(2) = serial + parallel / 2 (serial: the driver's part and the engine's per-call cost,
    clamped to [0, T(1)] against timing noise), and the work cut no finer than ``units``:
    T(W) = serial + parallel · ceil(units / W) / units."""
    serial = min(max(2.0 * t2 - t1, 0.0), t1)
    parallel = t1 - serial
    return {"serial_s": round(serial, 2), "parallel_s": round(parallel, 2),
            "projected_s": {str(w): round(serial + parallel * math.ceil(units / w) / units, 2)
                            for w in (8, 64)}}  # fmt: skip


def identification_part(args: argparse.Namespace) -> dict[str, Any]:
    bundle = pipeline.load_bundle("ndm_lastfm", 0)
    task = registry.task("identification", {})
    split = task.build(bundle, 0)
    spec = registry.model("ndm")
    est = spec.create("reference_code", {"max_epochs": args.epochs, "progress": False,
                                         "select": "last", "seed": 0})  # fmt: skip
    train_s, _ = timed(lambda: est.fit(split.train, split.valid))
    net = est.module_
    test = split.test
    n_shards = math.ceil(int((test.lengths >= 2).sum()) / args.shard_size)
    # the shards are the finest cut of this protocol: more workers than shards wait

    def run(backend: str, workers: int) -> dict:
        sharding = Sharding(backend=backend, n_jobs=workers, shard_size=args.shard_size)
        return evaluate_identification(net, test, n_samples=args.samples, seed=0, device="cpu",
                                       sharding=sharding, progress=False)  # fmt: skip

    def same(out: dict, local: dict) -> dict:
        keys = ("macro_f1", "micro_f1", "macro_f1_first5", "micro_f1_first5")
        return {"bit_identical_f1": all(out[k] == local[k] for k in keys),
                **{k: out[k] for k in keys}}  # fmt: skip

    return {"dataset": "ndm_lastfm", "test_cascades": len(test), "n_samples": args.samples,
            "shard_size": args.shard_size, "ndm_epochs": args.epochs,
            "ndm_train_s": round(train_s, 1), **scaling_rows(run, n_shards, same)}  # fmt: skip


def mic_part(args: argparse.Namespace) -> dict[str, Any]:
    split_options = {"max_events": args.url_events}
    bundle = pipeline.load_bundle("c4_music2_url", 0, {"which": "url"})
    train = registry.task("point_process", split_options).build(bundle, 0).train
    spec = registry.model("mic")

    def run(backend: str, workers: int) -> Any:
        est = spec.create(None, {"max_iter": args.mic_iter, "tol": 1e-300, "n_jobs": workers,
                                 "backend": backend, "tau": 3600.0 * 1000})  # fmt: skip
        est.use_bundle(bundle)
        return est.fit(train).params_

    def same(out: Any, local: Any) -> dict:
        diff = max(float(np.max(np.abs(getattr(out, n) - getattr(local, n))))
                   for n in ("W", "mu", "Sigma"))  # fmt: skip
        return {"max_abs_param_diff": diff, "within_1e-8": diff <= 1e-8}

    n_users = len(np.unique(train.users))
    # the per-user step is cut into 4 chunks per worker each alternation; a user is the finest
    return {"dataset": "c4_music2_url (url)", "events": len(train), "users": n_users,
            "alternations": args.mic_iter, **scaling_rows(run, n_users, same)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--shard-size", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--url-events", type=int, default=None, help="default: the whole log")
    ap.add_argument("--mic-iter", type=int, default=3)
    ap.add_argument("--parts", nargs="+", default=["identification", "mic"])
    args = ap.parse_args()
    torch.set_num_threads(1)
    results = {}
    if "identification" in args.parts:
        results["identification"] = identification_part(args)
    if "mic" in args.parts:
        results["mic_fit"] = mic_part(args)
    write_json(OUT, {"config": vars(args), **results, "quiet_machine_needed": True})


if __name__ == "__main__":
    main()
