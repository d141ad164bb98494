"""Exact thinning simulator: known stationary rates, time rescaling, mark law, seeds, history."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cascadekit.data.events import EventLog
from cascadekit.data.vocab import Vocabulary
from cascadekit.simulate.hawkes import initial_excitation, simulate
from cascadekit.simulate.hawkes_params import HawkesParams


def _kernel_matrix(t: np.ndarray, t_events: np.ndarray, tau: float) -> np.ndarray:
    """κ(t_k − t_e) for every (query k, event e), zero unless t_e < t_k (strictly earlier)."""
    dt = t[:, None] - t_events[None, :]
    return np.where(dt > 0, np.exp(-np.maximum(dt, 0.0) / tau), 0.0)


def _compensator(params: HawkesParams, log: EventLog, t: np.ndarray, t0: float) -> np.ndarray:
    """Λ_u(t) = ∫_{t0}^t λ_u, from the definition (eq. 8): (K, U)."""
    dt_start = np.maximum(t0 - log.times, 0.0)  # events before t0 (history) start decayed
    dt = t[:, None] - log.times[None, :]
    integral = np.where(
        dt > 0,
        params.tau * (np.exp(-dt_start / params.tau) - np.exp(-np.maximum(dt, 0.0) / params.tau)),
        0.0,
    )
    return params.mu.sum(axis=1) * (t[:, None] - t0) + integral @ params.W[log.users]


def _rescaled_gaps(params: HawkesParams, full: EventLog, new: EventLog) -> np.ndarray:
    """Per-user compensator increments between consecutive events of each user, pooled."""
    lam = _compensator(params, full, new.times, new.t_start)
    gaps = []
    for u in range(params.n_users):
        at = lam[new.users == u, u]
        gaps.append(np.diff(np.concatenate([[0.0], at])))
    return np.concatenate(gaps)


def _er_params(n_users: int, n_casc: int, seed: int, **kwargs: object) -> HawkesParams:
    rng = np.random.default_rng(seed)
    w = (rng.random((n_users, n_users)) < 0.3) * rng.random((n_users, n_users))
    np.fill_diagonal(w, 0.0)
    w[np.arange(n_users), np.roll(np.arange(n_users), 1)] += 0.5  # a ring: ρ(Wᵀ) > 0
    tau = float(kwargs.pop("tau", 1.0))
    w *= 0.5 / (np.max(np.abs(np.linalg.eigvals(w.T))) * tau)
    mu = rng.uniform(0.0, 0.2, (n_users, n_casc))
    sigma = kwargs.pop("Sigma", np.eye(n_casc))
    return HawkesParams(mu, w, sigma, tau=tau, **kwargs)


def test_univariate_stationary_rate() -> None:
    # μ/(1 − wτ) = 0.5/(1 − 0.6) = 1.25; a small τ also forces ~2000 moves of the reference frame
    p = HawkesParams([[0.5]], [[12.0]], [[1.0]], tau=0.05, phi="linear")
    log = simulate(p, 20_000.0, seed=3)
    rate = len(log) / 20_000.0
    # dispersion 1/(1 − wτ)² = 6.25 → standard error ≈ 1.6 %; 5 % is three of them
    assert rate == pytest.approx(1.25, rel=0.05)
    assert log.attrs["candidates"] >= len(log)


def test_time_rescaling_multivariate_mic() -> None:
    sigma = np.array([[1.0, 0.0, 0.0], [0.71, 0.29, 0.0], [0.0, 0.0, 1.0]])
    p = _er_params(6, 3, seed=1, tau=2.0, Sigma=sigma, beta=10.0, phi="boltzmann")
    log = simulate(p, 600.0, seed=11)
    assert 1000 < len(log) < 4000
    gaps = _rescaled_gaps(p, log, log)
    assert stats.kstest(gaps, "expon").pvalue > 0.01
    # the pooled ground process too: increments of Σ_u Λ_u between consecutive events
    total = _compensator(p, log, log.times, 0.0).sum(axis=1)
    assert stats.kstest(np.diff(np.concatenate([[0.0], total])), "expon").pvalue > 0.01


def test_time_rescaling_rejects_a_wrong_model() -> None:
    # the same check fails when the compensator uses the wrong τ: the KS test has power here
    p = _er_params(6, 1, seed=2, tau=2.0, phi="linear")
    log = simulate(p, 600.0, seed=5)
    wrong = HawkesParams(p.mu, p.W, p.Sigma, tau=0.5, phi="linear")
    assert stats.kstest(_rescaled_gaps(p, log, log), "expon").pvalue > 0.01
    assert stats.kstest(_rescaled_gaps(wrong, log, log), "expon").pvalue < 1e-6


def test_marks_follow_boltzmann_mixing() -> None:
    sigma = np.array([[0.6, 0.4, 0.0], [0.0, 1.0, 0.0], [0.3, 0.0, 0.7]])
    p = _er_params(5, 3, seed=4, tau=2.0, Sigma=sigma, beta=8.0, phi="boltzmann")
    log = simulate(p, 800.0, seed=9)
    # f_u(c | t_i) from the definition (eq. 6–7), history strictly before t_i
    k = _kernel_matrix(log.times, log.times, p.tau)
    exc = np.stack([k[:, log.marks == c] @ p.W[log.users[log.marks == c]] for c in range(3)])
    own = exc[:, np.arange(len(log)), log.users].T  # (N, C): Σ_v w_vu Σ_{e∈H_v^c} κ for u = u_i
    z = p.beta * (p.mu[log.users] + own @ sigma)
    f = np.exp(z - z.max(axis=1, keepdims=True))
    f /= f.sum(axis=1, keepdims=True)
    # E[#events of (u, c)] = E[Σ_{events of u} f_u(c|t_i)]; the gap is a martingale
    observed = np.zeros((5, 3))
    np.add.at(observed, (log.users, log.marks), 1.0)
    expected, var = np.zeros((5, 3)), np.zeros((5, 3))
    np.add.at(expected, log.users, f)
    np.add.at(var, log.users, f * (1 - f))
    z_scores = (observed - expected) / np.sqrt(np.maximum(var, 1e-12))
    assert np.all(np.abs(z_scores) < 4.0)
    # and the split really is uneven, so the check above has something to match
    assert np.max(expected / expected.sum(axis=1, keepdims=True)) > 0.6


def test_same_seed_same_log_and_different_seed_differs() -> None:
    p = _er_params(8, 2, seed=0, Sigma=np.array([[0.5, 0.5], [0.2, 0.8]]), beta=3.0)
    a, b, c = simulate(p, 200.0, seed=7), simulate(p, 200.0, seed=7), simulate(p, 200.0, seed=8)
    for x, y in ((a.times, b.times), (a.users, b.users), (a.marks, b.marks)):
        np.testing.assert_array_equal(x, y)
    assert len(a) != len(c) or not np.array_equal(a.times, c.times)
    assert a.t_start == 0.0 and a.t_end == 200.0 and np.all(np.diff(a.times) >= 0)
    assert a.user_vocab == Vocabulary.range(8) and a.mark_vocab == Vocabulary.range(2)


def test_history_excitation_is_exact_and_carries_over() -> None:
    p = _er_params(4, 2, seed=6, tau=1.5, Sigma=np.array([[0.9, 0.1], [0.0, 1.0]]), beta=2.0)
    hist = simulate(p, 50.0, seed=1)
    t0 = 52.0
    x = initial_excitation(p, hist, t0)
    k = _kernel_matrix(np.array([t0]), hist.times, p.tau)[0]
    for c in range(2):
        sel = hist.marks == c
        np.testing.assert_allclose(x[c], (k[sel] * p.W[hist.users[sel]].T).sum(axis=1))
    # a continuation is consistent with the compensator that includes the history
    new = simulate(p, 600.0, t_start=t0, history=hist, seed=2)
    assert new.t_start == t0 and new.times[0] > t0 and new.user_vocab == hist.user_vocab
    full = EventLog(
        np.concatenate([hist.users, new.users]),
        np.concatenate([hist.marks, new.marks]),
        np.concatenate([hist.times, new.times]),
        hist.user_vocab,
        hist.mark_vocab,
    )
    assert stats.kstest(_rescaled_gaps(p, full, new), "expon").pvalue > 0.01


def test_history_alone_triggers_cluster_of_known_mean_size() -> None:
    # μ = 0: one past event at t0 leaves a cluster of mean size wτ/(1 − wτ) = 1.5 (wτ = 0.6)
    p = HawkesParams([[0.0]], [[0.3]], [[1.0]], tau=2.0, phi="linear")
    hist = EventLog([0], [0], [0.0], Vocabulary.range(1), Vocabulary.range(1))
    sizes = [len(simulate(p, 200.0, history=hist, seed=s)) for s in range(2000)]
    # variance of the cluster size is wτ/(1 − wτ)³ = 9.375 → standard error 0.068
    assert np.mean(sizes) == pytest.approx(1.5, abs=0.25)
    # without the history nothing ever happens
    assert len(simulate(p, 200.0, seed=0)) == 0


def test_max_events_truncates_the_window() -> None:
    p = _er_params(5, 1, seed=0, phi="linear")
    full = simulate(p, 1000.0, seed=4)
    cut = simulate(p, 1000.0, seed=4, max_events=10)
    assert len(cut) == 10 and cut.attrs["truncated"] and not full.attrs["truncated"]
    np.testing.assert_array_equal(cut.times, full.times[:10])
    assert cut.t_end == cut.times[-1]


def test_bad_inputs_raise() -> None:
    p = _er_params(3, 2, seed=0, Sigma=np.eye(2))
    with pytest.raises(ValueError, match="t_end"):
        simulate(p, 0.0)
    hist = EventLog([0], [1], [5.0], Vocabulary.range(3), Vocabulary.range(2))
    with pytest.raises(ValueError, match="after the simulation start"):
        simulate(p, 10.0, t_start=4.0, history=hist)
    with pytest.raises(ValueError, match="vocabularies"):
        simulate(p, 10.0, user_vocab=Vocabulary.range(4))
