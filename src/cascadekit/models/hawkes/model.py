"""`MarkedHawkes` estimator: fit / score / save / load for the IC, linMIC, CC and MIC variants."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from cascadekit.data.events import EventLog
from cascadekit.data.graph import SocialGraph
from cascadekit.models.base import read_model_header, write_model_header
from cascadekit.models.hawkes.inference import check_branching, fit_hawkes, select_tau_beta
from cascadekit.models.hawkes.likelihood import build_user_data, user_terms
from cascadekit.parallel import BACKENDS
from cascadekit.simulate.hawkes_params import VARIANTS, HawkesParams


@dataclass
class HawkesConfig:
    """Options of a marked Hawkes fit (``--set`` keys of ``cascadekit train ic|linmic|cc|mic``).

    variant: "ic", "linmic", "cc" or "mic" (Table 1; `VARIANTS`).
    tau, beta: kernel time scale (the log's time unit) and Boltzmann inverse temperature, used as
        given unless ``taus`` / ``betas`` grids are set, then chosen by `select_tau_beta` on the
        last 20 % of the training events.
    use_graph: restrict W to the dataset's social graph (plus self-excitation); False lets every
        pair of users interact.
    self_excitation: also free the diagonal w_uu (the Correlated Cascades code adds it).
    n_jobs, backend, address: workers (-1: every core), engine (`cascadekit.parallel.BACKENDS`;
        None: loky with several workers) and cluster of the per-user step; same fit on each.
    tol, max_iter: stopping rule of Alg. 1 (relative log-likelihood gain).
    max_branching: in (0, 1): constrain every user's in-excitation τ·Σ_v w_vu, so the fit is
        stationary (ρ(Wᵀ)·τ ≤ max_branching) and safe to simulate; None: unconstrained MLE.
    seed: kept for the estimator contract; the fit itself is deterministic.
    """

    variant: str = "mic"
    tau: float = 1.0
    beta: float = 1.0
    taus: list[float] | None = None
    betas: list[float] | None = None
    use_graph: bool = True
    self_excitation: bool = True
    tol: float = 1e-5
    max_iter: int = 50
    n_jobs: int = 1
    backend: str | None = None
    address: str | None = None
    max_branching: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(
                f"unknown variant {self.variant!r}; expected one of {sorted(VARIANTS)}"
            )
        for name in ("tau", "beta"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive finite number, got {value}")
        check_branching(self.max_branching)
        if self.max_iter < 1 or not self.tol > 0 or self.n_jobs == 0:
            raise ValueError("max_iter must be >= 1, tol > 0 and n_jobs != 0")
        for name in ("taus", "betas"):
            grid = getattr(self, name)
            if grid is not None and not (grid and all(math.isfinite(v) and v > 0 for v in grid)):
                raise ValueError(f"{name} must be a non-empty list of positive numbers, got {grid}")
        if self.backend is not None and self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")


class MarkedHawkes:
    """Marked multidimensional Hawkes process of interacting cascades (paper 002) in the four
    configurations of Table 1: ``MarkedHawkes(HawkesConfig(variant="mic", tau=..., beta=...))``.
    `MIC` is the paper's name for the "mic" variant.

    Args:
        config: `HawkesConfig`.
        graph: W[v, u] may be non-zero only for arcs v → u of ``graph`` (v influences u); None
            lets every pair interact (also set by `use_bundle` when ``config.use_graph``).
        init: warm start parameters.
    """

    name = "marked_hawkes"
    config_class = HawkesConfig

    def __init__(
        self,
        config: HawkesConfig | None = None,
        *,
        graph: SocialGraph | None = None,
        init: HawkesParams | None = None,
        progress: bool = False,
    ) -> None:
        self.config = config or HawkesConfig()
        self.graph = graph
        self.init = init
        self.progress = progress
        self.params_: HawkesParams | None = None
        self.support_: np.ndarray | None = None
        self.fit_info_: dict[str, Any] = {}

    @property
    def variant(self) -> str:
        return self.config.variant

    def use_bundle(self, bundle: Any) -> MarkedHawkes:
        """The dataset's social graph restricts W when ``config.use_graph``."""
        if self.config.use_graph:
            self.graph = bundle.graph
        return self

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
        if self.config.self_excitation:
            np.fill_diagonal(support, True)
        return support

    def fit(self, train: EventLog, valid: EventLog | None = None, **_: Any) -> MarkedHawkes:
        """Fit on ``train``'s window; with ``valid`` (later events), also report its
        log-likelihood with the training events as history. With ``taus``/``betas`` grids, (τ, β)
        are first chosen by `select_tau_beta` on the training events. The pipeline's keywords
        (``run_dir``, ...) are not used: a fit has no checkpoints."""
        cfg = self.config
        support = self.support(train)
        selection = None
        if cfg.taus or cfg.betas:
            selection = select_tau_beta(
                train, cfg.taus or [cfg.tau], cfg.betas or [cfg.beta], support,
                variant=cfg.variant, n_jobs=cfg.n_jobs, backend=cfg.backend, address=cfg.address,
                max_branching=cfg.max_branching,
            )  # fmt: skip
            self.config = replace(cfg, tau=selection["tau"], beta=selection["beta"])
            cfg = self.config
        t0 = time.perf_counter()
        data = build_user_data(train, support, cfg.tau)
        feature_s = time.perf_counter() - t0
        res = fit_hawkes(
            train, support, cfg.variant, cfg.tau, cfg.beta, init=self.init, n_jobs=cfg.n_jobs,
            backend=cfg.backend, address=cfg.address, tol=cfg.tol, max_iter=cfg.max_iter, progress=self.progress,
            data=data, max_branching=cfg.max_branching,
        )  # fmt: skip
        self.params_, self.support_ = res.params, support
        total_s = feature_s + res.seconds
        self.fit_info_ = {
            "selection": selection,
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
            raise RuntimeError("MarkedHawkes is not fitted: call fit() or load() first")
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

    def save(self, path: str | Path) -> Path:
        """``path/model.json`` (the versioned header: config, fit info) and ``path/params.npz``."""
        params = self._check_fitted()
        folder = Path(path)
        write_model_header(
            folder, self.name,
            {"config": asdict(self.config), "phi": params.phi, "fit_info": self.fit_info_},
        )  # fmt: skip
        np.savez(
            folder / "params.npz", mu=params.mu, W=params.W, Sigma=params.Sigma,
            support=self.support_,
        )  # fmt: skip
        return folder

    @classmethod
    def load(cls, path: str | Path) -> MarkedHawkes:
        """Inverse of ``save`` (exact: arrays are stored in binary, never pickled)."""
        folder = Path(path)
        header = read_model_header(folder, (cls.name,))
        config = HawkesConfig(**header["config"])
        with np.load(folder / "params.npz", allow_pickle=False) as arrays:
            params = HawkesParams(
                mu=arrays["mu"], W=arrays["W"], Sigma=arrays["Sigma"], tau=config.tau,
                beta=config.beta, phi=header["phi"],
            )  # fmt: skip
            support = arrays["support"]
        model = cls(config)
        model.params_, model.support_, model.fit_info_ = params, support, header["fit_info"]
        return model


def MIC(**options: Any) -> MarkedHawkes:  # noqa: N802 — the paper's name for its model
    """The paper's MIC (Boltzmann mixing, learned Σ): ``MIC(tau=..., beta=...)``."""
    return MarkedHawkes(HawkesConfig(variant="mic", **options))
