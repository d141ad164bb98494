"""The jump neural ODE (`nn.ode`): per-row intervals solved in one batch against linear ODEs with
exact solutions, and the jump encoder's batch invariance."""

from __future__ import annotations

import torch
from torch import nn

from cascadekit.nn.ode import JumpODE, TimeLinearField, evolve


class Linear(nn.Module):
    """dh/dt = A h: h(t1) = expm(A (t1 − t0)) h(t0)."""

    def __init__(self, a: torch.Tensor) -> None:
        super().__init__()
        self.a = a

    def forward(self, t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return h @ self.a.T


def test_each_row_follows_its_own_interval_of_a_linear_ode() -> None:
    torch.manual_seed(0)
    a = torch.tensor([[-0.5, 1.0], [-1.0, -0.2]], dtype=torch.float64)
    h0 = torch.randn(4, 2, dtype=torch.float64)
    t0 = torch.tensor([0.0, 0.5, 2.0, 1.0], dtype=torch.float64)
    t1 = torch.tensor([1.0, 3.0, 2.0, 1.1], dtype=torch.float64)  # row 2: an empty interval
    got = evolve(Linear(a), h0, t0, t1, rtol=1e-9, atol=1e-9)
    exact = torch.stack(
        [torch.linalg.matrix_exp(a * d) @ h for d, h in zip(t1 - t0, h0, strict=True)]
    )
    torch.testing.assert_close(got, exact, rtol=1e-7, atol=1e-7)
    torch.testing.assert_close(got[2], h0[2])


def test_rk4_takes_one_classical_step_per_interval() -> None:
    """For dh/dt = A h one RK4 step of length d is h ↦ (I + Ad + (Ad)²/2 + (Ad)³/6 + (Ad)⁴/24) h
    exactly (the 4th-order Taylor polynomial of expm), per row over its own interval."""
    torch.manual_seed(0)
    a = torch.tensor([[-0.5, 1.0], [-1.0, -0.2]], dtype=torch.float64)
    h0 = torch.randn(3, 2, dtype=torch.float64)
    t0 = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    t1 = torch.tensor([0.1, 1.5, 1.0], dtype=torch.float64)
    got = evolve(Linear(a), h0, t0, t1, method="rk4")

    def taylor4(m: torch.Tensor) -> torch.Tensor:
        eye = torch.eye(2, dtype=torch.float64)
        return eye + m + m @ m / 2 + m @ m @ m / 6 + m @ m @ m @ m / 24

    want = torch.stack([taylor4(a * d) @ h for d, h in zip(t1 - t0, h0, strict=True)])
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    exact = torch.linalg.matrix_exp(a * 0.1) @ h0[0]  # a short interval: within 1e-6 of expm
    torch.testing.assert_close(got[0], exact, rtol=0, atol=1e-6)


def test_the_field_sees_absolute_time() -> None:
    """dh/dt = c · t · h: h(t1) = h(t0) · exp(c (t1² − t0²) / 2), which depends on t0 itself."""
    c = torch.tensor([0.3, -0.7], dtype=torch.float64)
    h0 = torch.ones(3, 2, dtype=torch.float64)
    t0 = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    t1 = t0 + 1.0  # equal lengths, different positions in time
    got = evolve(lambda t, h: c * t[:, None] * h, h0, t0, t1, rtol=1e-9, atol=1e-9)
    exact = h0 * torch.exp(c * ((t1**2 - t0**2) / 2)[:, None])
    torch.testing.assert_close(got, exact, rtol=1e-7, atol=1e-7)


def test_the_zero_initialised_field_holds_the_state_between_events() -> None:
    f = TimeLinearField(3)
    h = torch.randn(2, 3)
    torch.testing.assert_close(evolve(f, h, torch.zeros(2), torch.tensor([1.0, 5.0])), h)


def test_a_padded_row_gives_what_it_gives_alone_and_flows_to_the_end_time() -> None:
    torch.manual_seed(0)
    enc = JumpODE(4, 3, rtol=1e-8, atol=1e-8).double()
    with torch.no_grad():  # a non-trivial flow
        enc.field.linear.weight.normal_(0, 0.5)
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    times = torch.tensor([[0.1, 0.4, 0.9], [0.2, 0.0, 0.0]], dtype=torch.float64)
    mask = torch.tensor([[True, True, True], [True, False, False]])
    t_end = torch.tensor([1.0, 1.0], dtype=torch.float64)
    both = enc(x, times, mask, t_end)
    alone = enc(x[1:, :1], times[1:, :1], mask[1:, :1], t_end[1:])
    torch.testing.assert_close(both[1:], alone)
    # by hand: flow to 0.2, jump, flow to 1.0
    h = evolve(enc.field, enc.h0[None].double(), torch.zeros(1, dtype=torch.float64),
               times[1:, 0], rtol=1e-8, atol=1e-8)  # fmt: skip
    h = enc.jump(x[1:, 0], h)
    h = evolve(enc.field, h, times[1:, 0], t_end[1:], rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(both[1:], h)
    # a later end time moves the state (the flow is not zero)
    assert not torch.allclose(enc(x, times, mask, t_end + 1.0), both)
