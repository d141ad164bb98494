"""One readable report of the popularity benchmarks (DMT-LIC issue) → ``results/popularity_report.md``
and ``results/popularity_msle_<dataset>.png``: per dataset and cell (observation window × split
order) the size metrics (MSLE / MAPE in the MMCAs/CasFT and CasFlow families) and activation
metrics (MRR, A@5, A@10) of every row, mean ± std over seeds; the paper's claim — the multi-task
model beats its single-task ablations on both levels — tested on the seeds both rows share; how
much of the activation score is END; and the speed file. Reads the JSON files only:

    .venv/bin/python benchmarks/popularity_report.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from _provenance import RESULTS, generated_note, load_json, made, write_atomic

DATASETS = ("weibo_deephawkes_obs1h", "ced_weibo_rumor")
SIZE = ("msle", "mape", "msle_casflow", "mape_casflow")
ACTIVATION = ("mrr", "a@5", "a@10")


def label(r: dict[str, Any]) -> str:
    options = "".join(f"+{k}={v}" for k, v in sorted(r["options"].items()))
    return r["model"] + options


def by_cell(runs: list[dict]) -> dict[str, dict[str, dict[int, dict]]]:
    """cell → row label → seed → run (the cell names the window, the split order and epochs)."""
    out: dict[str, dict[str, dict[int, dict]]] = {}
    for r in runs:
        cell = f"T_o = {r['obs'] / 3600:g} h, {r['order']} split"
        out.setdefault(cell, {}).setdefault(label(r), {})[r["seed"]] = r
    return out


def filters(rows: dict[str, dict[int, dict]]) -> str:
    """What the window and filters kept, from any run of the cell (they share the split)."""
    split = next(iter(next(iter(rows.values())).values()))["split"]
    window = split.get("window", {})
    dropped = ", ".join(f"{k.removeprefix('dropped_')} {v:,}" for k, v in window.items()
                        if k.startswith("dropped_") or k.endswith("_without_time"))  # fmt: skip
    return (f"Cascades: {window.get('input_cascades', '?'):,} in, {window.get('kept_cascades', '?'):,}"
            f" kept (dropped: {dropped}); train / valid / test {split['sizes']}.")  # fmt: skip


def fmt(values: list[float]) -> str:
    v = np.array(values)
    return f"{v.mean():.4f} ± {v.std():.4f}"


def table(rows: dict[str, dict[int, dict]], lines: list[str]) -> None:
    lines += ["| row | seeds | epochs | " + " | ".join(SIZE + ACTIVATION) + " |",
              "|---" * (3 + len(SIZE) + len(ACTIVATION)) + "|"]  # fmt: skip
    for name, seeds in sorted(rows.items(), key=lambda kv: np.mean(
            [r["metrics"].get("msle", np.inf) for r in kv[1].values()])):  # fmt: skip
        runs = list(seeds.values())
        cols = [fmt([r["metrics"][k] for r in runs]) if k in runs[0]["metrics"] else "—"
                for k in SIZE + ACTIVATION]  # fmt: skip
        epochs = runs[0]["max_epochs"] or "—"
        lines.append(f"| {name} | {len(runs)} | {epochs} | " + " | ".join(cols) + " |")
    lines.append("")


def paired(rows: dict, a: str, b: str, metric: str, better: str) -> str | None:
    """``a`` vs ``b`` on ``metric`` over the seeds both have: mean difference, wins of ``a``."""
    ra = next((v for k, v in rows.items() if k.split("+")[0] == a), {})
    rb = next((v for k, v in rows.items() if k.split("+")[0] == b), {})
    seeds = sorted(set(ra) & set(rb))
    if not seeds:
        return None
    d = np.array([ra[s]["metrics"][metric] - rb[s]["metrics"][metric] for s in seeds])
    wins = int((d < 0).sum() if better == "min" else (d > 0).sum())
    if len(seeds) < 2:
        verdict = "one seed: no verdict yet"
    elif abs(d.mean()) <= d.std():
        verdict = "no difference beyond the seed spread"
    else:
        verdict = f"{a} better" if (d.mean() < 0) == (better == "min") else f"{b} better"
    return (f"{a} − {b} on {metric}: {d.mean():+.3g} ± {d.std():.3g} over seeds {seeds}; "
            f"{a} better on {wins} of {len(seeds)} → **{verdict}**")  # fmt: skip


def claims(rows: dict, lines: list[str]) -> None:
    found = [paired(rows, "dmt_lic", "dmt_lic_size_only", "msle", "min"),
             paired(rows, "dmt_lic", "dmt_lic_activation_only", "mrr", "max")]  # fmt: skip
    found = [f for f in found if f]
    if found:
        lines += ["Claim (multi-task beats its single-task ablations):", ""]
        lines += [f"- {f}" for f in found]
        end = [r["metrics"]["n_cascades"] / r["metrics"]["activation_positions"]
               for seeds in rows.values() for r in seeds.values()
               if "activation_positions" in r["metrics"] and "n_cascades" in r["metrics"]]  # fmt: skip
        if end:
            lines.append(f"- END is the target of {100 * np.mean(end):.2f} % of the ranked "
                         "positions (one per test cascade): an MRR at that level is END alone.")  # fmt: skip
        lines.append("")
    mmcas = [paired(rows, "mmcas", other, "msle", "min")
             for other in ("mmcas_concat", "mmcas_transformer", "mmcas_switch", "mmcas_no_cascade",
                           "mmcas_no_user", "mmcas_no_text", "popularity_features", "deephawkes",
                           "dmt_lic_size_only")]  # fmt: skip
    mmcas = [f for f in mmcas if f]
    if mmcas:
        lines += ["Claims (MMCAs: MoE fusion beats concatenation; every modality helps; against "
                  "the popularity baselines):", "", *(f"- {f}" for f in mmcas), ""]  # fmt: skip


def msle_plot(cells: dict[str, dict], path: Path, title: str) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({n for rows in cells.values() for n, s in rows.items()
                    if "msle" in next(iter(s.values()))["metrics"]})  # fmt: skip
    if not names:
        return False
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(names) * len(cells) ** 0.5), 4))
    width = 0.8 / len(cells)
    x = np.arange(len(names))
    for k, (cell, rows) in enumerate(sorted(cells.items())):
        vals = [
            [r["metrics"]["msle"] for r in rows[n].values()] if n in rows else [] for n in names
        ]
        mean = [np.mean(v) if v else np.nan for v in vals]
        std = [np.std(v) if v else 0.0 for v in vals]
        ax.bar(x + (k - (len(cells) - 1) / 2) * width, mean, width, yerr=std, capsize=2,
               label=cell)  # fmt: skip
    ax.set_xticks(x, [n.split("+")[0] for n in names], rotation=40, ha="right")
    ax.set(ylabel="test MSLE (log2), lower is better", title=title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


DRIVER_EXPERT = {
    "text": "uniqueness:text",
    "profile": "uniqueness:user",
    "image": "uniqueness:image",
}


def planted(doc: dict[str, Any], lines: list[str]) -> None:
    """MMCAs on the planted-modality problem: test MSLE per row and, for the mixtures, whether
    the driver's uniqueness expert carries the largest mean test weight (per seed)."""
    if not doc:
        return
    lines += ["## MMCAs on the planted-modality problem", "", made(doc, "mmcas_planted.json"), "",
              "growth=scaled: the label needs the observed size and the driver (MMCAs against "
              "single-modality models); growth=alone: the driver alone sets it (does the "
              "driver's uniqueness expert carry the weight?).", "",
              "| driver, growth | row | seeds | test MSLE | driver's expert weight | "
              "largest weight on the driver's expert |", "|---|---|---|---|---|---|"]  # fmt: skip
    groups: dict[tuple, list[dict]] = {}
    for r in doc["runs"]:
        options = "".join(f"+{k}={v}" for k, v in sorted(r.get("options", {}).items()))
        groups.setdefault((r["driver"], r["growth"], r["model"] + options), []).append(r)
    for (driver, growth, row), rs in sorted(groups.items()):
        msle = fmt([r["metrics"]["msle"] for r in rs])
        expert = DRIVER_EXPERT[driver]
        w = [r["expert_weights"] for r in rs if r.get("expert_weights")]
        share = wins = "—"
        if w and expert in w[0] and len([k for k in w[0] if k.startswith("uniqueness:")]) > 1:
            share = fmt([x[expert] for x in w])
            wins = f"{sum(max(x, key=x.get) == expert for x in w)} of {len(w)}"
        lines.append(f"| {driver}, {growth} | {row} | {len(rs)} | {msle} | {share} | {wins} |")
    lines.append("")


def speed(doc: dict[str, Any], lines: list[str]) -> None:
    lines += ["## Speed on CED (T_o = 1 h, time-ordered split)", ""]
    if not doc:
        lines += ["Not measured yet (`make bench NAME=popularity_speed`).", ""]
        return
    lines += [made(doc, "popularity_speed.json"), "",
              "| row | s / epoch (median) | peak RSS MB | parameters | load at start |",
              "|---|---|---|---|---|"]  # fmt: skip
    for name, r in doc["rows"].items():
        load = r.get("provenance", doc["provenance"])["loadavg_start"][0]
        lines.append(f"| {name} | {r['median_epoch_seconds']} | {r['peak_rss_mb']:.0f} | "
                     f"{r['parameters']:,} | {load:.1f} |")  # fmt: skip
    lines.append("")


def main() -> None:
    lines = [
        "# Popularity (DMT-LIC, paper 000; MMCAs, paper 003) benchmarks",
        "",
        generated_note(),
        "",
    ]
    for data in DATASETS:
        # rows run beside the others go to their own folders (one writer per file)
        names = [f"{sub}popularity_{data}.json" for sub in ("", "mmcas/", "activation/")]
        docs = [(d, n) for n in names if (d := load_json(RESULTS / n))]
        if not docs:
            continue
        cells = by_cell([r for d, _ in docs for r in d["runs"] if "provenance" in r])
        lines += [f"## {data}", ""]
        lines += ["- " + made(d, name) for d, name in docs]
        lines.append("")
        plot = RESULTS / f"popularity_msle_{data}.png"
        if msle_plot(cells, plot, data):
            lines += [f"![test MSLE per row]({plot.name})", ""]
        for cell, rows in sorted(cells.items()):
            lines += [f"### {cell}", "", filters(rows), ""]
            table(rows, lines)
            claims(rows, lines)
    planted(load_json(RESULTS / "mmcas_planted.json"), lines)
    speed(load_json(RESULTS / "popularity_speed.json"), lines)
    write_atomic(RESULTS / "popularity_report.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
