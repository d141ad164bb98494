"""Exact simulation of the marked multidimensional Hawkes family (IC, linMIC, CC, MIC) by thinning.

Ogata's thinning specialised to exponential kernels κ(t) = exp(−t/τ) (paper 002, eq. 5–9): between
events every intensity only decays, so the total intensity right after the last event (or the last
rejected candidate) bounds it until the next event. A candidate time is drawn from that bound and
accepted with probability λ(t)/bound; an accepted event picks its user u with probability ∝ λ_u(t)
and its cascade c from the mixing distribution f_u(·|t).

State kept between events, for every cascade c and user u, in a moving reference frame::

    X[c, u] = Σ_v w_vu Σ_{e ∈ H_v^c} exp((t_e − t_ref) / τ)

so that the excitation at time t is X · exp(−(t − t_ref)/τ): an event of v in cascade c adds the
row W[v] once (O(deg)), and decay is a scalar factor. When t − t_ref grows large the frame is moved
to the current time so that nothing overflows.
"""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np

from cascadekit.data.events import EventLog
from cascadekit.data.vocab import Vocabulary
from cascadekit.simulate.hawkes_params import HawkesParams

# Move the reference frame once exp((t − t_ref)/τ) would exceed e^200 (far below overflow).
_REFRAME_AFTER = 200.0
# Random numbers are drawn in blocks: one generator call per block, not per candidate.
_BLOCK = 8192


def initial_excitation(params: HawkesParams, history: EventLog | None, t0: float) -> np.ndarray:
    """Excitation X[c, u] = Σ_v w_vu Σ_{e ∈ H_v^c, t_e ≤ t0} κ(t0 − t_e) left by ``history`` at ``t0``.

    Shapes:
        returns (C, U)
    """
    u, c = params.n_users, params.n_cascades
    x = np.zeros((c, u))
    if history is None or len(history) == 0:
        return x
    if history.times[-1] > t0:
        raise ValueError(
            f"history has events after the simulation start {t0:g} (last at {history.times[-1]:g})"
        )
    if history.n_users > u or history.n_marks > c:
        raise ValueError(
            f"history has {history.n_users} users and {history.n_marks} marks; "
            f"params have {u} users and {c} cascades"
        )
    decay = np.exp((history.times - t0) / params.tau)
    g = np.zeros((c, u))
    np.add.at(g, (history.marks, history.users), decay)
    return g @ params.W


def simulate(
    params: HawkesParams,
    t_end: float,
    *,
    t_start: float = 0.0,
    history: EventLog | None = None,
    seed: int = 0,
    max_events: int | None = None,
    user_vocab: Vocabulary | None = None,
    mark_vocab: Vocabulary | None = None,
) -> EventLog:
    """Simulate the process on (t_start, t_end] exactly, by Ogata thinning.

    Args:
        params: model parameters Θ = (M, W, Σ, τ, β, φ).
        t_end: end of the simulated window.
        t_start: start of the window; ``history`` (events at times ≤ t_start) excites it.
        history: past events whose excitation carries into the window; they are not returned.
        seed: seed of ``np.random.default_rng``; the same seed gives the same log.
        max_events: stop after this many events; the returned window then ends at the last one
            (``attrs["truncated"]`` is True).
        user_vocab, mark_vocab: vocabularies of the returned log (defaults: the history's, else
            ``Vocabulary.range``).

    Returns:
        the new events only, an ``EventLog`` on [t_start, t_end]; ``attrs["candidates"]`` counts
        the thinning candidates drawn (accepted + rejected).
    """
    if not t_end > t_start:
        raise ValueError(f"t_end ({t_end:g}) must be greater than t_start ({t_start:g})")
    n_users, n_casc = params.n_users, params.n_cascades
    if user_vocab is None:
        user_vocab = history.user_vocab if history is not None else Vocabulary.range(n_users)
    if mark_vocab is None:
        mark_vocab = history.mark_vocab if history is not None else Vocabulary.range(n_casc)
    if len(user_vocab) != n_users or len(mark_vocab) != n_casc:
        raise ValueError(
            f"vocabularies have {len(user_vocab)} users and {len(mark_vocab)} marks; "
            f"params have {n_users} users and {n_casc} cascades"
        )
    limit = math.inf if max_events is None else int(max_events)

    tau = float(params.tau)
    w = np.ascontiguousarray(params.W)
    w_rows = list(w)  # row views: indexing a Python list is cheaper than a 2-D array
    w_out = w.sum(axis=1).tolist()  # total intensity an event of v adds
    mu = params.mu
    mu_total = float(mu.sum())
    cum_mu = np.cumsum(mu.sum(axis=1)).tolist()

    x = initial_excitation(params, history, t_start)
    # with one cascade the per-user excitation R is that cascade's row: share the memory
    r = x[0] if n_casc == 1 else x.sum(axis=0)
    s_total = float(r.sum())
    boltzmann = params.phi == "boltzmann"
    # the mixing argument: β·ν* (Boltzmann) or ν* (linear), ν* = μ_u + Σᵀ-mixed excitation
    scale = float(params.beta) if boltzmann else 1.0
    mix = scale * params.Sigma
    mix_mu = list(scale * mu)

    rng = np.random.default_rng(seed)
    times: list[float] = []
    users: list[int] = []
    marks: list[int] = []
    t = t_ref = float(t_start)
    decay = 1.0  # exp(−(t − t_ref)/τ)
    bound = mu_total + s_total
    candidates = 0
    k = _BLOCK
    exps = accs = picks = marks_u = []  # refilled at k == _BLOCK
    while len(times) < limit and bound > 0.0:
        if k == _BLOCK:
            exps = rng.standard_exponential(_BLOCK).tolist()
            accs, picks, marks_u = rng.random((3, _BLOCK)).tolist()
            k = 0
        t += exps[k] / bound
        if t > t_end:
            break
        candidates += 1
        decay = math.exp((t_ref - t) / tau)
        lam = mu_total + s_total * decay
        if accs[k] * bound > lam:
            bound = lam
            k += 1
            continue
        # the user, ∝ λ_u = μ_u + decay · R_u: baseline part or excitation part of the total
        x_pick = picks[k] * lam
        if x_pick < mu_total:
            user = min(bisect_right(cum_mu, x_pick), n_users - 1)
        else:
            cum_r = np.cumsum(r)
            y = (x_pick - mu_total) / (lam - mu_total) * cum_r[-1]
            user = min(int(np.searchsorted(cum_r, y, side="right")), n_users - 1)
        if n_casc == 1:
            mark = 0
        else:
            z = mix_mu[user] + (x[:, user] @ mix) * decay
            # max-shift: β up to 1e4 must not overflow
            weights = np.exp(z - z.max()) if boltzmann else z
            cum_w = np.cumsum(weights)
            mark = min(
                int(np.searchsorted(cum_w, marks_u[k] * cum_w[-1], side="right")), n_casc - 1
            )
        k += 1
        times.append(t)
        users.append(user)
        marks.append(mark)
        if t - t_ref > _REFRAME_AFTER * tau:
            x *= decay
            if n_casc > 1:
                r *= decay
            s_total = float(r.sum())
            t_ref, decay = t, 1.0
        gain = 1.0 / decay
        row = w_rows[user]
        x[mark] += gain * row
        if n_casc > 1:
            r += gain * row
        s_total += gain * w_out[user]
        bound = mu_total + s_total * decay

    truncated = len(times) >= limit
    return EventLog(
        np.asarray(users, dtype=np.int64),
        np.asarray(marks, dtype=np.int64),
        np.asarray(times, dtype=np.float64),
        user_vocab,
        mark_vocab,
        t_start=t_start,
        t_end=times[-1] if truncated and times else t_end,
        attrs={
            "simulator": "ogata",
            "seed": seed,
            "candidates": candidates,
            "truncated": truncated,
        },
    )
