"""Parameters Θ of the marked multidimensional Hawkes family (IC, linMIC, CC, MIC).

Symbols (paper 002, eq. 5–9) → attributes:

    μ_u^c   mu     (U, C)  base rate of user u in cascade c
    w_vu    W      (U, U)  W[v, u] = influence of v's events on u; zero off the graph's support
    σ_sc    Sigma  (C, C)  Sigma[s, c] = how much cascade s excites cascade c; rows on the simplex
    τ       tau            kernel κ(t) = exp(−t / τ)
    β       beta           Boltzmann mixing φ(x) = exp(β x)
    φ       phi            "linear" (φ(x) = x) or "boltzmann"

Special cases (Table 1): IC = linear + Σ = I; linMIC = linear + free Σ; CC = Boltzmann + Σ = I;
MIC = Boltzmann + free Σ.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

Phi = Literal["linear", "boltzmann"]
VARIANTS: dict[str, tuple[Phi, bool]] = {
    # name: (mixing φ, Σ learned?)
    "ic": ("linear", False),
    "linmic": ("linear", True),
    "cc": ("boltzmann", False),
    "mic": ("boltzmann", True),
}


@dataclass
class HawkesParams:
    mu: np.ndarray
    W: np.ndarray
    Sigma: np.ndarray
    tau: float = 1.0
    beta: float = 1.0
    phi: Phi = "boltzmann"

    def __post_init__(self) -> None:
        self.mu = np.asarray(self.mu, dtype=np.float64)
        self.W = np.asarray(self.W, dtype=np.float64)
        self.Sigma = np.asarray(self.Sigma, dtype=np.float64)
        u, c = self.mu.shape
        if self.W.shape != (u, u):
            raise ValueError(f"W must be ({u}, {u}), got {self.W.shape}")
        if self.Sigma.shape != (c, c):
            raise ValueError(f"Sigma must be ({c}, {c}), got {self.Sigma.shape}")
        if np.any(self.mu < 0) or np.any(self.W < 0) or np.any(self.Sigma < 0):
            raise ValueError("mu, W and Sigma must be non-negative")
        if not np.allclose(self.Sigma.sum(axis=1), 1.0, atol=1e-8):
            raise ValueError("each row of Sigma must sum to 1")
        if self.tau <= 0:
            raise ValueError("tau must be positive")
        if self.phi not in ("linear", "boltzmann"):
            raise ValueError(f"phi must be 'linear' or 'boltzmann', got {self.phi!r}")

    @property
    def n_users(self) -> int:
        return self.mu.shape[0]

    @property
    def n_cascades(self) -> int:
        return self.mu.shape[1]

    def copy(self) -> HawkesParams:
        return replace(self, mu=self.mu.copy(), W=self.W.copy(), Sigma=self.Sigma.copy())

    def spectral_radius(self) -> float:
        """ρ(Wᵀ); the process is stationary when ρ(Wᵀ) < 1/τ (paper §6)."""
        return float(np.max(np.abs(np.linalg.eigvals(self.W.T)))) if self.n_users else 0.0

    def is_stationary(self) -> bool:
        return self.spectral_radius() < 1.0 / self.tau
