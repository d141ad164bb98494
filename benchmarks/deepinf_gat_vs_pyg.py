"""DeepInf-GAT epoch time: our dense batched attention (`nn.gat.DenseGraphAttention`) against the
same architecture built from PyG's ``GATConv`` on the batch's ego graphs joined into one sparse
graph (issue 12; the figure to beat: ≈ 2.2 s per training step of 1024 ego networks with
``GATConv``, measured before).

Both networks share everything but the attention layers: the input layer (`models.deepinf.
EgoInput`: flags, instance-normalised DeepWalk, vertex features), 8×16, 8×16, 1×2 heads, ELU and
dropout 0.2 between layers, self loops, the ego's log-probabilities; and the training (the
``paper`` preset: Adagrad 0.1, weight decay 5e-4, batch 1024, class-balanced NLL, selection on
validation AUC; ``--set key=value`` changes it for both, e.g. the results table's batches of 256
and Adam 1e-3, with which both learn within a few epochs), through the same estimator (`models.deepinf.DeepInfGAT`, whose network the PyG
variant replaces). Same instances (MelCup17, the influence task's default build and random split,
seed 0), same seed, alternating epochs are not needed: each model trains ``--epochs`` epochs in
turn in one process, one thread. Reported: seconds per epoch (median), per training step, test
AUC, the ratio PyG / ours.

PyG is not a dependency of cascadekit; install it beside the virtualenv first:

    .venv/bin/pip install --target /tmp/pyg --no-deps torch_geometric==2.8.1 xxhash aiohttp \\
        fsspec pyparsing psutil multidict yarl aiosignal frozenlist attrs aiohappyeyeballs \\
        propcache requests urllib3 idna charset_normalizer certifi
    PYTHONPATH=/tmp/pyg OMP_NUM_THREADS=1 .venv/bin/python benchmarks/deepinf_gat_vs_pyg.py \
        --epochs 10 --set batch_size=256 --set optimizer=adam --set lr=0.001 --set weight_decay=0

Writes ``benchmarks/results/deepinf_gat_vs_pyg.json``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from _provenance import RESULTS, write_json
from torch import nn

from cascadekit import registry
from cascadekit.cli import parse_options
from cascadekit.models.deepinf import DeepInfGAT, DeepInfGATNet, EgoBatch
from cascadekit.pipeline import load_bundle


class PygGATNet(DeepInfGATNet):
    """`DeepInfGATNet` with ``torch_geometric.nn.GATConv`` attention layers."""

    def _layer(self, f_in: int, f_out: int, heads: int, *, concat: bool) -> nn.Module:
        from torch_geometric.nn import GATConv

        return GATConv(f_in, f_out, heads=heads, concat=concat)

    def forward(self, batch: EgoBatch) -> torch.Tensor:
        """Shapes: → (B, 2) log-probabilities at the ego (the last vertex)."""
        x = self.input(batch)
        b, n, width = x.shape
        g, i, j = batch.adjacency.nonzero(as_tuple=True)
        edge_index = torch.stack([g * n + j, g * n + i])  # message j → i, as the dense layer
        x = x.reshape(b * n, width)
        for k, layer in enumerate(self.layers):
            x = layer(x, edge_index)
            if k < len(self.layers) - 1:
                x = F.dropout(F.elu(x), self.config.dropout, self.training)
        return F.log_softmax(x.view(b, n, -1)[:, -1], dim=-1)


class PygDeepInfGAT(DeepInfGAT):
    name = "deepinf_gat_pyg"

    def _build(self, meta: dict[str, Any]) -> PygGATNet:
        return PygGATNet(meta, self.config)


def train(
    cls: type, split: Any, task: Any, epochs: int, seed: int, options: dict[str, Any]
) -> dict[str, Any]:
    spec = registry.model("deepinf_gat")
    est = spec.create("paper", {**options, "max_epochs": epochs, "patience": epochs,
                                "seed": seed, "progress": False})  # fmt: skip
    est = cls(est.config, est.train_config)
    t0 = time.perf_counter()
    est.fit(split.train, split.valid, validator=task.validator(), monitor=task.monitor)
    seconds = [h["seconds"] for h in est.history_]
    steps = -(-len(split.train) // est.train_config.batch_size)
    return {
        "fit_seconds": round(time.perf_counter() - t0, 2),
        "epoch_seconds": [round(s, 3) for s in seconds],
        "median_epoch_seconds": round(statistics.median(seconds), 3),
        "steps_per_epoch": steps,
        "seconds_per_step": round(statistics.median(seconds) / steps, 4),
        "parameters": sum(p.numel() for p in est.module_.parameters()),
        "test": {
            k: v
            for k, v in task.evaluate(est, split).items()
            if k in ("auc", "precision", "recall", "f1")
        },  # fmt: skip
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="melcup17_darwin_twitter_influence")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", dest="model_set", action="append", default=[],
                    help="model / training option key=value for both")  # fmt: skip
    ap.add_argument("--out", type=Path, default=RESULTS / "deepinf_gat_vs_pyg.json")
    args = ap.parse_args()
    options = parse_options(args.model_set)
    import torch_geometric  # fail before any work when PyG is absent

    torch.set_num_threads(1)
    task = registry.task("influence", {})
    split = task.build(load_bundle(args.data), args.seed)
    runs = {name: train(cls, split, task, args.epochs, args.seed, options)
            for name, cls in (("ours_dense", DeepInfGAT), ("pyg_gatconv", PygDeepInfGAT))}  # fmt: skip
    ratio = runs["pyg_gatconv"]["median_epoch_seconds"] / runs["ours_dense"]["median_epoch_seconds"]
    write_json(args.out, {
        "data": args.data, "seed": args.seed, "epochs": args.epochs, "options": options,
        "instances": split.info["sizes"], "torch_geometric": torch_geometric.__version__,
        "runs": runs, "epoch_time_ratio_pyg_over_ours": round(ratio, 2),
        "auc_difference_ours_minus_pyg": round(
            runs["ours_dense"]["test"]["auc"] - runs["pyg_gatconv"]["test"]["auc"], 4),
    })  # fmt: skip
    print({k: (v["median_epoch_seconds"], v["test"]["auc"]) for k, v in runs.items()},
          "ratio", round(ratio, 2))  # fmt: skip


if __name__ == "__main__":
    main()
