"""MIC paper 002 §7.3 on real event logs: IC, linMIC, CC and MIC compared on the test events.

For each dataset: train on the first 80 % of events by time, test on the rest (protocols §6).
(τ, β) are chosen once, for MIC, with ``select_tau_beta`` (fit on the first 80 % of the training
events, score the remaining 20 %) over a small grid, and reused by every variant (the linear ones
ignore β; CC takes MIC's β). Then each variant is fitted on the whole training part (at most
``--max-iter`` Alg. 1 iterations) and evaluated with ``evaluate_point_process``: test
log-likelihood (total and top 5/10/25 % users by training activity — the Table 2 analogue),
inverse ℓ1 / Pearson of binned counts per cascade, ranked activity. Plots of the MIC run (counts,
intensity, ranked users / cascades, bi-layer PNG + HTML) and a grouped-bar Table 2 are copied to
``benchmarks/results/mic_real/``.

Datasets and time units:

* ``music2`` (C4, ms): the shipped training data only (its test set is a suffix of it);
  τ ∈ {2 s, 5 s, 10 s, 20 s, 1 min}.
* ``url`` (C4, ms): train then test as shipped, restricted to the last ``--url-events`` events
  (a contiguous final time window) to bound the run time; τ ∈ {6 min, 1 h, 6 h}.
* ``lastfm`` (HetRec 2011, s, day resolution — in fact 71 distinct time stamps for the top tags):
  cascades = the 5 most used tags (``top=5``, 27,302 events; enough events per tag for per-user
  estimates while keeping the fit in minutes); friend graph undirected; τ ∈ {30 d, 300 d}.

β grids are multiples of 1 / r̄ with r̄ = events / (users · duration), the mean per-user rate, since
β multiplies intensities and so carries the inverse time unit.

``--max-branching b`` constrains every fit to be stationary (each user's in-excitation
τ·Σ_v w_vu ≤ b, so ρ(Wᵀ)·τ ≤ b; see `fit_hawkes`): the unconstrained maximum-likelihood fits of
music2 and url are at or beyond criticality, and their simulations explode.

Every fit is an ordinary run of the pipeline (`pipeline.train` / `pipeline.evaluate`: the
registry's variant, the point_process task's split), recorded with its resolved configuration;
each dataset's entry carries its provenance. Writes ``benchmarks/results/mic_real.json``
(``--out``; one entry per dataset, replaced on re-run) and the figures to ``--figures``. Run
(one core):

    CASCADEKIT_MIRROR=/work/shared/data OMP_NUM_THREADS=1 taskset -c 1 \\
        .venv/bin/python benchmarks/mic_real.py
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from _provenance import RESULTS, load_json, provenance, write_json

from cascadekit import pipeline, registry
from cascadekit.models.hawkes import VARIANTS
from cascadekit.report.plots import plot_grouped_bars
from cascadekit.report.point_process import point_process_plots

MINUTE, DAY = 60_000.0, 86_400.0


def datasets(url_events: int) -> dict[str, dict]:
    return {
        "music2": {
            "data": "c4_music2_url",
            "data_options": {"which": "music2"},
            # earlier grids' smallest values (1 min, then 10 s) won: go below them
            "taus": [MINUTE / 30, MINUTE / 12, MINUTE / 6, MINUTE / 3, MINUTE],
            "split_options": {},
        },
        "url": {
            "data": "c4_music2_url",
            "data_options": {"which": "url"},
            "taus": [6 * MINUTE, 60 * MINUTE, 360 * MINUTE],
            "split_options": {"max_events": url_events},
        },
        "lastfm": {
            "data": "lastfm_hetrec2011_2k",
            "data_options": {"marks": "tags", "top": 5},
            "taus": [30 * DAY, 300 * DAY],
            "split_options": {},
        },
    }


def run_dataset(
    name: str, spec: dict, work: Path, max_iter: int, max_branching: float | None, figures: Path
) -> dict:
    common = {"max_iter": max_iter, "max_branching": max_branching}
    where = {"data_options": spec["data_options"], "split_options": spec["split_options"]}
    bundle = pipeline.load_bundle(spec["data"], 0, spec["data_options"])
    train = registry.task("point_process", spec["split_options"]).build(bundle, 0).train
    rate = len(train) / (len(set(train.users.tolist())) * train.duration)
    betas = [0.3 / rate, 3.0 / rate]
    t0 = time.perf_counter()
    mic_options = {**common, "taus": spec["taus"], "betas": betas, "tau": spec["taus"][0]}
    mic = pipeline.train("mic", spec["data"], work / "mic", options=mic_options, **where)
    _, fitted = pipeline.load_run(work / "mic")
    selection = fitted.fit_info_["selection"]
    tau, beta = selection["tau"], selection["beta"]
    out = {
        "data": spec["data"],
        "data_options": spec["data_options"],
        "options": common,
        "split_options": spec["split_options"],
        "split": mic.split_info,
        "mean_user_rate": rate,
        "selection": selection,
        "selection_and_fit_seconds_mic": round(time.perf_counter() - t0, 1),
        "variants": {},
    }
    results = {}
    for variant in VARIANTS:
        if variant != "mic":
            options = {**common, "tau": tau, "beta": beta}
            info = pipeline.train(variant, spec["data"], work / variant, options=options, **where)
        else:
            options, info = mic_options, mic
        results[variant] = pipeline.evaluate(work / variant, options={"n_simulations": 5})
        m = results[variant]["metrics"]
        out["variants"][variant] = {
            "config": {"model": variant, "options": options, **info.config},
            "fit_seconds": round(info.fit_seconds, 1),
            **{k: v for k, v in m.items() if k not in ("curves", "ranked_activity")},
        }
        print(name, variant, m["test_loglik"], m["test_loglik_top5pct_users"], flush=True)
    plots = work / "mic" / "plots"
    point_process_plots(
        plots, results["mic"], fitted.params_, train, title=f"mic fitted on {spec['data']}"
    )
    figures.mkdir(parents=True, exist_ok=True)
    if max_branching is not None:
        name = f"{name}_b{max_branching:g}"
    for f in plots.iterdir():
        if f.suffix in (".png", ".html"):
            shutil.copy(f, figures / f"{name}_{f.name}")
    table = {
        v: {
            f"top {p} %": r[f"test_loglik_top{p}pct_users"]
            / abs(out["variants"]["mic"][f"test_loglik_top{p}pct_users"])
            for p in (5, 10, 25)
        }
        for v, r in out["variants"].items()
    }
    plot_grouped_bars(
        table, figures / f"{name}_table2.png", ylabel="test log-lik / |MIC's|",
        title=f"{name}: test log-likelihood of the top users",
    )  # fmt: skip
    out["provenance"] = provenance()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--max-iter", type=int, default=30)
    parser.add_argument("--url-events", type=int, default=60_000)
    parser.add_argument("--max-branching", type=float, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "mic_real.json")
    parser.add_argument("--figures", type=Path, default=RESULTS / "mic_real")
    args = parser.parse_args()
    specs = datasets(args.url_events)
    path = args.out
    results = {k: v for k, v in load_json(path).items() if k != "provenance"}
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in specs.items():
            if args.only and name not in args.only:
                continue
            results[name] = run_dataset(
                name, spec, Path(tmp) / name, args.max_iter, args.max_branching, args.figures
            )
            results["setting"] = __doc__.split("\n\n", 1)[1].rsplit("\n\nEvery fit", 1)[0]
            write_json(path, results)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
