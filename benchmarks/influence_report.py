"""One readable report of the DeepInf benchmarks → ``results/influence_report.md`` and
``results/influence_auc.png``: the results table (AUC, F1 per model, the paper's random split
beside the leakage-safe time split, mean ± std over seeds) with the paper's ordering checked per
dataset, the planted truth, the speed against PyG, and the instance statistics of every dataset,
each with where its file came from. Reads the JSON files only; run after the benchmarks:

    .venv/bin/python benchmarks/influence_report.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from _provenance import RESULTS, generated_note, load_json, made, write_atomic

MODELS = ("deepinf_gat", "deepinf_gcn", "pscn", "influence_lr", "influence_svm")
SPLITS = ("random", "time")


def cells(table: dict[str, Any]) -> dict[tuple[str, str, str], list[dict]]:
    """(dataset, model row label, split) → its runs; the row label carries options and epochs."""
    out: dict[tuple[str, str, str], list[dict]] = {}
    for r in table.get("runs", []):
        setting = " ".join(f"{k}={v}" for k, v in sorted(r["options"].items()))
        if r["max_epochs"] is not None and "optimizer" not in r["options"]:
            setting = f"paper preset (Adagrad 0.1, weight decay 5e-4) {setting}".strip()
        if r["max_epochs"] is not None:
            setting = f"{setting}, ≤ {r['max_epochs']} epochs"
        label = f"{r['model']} | {setting or '—'}"
        out.setdefault((r["dataset"], label, r["split"]), []).append(r)
    return out


def model_of(label: str) -> str:
    return label.split(" | ")[0]


def stat(runs: list[dict], metric: str) -> str:
    v = 100 * np.array([r["metrics"][metric] for r in runs])
    return f"{v.mean():.1f} ± {v.std():.1f} ({len(v)})"


def results(table: dict[str, Any], lines: list[str]) -> None:
    groups = cells(table)
    lines += ["## Results (test AUC, precision, recall and F1 × 100, mean ± std (seeds))", "",
              "Precision, recall and F1 at the threshold that maximises F1 on the validation "
              "PR curve.", "",
              made(table, "influence_table.json"), ""]  # fmt: skip
    for data in dict.fromkeys(d for d, _, _ in groups):
        labels = sorted({lab for d, lab, _ in groups if d == data},
                        key=lambda lab: (MODELS.index(model_of(lab)), lab))  # fmt: skip
        lines += [f"### {data}", "", "| model | setting | " + " | ".join(f"{m} {s}" for m in ("AUC", "P", "R", "F1")
                                                    for s in SPLITS) + " |",
                  "|---|---|" + "---|" * 4 * len(SPLITS)]  # fmt: skip
        for lab in labels:
            row = [stat(groups[(data, lab, s)], m) if (data, lab, s) in groups else "—"
                   for m in ("auc", "precision", "recall", "f1") for s in SPLITS]  # fmt: skip
            lines.append(f"| {lab} | " + " | ".join(row) + " |")
        # the table's setting only (a one-off check such as the Adagrad row stays out)
        ranked = sorted(
            ((np.mean([r["metrics"]["auc"] for r in rs]), lab)
             for (d, lab, s), rs in groups.items()
             if d == data and s == "random" and "paper preset" not in lab),
            reverse=True,
        )  # fmt: skip
        lines += ["", "Order by random-split AUC: " + " > ".join(model_of(lab) for _, lab in ranked)
                  + " (paper: GAT > PSCN > LR/SVM, GCN weakest).", ""]  # fmt: skip


def auc_plot(table: dict[str, Any], path: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = cells(table)
    datasets = list(dict.fromkeys(d for d, _, _ in groups))
    if not datasets:
        return False
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.2 * len(datasets), 3.6), squeeze=False)
    for ax, data in zip(axes[0], datasets, strict=True):
        # the table's setting only (the Adagrad check stays in the table)
        labels = sorted({lab for d, lab, _ in groups if d == data and "paper preset" not in lab})
        x = np.arange(len(labels))
        for k, split in enumerate(SPLITS):
            runs = [groups.get((data, lab, split), []) for lab in labels]
            mean = [np.mean([r["metrics"]["auc"] for r in rs]) if rs else np.nan for rs in runs]
            std = [np.std([r["metrics"]["auc"] for r in rs]) if rs else 0.0 for rs in runs]
            ax.bar(x + (k - 0.5) * 0.38, mean, 0.38, yerr=std, label=split, capsize=2)
        ax.set_xticks(x, [model_of(lab) for lab in labels], rotation=45,
                      ha="right")  # fmt: skip
        ax.set(ylim=(0.4, 1.0), title=data, ylabel="test AUC")
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    axes[0][0].legend(title="split")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def planted(doc: dict[str, Any], lines: list[str]) -> None:
    lines += ["## Planted truth (AUC, mean ± std over seeds)", "", made(doc, "influence_planted.json"),
              "", "| graph, process | " + " | ".join(MODELS[:1] + ("deepinf_gat_flags",
              "influence_lr")) + " |", "|---|---|---|---|"]  # fmt: skip
    for cell, rows in doc.get("summary", {}).items():
        cols = [rows.get(m, {}).get("auc", "—") for m in ("deepinf_gat", "deepinf_gat_flags",
                                                        "influence_lr")]  # fmt: skip
        lines.append(f"| {cell} | " + " | ".join(cols) + " |")
    lines.append("")


def speed(doc: dict[str, Any], lines: list[str]) -> None:
    lines += ["## DeepInf-GAT: our dense layers vs PyG GATConv", ""]
    if not doc:
        lines += ["Not measured yet (`make bench NAME=deepinf_gat_vs_pyg`).", ""]
        return
    lines += [made(doc, "deepinf_gat_vs_pyg.json"), "",
              "| | s / epoch (median) | s / step | test AUC |", "|---|---|---|---|"]  # fmt: skip
    for name, r in doc["runs"].items():
        lines.append(f"| {name} | {r['median_epoch_seconds']} | {r['seconds_per_step']} | "
                     f"{r['test']['auc']:.4f} |")  # fmt: skip
    lines += ["", f"PyG / ours epoch time: **{doc['epoch_time_ratio_pyg_over_ours']}×** on "
              f"{doc['data']} ({doc['epochs']} epochs each, same instances and seed).", ""]  # fmt: skip


def _quantile(histogram: list[int], q: float) -> int:
    """The q-quantile of a count histogram (index = value)."""
    cumulative = np.cumsum(histogram)
    return int(np.searchsorted(cumulative, q * cumulative[-1]))


def instances(doc: dict[str, Any], lines: list[str]) -> None:
    lines += ["## Instances (default build options)", "", made(doc, "influence_build.json"), "",
              "Active neighbours per instance: median and 90th percentile (the last bin, "
              "49, is the ≥ 49-active shortcut). Peak memory is the builder's traced "
              "allocation.", "",
              "| dataset | items | edges | positives | negatives | dropped < 3 active (pos / neg) | "
              "no negative candidate | active nbrs p50 / p90 | instances/s | peak MB |",
              "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, d in {**doc.get("datasets", {}), "synthetic 10⁶ edges": doc.get("synthetic")}.items():
        if not d:
            continue
        p = d["presets"]["default"]
        c, few = p["counts"], p["counts"]["dropped_few_active_neighbors"]
        hist = c["active_neighbors"]
        lines.append(
            f"| {name} | {d.get('items', d.get('cascades', ''))} | {d['undirected_edges']:,} "
            f"| {c['instances']['positive']:,} "
            f"| {c['instances']['negative']:,} | {few['positive']:,} / {few['negative']:,} | "
            f"{c['adoptions_without_negative_candidate']:,} | "
            f"{_quantile(hist, 0.5)} / {_quantile(hist, 0.9)} | "
            f"{p['speed']['instances_per_second']:,.0f} | {p['speed']['peak_traced_mb']:,.0f} |"
        )
    lines.append("")


def main() -> None:
    lines = ["# DeepInf (paper 004) benchmarks", "", generated_note(), ""]
    table = load_json(RESULTS / "influence_table.json")
    results(table, lines)
    if auc_plot(table, RESULTS / "influence_auc.png"):
        lines += ["![test AUC per model, random vs time split](influence_auc.png)", ""]
    planted(load_json(RESULTS / "influence_planted.json"), lines)
    speed(load_json(RESULTS / "deepinf_gat_vs_pyg.json"), lines)
    instances(load_json(RESULTS / "influence_build.json"), lines)
    write_atomic(RESULTS / "influence_report.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
