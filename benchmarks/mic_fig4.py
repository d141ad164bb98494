"""MIC paper 002 Fig. 4a/d: test log-likelihood as a function of the training data available.

Split by event time: the first 80 % of events train, the last 20 % test (protocols §6). For each
fraction f, every variant (IC, linMIC, CC, MIC) is fitted on the LAST f of the training events
(the paper: "the last 20 % or 60 % train events before the test dataset") and scored on the same
test events with all training events as their history, so only the data used for fitting varies.
τ is selected once per dataset on the training events (``select_tau_beta`` with IC, which is fast
and β-free; grid 10 s … 1 h) and β = 0.3 / r̄ (r̄ = events per user per ms of the training part;
the value ``mic_real.py``'s selection picked on music2), the same for every fraction and variant.
url is restricted to its last ``--url-events`` events, as in ``mic_real.py``. Every fit is the
registry model of its variant (`registry.model(variant)`, options tau / beta / max_iter) with
the dataset's graph, recorded with its resolved configuration. Writes
``benchmarks/results/mic_fig4.json`` (one entry per dataset, replaced on re-run, each with its
provenance) and ``mic_fig4_<dataset>.png``. Run:

    CASCADEKIT_MIRROR=/work/shared/data .venv/bin/python benchmarks/mic_fig4.py
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from _provenance import RESULTS, load_json, provenance, write_json

from cascadekit import registry
from cascadekit.models.hawkes import VARIANTS
from cascadekit.models.hawkes.inference import select_tau_beta
from cascadekit.pipeline import load_bundle
from cascadekit.report.hawkes_plots import plot_loglik_vs_fraction

SECOND = 1_000.0  # C4 times are milliseconds
TAUS = [10 * SECOND, 20 * SECOND, 60 * SECOND, 360 * SECOND, 3600 * SECOND]


def hawkes(variant: str, options: dict, graph: object) -> object:
    """The registry's model of ``variant`` with ``options``, restricted to ``graph``."""
    spec = registry.model(variant)
    _, config, _ = spec.configs(None, options)
    return spec.estimator_class(config, graph=graph)


def run(which: str, fractions: list[float], max_events: int | None, max_iter: int) -> dict:
    bundle = load_bundle("c4_music2_url", 0, {"which": which})
    split = registry.task("point_process", {"max_events": max_events}).build(bundle, 0)
    train, test = split.train, split.test
    beta = 0.3 * train.n_users * train.duration / len(train)
    support = hawkes("ic", {}, bundle.graph).support(train)
    selection = select_tau_beta(train, TAUS, [beta], support, variant="ic")
    tau = selection["tau"]
    rows, configs = [], {}
    for f in fractions:
        k = len(train) - int(round(f * len(train)))
        part = train if k <= 0 else train.window(float(train.times[k]), train.t_end)
        row = {"fraction": f, "train_events": len(part),
               "events_per_user": len(part) / train.n_users}  # fmt: skip
        for variant in VARIANTS:
            t0 = time.perf_counter()
            options = {"tau": tau, "beta": beta, "max_iter": max_iter}
            model = hawkes(variant, options, bundle.graph).fit(part)
            configs[variant] = {"model": variant, "options": options,
                                "model_config": asdict(model.config)}  # fmt: skip
            row[variant] = float(model.log_likelihood(test, history=train))
            row[f"{variant}_seconds"] = round(time.perf_counter() - t0, 1)
        print(which, json.dumps(row), flush=True)
        rows.append(row)
    return {"tau": tau, "beta": beta, "tau_selection": selection["grid"],
            "test_events": len(test), "train_events": len(train), "max_events": max_events,
            "split": split.info, "configs": configs, "rows": rows,
            "provenance": provenance()}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["music2", "url"])
    ap.add_argument("--fractions", nargs="+", type=float, default=[0.2, 0.4, 0.6, 0.8, 1.0])
    ap.add_argument("--url-events", type=int, default=60_000)
    ap.add_argument("--max-iter", type=int, default=30)
    ap.add_argument("--results", type=Path, default=RESULTS, help="folder of the outputs")
    args = ap.parse_args()
    out_path = args.results / "mic_fig4.json"
    out = {k: v for k, v in load_json(out_path).items() if k != "provenance"}
    for which in args.datasets:
        res = run(which, args.fractions, args.url_events if which == "url" else None, args.max_iter)
        out[which] = res
        series = {v: [r[v] for r in res["rows"]] for v in VARIANTS}
        plot_loglik_vs_fraction(
            np.array(args.fractions), series, args.results / f"mic_fig4_{which}.png",
            ylabel="test log-likelihood", title=f"{which}: fitted on the last fraction of train",
        )  # fmt: skip
        write_json(out_path, out)


if __name__ == "__main__":
    main()
