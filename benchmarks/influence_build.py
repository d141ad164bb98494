"""DeepInf instance builder (`graph.ego.build_instances`): throughput and memory, and what every
filter removes on each dataset the toolkit can build instances from.

* Speed: instances/s (kept instances, and candidates processed) and peak memory (``tracemalloc``
  peak of the build, which sees numpy's allocations; the process's peak RSS is in the
  provenance) on MelCup17 (follow graph + timed retweets) and on a synthetic graph of about 10⁶
  undirected edges (power-law, 100,000 users) with continuous-time IC cascades on it. The vertex
  features and DeepWalk are timed apart (``features_seconds``, ``deepwalk_seconds``, MelCup17).
* Counts: for ``melcup17_darwin_twitter_influence`` (retweets of an original tweet = adoptions of
  that tweet; the author, when a user, is the first adopter), ``mshgat_android`` and
  ``mshgat_christianity`` (StackExchange cascades, the timed items; the seed is metadata) and
  ``lastfm_hetrec2011_2k`` (items = tags, a user's first use of a tag = its adoption, on the
  friend graph; day resolution, so ties are many and "strictly before" matters), each build
  option set — the defaults (the authors' procedure without their Digg-sized item and degree
  windows), ``reference_code`` and ``paper`` — with every filter's count and the active-neighbour
  distribution.

Run (one thread; a speed figure, so on a quiet machine; the load is recorded):

    CASCADEKIT_MIRROR=/work/shared/data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/influence_build.py

Writes ``benchmarks/results/influence_build.json``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
from _provenance import RESULTS, write_json

from cascadekit.data.graph import SocialGraph
from cascadekit.features.vertex import structural_features
from cascadekit.graph.deepwalk import DeepWalkConfig, deepwalk
from cascadekit.graph.ego import build_instances, undirected_adjacency
from cascadekit.pipeline import load_bundle
from cascadekit.simulate.ic import simulate_ic
from cascadekit.simulate.synthetic import random_graph
from cascadekit.tasks.influence import Influence

OUT = RESULTS / "influence_build.json"
DATASETS = {
    "melcup17_darwin_twitter_influence": "retweets of an original tweet (author first when a user)",
    "mshgat_android": "StackExchange cascades (timed items; the seed user is metadata)",
    "mshgat_christianity": "StackExchange cascades (timed items; the seed user is metadata)",
    "lastfm_hetrec2011_2k": "tags: a user's first use of a tag, on the friend graph (days)",
}
PRESETS = (None, "reference_code", "paper")


def timed_build(adj: Any, log: Any, options: Any, seed: int) -> tuple[Any, dict[str, Any]]:
    """The instances and the build's seconds, rates and traced peak (one traced run: numpy code,
    so tracing costs little; a second untraced run gives the time)."""
    t0 = time.perf_counter()
    inst = build_instances(adj, log, options, seed=seed)
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    build_instances(adj, log, options, seed=seed)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    cands = sum(inst.info["candidates"].values())
    return inst, {
        "seconds": round(seconds, 3),
        "instances": len(inst),
        "candidates": cands,
        "instances_per_second": round(len(inst) / seconds, 1),
        "candidates_per_second": round(cands / seconds, 1),
        "peak_traced_mb": round(peak, 1),
    }


def counts(info: dict[str, Any]) -> dict[str, Any]:
    """The build info without the options (recorded once per preset)."""
    return {k: v for k, v in info.items() if k not in ("options", "seed")}


def dataset_runs(name: str, seed: int) -> dict[str, Any]:
    bundle = load_bundle(name)
    log = bundle.cascades if bundle.cascades.times is not None else bundle.events
    adj = undirected_adjacency(bundle.graph)
    out: dict[str, Any] = {"items": DATASETS[name], "users": adj.shape[0],
                           "undirected_edges": adj.nnz // 2, "adoption_rows": log.n_events,
                           "items_in_log": len(log), "presets": {}}  # fmt: skip
    for preset in PRESETS:
        options = Influence({"preset": preset} if preset else {}).split
        inst, speed = timed_build(adj, log, options, seed)
        out["presets"][preset or "default"] = {
            "options": inst.info["options"], "speed": speed, "counts": counts(inst.info),
        }  # fmt: skip
        print(name, preset, speed, inst.info["instances"], flush=True)
    t0 = time.perf_counter()
    structural_features(adj)
    out["features_seconds"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    deepwalk(SocialGraph.from_scipy(adj, bundle.graph.vocab, directed=False),
             DeepWalkConfig(seed=seed))  # fmt: skip
    out["deepwalk_seconds"] = round(time.perf_counter() - t0, 3)
    return out


def synthetic_run(n_users: int, avg_degree: float, n_seeds: int, seed: int) -> dict[str, Any]:
    graph = random_graph(n_users, avg_degree=avg_degree, seed=seed)
    rng = np.random.default_rng(seed)
    cascades = simulate_ic(graph, rng.integers(0, n_users, n_seeds), edge_prob=0.2, t_max=4.0,
                           seed=seed + 1)  # fmt: skip
    adj = undirected_adjacency(graph)
    out: dict[str, Any] = {
        "graph": f"random_graph({n_users}, kind='powerlaw', avg_degree={avg_degree}, seed={seed})",
        "cascades": f"simulate_ic({n_seeds} uniform seeds, edge_prob=0.2, t_max=4)",
        "users": n_users, "undirected_edges": adj.nnz // 2, "adoption_rows": cascades.n_events,
        "presets": {},
    }  # fmt: skip
    for preset in (None, "paper"):
        options = Influence({"preset": preset} if preset else {}).split
        inst, speed = timed_build(adj, cascades, options, seed)
        out["presets"][preset or "default"] = {"speed": speed, "counts": counts(inst.info)}
        print("synthetic", preset, speed, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="*", default=list(DATASETS))
    ap.add_argument("--synthetic-users", type=int, default=100_000)
    ap.add_argument("--avg-degree", type=float, default=14.0)
    ap.add_argument("--synthetic-seeds", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    runs = {name: dataset_runs(name, args.seed) for name in args.datasets}
    synthetic = synthetic_run(args.synthetic_users, args.avg_degree, args.synthetic_seeds,
                              args.seed)  # fmt: skip
    write_json(args.out, {"seed": args.seed, "datasets": runs, "synthetic": synthetic})


if __name__ == "__main__":
    main()
