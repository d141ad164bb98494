"""`cascadekit` command line: thin wrappers that parse options and call the library.

Errors cascadekit raises on purpose (bad input, checksum mismatch, unknown names) are printed as one
clear line on stderr with exit code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from cascadekit.errors import CascadeKitError

app = typer.Typer(help="Information cascade modelling toolkit.", no_args_is_help=True)


def _version(value: bool) -> None:
    if value:
        from cascadekit import __version__

        sys.stdout.write(f"cascadekit {__version__}\n")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """Information cascade modelling toolkit."""


datasets_app = typer.Typer(
    help="The dataset registry: list, inspect, verify, count.", no_args_is_help=True
)
app.add_typer(datasets_app, name="datasets")

out = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (CascadeKitError, FileNotFoundError) as e:
            err.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except UnicodeDecodeError as e:
            err.print(
                f"[bold red]error:[/] input is not UTF-8 text (byte {e.start}: {e.reason}); "
                "convert the file to UTF-8 first", highlight=False, soft_wrap=True,
            )  # fmt: skip
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def print_json(obj: Any) -> None:
    """JSON on stdout, nothing else (so that `| jq` works)."""
    sys.stdout.write(json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


@datasets_app.command("list")
@friendly_errors
def datasets_list() -> None:
    """Registered datasets, the tasks they serve and whether their files are present and verified."""
    from cascadekit import datasets

    table = Table(title="cascadekit datasets")
    table.add_column("name", no_wrap=True)
    for col in ("tasks", "size", "files"):
        table.add_column(col)
    for name in datasets.names():
        spec = datasets.get(name)
        checks = datasets.verify(name)
        ok = sum(c.status == "ok" for c in checks)
        state = (
            f"[green]{ok}/{len(checks)} verified[/]"
            if ok == len(checks)
            else f"[yellow]{ok}/{len(checks)}[/]"
        )
        table.add_row(name, ", ".join(spec.tasks), _human(spec.size), state)
    out.print(table)


@datasets_app.command("info")
@friendly_errors
def datasets_info(name: str) -> None:
    """Origin, pinned commit, files, reader, license and citation of one dataset."""
    from cascadekit import datasets

    spec = datasets.get(name)
    out.print(f"[bold]{spec.name}[/] — {spec.title}")
    out.print(f"origin:   {spec.repository} @ {spec.commit}")
    out.print(f"reader:   cascadekit.data.formats.{spec.reader} {spec.reader_kwargs or ''}")
    out.print(f"tasks:    {', '.join(spec.tasks)}")
    out.print(f"license / citation: {spec.license_and_citation}", highlight=False)
    table = Table("file", "size", "sha256", "origin")
    for f in spec.files:
        table.add_row(
            f.path, _human(f.size), f.sha256[:16] + "…", f.url or f"(not downloadable) {f.note}"
        )
    out.print(table)


@datasets_app.command("verify")
@friendly_errors
def datasets_verify(
    name: str = typer.Argument(None, help="dataset name (or use --all)"),
    all_: bool = typer.Option(False, "--all", help="verify every registered dataset"),
    force: bool = typer.Option(False, "--force", help="re-hash every file (ignore the hash cache)"),
    as_json: bool = typer.Option(False, "--json", help="print the checks as JSON on stdout"),
) -> None:
    """Check the sha256 of every file (in the mirror or the cache). Exit 1 if any is missing or wrong.
    The table and messages go to stderr; stdout carries only ``--json`` output."""
    from dataclasses import asdict

    from cascadekit import datasets

    if not all_ and not name:
        raise CascadeKitError("give a dataset name or --all")
    targets = datasets.names() if all_ else [name]
    table = Table("dataset", "file", "status", "location")
    bad = unlisted = 0
    records = []
    for n in targets:
        for c in datasets.verify(n, force=force):
            records.append(asdict(c))
            colour = {"ok": "green", "missing": "yellow", "mismatch": "red", "unlisted": "yellow"}
            status = "unlisted: never read" if c.status == "unlisted" else c.status
            unlisted += c.status == "unlisted"
            table.add_row(n, c.path, f"[{colour[c.status]}]{status}[/]", c.location)
            if c.status in ("missing", "mismatch"):
                bad += 1
                if c.status == "mismatch":
                    err.print(f"[red]{c.location}: sha256 {c.actual} != expected {c.expected}[/]")
    err.print(table)
    if as_json:
        print_json(records)
    if bad:
        err.print(f"[bold red]{bad} file(s) missing or corrupt[/]")
        raise typer.Exit(1)
    err.print(f"[green]all {sum(len(datasets.get(n).files) for n in targets)} files verified[/]")
    if unlisted:
        err.print(f"[yellow]{unlisted} file(s) the registry does not list were ignored[/]")


@datasets_app.command("stats")
@friendly_errors
def datasets_stats(
    name: str = typer.Argument(
        ..., help="dataset name, bundle folder, or a file/folder with --format"
    ),
    as_json: bool = typer.Option(False, "--json", help="print a JSON object on stdout"),
    fmt: str = typer.Option(None, "--format", help="read NAME as this format"),
    option: list[str] = typer.Option([], "--set", help="reader option key=value (e.g. which=url)"),
) -> None:
    """Users, cascades, events, lengths, graph edges — overall and per shipped split."""
    from cascadekit.pipeline import load_bundle

    bundle = load_bundle(name, 0, parse_options(option), fmt)
    stats = bundle.statistics()
    if as_json:
        print_json(stats)
        return
    out.print_json(json.dumps(stats, default=_json_default))


def _counts(bundle: Any) -> str:
    """One line of what a bundle holds."""
    parts = []
    if bundle.cascades is not None:
        c = bundle.cascades
        parts.append(f"{len(c):,} cascades, {len(c.users):,} adoptions, {c.n_users:,} users")
    if bundle.events is not None:
        parts.append(f"{len(bundle.events):,} events, {bundle.events.n_marks:,} marks")
    if bundle.graph is not None:
        parts.append(f"graph {bundle.graph.n_arcs:,} arcs")
    if bundle.splits:
        parts.append("splits " + ", ".join(f"{k} {len(v):,}" for k, v in bundle.splits.items()))
    return f"{bundle.name}: " + "; ".join(parts or ["nothing"])


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` strings → dict; values parsed as JSON when they are (numbers, true, lists)."""
    opts: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CascadeKitError(f"expected key=value, got {pair!r}")
        try:
            opts[key] = json.loads(value)
        except ValueError:
            opts[key] = value
    return opts


@app.command("convert")
@friendly_errors
def convert(
    source: str = typer.Argument(
        ..., help="dataset name, saved bundle folder, or a file/folder with --format"
    ),
    output: Path = typer.Argument(..., help="output folder (parquet) or file (ndm lines)"),
    fmt: str = typer.Option(
        None, "--format", help="read SOURCE as this format (see `cascadekit formats`)"
    ),
    to: str = typer.Option("parquet", help="parquet | ndm"),
    option: list[str] = typer.Option(
        [], "--set", help="reader option key=value (e.g. repair=true)"
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing output folder"),
) -> None:
    """Convert any readable input to a Parquet bundle folder, or its cascades to `user,time` lines."""
    from cascadekit.pipeline import load_bundle

    bundle = load_bundle(source, 0, parse_options(option), fmt)
    err.print(f"read {_counts(bundle)}", highlight=False)
    if to == "parquet":
        bundle.save(output, overwrite=overwrite)
        out.print(f"wrote {output}/ ({', '.join(sorted(p.name for p in Path(output).iterdir()))})")
    elif to == "ndm":
        from cascadekit.data.formats.lines import write_cascade_lines

        if bundle.cascades is None:
            raise CascadeKitError(f"{source} has no cascades to write as lines")
        write_cascade_lines(bundle.cascades, output)
        out.print(f"wrote {len(bundle.cascades)} cascades to {output}")
    else:
        raise CascadeKitError(f"unknown output format {to!r}; use parquet or ndm")
    if not bundle.report.clean:
        err.print(f"[yellow]reader notes:[/] {bundle.report}", highlight=False)


@app.command("formats")
@friendly_errors
def list_formats(
    name: str = typer.Argument(None, help="a format: list its reader options with defaults"),
) -> None:
    """Input formats `convert --format` (and train/evaluate/stats --format) understand."""
    from cascadekit.data import formats

    if name is None:
        table = Table("format", "reader", "input")
        for fmt, (target, what) in formats.FORMATS.items():
            table.add_row(fmt, target, what)
        out.print(table)
        return
    table = Table("option", "default", "description", title=f"format {name}")
    for row in formats.describe(name):
        default = "(required)" if row.get("required") else repr(row["default"])
        table.add_row(row["name"], default, row["description"])
    out.print(table)


@app.command("train")
@friendly_errors
def train_cmd(
    model: str = typer.Argument(..., help="model name (see `cascadekit models`)"),
    data: str = typer.Option(
        ...,
        "--data",
        help="registered dataset, bundle folder, file/folder with --format, or synthetic",
    ),
    out: Path = typer.Option(..., "--out", help="run folder to create (never overwritten)"),
    task: str = typer.Option(None, "--task", help="task to train for (default: the model's first)"),
    preset: str = typer.Option(
        None, "--preset", help="named configuration (see `cascadekit models MODEL`)"
    ),
    option: list[str] = typer.Option([], "--set", help="model / training option key=value"),
    split_option: list[str] = typer.Option([], "--split-set", help="split option key=value"),
    data_option: list[str] = typer.Option([], "--data-set", help="reader option key=value"),
    fmt: str = typer.Option(None, "--format", help="read --data as this format"),
    seed: int = typer.Option(0, help="random seed (split, initialisation, batches)"),
    resume: bool = typer.Option(False, "--resume", help="continue an interrupted run in --out"),
) -> None:
    """Fit MODEL on the training part of DATA (selection on validation only); write a run folder."""
    from cascadekit import pipeline

    info = pipeline.train(
        model, data, out, task=task, preset=preset, options=parse_options(option),
        data_options=parse_options(data_option), data_format=fmt,
        split_options=parse_options(split_option), seed=seed, resume=resume,
    )  # fmt: skip
    sel = info.selection
    kept = (
        f"; kept epoch {sel['kept_epoch'] + 1} of {sel['epochs_run']} ({sel['stop_reason']})"
        if sel
        else ""
    )
    err.print(
        f"trained {info.model} (preset {info.preset}) for {info.task} on {info.data} in "
        f"{info.fit_seconds:.1f} s{kept} → {out}",
        highlight=False,
    )


@app.command("evaluate")
@friendly_errors
def evaluate_cmd(
    run: Path = typer.Argument(..., help="run folder written by `cascadekit train`"),
    task: str = typer.Option(None, "--task", help="task protocol (default: the run's own)"),
    as_json: bool = typer.Option(False, "--json", help="print the metrics JSON object on stdout"),
    option: list[str] = typer.Option(
        [], "--set", help="task option key=value (e.g. n_samples=1000)"
    ),
) -> None:
    """Score a trained run on its own held-out test split with a task protocol."""
    from cascadekit import pipeline
    from cascadekit.runs import strict_json

    result = pipeline.evaluate(run, task, options=parse_options(option), progress=True)
    if as_json:
        print_json(strict_json(result))
        return
    table = Table(title=f"{result['model']} · {result['data']} · {result['task']} · "
                  f"{result['test_size']} test items")  # fmt: skip
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in result["metrics"].items():
        if isinstance(v, dict | list):  # curves and per-cascade tables: see --json
            continue
        table.add_row(k, f"{v:.4f}" if isinstance(v, float) else str(v))
    out.print(table)


@app.command("simulate")
@friendly_errors
def simulate_cmd(
    model: str = typer.Argument(..., help="ic | linmic | cc | mic"),
    t_end: float = typer.Option(..., "--t-end", help="end of the simulated window"),
    out: Path = typer.Option(..., "--out", help="Parquet event log to write"),
    run: Path = typer.Option(None, "--run", help="run folder whose fitted parameters to use"),
    option: list[str] = typer.Option(
        [], "--set", help="without --run: synthetic_params option key=value (n_users, beta, ...)"
    ),
    seed: int = typer.Option(0, help="random seed"),
) -> None:
    """Simulate a marked Hawkes process exactly (Ogata) into a Parquet event log."""
    from cascadekit import pipeline
    from cascadekit.simulate.hawkes import simulate
    from cascadekit.simulate.synthetic import synthetic_variant_params

    if run is not None:
        if option:
            raise CascadeKitError("give either --run or --set parameters, not both")
        events, capped = pipeline.simulate(run, t_end, out, seed=seed)
        if capped:
            err.print(
                f"[yellow]stopped at {len(events)} events: the fitted process is too explosive "
                "to simulate over this window (refit with --set max_branching=0.9)[/]"
            )
    else:
        params = synthetic_variant_params(model, seed=seed, **parse_options(option))
        events = simulate(params, t_end, seed=seed)
        events.to_parquet(out)
    err.print(f"simulated {len(events)} events on [{events.t_start:g}, {events.t_end:g}] → {out}")


@app.command("report")
@friendly_errors
def report_cmd(
    run: Path = typer.Argument(..., help="run folder written by `cascadekit train`"),
) -> None:
    """Training curves, the task's plots and the metrics as PNGs and one self-contained HTML page."""
    from cascadekit.report.run_report import report_run

    for path in report_run(run):
        out.print(str(path))


@app.command("models")
@friendly_errors
def models_cmd(
    name: str = typer.Argument(None, help="a model: list its presets and every option"),
) -> None:
    """Models `cascadekit train` knows, their tasks and presets (which come from the authors' code
    and which from the paper's text)."""
    from cascadekit import registry

    if name is None:
        table = Table("model", "what", "tasks (first = default)", "presets (default first)")
        for column in table.columns:
            column.overflow = "fold"
        for spec in registry.MODELS.values():
            presets = sorted(spec.preset_table(), key=lambda p: p != spec.default_preset)
            table.add_row(spec.name, spec.summary, ", ".join(spec.tasks), ", ".join(presets))
        out.print(table)
        return
    d = registry.model(name).describe()
    out.print(f"[bold]{d['name']}[/] — {d['summary']}; tasks: {', '.join(d['tasks'])}")
    for pname, p in d["presets"].items():
        mark = " (default)" if pname == d["default_preset"] else ""
        source = {
            "code": "the authors' code",
            "paper": "the paper's text",
            "toolkit": "ours, measured",
        }
        out.print(
            f"preset [bold]{pname}[/]{mark} — from {source.get(p['source'], p['source'])}: {p['doc']}",
            highlight=False,
        )
        out.print(f"    model {p['model']} train {p['train']}", highlight=False)
    for title, key in (
        ("model options", "model_options"),
        ("training options", "training_options"),
    ):
        if key in d:
            table = Table("option", "type", "default", title=title)
            for opt, typ, default in d[key]:
                table.add_row(opt, typ, repr(default))
            out.print(table)


def _print_mic_summary(summary: dict[str, Any]) -> None:
    """The MIC demo's evaluation and its true vs fitted cascade interactions Σ as two tables."""
    fit = summary["overall"]
    table = Table("test log-lik", "per event", "real events", "simulated (mean)", "inverse ℓ1",
                  "Pearson", title="MIC on the last 20 % of events")  # fmt: skip
    table.add_row(
        f"{summary['test_loglik']:,.1f}", f"{summary['test_loglik_per_event']:.3f}",
        f"{fit['real_events']:,}", f"{fit['simulated_events_mean']:,.1f}",
        f"{fit['inverse_l1']:.3f}", f"{fit['pearson']:.3f}",
    )  # fmt: skip
    out.print(table)
    true, fitted = summary["Sigma_true"], summary["Sigma_fitted"]
    sigma = Table("cascade", "true Σ row", "fitted Σ row",
                  title=f"Σ (max abs error {summary['max_abs_Sigma_error']:.3f})")  # fmt: skip
    for c, (t_row, f_row) in enumerate(zip(true, fitted, strict=True)):
        sigma.add_row(
            str(c), "  ".join(f"{v:.2f}" for v in t_row), "  ".join(f"{v:.2f}" for v in f_row)
        )
    out.print(sigma)


@app.command("quickstart")
@friendly_errors
def quickstart(
    out_dir: Path = typer.Option(Path("runs/quickstart"), "--out", help="run directory"),
    seed: int = typer.Option(0, help="random seed"),
    scenario: str = typer.Option(
        "cascades", help="cascades (NDM/LSTM) | mic (Hawkes MIC: simulate, fit, bi-layer)"
    ),
) -> None:
    """Synthetic data → train → evaluate with the papers' protocols → run folder with plots."""
    if scenario not in ("cascades", "mic"):
        raise CascadeKitError(f"unknown scenario {scenario!r}; use cascades or mic")
    if scenario == "mic":
        from cascadekit.demos.mic import mic_demo

        _print_mic_summary(mic_demo(out_dir, seed=seed))
        out.print(
            f"MIC scenario written to [bold]{out_dir}[/] (plots, bi-layer PNG + HTML, metrics, "
            "summary.json)"
        )
        return
    from cascadekit.demos.quickstart import run_quickstart

    run_quickstart(out_dir, seed=seed, console=out)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
