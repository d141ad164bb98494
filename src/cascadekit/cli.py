"""`cascadekit` command line: thin wrappers that parse options and call the library.

Results go to stdout; messages, tables about checks and errors go to stderr. Exit codes:

    0    success
    1    a check failed: ``datasets verify`` found a file missing or corrupt
    2    bad input: a usage error, an unknown name or option, a malformed or truncated file, a
         checksum mismatch, a file or folder that cannot be read or written (missing, permission
         denied, disk full), a failed download, an output that exists (refused, never overwritten)
    70   a bug in cascadekit (EX_SOFTWARE): its traceback, then one line asking to report it
    130  interrupted (Ctrl-C)

Every command runs inside one error boundary (`error_boundary`, which the app's command group
applies to every command, so a new command needs nothing to get it): an expected failure
(`CascadeKitError`, any `OSError`, `UnicodeDecodeError`, `EOFError` of a truncated file) becomes
one line ``error: ...`` on stderr and exit code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from cascadekit.errors import CascadeKitError

EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_BUG = 70

out = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

# what to do about an OS error, by errno (the error itself says what happened)
_OS_HINTS = {
    errno.ENOSPC: "free some space or write elsewhere",
    errno.EFBIG: "the file system or a limit refused a file this large; write elsewhere",
    errno.EDQUOT: "over the disk quota; free some space or write elsewhere",
    errno.EACCES: "check the permissions or choose another path",
    errno.EPERM: "check the permissions or choose another path",
    errno.EROFS: "read-only file system; choose another path",
}


def user_error_message(exc: BaseException) -> str | None:
    """The one line to print for an expected failure, or None when ``exc`` is a bug."""
    if isinstance(exc, CascadeKitError):
        return str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"input is not UTF-8 text (byte {exc.start}: {exc.reason}); "
            "convert the file to UTF-8 first"
        )
    if isinstance(exc, OSError):
        where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
        what = exc.strerror or str(exc) or type(exc).__name__
        hint = _OS_HINTS.get(exc.errno or 0)
        return (f"{where}: {what}" if where else what) + (f" ({hint})" if hint else "")
    if isinstance(exc, EOFError):
        return f"the input ended early (a truncated file?): {exc or 'end of file'}"
    return None


@contextlib.contextmanager
def error_boundary() -> Iterator[None]:
    """Expected failures → ``error: <one line>`` on stderr and exit 2; a bug → its traceback,
    a line asking to report it (with the version) and exit 70. typer's own exits pass through."""
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except Exception as exc:
        message = user_error_message(exc)
        if message is not None:
            # escaped: a message quotes file content, which must never be read as rich markup
            err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        from cascadekit import __version__

        traceback.print_exc(file=sys.stderr)
        err.print(
            f"[bold red]error:[/] this is a bug in cascadekit {__version__} "
            f"(Python {sys.version.split()[0]}); please report it with the command you ran and "
            "the traceback above",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
        raise typer.Exit(EXIT_BUG) from None


def friendly_errors(fn: F) -> F:
    """``error_boundary`` around one function (the app applies it to every command anyway)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with error_boundary():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class _BoundaryGroup(TyperGroup):
    """The root command group: every command (and sub-group) runs inside `error_boundary`."""

    def invoke(self, ctx: Any) -> Any:
        with error_boundary():
            return super().invoke(ctx)


app = typer.Typer(
    help="Information cascade modelling toolkit.", no_args_is_help=True, cls=_BoundaryGroup
)


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
        raise typer.Exit(EXIT_CHECK_FAILED)
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


BACKEND = typer.Option(
    None, "--backend", help="where sharded work runs (Monte Carlo identification, a Hawkes fit's "
    "per-user step): local | loky | ray | dask (= --set backend=...; docs/cluster.md; neural "
    "training: --set devices=N --set strategy=ddp)",
)  # fmt: skip
WORKERS = typer.Option(None, "--workers", help="workers of --backend (= --set n_jobs=N)")


def engine_options(backend: str | None, workers: int | None) -> dict[str, Any]:
    """``--backend`` / ``--workers`` as the options they stand for."""
    out: dict[str, Any] = {}
    if backend is not None:
        out["backend"] = backend
    if workers is not None:
        out["n_jobs"] = workers
    return out


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
    overwrite: bool = typer.Option(
        False, "--overwrite", help="replace an existing output (a saved bundle, or a lines file)"
    ),
) -> None:
    """Convert any readable input to a Parquet bundle folder, or its cascades to `user,time` lines."""
    from cascadekit.pipeline import load_bundle

    if to not in ("parquet", "ndm"):
        raise CascadeKitError(f"unknown output format {to!r}; use parquet or ndm")
    bundle = load_bundle(source, 0, parse_options(option), fmt)
    err.print(f"read {_counts(bundle)}", highlight=False)
    if to == "parquet":
        bundle.save(output, overwrite=overwrite)
        out.print(f"wrote {output}/ ({', '.join(sorted(p.name for p in Path(output).iterdir()))})")
    else:
        from cascadekit.data.formats.lines import write_cascade_lines

        if bundle.cascades is None:
            raise CascadeKitError(f"{source} has no cascades to write as lines")
        write_cascade_lines(bundle.cascades, output, overwrite=overwrite)
        out.print(f"wrote {len(bundle.cascades)} cascades to {output}")
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
    overwrite: bool = typer.Option(
        False, "--overwrite", help="replace the run already in --out (finished or interrupted)"
    ),
    backend: str = BACKEND,
    workers: int = WORKERS,
) -> None:
    """Fit MODEL on the training part of DATA (selection on validation only); write a run folder."""
    from cascadekit import pipeline

    options = {**parse_options(option), **engine_options(backend, workers)}
    info = pipeline.train(
        model, data, out, task=task, preset=preset, options=options,
        data_options=parse_options(data_option), data_format=fmt,
        split_options=parse_options(split_option), seed=seed, resume=resume,
        overwrite=overwrite,
    )  # fmt: skip
    if info is None:  # a data-parallel rank other than 0: rank 0 reports and writes the run
        return
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
    backend: str = BACKEND,
    workers: int = WORKERS,
) -> None:
    """Score a trained run on its own held-out test split with a task protocol."""
    from cascadekit import pipeline
    from cascadekit.runs import strict_json

    options = {**parse_options(option), **engine_options(backend, workers)}
    result = pipeline.evaluate(run, task, options=options, progress=True)
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
    max_events: int = typer.Option(
        None,
        "--max-events",
        help="stop after this many events (default: 20 × the run's training events; "
        "100,000 without --run)",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing --out file"),
) -> None:
    """Simulate a marked Hawkes process exactly (Ogata) into a Parquet event log."""
    from cascadekit import pipeline

    if run is not None:
        if option:
            raise CascadeKitError("give either --run or --set parameters, not both")
        events, capped = pipeline.simulate(
            run, t_end, out, seed=seed, max_events=max_events, model=model, overwrite=overwrite
        )
        why = "the fitted process is too explosive to simulate over this window (refit with "
        why += "--set max_branching=0.9, or raise --max-events)"
    else:
        events, capped = pipeline.simulate_synthetic(
            model, t_end, out, seed=seed, options=parse_options(option), max_events=max_events,
            overwrite=overwrite,
        )  # fmt: skip
        why = "the window holds more events than that (shorten --t-end or raise --max-events)"
    if capped:
        err.print(f"[yellow]stopped at {len(events):,} events: {why}[/]", highlight=False)
    err.print(f"simulated {len(events)} events on [{events.t_start:g}, {events.t_end:g}] → {out}")


influence_app = typer.Typer(
    help="DeepInf influence instances: build them and export the authors' layout.",
    no_args_is_help=True,
)
app.add_typer(influence_app, name="influence")


@influence_app.command("build")
@friendly_errors
def influence_build(
    data: str = typer.Option(
        ..., "--data", help="registered dataset, bundle folder, or file/folder with --format"
    ),
    out_dir: Path = typer.Option(
        ..., "--out", help="folder to write: DeepInf .npy layout + cascadekit.json (build info)"
    ),
    fmt: str = typer.Option(None, "--format", help="read --data as this format"),
    option: list[str] = typer.Option(
        [], "--set", help="build option key=value (preset=reference_code, restart_prob=0.8, ...)"
    ),
    data_option: list[str] = typer.Option([], "--data-set", help="reader option key=value"),
    seed: int = typer.Option(0, help="random seed (negatives, walks, DeepWalk)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing folder"),
) -> None:
    """Ego-network instances of DATA's social graph and timed adoptions, with vertex features and
    DeepWalk, written as a DeepInf folder (`train ... --data OUT --format deepinf` reads it)."""
    from cascadekit.data.formats.deepinf import write_instances
    from cascadekit.pipeline import load_bundle
    from cascadekit.tasks.influence import Influence, bundle_instances

    options = Influence(parse_options(option)).split
    bundle = load_bundle(data, seed, parse_options(data_option), fmt)
    instances = bundle_instances(bundle, options, seed, progress=True)
    instances.info = {"data": data, "data_format": fmt, **instances.info}
    write_instances(instances, out_dir, overwrite=overwrite)
    kept, info = instances.info["instances"], instances.info
    few, short = info["dropped_few_active_neighbors"], info["dropped_walk_too_short"]
    err.print(
        f"{len(instances):,} instances ({kept['positive']:,} positive, {kept['negative']:,} "
        f"negative) of {bundle.name}; dropped with < {options.min_active_neighbors} active "
        f"neighbours {few['positive'] + few['negative']:,}, walk too short "
        f"{short['positive'] + short['negative']:,} → {out_dir}",
        highlight=False,
    )


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
    from cascadekit.pipeline import check_seed

    check_seed(seed)
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
