"""Exact log-likelihood of the MIC family: brute force, gradients, tie rule, textbook Hawkes."""

from __future__ import annotations

import numpy as np
import pytest

from cascadekit.data.events import EventLog
from cascadekit.data.vocab import Vocabulary
from cascadekit.models.hawkes.likelihood import (
    build_user_data,
    log_likelihood,
    log_likelihood_grad,
    log_likelihood_terms,
)
from cascadekit.simulate.hawkes_params import VARIANTS, HawkesParams


def _random_case(seed: int, variant: str, n_users: int = 4, n_casc: int = 3, n_events: int = 40):
    rng = np.random.default_rng(seed)
    phi, learned = VARIANTS[variant]
    mask = rng.random((n_users, n_users)) < 0.6
    W = np.where(mask, rng.uniform(0.1, 0.8, (n_users, n_users)), 0.0)
    if learned:
        Sigma = rng.dirichlet(np.ones(n_casc), size=n_casc)
    else:
        Sigma = np.eye(n_casc)
    params = HawkesParams(
        mu=rng.uniform(0.05, 0.5, (n_users, n_casc)), W=W, Sigma=Sigma, tau=0.7,
        beta=2.5, phi=phi,
    )  # fmt: skip
    # Times on a coarse grid so that ties occur; every user and mark present.
    times = np.sort(np.round(rng.uniform(0.0, 10.0, n_events), 1))
    users = rng.integers(0, n_users, n_events)
    marks = rng.integers(0, n_casc, n_events)
    events = EventLog(
        users, marks, times, Vocabulary.range(n_users), Vocabulary.range(n_casc),
        t_start=0.0, t_end=10.5,
    )  # fmt: skip
    return events, params


def _brute_force(events: EventLog, params: HawkesParams, t0: float, t1: float) -> float:
    """Double loop over event pairs, straight from eq. 5–9 and the compensator."""
    n_casc = params.n_cascades
    total = 0.0
    for i in range(len(events)):
        ti, u, c = events.times[i], events.users[i], events.marks[i]
        if not t0 <= ti <= t1:
            continue
        nu = params.mu[u].copy()
        exc = np.zeros(n_casc)
        for j in range(len(events)):
            if events.times[j] < ti:
                exc[events.marks[j]] += params.W[events.users[j], u] * np.exp(
                    -(ti - events.times[j]) / params.tau
                )
        nu = nu + exc
        nu_star = params.mu[u] + exc @ params.Sigma
        if params.phi == "boltzmann":
            z = params.beta * nu_star
            log_f = z[c] - (z.max() + np.log(np.sum(np.exp(z - z.max()))))
        else:
            log_f = np.log(nu_star[c] / nu_star.sum())
        total += np.log(nu.sum()) + log_f
    total -= (t1 - t0) * params.mu.sum()
    for j in range(len(events)):
        tj = events.times[j]
        if tj < t1:
            k = params.tau * (
                np.exp(-max(t0 - tj, 0) / params.tau) - np.exp(-(t1 - tj) / params.tau)
            )
            total -= params.W[events.users[j]].sum() * k
    return total


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_brute_force(variant: str, seed: int) -> None:
    events, params = _random_case(seed, variant)
    assert len(np.unique(events.times)) < len(events)  # the case does contain ties
    got = log_likelihood(events, params)
    want = _brute_force(events, params, events.t_start, events.t_end)
    assert got == pytest.approx(want, rel=1e-10)
    # Evaluation window inside the log: earlier events are history only.
    got_w = log_likelihood(events, params, window=(4.0, 8.0))
    assert got_w == pytest.approx(_brute_force(events, params, 4.0, 8.0), rel=1e-10)
    terms = log_likelihood_terms(events, params)
    assert terms.shape == (4,) and terms.sum() == pytest.approx(got, rel=1e-12)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_gradients_match_finite_differences(variant: str) -> None:
    events, params = _random_case(3, variant)
    support = params.W != 0
    value, g_mu, g_w, g_sigma = log_likelihood_grad(events, params, support)
    assert value == pytest.approx(log_likelihood(events, params), rel=1e-12)
    h = 1e-6

    def fd(attr: str, idx: tuple[int, int]) -> float:
        plus, minus = params.copy(), params.copy()
        getattr(plus, attr)[idx] += h
        getattr(minus, attr)[idx] -= h
        # Σ off the simplex is fine for a derivative: evaluate the unconstrained formula.
        lp = log_likelihood_grad(events, plus, support)[0]
        lm = log_likelihood_grad(events, minus, support)[0]
        return (lp - lm) / (2 * h)

    for u in range(params.n_users):
        for c in range(params.n_cascades):
            assert g_mu[u, c] == pytest.approx(fd("mu", (u, c)), rel=1e-5, abs=1e-6)
    for v, u in zip(*np.nonzero(support), strict=True):
        assert g_w[v, u] == pytest.approx(fd("W", (v, u)), rel=1e-5, abs=1e-6)
    assert np.all(g_w[~support] == 0)
    for s in range(params.n_cascades):
        for c in range(params.n_cascades):
            assert g_sigma[s, c] == pytest.approx(fd("Sigma", (s, c)), rel=1e-5, abs=1e-6)


def test_tied_events_do_not_excite_each_other() -> None:
    """Two events at the same time: neither is in the other's history."""
    vocab_u, vocab_m = Vocabulary.range(2), Vocabulary.range(1)
    events = EventLog(
        np.array([0, 1]), np.array([0, 0]), np.array([1.0, 1.0]), vocab_u, vocab_m,
        t_start=0.0, t_end=2.0,
    )  # fmt: skip
    mu = np.array([[0.3], [0.2]])
    W = np.array([[0.0, 5.0], [7.0, 0.0]])
    params = HawkesParams(mu=mu, W=W, Sigma=np.eye(1), tau=1.0, phi="linear")
    data = build_user_data(events, W != 0, 1.0)
    assert data[0].A.shape == (1, 1, 1) and data[0].A[0, 0, 0] == 0.0
    assert data[1].A[0, 0, 0] == 0.0
    comp = 2.0 * 0.5 + (5.0 + 7.0) * (1.0 - np.exp(-1.0))
    want = np.log(0.3) + np.log(0.2) - comp
    assert log_likelihood(events, params) == pytest.approx(want, rel=1e-14)
    # Strictly earlier does excite: move user 1's event later by 0.5.
    later = EventLog(
        np.array([0, 1]), np.array([0, 0]), np.array([1.0, 1.5]), vocab_u, vocab_m,
        t_start=0.0, t_end=2.0,
    )  # fmt: skip
    want_later = (
        np.log(0.3) + np.log(0.2 + 5.0 * np.exp(-0.5))
        - 2.0 * 0.5 - 5.0 * (1 - np.exp(-1.0)) - 7.0 * (1 - np.exp(-0.5))
    )  # fmt: skip
    assert log_likelihood(later, params) == pytest.approx(want_later, rel=1e-14)


def _textbook_hawkes(events: EventLog, mu: np.ndarray, alpha: np.ndarray, tau: float) -> float:
    """Multivariate Hawkes with dimensions d, λ_d(t) = μ_d + Σ_{t_j<t} α[d_j, d] e^{−(t−t_j)/τ},
    via the recursive state R_d (decayed excitation), grouping tied times."""
    dims = events.users * events.n_marks + events.marks
    n_dim = len(mu)
    state = np.zeros(n_dim)  # Σ_{past} α[d_j, ·] e^{−(t_last − t_j)/τ}
    t_last = events.t_start
    ll = 0.0
    i = 0
    while i < len(events):
        t = events.times[i]
        state *= np.exp(-(t - t_last) / tau)
        t_last = t
        j = i
        while j < len(events) and events.times[j] == t:
            ll += np.log(mu[dims[j]] + state[dims[j]])
            j += 1
        for k in range(i, j):
            state += alpha[dims[k]]
        i = j
    T = events.t_end - events.t_start
    ll -= mu.sum() * T
    ll -= sum(
        alpha[d].sum() * tau * (1 - np.exp(-(events.t_end - t) / tau))
        for d, t in zip(dims, events.times, strict=True)
    )
    return float(ll)


def test_ic_equals_textbook_multivariate_hawkes() -> None:
    events, params = _random_case(5, "ic", n_users=3, n_casc=2, n_events=60)
    n_u, n_c = params.n_users, params.n_cascades
    # Dimension (u, c); α[(v, s), (u, c)] = w_vu δ_sc.
    alpha = np.kron(params.W, np.eye(n_c))
    want = _textbook_hawkes(events, params.mu.reshape(-1), alpha, params.tau)
    assert log_likelihood(events, params) == pytest.approx(want, rel=1e-10)
    assert alpha.shape == (n_u * n_c, n_u * n_c)


def test_large_beta_is_finite_and_exact() -> None:
    events, params = _random_case(7, "mic")
    params.beta = 1e4
    got = log_likelihood(events, params)
    assert np.isfinite(got)
    assert got == pytest.approx(_brute_force(events, params, 0.0, 10.5), rel=1e-10)
    value, g_mu, g_w, g_sigma = log_likelihood_grad(events, params)
    assert np.all(np.isfinite(g_mu)) and np.all(np.isfinite(g_w)) and np.all(np.isfinite(g_sigma))
