"""Graph convolution over dense batched graphs (GCN, Kipf & Welling, ICLR 2017; DeepInf eq. 5–6):
H' = Â H W + b with Â = D^-1/2 (A + I) D^-1/2, D = diag((A + I) 1)."""

from __future__ import annotations

import torch
from torch import nn


def normalized_adjacency(adj: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Â = D^-1/2 (A ∨ I) D^-1/2: A binarised with self loops added (an existing self loop stays
    1, as DeepInf's loader does), symmetrically normalised by its row sums. Masked nodes lose
    every edge and their self loop, so their rows and columns of Â are 0. Computed once per
    batch and shared by every layer.

    Shapes:
        adj: (B, n, n) bool or 0/1, symmetric; mask: (B, n) bool or None.
        return: (B, n, n) float32.
    """
    n = adj.shape[-1]
    eye = torch.eye(n, dtype=torch.bool, device=adj.device)
    a = ((adj != 0) | eye).float()
    if mask is not None:
        a = a * (mask[:, :, None] & mask[:, None, :])
    deg = a.sum(-1)
    inv_sqrt = torch.where(deg > 0, deg.clamp(min=1).rsqrt(), torch.zeros_like(deg))
    return inv_sqrt[:, :, None] * a * inv_sqrt[:, None, :]


class DenseGraphConv(nn.Module):
    """One GCN layer applied with a precomputed `normalized_adjacency`; Glorot-initialised weight,
    zero bias (as DeepInf's ``BatchGraphConvolution``)."""

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True) -> None:
        super().__init__()
        if min(in_features, out_features) < 1:
            raise ValueError("in_features and out_features must be >= 1")
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        nn.init.xavier_uniform_(self.weight)

    def forward(
        self, x: torch.Tensor, propagation: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Shapes:
        x: (B, n, F_in); propagation: (B, n, n), Â from `normalized_adjacency`; mask: (B, n)
        bool or None. return: (B, n, F_out), zero rows at masked nodes."""
        out = torch.matmul(propagation, torch.matmul(x, self.weight))
        if self.bias is not None:
            out = out + self.bias
        if mask is not None:
            out = out * mask[..., None]
        return out
