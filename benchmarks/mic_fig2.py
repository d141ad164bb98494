"""MIC paper 002 Fig. 2: test log-likelihood ratios IC/MIC, linMIC/MIC, CC/MIC over (β, σ21).

Data (§7.2.1): 50 users on an Erdős–Rényi support (p = 0.1), w ~ U[0, 1] on the edges rescaled to
the branching ratio ρ(Wᵀ)·τ = 0.5, μ_u^c ~ U[0, 0.2], 3 cascades, τ = 3; Σ goes from I toward
σ21 = 1 with row 2 = [σ21, 1 − σ21, 0]. For each grid cell and repetition the instance (graph, W,
M) is drawn with the repetition's seed, a training log and an independent test log of length T are
simulated, the four variants are fitted on the training log (CC and MIC with the true β; τ true
for all), and each is scored on the test log. The cell value is the mean over repetitions of
L_test(model) / L_test(MIC); > 1 means MIC generalises better (log-likelihoods are negative).

At β = 100 the ratios stop favouring MIC: the Boltzmann mixing is then nearly a hard max, each
simulated log crowns its own winning cascades, and test events can fall in (user, cascade) pairs
that have no training event at all (``test_events_unseen_pairs``: 1,940 of 3,042 in the first
repetition of β = 100, σ21 = 0; 108 and 19 in the other two), which every Boltzmann fit (CC, MIC)
scores as near-impossible.

T is shortened from the paper's 500 to ``--t-end`` (default 100, ≈ 3,000 events per log) so that
the whole grid runs in about 15 minutes on one core; repetitions are 3 instead of 10.

Writes ``benchmarks/results/mic_fig2.json`` and ``benchmarks/results/mic_fig2.png``. Run:

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/mic_fig2.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _provenance import RESULTS, write_json

from cascadekit.models.hawkes.inference import fit_hawkes
from cascadekit.models.hawkes.likelihood import build_user_data, user_terms
from cascadekit.report.hawkes_plots import plot_ratio_heatmaps
from cascadekit.simulate.hawkes import simulate
from cascadekit.simulate.hawkes_params import VARIANTS
from cascadekit.simulate.synthetic import random_mic_params

TOL = 1e-5
# how every cell is made: the instance, the two simulations and the fits
CONFIG = {
    "instance": "cascadekit.simulate.synthetic.random_mic_params(50, Σ(σ21), tau=3, beta=β, "
    "branching=0.5, seed=rep)",
    "simulations": "train: seed 10000 + rep, test: seed 20000 + rep, both on [0, T]",
    "fit": f"fit_hawkes(train, support = true W > 0, variant, tau = 3, beta = β, n_cascades=3, "
    f"tol={TOL}) for every variant of VARIANTS; scored by user_terms on the test log",
    "variants": {v: list(spec) for v, spec in VARIANTS.items()},
}


def cell(beta: float, sigma21: float, rep: int, t_end: float) -> dict[str, float]:
    sigma = np.eye(3)
    sigma[1] = [sigma21, 1.0 - sigma21, 0.0]
    truth = random_mic_params(50, sigma, tau=3.0, beta=beta, branching=0.5, seed=rep)
    train = simulate(truth, t_end, seed=10_000 + rep)
    test = simulate(truth, t_end, seed=20_000 + rep)
    support = truth.W > 0
    test_data = build_user_data(test, support, truth.tau, n_cascades=3)
    seen = np.zeros((truth.n_users, 3), dtype=bool)
    seen[train.users, train.marks] = True
    # test events of (user, cascade) pairs with no training event: at large β each realisation of
    # the winner-take-all dynamics crowns other cascades, and no fit can know which
    unseen = int((~seen[test.users, test.marks]).sum())
    out = {"train_events": len(train), "test_events": len(test), "test_events_unseen_pairs": unseen}
    for variant in VARIANTS:
        res = fit_hawkes(train, support, variant, truth.tau, beta, n_cascades=3, tol=TOL)
        out[variant] = float(user_terms(test_data, res.params).sum())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--betas", type=float, nargs="+", default=[0.01, 0.1, 1.0, 10.0, 100.0])
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0.0, 0.33, 0.67, 1.0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--t-end", type=float, default=100.0)
    parser.add_argument("--out", default="mic_fig2", help="name of the .json / .png in results/")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of the outputs")
    args = parser.parse_args()
    results = args.results
    t0 = time.perf_counter()
    cells = []
    ratios = {v: np.zeros((len(args.betas), len(args.sigmas))) for v in ("ic", "linmic", "cc")}
    for i, beta in enumerate(args.betas):
        for j, s21 in enumerate(args.sigmas):
            reps = [cell(beta, s21, r, args.t_end) for r in range(args.reps)]
            for v in ratios:
                ratios[v][i, j] = float(np.mean([r[v] / r["mic"] for r in reps]))
            cells.append({"beta": beta, "sigma21": s21, "reps": reps})
            print(beta, s21, {v: round(float(ratios[v][i, j]), 4) for v in ratios}, flush=True)
    results.mkdir(parents=True, exist_ok=True)
    plot_ratio_heatmaps(
        args.betas, args.sigmas, {n.upper() if n != "linmic" else "linMIC": r for n, r in
                                  ratios.items()},
        results / f"{args.out}.png", title=f"test log-lik ratio (T = {args.t_end:g}, {args.reps} reps)",
    )  # fmt: skip
    result = {
        "setting": __doc__.split("\n\n")[1] + "\n\n" + __doc__.split("\n\n")[2],
        "betas": args.betas,
        "sigma21": args.sigmas,
        "reps": args.reps,
        "t_end": args.t_end,
        "config": CONFIG,
        "ratios": {v: r.tolist() for v, r in ratios.items()},
        "cells": cells,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    write_json(results / f"{args.out}.json", result)
    print(f"wrote {results / args.out}.json in {result['seconds']} s")


if __name__ == "__main__":
    main()
