"""Which way do the C4 adjacency arcs point? The reader maps ``adj[u, v] != 0`` to the arc u → v,
used as W[u, v] (u's events excite v). Check it on data: fit IC on music2 and on url (its last
60,000 events) — first 80 % of events by time — once with the graph as read and once reversed,
and compare the training and held-out log-likelihoods (same τ, same Alg. 1 budget).

The fit is the registry's ``ic`` model (tau, max_iter as below) with the graph as read or
reversed; its resolved configuration and the provenance are recorded. Writes
``benchmarks/results/c4_adjacency_direction.json``. Run:

    CASCADEKIT_MIRROR=/work/shared/data .venv/bin/python benchmarks/c4_adjacency_direction.py
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

from _provenance import RESULTS, write_json

from cascadekit import registry
from cascadekit.pipeline import load_bundle

OUT = RESULTS / "c4_adjacency_direction.json"
SETTINGS = {"music2": (60_000.0, None), "url": (360_000.0, 60_000)}  # τ (ms), max events


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    out = {}
    spec = registry.model("ic")
    for which, (tau, max_events) in SETTINGS.items():
        bundle = load_bundle("c4_music2_url", 0, {"which": which})
        split = registry.task("point_process", {"max_events": max_events}).build(bundle, 0)
        res = {"tau_ms": tau, "train_events": len(split.train), "test_events": len(split.test),
               "split": split.info}  # fmt: skip
        _, config, _ = spec.configs(None, {"tau": tau, "max_iter": 30})
        res["config"] = {"model": "ic", "options": {"tau": tau, "max_iter": 30},
                         "model_config": asdict(config)}  # fmt: skip
        for name, graph in (("as_read", bundle.graph), ("reversed", bundle.graph.reverse())):
            t0 = time.perf_counter()
            model = spec.estimator_class(config, graph=graph).fit(split.train)
            res[name] = {
                "train_loglik": model.fit_info_["history"][-1]["loglik"],
                "test_loglik": float(model.log_likelihood(split.test, history=split.train)),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        res["as_read_better"] = all(
            res["as_read"][k] > res["reversed"][k] for k in ("train_loglik", "test_loglik")
        )
        print(which, json.dumps(res), flush=True)
        out[which] = res
    write_json(args.out, out)


if __name__ == "__main__":
    main()
