"""Closed-form moments of the marked Hawkes family (paper 002, §6, eq. 28–30).

With κ(t) = exp(−t/τ), the ground intensity λ_u = Σ_c ν_u^c = μ_u + Σ_v w_vu Σ_{e∈H_v} κ(t − t_e)
(μ_u = Σ_c μ_u^c) is a linear Hawkes process whatever the mixing, and its mean obeys

    d/dt E[λ(t)] = −(E[λ(t)] − μ)/τ + Wᵀ E[λ(t)] = −(B⁻¹/τ) E[λ(t)] + μ/τ,   B = (I − τWᵀ)⁻¹.

From an empty history E[λ(0)] = μ, so

    E[λ(t)] = [B + (I − B) exp(−B⁻¹ t/τ)] μ                       (eq. 28)
    E[n(t)] = ∫₀ᵗ E[λ] = [B t + (I − B) B τ (I − exp(−B⁻¹ t/τ))] μ   (eq. 29)

(all factors are functions of B, so they commute). The mean converges to Bμ iff ρ(Wᵀ) < 1/τ.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import expm, solve

from cascadekit.simulate.hawkes_params import HawkesParams

# Largest U·C for which the linear-mixing split is solved with the (U·C)² Kronecker system.
_MAX_KRON = 4096


def influence_resolvent(params: HawkesParams) -> np.ndarray:
    """B = (I − τWᵀ)⁻¹; the stationary mean intensity is Bμ, so B[u, v] = ∂λ_u^∞ / ∂μ_v.

    Shapes:
        returns (U, U)
    """
    a = np.eye(params.n_users) - params.tau * params.W.T
    if np.linalg.cond(a) > 1e14:
        raise ValueError("I − τWᵀ is singular (ρ(Wᵀ) = 1/τ): the moments have no closed form")
    return solve(a, np.eye(params.n_users))


def _times(t: float | np.ndarray) -> tuple[np.ndarray, bool]:
    arr = np.asarray(t, dtype=np.float64)
    if arr.ndim > 1:
        raise ValueError(f"t must be a scalar or a 1-D array of times, got shape {arr.shape}")
    if np.any(arr < 0):
        raise ValueError("times must be non-negative (t = 0 is the start from an empty history)")
    return np.atleast_1d(arr), arr.ndim == 0


def _decay(params: HawkesParams, t: float) -> np.ndarray:
    # exp(−B⁻¹ t/τ), with B⁻¹ = I − τWᵀ taken exactly rather than inverted back
    a = np.eye(params.n_users) - params.tau * params.W.T
    return expm(-a * (t / params.tau))


def expected_intensity(params: HawkesParams, t: float | np.ndarray) -> np.ndarray:
    """E[λ_u(t)] from an empty history at time 0 (eq. 28).

    Shapes:
        t scalar → (U,); t (K,) → (K, U)
    """
    ts, scalar = _times(t)
    b = influence_resolvent(params)
    mu = params.mu.sum(axis=1)
    i_b = np.eye(params.n_users) - b
    out = np.stack([b @ mu + i_b @ (_decay(params, tk) @ mu) for tk in ts])
    return out[0] if scalar else out


def expected_counts(params: HawkesParams, t: float | np.ndarray) -> np.ndarray:
    """E[n_u(t)], the mean number of events of each user on [0, t] from an empty history (eq. 29).

    Shapes:
        t scalar → (U,); t (K,) → (K, U)
    """
    ts, scalar = _times(t)
    b = influence_resolvent(params)
    mu = params.mu.sum(axis=1)
    eye = np.eye(params.n_users)
    left = (eye - b) @ b * params.tau
    out = np.stack([tk * (b @ mu) + left @ ((eye - _decay(params, tk)) @ mu) for tk in ts])
    return out[0] if scalar else out


def stationarity(params: HawkesParams) -> dict[str, Any]:
    """ρ(Wᵀ) against the threshold 1/τ: the mean intensity stays bounded iff ρ(Wᵀ) < 1/τ."""
    rho = params.spectral_radius()
    return {
        "spectral_radius": rho,
        "threshold": 1.0 / params.tau,
        "stationary": rho < 1.0 / params.tau,
    }


def stationary_cascade_split(params: HawkesParams) -> np.ndarray:
    """Stationary share of each user's activity per cascade, E[λ_u^c] / E[λ_u].

    Boltzmann mixing: the paper's stationary-state approximation (eq. 30),
    softmax_c(β (B M Σ)_{u,c}) with M = [μ_u^c] the (U, C) baseline matrix.

    Linear mixing (IC, linMIC): exact. Rows of Σ sum to 1, so Σ_c ν*_u^c = λ_u and
    λ_u^c = ν*_u^c = μ_u^c + Σ_s σ_sc Y_u^s with E[Y^s] = τWᵀE[λ^s] at stationarity; the means
    Λ = E[λ^c_u] therefore solve Λ = M + τWᵀΛΣ (for Σ = I, Λ = BM, eq. 30's linear analogue).

    Shapes:
        returns (U, C), rows summing to 1
    """
    if not stationarity(params)["stationary"]:
        raise ValueError("the process is not stationary (ρ(Wᵀ) ≥ 1/τ): no stationary split")
    m = params.mu
    n_u, n_c = m.shape
    if params.phi == "boltzmann":
        z = params.beta * (influence_resolvent(params) @ m @ params.Sigma)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    if n_u * n_c > _MAX_KRON:
        raise ValueError(
            f"linear-mixing split solves a {n_u * n_c}² system; at most {_MAX_KRON}² supported"
        )
    # column-major vec: vec(τWᵀΛΣ) = (Σᵀ ⊗ τWᵀ) vec(Λ)
    system = np.eye(n_u * n_c) - np.kron(params.Sigma.T, params.tau * params.W.T)
    lam = solve(system, m.reshape(-1, order="F")).reshape(n_u, n_c, order="F")
    total = lam.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        split = lam / total
    # a user with no baseline and no influencer never acts: report the uniform split
    return np.where(total > 0, split, 1.0 / n_c)
