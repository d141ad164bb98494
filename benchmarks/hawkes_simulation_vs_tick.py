"""Hawkes simulation speed and log-likelihood agreement: cascadekit vs tick (issue 4 acceptance).

Setting: 50 users, exponential kernel, Erdős–Rényi adjacency (p = 0.1) with weights U[0,1] scaled to
spectral radius 0.5, baselines U[0, 0.2], T = 50,000, the IC special case (one cascade, linear).

Kernel conventions (converted here, at the boundary):

    cascadekit  λ_u(t) = μ_u + Σ_v W[v, u] Σ_{e∈H_v} exp(−(t − t_e)/τ)
    tick        λ_i(t) = μ_i + Σ_j α_ij Σ_{e∈H_j} ω exp(−ω (t − t_e))

so ω = 1/τ and α_ij = W[j, i]/ω = τ W[j, i], i.e. adjacency = τ Wᵀ (both branching matrices have
spectral radius ρ(Wᵀ)τ). tick's ``ModelHawkesExpKernLogLik.loss`` is (−ℓ − D·T)/N with D users
and N events; ℓ here is ``cascadekit.models.hawkes.likelihood.log_likelihood``, checked on both
simulators' logs. The MIC path (3 cascades, Boltzmann) is timed too, ours only.

tick runs in its own virtualenv (never in the project's), through a subprocess::

    python3 -m venv /tmp/tickenv
    /tmp/tickenv/bin/pip install -c constraints.txt tick numpydoc six numpy
    python benchmarks/hawkes_simulation_vs_tick.py --tick-python /tmp/tickenv/bin/python

Writes ``benchmarks/results/hawkes_simulation_vs_tick.json`` with its provenance (command, commit,
machine, threads, load; tick's version, numpy and Python come from tick's interpreter). A speed
figure: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from _provenance import RESULTS as _RESULTS
from _provenance import write_json

from cascadekit.data.events import EventLog
from cascadekit.models.hawkes.analytics import expected_counts
from cascadekit.models.hawkes.likelihood import log_likelihood
from cascadekit.simulate.hawkes import simulate
from cascadekit.simulate.hawkes_params import HawkesParams

RESULTS = _RESULTS / "hawkes_simulation_vs_tick.json"

# Runs inside tick's virtualenv: reads parameters and our log (.npz, no pickle), times tick's
# simulator, evaluates tick's loss on both logs, writes its own log back and a JSON line to stdout.
_TICK_SCRIPT = r"""
import json, sys, time
import numpy as np
import tick
from tick.hawkes import ModelHawkesExpKernLogLik, SimuHawkesExpKernels

inp, out = sys.argv[1], sys.argv[2]
d = np.load(inp, allow_pickle=False)
adjacency, baseline, omega = d["adjacency"], d["baseline"], float(d["omega"])
t_end, seed, repeats = float(d["t_end"]), int(d["seed"]), int(d["repeats"])
n = len(baseline)
timings, counts = [], []
for r in range(repeats):
    sim = SimuHawkesExpKernels(adjacency=adjacency, decays=omega, baseline=baseline,
                               end_time=t_end, seed=seed + r, verbose=False)
    t0 = time.perf_counter()
    sim.simulate()
    timings.append(time.perf_counter() - t0)
    counts.append(int(sum(len(ts) for ts in sim.timestamps)))
    if r == 0:
        first = [np.asarray(ts, dtype=float) for ts in sim.timestamps]

def loss(timestamps):
    model = ModelHawkesExpKernLogLik(omega)
    model.fit([np.ascontiguousarray(ts, dtype=float) for ts in timestamps], end_times=t_end)
    return float(model.loss(np.concatenate([baseline, adjacency.ravel()]))), int(model.n_jumps)

users, times = d["our_users"], d["our_times"]
ours = [times[users == i] for i in range(n)]
loss_ours, n_ours = loss(ours)
loss_tick, n_tick = loss(first)
tick_users = np.concatenate([np.full(len(ts), i) for i, ts in enumerate(first)])
tick_times = np.concatenate(first)
np.savez(out, users=tick_users, times=tick_times)
print(json.dumps({
    "tick_version": tick.__version__, "numpy_version": np.__version__,
    "python": sys.version.split()[0], "seconds": timings, "events": counts,
    "loss_on_our_log": loss_ours, "n_jumps_our_log": n_ours,
    "loss_on_tick_log": loss_tick, "n_jumps_tick_log": n_tick,
}))
"""


def benchmark_params(n_users: int = 50, radius: float = 0.5, tau: float = 1.0, seed: int = 0):
    """The IC setting: ER(p = 0.1) graph, w ~ U[0,1] scaled to ρ(Wᵀ)τ = radius, μ ~ U[0, 0.2]."""
    rng = np.random.default_rng(seed)
    w = (rng.random((n_users, n_users)) < 0.1) * rng.random((n_users, n_users))
    np.fill_diagonal(w, 0.0)
    w *= radius / (np.max(np.abs(np.linalg.eigvals(w.T))) * tau)
    mu = rng.uniform(0.0, 0.2, (n_users, 1))
    return HawkesParams(mu, w, np.eye(1), tau=tau, phi="linear")


def _time_ours(params: HawkesParams, t_end: float, seed: int, repeats: int):
    runs = []
    for r in range(repeats):
        t0 = time.perf_counter()
        log = simulate(params, t_end, seed=seed + r)
        runs.append((time.perf_counter() - t0, len(log), log))
    return runs


def _tick(python: str, params: HawkesParams, log: EventLog, t_end: float, seed: int, repeats: int):
    """Run tick's simulator and loss in its own interpreter; returns its JSON and its first log."""
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(
            inp,
            adjacency=params.tau * params.W.T,
            baseline=params.mu.sum(axis=1),
            omega=1.0 / params.tau,
            t_end=t_end,
            seed=seed,
            repeats=repeats,
            our_users=log.users,
            our_times=log.times,
        )
        env = dict(os.environ, OMP_NUM_THREADS="1")
        proc = subprocess.run(
            [python, "-c", _TICK_SCRIPT, str(inp), str(out)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if proc.returncode != 0:
            return {"error": proc.stderr.strip()[-2000:], "returncode": proc.returncode}, None
        with np.load(out, allow_pickle=False) as d:
            order = np.argsort(d["times"], kind="stable")
            tick_log = EventLog(
                d["users"][order],
                np.zeros(len(order), dtype=np.int64),
                d["times"][order],
                log.user_vocab,
                log.mark_vocab,
                t_start=0.0,
                t_end=t_end,
            )
        return json.loads(proc.stdout.strip().splitlines()[-1]), tick_log


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tick-python", default=os.environ.get("TICK_PYTHON", "/tmp/tickenv/bin/python")
    )
    parser.add_argument("--t-end", type=float, default=50_000.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    params = benchmark_params(seed=args.seed)
    t_end, n_users = args.t_end, params.n_users
    runs = _time_ours(params, t_end, args.seed, args.repeats)
    ours_rate = [n / s for s, n, _ in runs]
    log = runs[0][2]
    result: dict = {
        "setting": {
            "users": n_users,
            "cascades": 1,
            "variant": "ic",
            "graph": "Erdos-Renyi p=0.1, w ~ U[0,1] scaled to rho(W^T) tau = 0.5",
            "baseline": "U[0, 0.2]",
            "tau": params.tau,
            "tick_decay_omega": 1.0 / params.tau,
            "t_end": t_end,
            "repeats": args.repeats,
            "seed": args.seed,
            "expected_events": float(expected_counts(params, t_end).sum()),
        },
        "cascadekit": {
            "seconds": [s for s, _, _ in runs],
            "events": [n for _, n, _ in runs],
            "events_per_s": ours_rate,
            "events_per_s_median": float(np.median(ours_rate)),
        },
    }
    # the full MIC path (3 cascades, Boltzmann, Fig. 3's Σ*) on the same graph, ours only
    mic = HawkesParams(
        np.random.default_rng(args.seed + 1).uniform(0.0, 0.2, (n_users, 3)),
        params.W,
        np.array([[1.0, 0.0, 0.0], [0.71, 0.29, 0.0], [0.0, 0.0, 1.0]]),
        tau=params.tau,
        beta=33.37,
        phi="boltzmann",
    )
    t0 = time.perf_counter()
    n_mic = len(simulate(mic, t_end / 5, seed=args.seed))
    mic_seconds = time.perf_counter() - t0
    result["cascadekit_mic_3_cascades"] = {
        "t_end": t_end / 5,
        "beta": mic.beta,
        "events": n_mic,
        "seconds": mic_seconds,
        "events_per_s": n_mic / mic_seconds,
    }
    tick_info, tick_log = _tick(args.tick_python, params, log, t_end, args.seed, args.repeats)
    result["tick"] = tick_info
    if tick_log is not None:
        tick_rate = [n / s for s, n in zip(tick_info["seconds"], tick_info["events"], strict=True)]
        tick_info["events_per_s"] = tick_rate
        tick_info["events_per_s_median"] = float(np.median(tick_rate))
        result["speed_ratio_ours_over_tick"] = float(np.median(ours_rate) / np.median(tick_rate))
        checks = {}
        for name, which, loss_key in (
            ("our_log", log, "loss_on_our_log"),
            ("tick_log", tick_log, "loss_on_tick_log"),
        ):
            ll = log_likelihood(which, params, window=(0.0, t_end))
            ours_loss = (-ll - n_users * t_end) / len(which)
            checks[name] = {
                "events": len(which),
                "our_loglik": ll,
                "our_loss_converted": ours_loss,
                "tick_loss": tick_info[loss_key],
                "relative_difference": _rel(ours_loss, tick_info[loss_key]),
                "within_1e-8": bool(_rel(ours_loss, tick_info[loss_key]) < 1e-8),
            }
        result["loglik_check"] = checks
        result["loglik_source"] = "cascadekit.models.hawkes.likelihood.log_likelihood"
    result["quiet_machine_needed"] = True  # a speed ratio: both sides timed in this process
    write_json(args.out, result, tick_python=args.tick_python)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
