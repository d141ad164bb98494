"""`cascadekit quickstart`: the whole pipeline on an embedded synthetic default, in about a minute.

synthetic social graph + continuous-time IC cascades → shipped-style split → NDM (its default,
reference-code preset), the LSTM baseline and the user-frequency floor, each trained through
`pipeline.train` into an ordinary run folder (``OUT/ndm``, ``OUT/lstm``, ``OUT/user_frequency``:
`cascadekit evaluate` and `cascadekit report` read them) → next-user protocol (hits@k, MAP@k) and
seed-only Monte Carlo diffusion identification (Macro/Micro-F1) on the held-out test cascades →
comparison tables and plots in ``OUT``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cascadekit import pipeline
from cascadekit.report.plots import plot_curves, plot_grouped_bars

IDENT_SAMPLES = 200
DATA_OPTIONS = {"n_users": 500, "n_cascades": 3000}
# label → (model, options); the LSTM learns faster than its default lr on this small set
MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "NDM": ("ndm", {"epochs": 20, "progress": False}),
    "LSTM": ("lstm", {"epochs": 30, "lr": 3e-3, "patience": 5, "progress": False}),
    "user frequency": ("user_frequency", {}),
}
KS = (1, 5, 10, 50)


def run_quickstart(
    out_dir: str | Path, *, seed: int = 0, console: Console | None = None
) -> dict[str, Any]:
    console = console or Console()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    console.rule("[bold]cascadekit quickstart")
    console.print(f"synthetic data: {DATA_OPTIONS} (IC cascades on a power-law graph), seed {seed}")
    next_user, ident = {}, {}
    for label, (model, options) in MODELS.items():
        console.print(f"training {label} ({model}) …")
        info = pipeline.train(
            model, "synthetic", out / model, task="next_user", options=options,
            data_options=DATA_OPTIONS, seed=seed,
        )  # fmt: skip
        if info.selection:
            console.print(
                f"  kept epoch {info.selection['kept_epoch'] + 1}: {info.selection['stop_reason']}"
            )
        next_user[label] = pipeline.evaluate(out / model, "next_user", options={"ks": KS})
        if model != "user_frequency":
            ident[label] = pipeline.evaluate(
                out / model, "identification", options={"n_samples": IDENT_SAMPLES}
            )
    nu = {k: r["metrics"] for k, r in next_user.items()}
    idm = {k: r["metrics"] for k, r in ident.items()}
    history = json.loads((out / "lstm" / "history.json").read_text())
    kept = json.loads((out / "lstm" / "run.json").read_text())["selection"]["kept_epoch"]
    plot_curves(
        {"valid MAP@10": [h["valid_map@10"] for h in history],
         "valid hits@10": [h["valid_hits@10"] for h in history]},
        out / "training.png", ylabel="validation score",
        title="LSTM training (circle = selected epoch)", mark_best={"valid MAP@10": kept},
    )  # fmt: skip
    shown = [f"hits@{k}" for k in KS] + ["map@10", "mrr"]
    plot_grouped_bars(
        {m: {k: r[k] for k in shown} for m, r in nu.items()},
        out / "next_user.png", title="next-user prediction on held-out synthetic cascades",
    )  # fmt: skip
    f1_keys = ["macro_f1", "micro_f1", "macro_f1_first5", "micro_f1_first5"]
    plot_grouped_bars(
        {m: {k: r[k] for k in f1_keys} for m, r in idm.items()},
        out / "identification.png",
        title=f"diffusion identification from the seed ({IDENT_SAMPLES} samples)",
    )  # fmt: skip
    _table(console, f"next-user prediction · {nu['LSTM']['positions']} test positions", nu, shown)
    _table(
        console,
        f"diffusion identification · {idm['NDM']['n_cascades']} test cascades",
        idm,
        f1_keys,
    )
    seconds = time.perf_counter() - t0
    summary = {"seconds": seconds, "next_user": nu, "identification": idm}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    console.print(
        f"[bold]{out}[/]: run folders ndm/, lstm/, user_frequency/ (`cascadekit evaluate` / "
        f"`report` read them), summary.json, training.png, next_user.png, identification.png · "
        f"{seconds:.1f} s"
    )
    return summary


def _table(console: Console, title: str, rows: dict[str, dict], keys: list[str]) -> None:
    table = Table(title=title)
    table.add_column("model")
    for k in keys:
        table.add_column(k, justify="right")
    for m, r in rows.items():
        table.add_row(m, *(f"{r[k]:.3f}" for k in keys))
    console.print(table)
