"""Point-process protocol on a known model: truth scores well, a wrong model scores worse."""

from __future__ import annotations

import numpy as np

from cascadekit.data.events import EventLog
from cascadekit.simulate.hawkes import simulate
from cascadekit.simulate.hawkes_params import HawkesParams
from cascadekit.tasks.point_process import evaluate_point_process, top_users


class BruteForceIC:
    """Exact IC (linear, Σ = I) per-user log-likelihood by a double loop — a test oracle."""

    def __init__(self, params: HawkesParams) -> None:
        self.params_ = params

    def log_likelihood_terms(self, test: EventLog, *, history: EventLog) -> np.ndarray:
        events = EventLog.concat(history, test)
        p, t0, t_end = self.params_, test.t_start, events.t_end
        out = np.zeros(p.n_users)
        for i in np.flatnonzero(events.times >= t0):
            u, c, t = events.users[i], events.marks[i], events.times[i]
            past = events.times < t
            exc = p.W[events.users[past], u] * np.exp(-(t - events.times[past]) / p.tau)
            out[u] += np.log(p.mu[u, c] + exc[events.marks[past] == c].sum())
        before = events.times < t_end
        for u in range(p.n_users):
            w = p.W[events.users[before], u]
            te = events.times[before]
            out[u] -= p.mu[u].sum() * (t_end - t0) + np.sum(
                w
                * p.tau
                * (np.exp(-np.maximum(t0 - te, 0) / p.tau) - np.exp(-(t_end - te) / p.tau))
            )
        return out


def params(scale: float) -> HawkesParams:
    rng = np.random.default_rng(0)
    w = (rng.random((6, 6)) < 0.4) * rng.random((6, 6))
    np.fill_diagonal(w, 0)
    w *= 0.5 / max(np.abs(np.linalg.eigvals(w)).max(), 1e-9)  # ρ(W)·τ = 0.5: stationary
    return HawkesParams(
        mu=scale * rng.random((6, 2)) * 0.3, W=w, Sigma=np.eye(2), tau=1.0, phi="linear"
    )


def test_protocol_on_a_known_model() -> None:
    truth = params(1.0)
    log = simulate(truth, 600.0, seed=3)
    train, test = log.split_fraction(0.8)
    good = evaluate_point_process(
        BruteForceIC(truth), train, test, n_simulations=4, n_bins=10, seed=1
    )
    bad = evaluate_point_process(
        BruteForceIC(params(3.0)), train, test, n_simulations=4, n_bins=10, seed=1
    )
    assert good["test_events"] == len(test)
    assert good["test_loglik"] > bad["test_loglik"]
    # the simulated test horizon reproduces the real event volume of the true model
    real, sim = good["overall"]["real_events"], good["overall"]["simulated_events_mean"]
    assert abs(sim - real) < 0.15 * real
    assert good["overall"]["inverse_l1"] > bad["overall"]["inverse_l1"]
    assert len(good["ranked_activity"]["users_real"]) == 6
    assert good["ranked_activity"]["users_real"] == sorted(
        good["ranked_activity"]["users_real"], reverse=True
    )
    per_user = BruteForceIC(truth).log_likelihood_terms(test, history=train)
    assert np.isclose(good["test_loglik_top25pct_users"], per_user[top_users(train, 0.25)].sum())
    assert np.isclose(good["test_loglik"], per_user.sum())
    assert set(good["per_cascade"]) == {"0", "1"}
    assert good["stationarity"]["stationary"] and np.isclose(
        good["stationarity"]["spectral_radius"] * truth.tau, 0.5
    )
    assert good["overall"]["capped_simulations"] == 0


def test_explosive_fit_is_flagged_and_its_simulations_capped() -> None:
    truth = params(1.0)
    train, test = simulate(truth, 200.0, seed=4).split_fraction(0.8)
    hot = params(1.0)
    hot.W = hot.W * 3.0  # ρ(Wᵀ)·τ = 1.5
    out = evaluate_point_process(BruteForceIC(hot), train, test, n_simulations=2, max_events=500)
    assert not out["stationarity"]["stationary"]
    assert out["overall"]["capped_simulations"] == 2
    assert out["overall"]["simulated_events_mean"] <= 500


def test_oracle_agrees_with_the_library_likelihood() -> None:
    from cascadekit.models.hawkes import HawkesConfig, MarkedHawkes

    truth = params(1.0)
    train, test = simulate(truth, 300.0, seed=2).split_fraction(0.8)
    model = MarkedHawkes(HawkesConfig(variant="ic", tau=1.0))
    model.params_, model.support_ = truth, np.ones((6, 6), dtype=bool)
    np.testing.assert_allclose(
        model.log_likelihood_terms(test, history=train),
        BruteForceIC(truth).log_likelihood_terms(test, history=train),
        rtol=1e-9,
    )


def test_top_users_use_training_activity() -> None:
    from cascadekit.data.vocab import Vocabulary

    ev = EventLog(
        np.array([2, 2, 0, 2, 1]),
        np.zeros(5, int),
        np.arange(5.0),
        Vocabulary.range(4),
        Vocabulary(["x"]),
    )
    assert top_users(ev, 0.25).tolist() == [2]  # 3 active users → ⌈0.75⌉ = 1
    assert top_users(ev, 0.5).tolist() == [2, 0]  # ties (0 and 1, one event each) by index
