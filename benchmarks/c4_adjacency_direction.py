"""Which way do the C4 adjacency arcs point? The reader maps ``adj[u, v] != 0`` to the arc u → v,
used as W[u, v] (u's events excite v). Check it on data: fit IC on music2 and on url (its last
60,000 events) — first 80 % of events by time — once with the graph as read and once reversed,
and compare the training and held-out log-likelihoods (same τ, same Alg. 1 budget).

Writes ``benchmarks/results/c4_adjacency_direction.json``. Run:

    CASCADEKIT_MIRROR=/work/shared/data .venv/bin/python benchmarks/c4_adjacency_direction.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from cascadekit.hawkes_runs import HawkesConfig, event_split, load_event_bundle
from cascadekit.models.hawkes.model import MIC

OUT = Path(__file__).parent / "results" / "c4_adjacency_direction.json"
SETTINGS = {"music2": (60_000.0, None), "url": (360_000.0, 60_000)}  # τ (ms), max events


def main() -> None:
    out = {}
    for which, (tau, max_events) in SETTINGS.items():
        bundle = load_event_bundle("c4_music2_url", 0, {"which": which})
        split = event_split(bundle.events, HawkesConfig(max_events=max_events))
        res = {"tau_ms": tau, "train_events": len(split.train), "test_events": len(split.test)}
        for name, graph in (("as_read", bundle.graph), ("reversed", bundle.graph.reverse())):
            t0 = time.perf_counter()
            model = MIC("ic", tau=tau, graph=graph, max_iter=30).fit(split.train)
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
    OUT.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
