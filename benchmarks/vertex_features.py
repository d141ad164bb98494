"""Which implementation computes DeepInf's 7 structural vertex features? Ours
(`cascadekit.features.vertex`: scipy sparse power iterations, blocked triangle counts, vectorised
k-core peeling) against networkx 3 (the only graph library in the environment; igraph, which
the authors' code used, is not installed) on MelCup17's follow graph (undirected, as DeepInf uses
it) and on a synthetic graph of about 10⁶ undirected edges (`simulate.synthetic.random_graph`,
power-law, 100,000 users).

Per feature and implementation: wall time (no tracing), peak traced memory (a second run under
``tracemalloc``, which sees numpy's and Python's allocations) and agreement with networkx (max
absolute difference on the same normalisation: PageRank and HITS sum to 1, eigenvector unit
2-norm). networkx is given its graph object (built once, its time and memory reported apart) and
its default tolerances (ours are tighter: 1e-10 in the 1-norm), so differences near 1e-6 are its
stopping rule. Writes ``benchmarks/results/vertex_features.json``:

    CASCADEKIT_MIRROR=/work/shared/data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/vertex_features.py
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _provenance import RESULTS, write_json

from cascadekit.features import vertex
from cascadekit.graph.ego import undirected_adjacency
from cascadekit.pipeline import load_bundle
from cascadekit.simulate.synthetic import random_graph

OUT = RESULTS / "vertex_features.json"


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, seconds without tracing, peak traced MB of a second, traced run)."""
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak


def ours(adj: Any) -> dict[str, Callable[[], np.ndarray]]:
    return {
        "rarity": lambda: vertex.rarity(adj),
        "clustering": lambda: vertex.clustering(adj),
        "pagerank": lambda: vertex.pagerank(adj),
        "hits": lambda: np.stack(vertex.hits(adj)),
        "eigenvector": lambda: vertex.eigenvector_centrality(adj),
        "coreness": lambda: vertex.coreness(adj).astype(float),
    }


def networkx_fns(g: Any, n: int) -> dict[str, Callable[[], np.ndarray]]:
    import networkx as nx

    def arr(d: dict) -> np.ndarray:
        return np.array([d[v] for v in range(n)], dtype=float)

    def hits() -> np.ndarray:
        hub, auth = nx.hits(g, max_iter=10_000)
        return np.stack([arr(hub), arr(auth)])

    return {
        "rarity": lambda: 1.0 / np.maximum(arr(dict(g.degree())), 1),
        "clustering": lambda: arr(nx.clustering(g)),
        "pagerank": lambda: arr(nx.pagerank(g)),
        "hits": hits,
        "eigenvector": lambda: arr(nx.eigenvector_centrality(g, max_iter=5000)),
        "coreness": lambda: arr(nx.core_number(g)),
    }


def compare(name: str, adj: Any) -> dict[str, Any]:
    import networkx as nx

    n = adj.shape[0]
    out: dict[str, Any] = {"graph": name, "users": n, "undirected_edges": adj.nnz // 2}
    g, build_s, build_mb = measure(lambda: nx.from_scipy_sparse_array(adj))
    out["networkx_graph_build"] = {"seconds": round(build_s, 3), "peak_mb": round(build_mb, 1)}
    reference = networkx_fns(g, n)
    features = {}
    for feature, fn in ours(adj).items():
        mine, mine_s, mine_mb = measure(fn)
        theirs, theirs_s, theirs_mb = measure(reference[feature])
        features[feature] = {
            "ours": {"seconds": round(mine_s, 4), "peak_mb": round(mine_mb, 1)},
            "networkx": {"seconds": round(theirs_s, 4), "peak_mb": round(theirs_mb, 1)},
            "max_abs_difference": float(np.abs(mine - theirs).max()),
            "speedup": round(theirs_s / max(mine_s, 1e-9), 1),
        }
        print(name, feature, features[feature], flush=True)
    out["features"] = features
    _, all_s, all_mb = measure(lambda: vertex.structural_features(adj))
    out["structural_features_total"] = {"seconds": round(all_s, 3), "peak_mb": round(all_mb, 1)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--synthetic-users", type=int, default=100_000)
    ap.add_argument("--avg-degree", type=float, default=14.0)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    bundle = load_bundle("melcup17_darwin_twitter_influence")
    runs = [compare("melcup17_follow_graph", undirected_adjacency(bundle.graph))]
    synthetic = random_graph(args.synthetic_users, avg_degree=args.avg_degree, seed=0)
    runs.append(
        compare(f"synthetic_powerlaw_{args.synthetic_users}", undirected_adjacency(synthetic))
    )
    write_json(args.out, {"runs": runs, "choice": "ours (scipy sparse): see speedup and agreement"})


if __name__ == "__main__":
    main()
