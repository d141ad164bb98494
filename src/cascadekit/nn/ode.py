"""A neural ODE with jumps at events (MMCAs' cascade-dynamics encoder, paper 003 §4.2.3, eq. 3–4;
as CasFT/ConCat code it): a state h that flows between a cascade's events by dh/dt = f(t, h),
jumps through a GRU at each event, and flows on to the observation time.

**Per-sample intervals in one solve.** The cascades of a batch have different event times, and
torchdiffeq integrates every row over one shared grid. Each row's interval [t0_b, t1_b] is mapped
onto s ∈ [0, 1] (t = t0_b + s·Δ_b, Δ_b = t1_b − t0_b), so that dh/ds = Δ_b · f(t, h) integrated
over [0, 1] gives h(t1_b) for every row at once; a row with Δ_b = 0 (a padded event) does not
move. Adaptive solvers then control the error of the batch jointly.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torchdiffeq import odeint

Field = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # f(t (B,), h (B, D)) → (B, D)
# torchdiffeq solvers: adaptive ones control the error at rtol/atol; a fixed-step one takes one
# step per interval (the rescaled grid is [0, 1]) and ignores the tolerances
ADAPTIVE, FIXED_STEP = ("dopri5", "bosh3", "adaptive_heun"), ("euler", "midpoint", "rk4")


class TimeLinearField(nn.Module):
    """f(t, h) = W [h, t] + b, zero-initialised: the state starts constant between events
    (CasFT's choice)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(dim + 1, dim)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Shapes: t (B,), h (B, D) → (B, D)."""
        return self.linear(torch.cat([h, t[:, None]], dim=-1))


def evolve(
    field: Field,
    h: torch.Tensor,
    t0: torch.Tensor,
    t1: torch.Tensor,
    *,
    method: str = "dopri5",
    rtol: float = 1e-4,
    atol: float = 1e-4,
) -> torch.Tensor:
    """h(t1) from h(t0) under dh/dt = field(t, h), each row over its own interval (module
    docstring). Shapes: h (B, D), t0 (B,), t1 (B,) → (B, D)."""
    span = t1 - t0

    def rescaled(s: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return span[:, None] * field(t0 + s * span, y)

    grid = torch.tensor([0.0, 1.0], dtype=h.dtype, device=h.device)
    return odeint(rescaled, h, grid, method=method, rtol=rtol, atol=atol)[-1]


class JumpODE(nn.Module):
    """h starts from a learned vector at t = 0 (the source post), flows to each event, jumps
    h ← GRU(x_i, h) there, and flows on to ``t_end``: the state at the observation time."""

    def __init__(self, input_dim: int, hidden: int, field: nn.Module | None = None,
                 **solver: object) -> None:  # fmt: skip
        super().__init__()
        self.h0 = nn.Parameter(torch.zeros(hidden))
        self.jump = nn.GRUCell(input_dim, hidden)
        self.field = field if field is not None else TimeLinearField(hidden)
        self.solver = solver

    def forward(
        self, x: torch.Tensor, times: torch.Tensor, mask: torch.Tensor, t_end: torch.Tensor
    ) -> torch.Tensor:
        """Shapes: x (B, L, F) event inputs, times (B, L) non-decreasing event times ≥ 0, mask
        (B, L) bool (True = a real event; padding after the real ones), t_end (B,) ≥ every real
        time → h(t_end) (B, hidden)."""
        b = x.shape[0]
        h = self.h0.expand(b, -1)
        t_prev = torch.zeros(b, dtype=x.dtype, device=x.device)
        for i in range(x.shape[1]):
            real = mask[:, i]
            t_i = torch.where(real, times[:, i], t_prev)
            h = evolve(self.field, h, t_prev, t_i, **self.solver)
            h = torch.where(real[:, None], self.jump(x[:, i], h), h)
            t_prev = t_i
        return evolve(self.field, h, t_prev, t_end, **self.solver)
