"""Masked sequence layers of MMCAs' encoders (paper 003 §4.1–4.2): a self-attention encoder over
the posts, users or events of a cascade, and attention pooling of its tokens into one vector.

Every layer takes a ``mask`` (B, L) bool, True at real tokens; a row needs at least one real
token (callers keep position 0, the source post, real).
"""

from __future__ import annotations

import torch
from torch import nn


class SelfAttentionEncoder(nn.Module):
    """Linear(in → dim), then one pre-norm transformer encoder layer (``heads`` heads, feed-forward
    2·dim) whose attention skips padded tokens."""

    def __init__(self, in_features: int, dim: int, heads: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        self.proj = nn.Linear(in_features, dim)
        self.layer = nn.TransformerEncoderLayer(
            dim, heads, 2 * dim, dropout=dropout, batch_first=True, norm_first=True
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Shapes: x (B, L, in), mask (B, L) → (B, L, dim); padded positions are 0."""
        h = self.layer(self.proj(x), src_key_padding_mask=~mask)
        return h * mask[..., None].to(h.dtype)


class AttentionPool(nn.Module):
    """z = Σ_i a_i h_i with a = softmax over real tokens of vᵀ tanh(W h_i + b)."""

    def __init__(self, dim: int, attention_dim: int = 32) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, attention_dim)
        self.score = nn.Linear(attention_dim, 1, bias=False)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Shapes: h (B, L, dim), mask (B, L) → (B, dim)."""
        s = self.score(torch.tanh(self.proj(h))).squeeze(-1).masked_fill(~mask, float("-inf"))
        return (s.softmax(dim=1)[..., None] * h).sum(1)
