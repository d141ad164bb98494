"""Alg. 1 inference and the MIC estimator: optimality conditions, known-solution recovery, I/O."""

from __future__ import annotations

import numpy as np
import pytest

from cascadekit.data.events import EventLog
from cascadekit.data.graph import SocialGraph
from cascadekit.data.vocab import Vocabulary
from cascadekit.models.hawkes.inference import (
    MU_FLOOR,
    fit_hawkes,
    fit_user,
    project_rows_to_simplex,
    select_tau_beta,
    sigma_step,
)
from cascadekit.models.hawkes.likelihood import (
    build_user_data,
    log_likelihood,
    log_likelihood_grad,
    user_loglik,
)
from cascadekit.models.hawkes.model import MIC, HawkesConfig, MarkedHawkes
from cascadekit.simulate.hawkes import simulate
from cascadekit.simulate.hawkes_params import HawkesParams


def _truth(seed: int = 0) -> tuple[HawkesParams, np.ndarray]:
    """5 users, 2 cascades; cascade 0 half-excites cascade 1 (σ_01 = 0.3)."""
    rng = np.random.default_rng(seed)
    support = rng.random((5, 5)) < 0.5
    W = np.where(support, rng.uniform(0.1, 0.3, (5, 5)), 0.0)
    params = HawkesParams(
        mu=rng.uniform(0.05, 0.2, (5, 2)), W=W, Sigma=np.array([[0.7, 0.3], [0.0, 1.0]]),
        tau=1.0, beta=3.0, phi="boltzmann",
    )  # fmt: skip
    return params, support


@pytest.fixture(scope="module")
def long_log() -> tuple[HawkesParams, np.ndarray, EventLog]:
    params, support = _truth()
    return params, support, simulate(params, 15000.0, seed=1)


@pytest.fixture(scope="module")
def short_log() -> tuple[HawkesParams, np.ndarray, EventLog]:
    params, support = _truth()
    return params, support, simulate(params, 1500.0, seed=2)


def test_simplex_projection_hand_cases() -> None:
    got = project_rows_to_simplex(np.array([[2.0, 0.0], [0.5, 0.2], [0.3, 0.7], [-1.0, -1.0]]))
    want = np.array([[1.0, 0.0], [0.65, 0.35], [0.3, 0.7], [0.5, 0.5]])
    np.testing.assert_allclose(got, want, atol=1e-15)
    pts = np.random.default_rng(0).normal(size=(50, 4))
    proj = project_rows_to_simplex(pts)
    np.testing.assert_allclose(proj.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(proj >= 0)
    # Optimality of a Euclidean projection: <x − p, q − p> ≤ 0 for every simplex point q (vertices).
    for x, p in zip(pts, proj, strict=True):
        assert np.all((np.eye(4) - p) @ (x - p) <= 1e-12)


def _kkt_gap(grad: np.ndarray, value: np.ndarray, lower: float) -> float:
    """Largest violation of the bound-constrained maximisation KKT conditions."""
    free = value > lower * (1 + 1e-6) + 1e-12
    return float(max(np.abs(grad[free]).max(initial=0.0), grad[~free].max(initial=0.0)))


def test_sigma_step_reaches_simplex_optimum(short_log) -> None:
    truth, support, events = short_log
    data = build_user_data(events, support, truth.tau)
    start = truth.copy()
    start.Sigma = np.full((2, 2), 0.5)
    sigma = sigma_step(data, start)
    np.testing.assert_allclose(sigma.sum(axis=1), 1.0, atol=1e-12)
    fitted = truth.copy()
    fitted.Sigma = sigma
    assert log_likelihood(events, fitted) >= log_likelihood(events, start)
    # KKT on each simplex row: gradient equal on the positive entries, not larger on the zeros
    # (per event, to 1e-6).
    g = log_likelihood_grad(events, fitted, support)[3] / len(events)
    for row, grow in zip(sigma, g, strict=True):
        pos = row > 1e-9
        level = grow[pos].mean()
        assert np.all(np.abs(grow[pos] - level) < 1e-6)
        assert np.all(grow[~pos] <= level + 1e-6)


def test_fit_user_satisfies_kkt(short_log) -> None:
    truth, support, events = short_log
    data = build_user_data(events, support, truth.tau)
    d = data[2]
    mu, w, value = fit_user(
        d, np.full(2, 0.1), np.full(len(d.neighbors), 0.1), truth.Sigma, truth.beta, truth.phi,
        tau=truth.tau,
    )  # fmt: skip
    _, g_mu, g_w, _ = user_loglik(d, mu, w, truth.Sigma, truth.beta, truth.phi, grad=True)
    n = d.n_events
    assert _kkt_gap(g_mu, mu, MU_FLOOR) < 1e-3 * n
    assert _kkt_gap(g_w, w, 0.0) < 1e-3 * n
    at_truth = user_loglik(
        d, truth.mu[2], truth.W[d.neighbors, 2], truth.Sigma, truth.beta, truth.phi
    )
    assert value >= at_truth


def test_mic_recovers_known_parameters(long_log) -> None:
    truth, support, events = long_log
    assert len(events) > 25000
    res = fit_hawkes(events, support, "mic", truth.tau, truth.beta, tol=1e-8, max_iter=100)
    p = res.params
    assert res.converged
    lls = [h["loglik"] for h in res.history]
    assert all(b >= a for a, b in zip(lls, lls[1:], strict=False))  # monotone ascent
    # Tolerances ≈ 3 standard errors at ~30k events.
    np.testing.assert_allclose(p.Sigma, truth.Sigma, atol=0.06)
    np.testing.assert_allclose(p.mu, truth.mu, atol=0.04)
    np.testing.assert_allclose(p.W, truth.W, atol=0.08)
    assert np.all(p.W[~support] == 0)
    true_ll = log_likelihood(events, truth)
    assert lls[-1] == pytest.approx(log_likelihood(events, p), rel=1e-12)
    assert lls[-1] >= true_ll - 1e-6 * abs(true_ll)


def test_extrapolation_reaches_a_higher_likelihood_in_fewer_alternations(short_log) -> None:
    truth, support, events = short_log
    plain = fit_hawkes(events, support, "mic", truth.tau, truth.beta, max_iter=8, accelerate=False)
    fast = fit_hawkes(events, support, "mic", truth.tau, truth.beta, max_iter=8)
    lls = [h["loglik"] for h in fast.history]
    assert all(b >= a for a, b in zip(lls, lls[1:], strict=False))  # still monotone
    assert lls[-1] > plain.history[-1]["loglik"]
    assert lls[-1] == pytest.approx(log_likelihood(events, fast.params), rel=1e-12)
    # the accelerated point stays feasible
    assert np.all(fast.params.W[~support] == 0) and np.all(fast.params.W >= 0)
    np.testing.assert_allclose(fast.params.Sigma.sum(axis=1), 1.0)
    assert np.all(fast.params.Sigma >= 0) and np.all(fast.params.mu >= MU_FLOOR)


def test_ic_and_cc_keep_identity_sigma(short_log) -> None:
    truth, support, events = short_log
    for variant in ("ic", "cc"):
        res = fit_hawkes(events, support, variant, truth.tau, truth.beta, max_iter=5)
        assert np.array_equal(res.params.Sigma, np.eye(2))
        assert res.params.phi == ("linear" if variant == "ic" else "boltzmann")


@pytest.mark.parametrize("backend", ["threading", "loky", "ray", "dask"])
def test_two_workers_on_any_engine_give_the_same_fit(short_log, backend: str) -> None:
    """Each user's step is independent: workers and engines (a local 2-worker Ray or Dask
    cluster) change where it runs, not the fit (to 1e-8; in practice bit for bit)."""
    truth, support, events = short_log
    one = fit_hawkes(events, support, "mic", truth.tau, truth.beta, max_iter=3, n_jobs=1)
    two = fit_hawkes(
        events, support, "mic", truth.tau, truth.beta, max_iter=3, n_jobs=2, backend=backend
    )
    for name in ("W", "mu", "Sigma"):
        np.testing.assert_allclose(getattr(two.params, name), getattr(one.params, name),
                                   rtol=0, atol=1e-8)  # fmt: skip
    assert [h["loglik"] for h in two.history] == pytest.approx(
        [h["loglik"] for h in one.history], rel=1e-12
    )


def test_warm_start_from_optimum_stops_at_once(short_log) -> None:
    truth, support, events = short_log
    first = fit_hawkes(events, support, "mic", truth.tau, truth.beta, tol=1e-9, max_iter=60)
    again = fit_hawkes(events, support, "mic", truth.tau, truth.beta, init=first.params, tol=1e-6)
    assert len(again.history) == 2 and again.converged
    assert again.history[-1]["loglik"] >= first.history[-1]["loglik"] - 1e-9


def test_select_tau_beta_finds_true_tau(long_log) -> None:
    truth, support, events = long_log
    out = select_tau_beta(events, [0.3, 1.0, 3.0], [3.0], support, variant="mic", max_iter=10)
    assert out["tau"] == 1.0
    assert len(out["grid"]) == 3
    assert out["valid_loglik"] == max(g["valid_loglik"] for g in out["grid"])


def test_estimator_graph_windows_and_round_trip(short_log, tmp_path) -> None:
    truth, support, events = short_log
    src, dst = np.nonzero(support)
    graph = SocialGraph.from_edges(src, dst, events.user_vocab)
    train, test = events.split_fraction(0.8)
    config = HawkesConfig(variant="mic", tau=1.0, beta=3.0, self_excitation=False, max_iter=20)
    model = MarkedHawkes(config, graph=graph)
    model.fit(train, valid=test)
    assert np.all(model.params_.W[~support] == 0)
    info = model.fit_info_
    assert info["n_events"] == len(train) and info["n_events_per_second"] > 0
    # Test log-likelihood with the training events as history, two equivalent ways.
    ll_hist = model.log_likelihood(test, history=train)
    ll_window = model.log_likelihood(events, window=(test.t_start, test.t_end))
    assert ll_hist == pytest.approx(ll_window, rel=1e-12)
    assert info["valid_loglik"] == pytest.approx(ll_hist, rel=1e-12)
    # History matters: scoring the test log alone forgets the excitation carried over.
    assert model.log_likelihood(test) != pytest.approx(ll_hist, rel=1e-9)
    model.save(tmp_path / "mic")
    loaded = MarkedHawkes.load(tmp_path / "mic")
    for name in ("mu", "W", "Sigma"):
        assert np.array_equal(getattr(loaded.params_, name), getattr(model.params_, name))
    assert loaded.log_likelihood(test, history=train) == ll_hist
    assert loaded.fit_info_ == info


def test_estimator_rejects_bad_input(short_log) -> None:
    with pytest.raises(ValueError, match="unknown variant"):
        HawkesConfig(variant="hawkes")
    with pytest.raises(ValueError, match="positive finite"):
        HawkesConfig(beta=float("nan"))
    with pytest.raises(RuntimeError, match="not fitted"):
        MIC().log_likelihood(short_log[2])
    _, _, events = short_log
    other = SocialGraph.from_edges(np.array([0]), np.array([1]), Vocabulary.range(3))
    with pytest.raises(ValueError, match="vocabulary"):
        MarkedHawkes(graph=other).fit(events)


@pytest.mark.slow
def test_music2_real_data(mirror) -> None:
    """music2 (C4 data), τ = 6 min as cross-validated in the paper, first 80 % of events to fit."""
    from cascadekit.data.formats.c4mat import read_c4

    bundle = read_c4(mirror / "c4_music2_url", "music2")
    train, test = bundle.events.split_fraction(0.8)
    fits = {
        v: MarkedHawkes(
            HawkesConfig(variant=v, tau=6 * 60 * 1000.0, max_iter=30), graph=bundle.graph
        ).fit(train, valid=test)
        for v in ("ic", "linmic")
    }
    ic, lin = fits["ic"].fit_info_, fits["linmic"].fit_info_
    assert ic["converged"] and lin["converged"]
    # linMIC nests IC (Σ = I): its training optimum cannot be worse.
    assert lin["train_loglik"] >= ic["train_loglik"] - 1e-9 * abs(ic["train_loglik"])
    # Held out: both beat a homogeneous Poisson process per (user, cascade) fitted on train
    # (closed form). Which variant wins held out is a finding, measured in benchmarks/mic_real.py.
    rate = train.counts() / train.duration
    counts = test.counts()
    with np.errstate(divide="ignore", invalid="ignore"):
        poisson = np.sum(np.where(counts > 0, counts * np.log(rate), 0.0)) - rate.sum() * (
            test.duration
        )
    assert np.isfinite(poisson)
    assert ic["valid_loglik"] > poisson and lin["valid_loglik"] > poisson


def test_max_branching_gives_the_constrained_optimum(short_log) -> None:
    truth, support, events = short_log
    data = build_user_data(events, support, truth.tau)
    d = max(data, key=lambda x: x.n_events)
    args = (truth.Sigma, truth.beta, truth.phi)
    start = (np.full(2, 0.1), np.full(len(d.neighbors), 0.1))
    mu0, w0, free = fit_user(d, *start, *args, tau=truth.tau)
    bound = 0.5 * truth.tau * w0.sum()  # half the unconstrained in-excitation: binding
    mu, w, value = fit_user(d, *start, *args, tau=truth.tau, max_branching=bound)
    assert truth.tau * w.sum() <= bound * (1 + 1e-9)
    assert value < free
    # the constrained optimum beats the feasible points next to it: the unconstrained optimum
    # scaled down, and random moves along the constraint face
    scaled = user_loglik(d, mu0, w0 * 0.5, *args)
    assert value >= scaled
    rng = np.random.default_rng(0)
    for _ in range(20):
        step = rng.normal(size=len(w)) * 1e-3 * w.max()
        step -= step.mean()  # keeps Σ w
        cand = np.maximum(w + step, 0.0)
        cand *= min(1.0, w.sum() / cand.sum())
        assert value >= user_loglik(d, mu, cand, *args) - 1e-9 * abs(value)


def test_fit_hawkes_with_max_branching_is_stationary(short_log) -> None:
    truth, support, events = short_log
    res = fit_hawkes(events, support, "mic", truth.tau, truth.beta, max_iter=10, max_branching=0.3)
    p = res.params
    assert p.spectral_radius() * p.tau <= 0.3 + 1e-9
    assert np.all(p.tau * p.W.sum(axis=0) <= 0.3 + 1e-9)
    lls = [h["loglik"] for h in res.history]
    assert all(b >= a for a, b in zip(lls, lls[1:], strict=False))
    assert lls[-1] == pytest.approx(log_likelihood(events, p), rel=1e-12)
    with pytest.raises(ValueError, match="max_branching"):
        fit_hawkes(events, support, "mic", truth.tau, truth.beta, max_branching=1.5)
