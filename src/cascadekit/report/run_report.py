"""`cascadekit report RUN`: a run folder → PNGs and one self-contained ``report.html`` in
``RUN/report/``, for every model family.

What is drawn follows what the folder holds, never the model family: training curves from
``history.json`` (neural models), one figure per evaluated task (``metrics/<task>.json``; a
point-process run is evaluated first when it has not been, as its plots need the simulated test
curves), the tables of every scalar metric and the run's configuration from ``run.json``.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cascadekit import pipeline
from cascadekit.errors import CascadeKitError
from cascadekit.models.base import network_of
from cascadekit.report.influence import influence_figures
from cascadekit.report.plots import plot_bar_panels, plot_curve_panels
from cascadekit.report.point_process import point_process_plots
from cascadekit.report.popularity import plot_expert_weights, popularity_figures
from cascadekit.runs import RunInfo
from cascadekit.simulate.hawkes_params import HawkesParams

REPORT_DIR = "report"

# validation values that count things rather than score the model: in history.json, not curves
BOOKKEEPING = frozenset(
    {"positions", "n_cascades", "n_samples", "skipped", "seconds", "capped_samples"}
)

# task → panel title → prefixes of the metric names drawn in it (other tasks: tables only)
TASK_BARS: dict[str, dict[str, tuple[str, ...]]] = {
    "next_user": {"hits@k": ("hits@",), "MAP@k": ("map@",), "MRR": ("mrr",)},
    "identification": {"F1": ("macro_f1", "micro_f1")},
    "size_identification": {
        "MSLE (ln)": ("msle",),
        "mean cascade size": ("mean_pred_size", "mean_true_size"),
    },
    "popularity": {"MSLE": ("msle",), "MAPE": ("mape",)},
}

POINT_PROCESS_CAPTIONS = {
    "test_counts": "Test window: real cumulative events per cascade against the mean of the "
    "fitted model's simulations.",
    "counts": "Training window: real cumulative counts, simulations of the fitted Θ from an empty "
    "history (mean ± sd) and the analytic E[n(t)] (of the true Θ too, when known).",
    "intensity": "The same curves as rates: events per time unit in each bin.",
    "ranked_users": "Events per user, ranked: real test counts against simulated mean ± sd.",
    "ranked_cascades": "Events per cascade, ranked: real test counts against simulated mean ± sd.",
    "bilayer": "Bi-layer picture of the fitted model: users (top, colour = cascade mixture) and "
    "cascades (bottom, laid out by Σ), user edges from W.",
}


def report_run(run: str | Path, *, truth: HawkesParams | None = None) -> list[Path]:
    """Write ``RUN/report/`` (training curves, the evaluated tasks' figures, report.html) and
    return the written paths, report.html last. ``truth``: the true parameters of a simulated
    point-process run, drawn as analytic curves."""
    run = Path(run)
    info = RunInfo.load(run)  # a CascadeKitError for a folder that is not a run
    if truth is not None and info.task != "point_process":
        raise CascadeKitError(f"truth parameters apply to point-process runs, not to {info.task}")
    folder = run / REPORT_DIR
    folder.mkdir(exist_ok=True)
    notes = []
    if info.task == "point_process" and not (run / "metrics" / "point_process.json").is_file():
        pipeline.evaluate(run)
        notes.append(
            "The point-process task had not been evaluated: this report ran it with its default "
            "options (metrics/point_process.json)."
        )
    results = metric_files(run, info.task)
    if not results:
        notes.append(
            f"No evaluation was run yet: no metrics/ files. Score the model with "
            f"`cascadekit evaluate {run}` (optionally --task), then report again."
        )
    figures: list[tuple[Path, str]] = []
    history = run / "history.json"
    if history.is_file():
        figures.append(training_curves(read_json(history), info, folder / "training.png"))
    interactive = None  # the bi-layer page of a point-process run
    for task, result in results.items():
        if task == "point_process":
            paths = _point_process_figures(run, info, result, folder, truth)
            figures += [(p, POINT_PROCESS_CAPTIONS[p.stem]) for p in paths if p.suffix == ".png"]
            interactive = next(p for p in paths if p.suffix == ".html")
        elif task == "influence":
            figures += _influence_figures(run, info, result, folder)
        elif task == "popularity":
            figures += task_bars(task, result, folder / f"{task}.png")
            figures += _popularity_figures(run, info, result, folder)
        elif task in TASK_BARS:
            figures += task_bars(task, result, folder / f"{task}.png")
    page = folder / "report.html"
    page.write_text(render_html(info, results, figures, notes, interactive), encoding="utf-8")
    return [p for p, _ in figures] + ([interactive] if interactive else []) + [page]


def read_json(path: Path) -> Any:
    """A JSON file of the run folder; a damaged one is a CascadeKitError naming it."""
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise CascadeKitError(f"{path}: not valid JSON ({exc})") from None


def metric_files(run: Path, own_task: str) -> dict[str, dict[str, Any]]:
    """task → the ``evaluate`` result in ``metrics/<task>.json``, the run's own task first."""
    paths = sorted((run / "metrics").glob("*.json"), key=lambda p: (p.stem != own_task, p.stem))
    return {p.stem: read_json(p) for p in paths}


def flatten(tree: Mapping[str, Any], *, lists: bool, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a nested dict under its dotted name (``dropped_by_length.train``); lists are
    leaves when ``lists`` (configuration values), else left out (metric curves, which the
    figures show)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= flatten(value, lists=lists, prefix=f"{name}.")
        elif lists or not isinstance(value, list):
            out[name] = value
    return out


def fmt(value: Any) -> str:
    """A table cell: floats to 6 significant digits, lists as JSON, None (also a non-finite
    metric, stored as null) as a dash."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)


def selection_text(selection: Mapping[str, Any] | None) -> str:
    """One sentence on the kept epoch (counted from 1) and why training stopped."""
    if not selection:
        return "no epoch selection (not trained by the training loop)"
    text = f"kept epoch {selection['kept_epoch'] + 1} of {selection['epochs_run']}"
    monitor = selection["monitor"]
    if monitor == "last":
        text += " (the last)"
    else:
        name, mode = monitor
        text += f" (best validation {name} = {fmt(selection['best_score'])}, {mode})"
    return f"{text}; stopped: {selection['stop_reason']}"


def training_curves(history: list[dict[str, Any]], info: RunInfo, path: Path) -> tuple[Path, str]:
    """The training loss (and its parts) and every validation metric against the epoch, one
    panel per metric (hits@k of every k together), the kept epoch dotted."""
    keys = list(dict.fromkeys(k for entry in history for k in entry))

    def series(key: str) -> tuple[list[int], list[float]]:
        kept = [e for e in history if e.get(key) is not None]
        return [e["epoch"] + 1 for e in kept], [e[key] for e in kept]

    panels: dict[str, dict[str, tuple[list[int], list[float]]]] = {
        "training loss": {
            "loss" if k == "train_loss" else k.removeprefix("train_"): series(k)
            for k in keys
            if k.startswith("train_")
        }
    }
    selection = info.selection or {}
    monitor = selection.get("monitor")
    for key in keys:
        name = key.removeprefix("valid_")
        if name == key or name in BOOKKEEPING:
            continue
        panel = "valid " + re.sub(r"@\d+$", "@k", name)
        if isinstance(monitor, list) and name == monitor[0]:
            panel += f" (monitored, {monitor[1]})"
        panels.setdefault(panel, {})[name] = series(key)
    kept = selection.get("kept_epoch")
    selected = selection_text(info.selection)
    ylabels = {p: "validation score" for p in panels} | {"training loss": "mean loss per batch"}
    plot_curve_panels(
        panels, path, ylabels=ylabels, title=f"{info.model} on {info.data}: {selected}",
        mark_x=None if kept is None else kept + 1,
    )  # fmt: skip
    caption = f"Training history (epochs counted from 1; dotted line: the kept epoch). {selected}."
    return path, caption


def task_bars(task: str, result: Mapping[str, Any], path: Path) -> list[tuple[Path, str]]:
    """The task's headline metrics as bar panels (`TASK_BARS`); none when it has none of them."""
    metrics = result["metrics"]
    panels = {
        title: {
            k: v
            for k, v in metrics.items()
            if k.startswith(prefixes) and isinstance(v, int | float) and not isinstance(v, bool)
        }
        for title, prefixes in TASK_BARS[task].items()
    }
    panels = {title: bars for title, bars in panels.items() if bars}
    if not panels:
        return []
    title = (
        f"{task}: {result['model']} on the {result['test_size']} test cascades of {result['data']}"
    )
    plot_bar_panels(panels, path, title=title)
    options = ", ".join(f"{k}={fmt(v)}" for k, v in result.get("options", {}).items())
    return [(path, f"{task} on the test split ({options}).")]


def _influence_figures(
    run: Path, info: RunInfo, result: dict[str, Any], folder: Path
) -> list[tuple[Path, str]]:
    """`influence_figures` of the run's model on its own test instances."""
    _, model = pipeline.load_run(run)
    test = pipeline.run_data(info, "influence")[2].test
    return influence_figures(folder, model, test, result, f"{info.model} on {info.data}")


def _popularity_figures(
    run: Path, info: RunInfo, result: dict[str, Any], folder: Path
) -> list[tuple[Path, str]]:
    """`popularity_figures` of the evaluation, with the model's time decay when it has one."""
    net = network_of(pipeline.load_run(run)[1])
    decay = net.time_decay() if hasattr(net, "time_decay") else None
    title = f"{info.model} on {info.data}"
    out = popularity_figures(folder, result, decay, title)
    if getattr(getattr(net, "fusion", None), "fusion", None) == "moe":  # MMCAs' experts
        test = pipeline.run_data(info, "popularity")[2].test
        path = plot_expert_weights(net.explain(test), folder / "expert_weights.png", title=title)
        out.append((path, "MMCAs' expert weights on the test cascades: their distribution "
                          "(global) and a few cascades spread over the predicted increment "
                          "(local)."))  # fmt: skip
    return out


def _point_process_figures(
    run: Path,
    info: RunInfo,
    result: dict[str, Any],
    folder: Path,
    truth: HawkesParams | None,
) -> list[Path]:
    """`point_process_plots` of the fitted parameters on the run's own training events."""
    _, model = pipeline.load_run(run)
    train = pipeline.run_data(info)[2].train
    title = f"{info.model} fitted on {info.data}"
    return point_process_plots(
        folder, result, model.params_, train, title=title, seed=info.seed, truth=truth
    )


def _table(rows: Mapping[str, Any], head: tuple[str, str] = ("name", "value")) -> str:
    body = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(fmt(v))}</td></tr>"
        for k, v in rows.items()
    )
    return f"<table><tr><th>{head[0]}</th><th>{head[1]}</th></tr>{body}</table>"


def _figure(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(path.name)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


CSS = """body{font-family:sans-serif;margin:24px auto;max-width:1150px;color:#222}
h1{font-size:1.4em} h2{border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:1.6em}
table{border-collapse:collapse;margin:6px 16px 12px 0;font-size:.85em;display:inline-table;
vertical-align:top} td,th{border:1px solid #ddd;padding:2px 8px;text-align:left}
td:last-child{font-family:monospace} th{background:#f3f3f3} .note{background:#fff6d6;
padding:6px 10px} figure{margin:12px 0} img{max-width:100%} figcaption{font-size:.85em;
color:#555} iframe{width:100%;height:880px;border:1px solid #ddd} .meta{color:#666}"""


def render_html(
    info: RunInfo,
    results: Mapping[str, Mapping[str, Any]],
    figures: list[tuple[Path, str]],
    notes: list[str],
    interactive: Path | None = None,
) -> str:
    """The report page: title, notes, configuration, metrics tables, the figures as base64 data
    URIs and, for point-process runs, the interactive bi-layer page inlined (iframe ``srcdoc``):
    one file that opens anywhere, offline."""
    title = (
        f"{info.model} · preset {info.preset or '—'} · task {info.task} · data {info.data} · "
        f"seed {info.seed}"
    )
    esc = html.escape
    parts = [
        f'<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{CSS}</style></head><body><h1>{esc(title)}</h1>",
        f'<p class="meta">created {esc(info.created)} · fit {fmt(info.fit_seconds)} s · '
        + esc(", ".join(f"{k} {v}" for k, v in info.versions.items()))
        + "</p>",
        *(f'<p class="note">{esc(note)}</p>' for note in notes),
        "<h2>Configuration</h2>",
        f"<p>Selection: {esc(selection_text(info.selection))}."
        + (" Epochs count from 1 here, from 0 in run.json." if info.selection else "")
        + "</p>",
    ]
    run_rows = {"model": info.model, "preset": info.preset, "task": info.task, "data": info.data,
                "data format": info.data_format, "seed": info.seed}  # fmt: skip
    for name, rows in (
        ("run", run_rows),
        ("options given", info.options),
        ("data options", info.data_options),
        ("resolved configuration", flatten(info.config, lists=True)),
        ("selection", info.selection or {}),
        ("split options", info.split),
        ("split info (sizes: train, valid, test)", flatten(info.split_info, lists=True)),
    ):
        if rows:
            parts.append(_table(rows, (esc(name), "value")))
    parts.append("<h2>Metrics</h2>")
    if not results:
        parts.append("<p>None: no evaluation was run.</p>")
    for task, result in results.items():
        parts.append(
            f"<h3>{esc(task)}</h3><p class='meta'>test size {fmt(result.get('test_size'))}, "
            f"evaluated in {fmt(result.get('seconds'))} s; options "
            f"{esc(json.dumps(result.get('options', {})))}</p>"
        )
        parts.append(_table(flatten(result["metrics"], lists=False), ("metric", "value")))
    parts.append("<h2>Figures</h2>")
    if not figures:
        parts.append("<p>No figures: no training history and no evaluated task to plot.</p>")
    parts += [_figure(path, caption) for path, caption in figures]
    if interactive is not None:
        page = esc(interactive.read_text(encoding="utf-8"))
        parts.append(
            "<h2>Bi-layer view (interactive)</h2><p>Hover a node to highlight its links "
            f"(also saved as {esc(interactive.name)}).</p>"
            f'<iframe sandbox="allow-scripts" srcdoc="{page}"></iframe>'
        )
    parts.append("</body></html>")
    return "\n".join(parts)
