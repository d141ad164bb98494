"""Planted truth of the influence task (issue 12): instances built from linear-threshold cascades
simulated on a graph (`simulate.threshold.planted_influence`: influence flows only along edges)
against the same cascades with every adopter redrawn ∝ degree (same sizes and times: no
influence). A model that reads influence scores high on the first and 0.5 on the second.

Graphs (``--graphs``): a dataset's social graph (``lastfm_hetrec2011_2k``: the friend graph,
real and heavy-tailed) or ``communities`` (`simulate.synthetic.random_graph`, 1000 users,
clustered, no hubs). Thresholds U(0.3, 0.5); `CASCADES` cascades from neighbourhood seeds (about
9000 instances on Last.fm, 7000 on the community graph; ``--cascades`` overrides);
items of ≥ ``--max-item-size`` adopters are left out (`EgoOptions.max_item_size`): a cascade that
takes most of the graph leaves its adopters few non-adopting neighbours, and which users are
left then depends on degree, under the null too. Instances: the influence task's defaults, the
paper's random 75/12.5/12.5 split; DeepWalk 64-d when a row uses it.

Rows: ``deepinf_gat`` (paper preset, every input), ``deepinf_gat_flags`` (active/ego flags and
the ego network's structure only: no vertex features, no embedding), ``influence_lr``. Neural
rows stop at ``--epochs`` with batches of ``--batch-size`` (256: the paper's 1024 gives these
~7000 instances 7 steps an epoch). Results: ``benchmarks/results/influence_planted.json``, keyed
(graph, process, model, seed, max_epochs, cascades, batch_size), with the build counts and provenance (`_provenance`).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/influence_planted.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _provenance import RESULTS, RunStore, peak_rss_mb

from cascadekit import registry
from cascadekit.pipeline import load_bundle
from cascadekit.simulate.synthetic import random_graph
from cascadekit.simulate.threshold import planted_influence

CASCADES = {"lastfm_hetrec2011_2k": 3000, "communities": 300}
RUN_KEY = ("graph", "process", "model", "seed", "max_epochs", "cascades", "batch_size")
METRICS = ("auc", "precision", "recall", "f1")
# row → (registry model, options, DeepWalk dimension of its instances)
ROWS: dict[str, tuple[str, dict[str, Any], int]] = {
    "deepinf_gat": ("deepinf_gat", {}, 64),
    "deepinf_gat_flags": ("deepinf_gat", {"use_vertex_features": False, "use_embedding": False}, 0),
    "influence_lr": ("influence_lr", {"use_embedding": False}, 0),
}


def graph_of(name: str) -> Any:
    if name == "communities":
        return random_graph(1000, kind="communities", avg_degree=20, seed=0)
    return load_bundle(name).graph


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["graph"], r["process"], r["model"]), []).append(r)
    out: dict[str, Any] = {}
    for (graph, process, model), rs in sorted(groups.items()):
        values = {k: np.array([r["metrics"][k] for r in rs]) for k in METRICS}
        out.setdefault(f"{graph}, {process}", {})[model] = {
            "seeds": [r["seed"] for r in rs],
            "instances": rs[0]["split"]["sizes"],
            **{k: f"{v.mean():.4f} ± {v.std():.4f}" for k, v in values.items()},
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--graphs", nargs="+", default=["lastfm_hetrec2011_2k", "communities"])
    ap.add_argument("--models", nargs="+", default=list(ROWS), choices=list(ROWS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--cascades", type=int, help="cascades per graph (default: CASCADES)")
    ap.add_argument("--max-item-size", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=10, help="max_epochs of the neural rows")
    ap.add_argument("--batch-size", type=int, default=256, help="batch of the neural rows")
    ap.add_argument("--results", type=Path, default=RESULTS / "influence_planted.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    store = RunStore(args.results, RUN_KEY)
    for name in args.graphs:
        graph = graph_of(name)
        n_cascades = args.cascades or CASCADES.get(name, 3000)
        for process in ("threshold", "null"):
            for seed in args.seeds:
                bundle = planted_influence(graph, n_cascades, low=0.3, high=0.5,
                                           null=process == "null", seed=seed)  # fmt: skip
                splits: dict[int, Any] = {}
                for label in args.models:
                    model, options, dim = ROWS[label]
                    spec = registry.model(model)
                    epochs = args.epochs if spec.uses_training_loop else None
                    key = {"graph": name, "process": process, "model": label, "seed": seed,
                           "max_epochs": epochs, "cascades": n_cascades,
                           "batch_size": args.batch_size if epochs else None}  # fmt: skip
                    if store.find(**key):
                        continue
                    split_options = {"embedding_dim": dim, "max_item_size": args.max_item_size}
                    task = registry.task("influence", split_options)
                    if dim not in splits:
                        splits[dim] = task.build(bundle, seed)
                    split = splits[dim]
                    run_options = {**options, "seed": seed}
                    if epochs is not None:
                        run_options |= {
                            "max_epochs": epochs,
                            "batch_size": args.batch_size,
                            "progress": False,
                        }
                    est = spec.create(spec.default_preset, run_options)
                    t0 = time.perf_counter()
                    est.fit(split.train, split.valid, validator=task.validator(),
                            monitor=task.monitor)  # fmt: skip
                    fit_seconds = round(time.perf_counter() - t0, 2)
                    metrics = task.evaluate(est, split, seed=seed)
                    store.add({**key, "options": run_options, "split_options": split_options,
                               "planted": bundle.info["planted"], "fit_seconds": fit_seconds,
                               "split": {k: v for k, v in split.info.items() if k != "build"},
                               "build": split.info["build"], "metrics": metrics,
                               "peak_rss_mb": round(peak_rss_mb(), 1)})  # fmt: skip
                    print(name, process, seed, label, round(metrics["auc"], 4),
                          f"fit {fit_seconds:.0f}s", flush=True)  # fmt: skip
                    store.write(
                        protocol="influence task defaults, random 75/12.5/12.5; LT thresholds "
                        "U(0.3, 0.5); null = the same cascades' adopters redrawn ∝ degree",
                        summary=summarize,
                    )


if __name__ == "__main__":
    main()
