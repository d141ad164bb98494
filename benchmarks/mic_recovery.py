"""MIC parameter recovery (paper 002 §7.2 / Fig. 3).

Instance: 50 users, 3 cascades, Erdős–Rényi support (p = 0.1, no self loops), w ~ U[0, 1] on the
edges rescaled so that the branching ratio ρ(Wᵀ)·τ equals each of ``--branching`` (default 0.3 and
0.6; the process is stationary for ρ(Wᵀ)·τ < 1), μ_u^c ~ U[0, 0.2], τ = 3, β = 33.37,
Σ* = [[1, 0, 0], [.71, .29, 0], [0, 0, 1]], horizon T = 500. For each seed: simulate exactly
(Ogata), fit MIC with the true graph support and τ, β fixed at their true values, and report Σ̃,
max|Σ̃ − Σ*| (paper: 0.04), and the relative Frobenius errors of M̃ and W̃.

Writes ``benchmarks/results/mic_recovery.json`` (``--out``) after every fit, each run keyed
(branching ratio, seed, T, start) with the fit's configuration and provenance: a re-run replaces
the run with the same key, ``--resume`` skips runs already in the file. Run (one core):

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/mic_recovery.py --seeds 0 1 2 3 4 5 6 7 8 9
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _provenance import RESULTS, RunStore, load_json

from cascadekit.models.hawkes.inference import fit_hawkes
from cascadekit.simulate.hawkes import simulate
from cascadekit.simulate.synthetic import random_mic_params

OUT = RESULTS / "mic_recovery.json"
RUN_KEY = ("branching_ratio", "seed", "t_end", "init")
TOL, MAX_ITER = 1e-6, 100
SIGMA = np.array([[1.0, 0.0, 0.0], [0.71, 0.29, 0.0], [0.0, 0.0, 1.0]])


def rel_err(est: np.ndarray, true: np.ndarray) -> float:
    return float(np.linalg.norm(est - true) / np.linalg.norm(true))


def run_seed(seed: int, t_end: float, branching: float, from_truth: bool = False) -> dict:
    truth = random_mic_params(50, SIGMA, tau=3.0, beta=33.37, branching=branching, seed=seed)
    t0 = time.perf_counter()
    events = simulate(truth, t_end, seed=1000 + seed)
    sim_s = time.perf_counter() - t0
    support = truth.W > 0
    init = truth if from_truth else None
    res = fit_hawkes(
        events, support, "mic", truth.tau, truth.beta, init=init, tol=TOL, max_iter=MAX_ITER
    )
    est = res.params
    return {
        "branching_ratio": branching,
        "seed": seed,
        "t_end": t_end,
        "init": "truth" if from_truth else "default",
        "config": {
            "instance": {
                "generator": "cascadekit.simulate.synthetic.random_mic_params",
                "n_users": 50,
                "sigma": SIGMA.tolist(),
                "tau": 3.0,
                "beta": 33.37,
                "branching": branching,
                "seed": seed,
            },
            "simulation": {"t_end": t_end, "seed": 1000 + seed},
            "fit": {
                "function": "cascadekit.models.hawkes.inference.fit_hawkes",
                "variant": "mic",
                "support": "true W > 0",
                "tau": truth.tau,
                "beta": truth.beta,
                "init": "truth" if from_truth else "default",
                "tol": TOL,
                "max_iter": MAX_ITER,
            },
        },  # fmt: skip
        "events": len(events),
        "events_per_cascade": np.bincount(events.marks, minlength=3).tolist(),
        "simulate_s": round(sim_s, 2),
        "fit_s": round(res.seconds, 2),
        "iterations": len(res.history) - 1,
        "converged": res.converged,
        "Sigma_hat": np.round(est.Sigma, 4).tolist(),
        "max_abs_Sigma_error": float(np.abs(est.Sigma - SIGMA).max()),
        "rel_error_M": rel_err(est.mu, truth.mu),
        "rel_error_W": rel_err(est.W, truth.W),
        "loglik_fit": res.history[-1]["loglik"],
    }


def summarise(runs: list[dict], t_end: float) -> dict:
    """The file's payload: per branching ratio, the spread of the errors over seeds."""
    by_branching = []
    for branching in sorted({r["branching_ratio"] for r in runs}):
        rs = [r for r in runs if r["branching_ratio"] == branching]
        errs = [r["max_abs_Sigma_error"] for r in rs]
        by_branching.append(
            {
                "branching_ratio": branching,
                "seeds": [r["seed"] for r in rs],
                "max_abs_Sigma_error_mean": float(np.mean(errs)),
                "max_abs_Sigma_error_max": float(np.max(errs)),
                "max_abs_Sigma_error_median": float(np.median(errs)),
                "seeds_within_0.05": int(np.sum(np.array(errs) <= 0.05)),
                "mean_events": float(np.mean([r["events"] for r in rs])),
                "rel_error_M_mean": float(np.mean([r["rel_error_M"] for r in rs])),
                "rel_error_W_mean": float(np.mean([r["rel_error_W"] for r in rs])),
            }
        )
    return {
        "setting": __doc__.split("\n\n")[1],
        "t_end": t_end,
        "Sigma_true": SIGMA.tolist(),
        "summary": by_branching,
        "target": "max|Σ̃ − Σ*| ≤ 0.05 (paper: 0.04)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--t-end", type=float, default=500.0)
    parser.add_argument("--branching", type=float, nargs="+", default=[0.3, 0.6])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--from-truth",
        action="store_true",
        help="start Alg. 1 at the true parameters: separates estimator spread from optimisation",
    )
    parser.add_argument(
        "--resume", action="store_true", help="skip runs already in --out (made by this code)"
    )
    args = parser.parse_args()
    init = "truth" if args.from_truth else "default"
    # legacy runs (no t_end field) belong to the horizon their file records
    file_t = load_json(args.out).get("t_end", args.t_end)
    store = RunStore(args.out, RUN_KEY, legacy=lambda r: {"t_end": file_t, "init": "default", **r})
    for branching in args.branching:
        for seed in args.seeds:
            key = {"branching_ratio": branching, "seed": seed, "t_end": args.t_end, "init": init}
            if args.resume and store.find(**key):
                continue
            run = store.add(run_seed(seed, args.t_end, branching, args.from_truth))
            print(json.dumps({k: v for k, v in run.items() if k != "provenance"}), flush=True)
            # written after every fit so that an interrupted benchmark keeps what it measured
            store.write(**summarise(mine(store.runs, args.t_end, init), args.t_end))
    print(f"wrote {args.out}")


def mine(runs: list[dict], t_end: float, init: str) -> list[dict]:
    """The runs a summary is over: this horizon and start only (a file holds one of each)."""
    return [r for r in runs if r.get("t_end") == t_end and r.get("init") == init]


if __name__ == "__main__":
    main()
