"""`MIC` estimator: fit / score / save / load for the IC, linMIC, CC and MIC variants."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from cascadekit.data.events import EventLog
from cascadekit.data.graph import SocialGraph
from cascadekit.models.hawkes.inference import check_branching, fit_hawkes
from cascadekit.models.hawkes.likelihood import build_user_data, user_terms
from cascadekit.models.hawkes.params import VARIANTS, HawkesParams

_FORMAT = "cascadekit.MIC/1"


class MIC:
    """Mixture of interacting cascades (paper 002) and its special cases.

    Args:
        variant: "ic", "linmic", "cc" or "mic" (Table 1).
        tau, beta: kernel time scale (in the log's time units) and Boltzmann inverse temperature;
            choose them with ``inference.select_tau_beta``.
        graph: W[v, u] may be non-zero only for arcs v → u of ``graph`` (v influences u); None
            lets every pair interact.
        self_excitation: also free the diagonal w_uu (the Correlated Cascades code adds it).
        n_jobs, backend: joblib workers / backend of the per-user step.
        tol, max_iter: stopping rule of Alg. 1 (relative log-likelihood gain).
        seed: kept for the estimator contract; the fit itself is deterministic.
        init: warm start parameters.
        max_branching: in (0, 1): constrain every user's in-excitation τ·Σ_v w_vu, so the fit is
            stationary (ρ(Wᵀ)·τ ≤ max_branching) and safe to simulate; None: unconstrained MLE.
    """

    def __init__(
        self,
        variant: str = "mic",
        tau: float = 1.0,
        beta: float = 1.0,
        *,
        graph: SocialGraph | None = None,
        self_excitation: bool = True,
        n_jobs: int = 1,
        backend: str | None = None,
        tol: float = 1e-5,
        max_iter: int = 50,
        seed: int = 0,
        init: HawkesParams | None = None,
        progress: bool = False,
        max_branching: float | None = None,
    ) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; expected one of {sorted(VARIANTS)}")
        self.variant = variant
        self.tau = float(tau)
        self.beta = float(beta)
        self.graph = graph
        self.self_excitation = self_excitation
        self.n_jobs = n_jobs
        self.backend = backend
        self.tol = tol
        self.max_iter = max_iter
        self.seed = seed
        self.init = init
        self.progress = progress
        check_branching(max_branching)
        self.max_branching = max_branching
        self.params_: HawkesParams | None = None
        self.support_: np.ndarray | None = None
        self.fit_info_: dict[str, Any] = {}

    def support(self, events: EventLog) -> np.ndarray:
        """(U, U) bool: where W may be non-zero — W[u, v] (u influences v) on the social graph's
        arcs u → v (everywhere without a graph), plus the diagonal with ``self_excitation``."""
        n = events.n_users
        if self.graph is None:
            support = np.ones((n, n), dtype=bool)
        else:
            if self.graph.vocab != events.user_vocab:
                raise ValueError("graph and events must share the same user vocabulary")
            rows = np.repeat(np.arange(n), np.diff(self.graph.indptr))
            support = np.zeros((n, n), dtype=bool)
            support[rows, self.graph.indices] = True
        if self.self_excitation:
            np.fill_diagonal(support, True)
        return support

    def fit(self, train: EventLog, valid: EventLog | None = None) -> MIC:
        """Fit on ``train``'s window; with ``valid`` (later events), also report its
        log-likelihood with the training events as history."""
        support = self.support(train)
        t0 = time.perf_counter()
        data = build_user_data(train, support, self.tau)
        feature_s = time.perf_counter() - t0
        res = fit_hawkes(
            train, support, self.variant, self.tau, self.beta, init=self.init,
            n_jobs=self.n_jobs, backend=self.backend, tol=self.tol, max_iter=self.max_iter,
            progress=self.progress, data=data, max_branching=self.max_branching,
        )  # fmt: skip
        self.params_, self.support_ = res.params, support
        total_s = feature_s + res.seconds
        self.fit_info_ = {
            "history": res.history,
            "converged": res.converged,
            "n_iter": len(res.history) - 1,
            "n_events": len(train),
            "feature_seconds": feature_s,
            "fit_seconds": total_s,
            "n_events_per_second": len(train) / total_s if total_s > 0 else float("inf"),
            "train_loglik": res.history[-1]["loglik"],
        }
        if valid is not None:
            self.fit_info_["valid_loglik"] = self.log_likelihood(valid, history=train)
        return self

    def _check_fitted(self) -> HawkesParams:
        if self.params_ is None:
            raise RuntimeError("MIC is not fitted: call fit() or load() first")
        return self.params_

    def log_likelihood_terms(
        self,
        events: EventLog,
        *,
        history: EventLog | None = None,
        window: tuple[float, float] | None = None,
    ) -> np.ndarray:
        """Per-user log-likelihood of a window (see ``log_likelihood``).

        Shapes:
            returns (U,)
        """
        params = self._check_fitted()
        if history is not None:
            if window is None:
                window = (events.t_start, events.t_end)
            events = EventLog.concat(history, events)
        data = build_user_data(
            events, self.support_, params.tau, n_cascades=params.n_cascades, window=window
        )
        return user_terms(data, params)

    def log_likelihood(
        self,
        events: EventLog,
        *,
        history: EventLog | None = None,
        window: tuple[float, float] | None = None,
    ) -> float:
        """Exact log-likelihood of ``events`` in ``window`` (default: its own window).

        Earlier events are history: pass the full log with ``window=(t0, t1)``, or the test log
        with ``history=train`` (then the window defaults to the test log's).
        """
        return float(self.log_likelihood_terms(events, history=history, window=window).sum())

    def save(self, path: str | Path) -> None:
        """Write ``path/model.json`` (settings, fit info) and ``path/params.npz`` (arrays)."""
        params = self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": _FORMAT,
            "variant": self.variant,
            "tau": params.tau,
            "beta": params.beta,
            "phi": params.phi,
            "self_excitation": self.self_excitation,
            "tol": self.tol,
            "max_iter": self.max_iter,
            "seed": self.seed,
            "max_branching": self.max_branching,
            "fit_info": self.fit_info_,
        }
        (path / "model.json").write_text(json.dumps(meta, indent=2))
        np.savez(
            path / "params.npz", mu=params.mu, W=params.W, Sigma=params.Sigma, support=self.support_
        )

    @classmethod
    def load(cls, path: str | Path) -> MIC:
        """Inverse of ``save`` (exact: arrays are stored in binary)."""
        path = Path(path)
        meta = json.loads((path / "model.json").read_text())
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{path / 'model.json'}: not a {_FORMAT} model")
        with np.load(path / "params.npz", allow_pickle=False) as arrays:
            params = HawkesParams(
                mu=arrays["mu"], W=arrays["W"], Sigma=arrays["Sigma"], tau=meta["tau"],
                beta=meta["beta"], phi=meta["phi"],
            )  # fmt: skip
            support = arrays["support"]
        model = cls(
            meta["variant"], meta["tau"], meta["beta"], self_excitation=meta["self_excitation"],
            tol=meta["tol"], max_iter=meta["max_iter"], seed=meta["seed"],
            max_branching=meta.get("max_branching"),
        )  # fmt: skip
        model.params_, model.support_, model.fit_info_ = params, support, meta["fit_info"]
        return model
