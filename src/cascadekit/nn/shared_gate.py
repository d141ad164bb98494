"""DMT-LIC's shared-representation layer (Chen et al., SIGIR 2019, §2.2): user importance over
the cascade-graph states, and the shared gate (eq. 2).

Symbols → attributes: W_attn, b_attn → ``UserImportance.proj``; U_attn → ``UserImportance.score``;
W_*, U_*, V_* (* = f, r, c, h) and b_f, b_r → the one ``SharedGate.proj`` over
[h^new, h^cas, h^user] (its bias holds b_f, b_r and, for c and h, a bias the paper omits).
"""

from __future__ import annotations

import torch
from torch import nn


class UserImportance(nn.Module):
    """A_user = softmax(tanh(H_cas W_attn + b_attn) U_attn) over the real nodes of each graph.

    ``causal``: node i is normalised over nodes 0 … i only (its importance when it adopted), so
    no later node changes it; otherwise over every real node (the paper, one softmax per graph).
    """

    def __init__(self, in_features: int, attention_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_features, attention_dim)
        self.score = nn.Linear(attention_dim, 1, bias=False)

    def forward(self, h_cas: torch.Tensor, mask: torch.Tensor, *, causal: bool) -> torch.Tensor:
        """Shapes: h_cas (B, n, F), mask (B, n) bool → A (B, n), 0 at padded nodes."""
        s = self.score(torch.tanh(self.proj(h_cas))).squeeze(-1)
        s = s.masked_fill(~mask, float("-inf"))
        # padding is on the right, so a real node's running normaliser never meets −inf only
        log_z = torch.logcumsumexp(s, dim=1) if causal else torch.logsumexp(s, 1, keepdim=True)
        return torch.exp(s - log_z).masked_fill(~mask, 0.0)


class SharedGate(nn.Module):
    """Eq. 2, one step per node in adoption order (the paper indexes the inputs by t − 1; the
    gate at node t reads node t's inputs, which only shifts the index)::

        x_t = [h^new_t, h^cas_t, h^user_t]
        f_t = σ(x_t A_f + b_f)      r_t = σ(x_t A_r + b_r)
        c_t = f_t ⊙ c_{t−1} + (1 − f_t) ⊙ (x_t A_c)
        h_t = r_t ⊙ tanh(c_t) + (1 − r_t) ⊙ (x_t A_h)

    with A_* = [W_*; U_*; V_*] stacked. f, r and the candidates do not depend on c, so the four
    projections are one matrix product and only c's linear recurrence is a loop. Causal: h_t
    depends on nodes 0 … t only.
    """

    def __init__(self, in_features: int, share_dim: int) -> None:
        super().__init__()
        self.share_dim = share_dim
        self.proj = nn.Linear(in_features, 4 * share_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: x (B, n, d_new + d_cas + d_user) → H_share (B, n, share_dim)."""
        f, r, cand_c, cand_h = self.proj(x).chunk(4, dim=-1)
        f, r = torch.sigmoid(f), torch.sigmoid(r)
        update = (1 - f) * cand_c
        c = torch.zeros_like(update[:, 0])
        cells = []
        for t in range(x.shape[1]):
            c = f[:, t] * c + update[:, t]
            cells.append(c)
        return r * torch.tanh(torch.stack(cells, dim=1)) + (1 - r) * cand_h
