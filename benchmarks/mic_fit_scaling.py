"""MIC log-likelihood speed and fit-time scaling (issue 4: "fit time grows linearly with events and
falls with 2 workers").

Setting (paper 002 §7.2 style): 50 users, 3 cascades, Erdős–Rényi support (p = 0.1) plus self
loops, w ~ U[0, 1] on the support rescaled to branching ratio ρ(Wᵀ)τ = 0.5, μ ~ U[0, 0.2], τ = 3,
β = 5, Σ = [[1, 0, 0], [.7, .3, 0], [0, 0, 1]]; logs simulated by `cascadekit.simulate.hawkes`.

1. Log-likelihood speed on ~50k events: feature pass (``build_user_data``) and the per-user terms,
   as events per second.
2. For three log sizes: one full log-likelihood + gradient pass (fixed work per event), and the fit
   time (MIC, a fixed number of Alg. 1 iterations, ``tol=0``; best of ``--repeats``) with
   ``n_jobs=1`` and ``n_jobs=2`` (loky processes). The inner L-BFGS-B iteration counts vary with
   the log, so fit times are only roughly proportional to the number of events.

Writes ``benchmarks/results/mic_fit_scaling.json`` with its provenance (command, commit, machine,
threads, load at start and end). A speed figure: run it on a quiet machine. Run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/mic_fit_scaling.py
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _provenance import RESULTS, write_json

from cascadekit.models.hawkes.inference import fit_hawkes
from cascadekit.models.hawkes.likelihood import build_user_data, user_loglik, user_terms
from cascadekit.simulate.hawkes import simulate
from cascadekit.simulate.hawkes_params import HawkesParams

OUT = RESULTS / "mic_fit_scaling.json"


def make_params(seed: int = 0) -> tuple[HawkesParams, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_users, tau = 50, 3.0
    support = rng.random((n_users, n_users)) < 0.1
    np.fill_diagonal(support, True)
    W = np.where(support, rng.uniform(0.0, 1.0, (n_users, n_users)), 0.0)
    W *= 0.5 / (tau * np.max(np.abs(np.linalg.eigvals(W.T))))
    sigma = np.array([[1.0, 0.0, 0.0], [0.7, 0.3, 0.0], [0.0, 0.0, 1.0]])
    mu = rng.uniform(0.0, 0.2, (n_users, 3))
    return HawkesParams(mu=mu, W=W, Sigma=sigma, tau=tau, beta=5.0, phi="boltzmann"), support


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[12_500, 25_000, 50_000],
        help="approximate events per simulated log of the fit-scaling part",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    params, support = make_params()
    rate = params.mu.sum() / 0.5  # stationary event rate with branching ratio 0.5

    t_big = 50_000 / rate
    events = simulate(params, t_big, seed=1)
    feat_s = best_of(lambda: build_user_data(events, support, params.tau), args.repeats)
    data = build_user_data(events, support, params.tau)
    terms_s = best_of(lambda: user_terms(data, params), args.repeats)
    loglik = {
        "events": len(events),
        "users": params.n_users,
        "cascades": params.n_cascades,
        "support_arcs": int(support.sum()),
        "feature_pass_s": feat_s,
        "terms_s": terms_s,
        "events_per_s_total": len(events) / (feat_s + terms_s),
        "events_per_s_terms_only": len(events) / terms_s,
    }
    print(json.dumps(loglik, indent=2))

    fits = []
    for target in args.sizes:
        log = simulate(params, target / rate, seed=2)
        data = build_user_data(log, support, params.tau)
        # Fixed work per size: one log-likelihood + gradient pass over all users.
        grad_s = best_of(
            lambda data=data: [
                user_loglik(d, params.mu[d.user], params.W[d.neighbors, d.user], params.Sigma,
                            params.beta, params.phi, grad=True)
                for d in data
            ],
            args.repeats,
        )  # fmt: skip
        for n_jobs in (1, 2):
            # Warm-up run so that the loky worker start-up is not charged to one size.
            fit_hawkes(log, support, "mic", params.tau, params.beta, n_jobs=n_jobs, max_iter=1,
                       tol=0.0, data=data)  # fmt: skip
            runs = [
                fit_hawkes(
                    log,
                    support,
                    "mic",
                    params.tau,
                    params.beta,
                    n_jobs=n_jobs,
                    max_iter=args.iterations,
                    tol=0.0,
                    data=data,
                )  # fmt: skip
                for _ in range(args.repeats)
            ]
            res = min(runs, key=lambda r: r.seconds)
            row = {
                "events": len(log),
                "n_jobs": n_jobs,
                "loglik_grad_pass_s": grad_s,
                "iterations": len(res.history) - 1,
                "fit_s_best_of_repeats": res.seconds,
                "s_per_iteration": res.seconds / max(len(res.history) - 1, 1),
                "final_loglik": res.history[-1]["loglik"],
            }
            fits.append(row)
            print(json.dumps(row))

    result = {
        "config": {
            "instance": "make_params(seed=0)",
            "fit": "fit_hawkes(variant='mic', "
            f"tol=0, max_iter={args.iterations}), best of {args.repeats}",
            "n_jobs": [1, 2],
            "backend": "joblib default (loky processes)",
        },
        "setting": __doc__.split("\n\n")[1],
        "loglik_speed": loglik,
        "fit_scaling": fits,
    }
    result["quiet_machine_needed"] = True
    write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
