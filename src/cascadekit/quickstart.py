"""`cascadekit quickstart`: the whole pipeline on an embedded synthetic default, in about a minute.

synthetic social graph + continuous-time IC cascades → shipped-style split → NDM (reference-code
training) and the LSTM baseline trained through the one training loop → next-user protocol on the
held-out test cascades (hits@k, MAP@k) next to a popularity baseline, and NDM's seed-only Monte
Carlo diffusion identification (Macro/Micro-F1) for NDM vs LSTM → run folder with data, models,
metrics JSON and plots.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cascadekit.data.splits import shipped
from cascadekit.data.synthetic import synthetic_cascades
from cascadekit.models.lstm import LSTMConfig, LSTMModel
from cascadekit.models.ndm import NDM
from cascadekit.models.popularity import PopularityBaseline
from cascadekit.report.plots import plot_curves, plot_grouped_bars
from cascadekit.runs import RunInfo, write_metrics
from cascadekit.tasks.identification import evaluate_identification
from cascadekit.tasks.next_user import evaluate_next_user
from cascadekit.training import TrainConfig

IDENT_SAMPLES = 200


def run_quickstart(
    out_dir: str | Path, *, seed: int = 0, console: Console | None = None, epochs: int = 30
) -> dict:
    console = console or Console()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    console.rule("[bold]cascadekit quickstart")
    bundle = synthetic_cascades(n_users=500, n_cascades=3000, seed=seed)
    bundle.save(out / "data")
    split = shipped(bundle, seed=seed)
    console.print(
        f"synthetic data: {bundle.graph} · {bundle.cascades} · dropped {bundle.report.to_dict()} · "
        f"split {split.info['sizes']} (train/valid/test)"
    )
    cfg = TrainConfig(
        max_epochs=epochs, lr=3e-3, batch_size=32, patience=5, seed=seed, progress=False
    )
    console.print(
        f"training LSTM next-adopter model (≤ {epochs} epochs, early stopping on validation NLL) …"
    )
    model = LSTMModel(LSTMConfig(), cfg).fit(split.train, split.valid, run_dir=out / "lstm")
    model.save(out / "lstm" / "model")
    console.print(
        "training NDM (reference-code preset: Noam schedule, END never a target, last epoch) …"
    )
    ndm = NDM.from_preset("reference_code", max_epochs=20, seed=seed, progress=False)
    ndm.fit(split.train, split.valid, run_dir=out / "ndm")
    ndm.save(out / "ndm" / "model")
    ks = (1, 5, 10, 50)
    results = {
        "NDM": evaluate_next_user(ndm.module_, split.test, ks=ks),
        "LSTM": evaluate_next_user(model.module_, split.test, ks=ks),
        "popularity": evaluate_next_user(PopularityBaseline(split.train), split.test, ks=ks),
    }
    console.print(
        f"diffusion identification: seed only, {IDENT_SAMPLES} Monte Carlo continuations per test cascade …"
    )
    ident = {
        name: evaluate_identification(
            m.module_, split.test, n_samples=IDENT_SAMPLES, seed=seed, progress=False
        )
        for name, m in (("NDM", ndm), ("LSTM", model))
    }
    info = RunInfo(
        model="lstm",
        data="synthetic",
        options={"lstm": vars(model.config), "train": vars(cfg)},
        data_options=bundle.info,
        seed=seed,
        split=split.info,
        fit_seconds=model.fit_result_.seconds,
    )
    info.save(out)
    write_metrics(out, "next_user", results)
    write_metrics(out, "identification", ident)
    hist = model.history_
    plot_curves(
        {
            "train loss / 10": [h["train_loss"] / 10 for h in hist],
            "valid NLL": [h["valid_nll"] for h in hist],
        },
        out / "training.png",
        ylabel="nats",
        title="LSTM training (circle = selected epoch)",
        mark_best={"validation NLL per position": model.fit_result_.best_epoch},
    )
    shown = [f"hits@{k}" for k in ks] + ["map@10", "mrr"]
    plot_grouped_bars(
        {m: {k: r[k] for k in shown} for m, r in results.items()},
        out / "next_user.png",
        title="next-user prediction on held-out synthetic cascades",
    )
    f1_keys = ["macro_f1", "micro_f1", "macro_f1_first5", "micro_f1_first5"]
    plot_grouped_bars(
        {m: {k: r[k] for k in f1_keys} for m, r in ident.items()},
        out / "identification.png",
        title=f"diffusion identification from the seed ({IDENT_SAMPLES} samples)",
    )
    table = Table(title=f"next-user prediction · {results['LSTM']['positions']} test positions")
    table.add_column("model")
    for k in shown:
        table.add_column(k, justify="right")
    for m, r in results.items():
        table.add_row(m, *(f"{r[k]:.3f}" for k in shown))
    console.print(table)
    table = Table(title=f"diffusion identification · {ident['NDM']['n_cascades']} test cascades")
    table.add_column("model")
    for k in f1_keys:
        table.add_column(k, justify="right")
    for m, r in ident.items():
        table.add_row(m, *(f"{r[k]:.3f}" for k in f1_keys))
    console.print(table)
    seconds = time.perf_counter() - t0
    summary = {"seconds": seconds, "next_user": results, "identification": ident}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    console.print(
        f"run folder [bold]{out}[/]: run.json, metrics/*.json, training.png, next_user.png, "
        f"identification.png, ndm/ and lstm/ (checkpoints, history, model), data/ (Parquet) · {seconds:.1f} s"
    )
    return results
