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

Writes ``benchmarks/results/mic_real.json``. Run (one core):

    CASCADEKIT_MIRROR=/work/shared/data OMP_NUM_THREADS=1 taskset -c 1 \\
        .venv/bin/python benchmarks/mic_real.py
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from cascadekit import hawkes_runs
from cascadekit.models.hawkes import VARIANTS
from cascadekit.report.plots import plot_grouped_bars

RESULTS = Path(__file__).parent / "results"
MINUTE, DAY = 60_000.0, 86_400.0


def datasets(url_events: int) -> dict[str, dict]:
    return {
        "music2": {
            "data": "c4_music2_url",
            "data_options": {"which": "music2"},
            # earlier grids' smallest values (1 min, then 10 s) won: go below them
            "taus": [MINUTE / 30, MINUTE / 12, MINUTE / 6, MINUTE / 3, MINUTE],
            "options": {},
        },
        "url": {
            "data": "c4_music2_url",
            "data_options": {"which": "url"},
            "taus": [6 * MINUTE, 60 * MINUTE, 360 * MINUTE],
            "options": {"max_events": url_events},
        },
        "lastfm": {
            "data": "lastfm_hetrec2011_2k",
            "data_options": {"marks": "tags", "top": 5},
            "taus": [30 * DAY, 300 * DAY],
            "options": {},
        },
    }


def run_dataset(
    name: str, spec: dict, work: Path, max_iter: int, max_branching: float | None
) -> dict:
    common = {**spec["options"], "max_iter": max_iter, "max_branching": max_branching}
    bundle = hawkes_runs.load_event_bundle(spec["data"], 0, spec["data_options"])
    split = hawkes_runs.event_split(bundle.events, hawkes_runs.parse_config(common))
    train = split.train
    rate = len(train) / (len(set(train.users.tolist())) * train.duration)
    betas = [0.3 / rate, 3.0 / rate]
    t0 = time.perf_counter()
    mic = hawkes_runs.train_run(
        "mic", spec["data"], work / "mic",
        options={**common, "taus": spec["taus"], "betas": betas, "tau": spec["taus"][0]},
        data_options=spec["data_options"],
    )  # fmt: skip
    selection = mic.split["selection"]
    tau, beta = selection["tau"], selection["beta"]
    out = {
        "data": spec["data"],
        "data_options": spec["data_options"],
        "options": common,
        "split": {k: v for k, v in mic.split.items() if k != "selection"},
        "mean_user_rate": rate,
        "selection": selection,
        "selection_and_fit_seconds_mic": round(time.perf_counter() - t0, 1),
        "variants": {},
    }
    for variant in VARIANTS:
        if variant != "mic":
            t1 = time.perf_counter()
            hawkes_runs.train_run(
                variant, spec["data"], work / variant,
                options={**common, "tau": tau, "beta": beta}, data_options=spec["data_options"],
            )  # fmt: skip
            fit_s = time.perf_counter() - t1
        else:
            fit_s = mic.fit_seconds
        res = hawkes_runs.evaluate_run(work / variant, options={"n_simulations": 5})
        m = res["metrics"]
        out["variants"][variant] = {
            "fit_seconds": round(fit_s, 1),
            **{k: v for k, v in m.items() if k not in ("curves", "ranked_activity")},
        }
        print(name, variant, m["test_loglik"], m["test_loglik_top5pct_users"], flush=True)
    hawkes_runs.report_run(work / "mic")
    dest = RESULTS / "mic_real"
    dest.mkdir(parents=True, exist_ok=True)
    if max_branching is not None:
        name = f"{name}_b{max_branching:g}"
    for f in (work / "mic").iterdir():
        if f.suffix in (".png", ".html"):
            shutil.copy(f, dest / f"{name}_{f.name}")
    table = {
        v: {
            f"top {p} %": r[f"test_loglik_top{p}pct_users"]
            / abs(out["variants"]["mic"][f"test_loglik_top{p}pct_users"])
            for p in (5, 10, 25)
        }
        for v, r in out["variants"].items()
    }
    plot_grouped_bars(
        table, dest / f"{name}_table2.png", ylabel="test log-lik / |MIC's|",
        title=f"{name}: test log-likelihood of the top users",
    )  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--max-iter", type=int, default=30)
    parser.add_argument("--url-events", type=int, default=60_000)
    parser.add_argument("--max-branching", type=float, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "mic_real.json")
    args = parser.parse_args()
    specs = datasets(args.url_events)
    path = args.out
    results = json.loads(path.read_text()) if path.is_file() else {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in specs.items():
            if args.only and name not in args.only:
                continue
            results[name] = run_dataset(
                name, spec, Path(tmp) / name, args.max_iter, args.max_branching
            )
            results["setting"] = __doc__.split("\n\n", 1)[1].rsplit("\n\nWrites", 1)[0]
            path.write_text(json.dumps(results, indent=2, default=float))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
