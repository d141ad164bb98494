"""Neural Diffusion Model (NDM; Yang et al., TKDE — paper 001 §4, eq. 1–7; protocols §1).

A user's "active" embedding is one multi-head causal self-attention over the users infected so far,
with residual + LayerNorm: act(u_j) = LayerNorm(emb(u_j) + dropout(W^O [head_1 .. head_h])). The
next adopter is scored by position-specific projections of the last ``window`` active embeddings,
summed (eq. 6: a causal convolution over time), optionally + W_init·act(u_0) (eq. 7, F_init).
NDM+SN (§5.4) freezes part of each user's vector to a DeepWalk embedding of the social graph.

Presets (`PRESETS`, served by the registry): ``"reference_code"`` (the default: the authors' code,
which made the published tables: END never a positive target, Conv1d bias, the last epoch kept,
the first user generated from the seed scored before the LayerNorm), ``"reference_code_init"``
(the same with F_init, as on Twitter) and ``"paper"`` (the text: Terminate is a target). All
train with the code's Adam(β=(0.9, 0.98), eps 1e-9) and Noam schedule — the paper states only
"Adam".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.models.base import Preset, pad_token
from cascadekit.models.sequence import SequenceEstimator, SequenceOptions, check_dropout
from cascadekit.training import TrainConfig


@dataclass
class NDMConfig(SequenceOptions):
    """Paper defaults (§5.2): d = 64, h = 8, win = 3, F_init = 0 (1 for Twitter only).

    ``head_dim`` = 64: eq. 3–5 give every head d×d projections (W^O is hd×d), as the code's
    d_k = d_v = 64. ``output_bias``: eq. 6 has none, the code's Conv1d has one.
    ``fixed_embedding_dim`` > 0 makes NDM+SN: that many leading columns of every user vector are
    fixed (graph embeddings), the rest learned. ``first_step_layernorm`` False reproduces the
    authors' LayerNormalization, which returns a length-1 input unchanged: generating from the
    seed alone, the first user is scored from act(u_0) before the LayerNorm (every later step, and
    all of training, is normalised). Measured on ndm_lastfm (seed 0, S = 1000, same weights):
    Macro/Micro-F1 .0363/.0902 → .0550/.0983, first five .0270/.0299 → .0462/.0426 (paper
    .056/.095, .048/.045; `make bench NAME=ndm_first_step`).
    """

    embedding_dim: int = 64
    n_heads: int = 8
    head_dim: int = 64
    window: int = 3
    dropout: float = 0.1
    attention_dropout: float = 0.1
    use_init: bool = False
    output_bias: bool = False
    fixed_embedding_dim: int = 0
    first_step_layernorm: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if min(self.window, self.n_heads, self.head_dim, self.embedding_dim) < 1:
            raise ValueError("window, n_heads, head_dim and embedding_dim must be >= 1")
        if not 0 <= self.fixed_embedding_dim < self.embedding_dim:
            raise ValueError(
                f"fixed_embedding_dim must be in [0, {self.embedding_dim}), "
                f"got {self.fixed_embedding_dim}"
            )
        check_dropout(dropout=self.dropout, attention_dropout=self.attention_dropout)


# the authors' optimiser and schedule (the paper states only "Adam")
_NOAM = dict(
    lr=1.0, schedule={"name": "noam", "warmup_steps": 1000, "d_model": 64}, betas=(0.9, 0.98),
    eps=1e-9, batch_size=32,
)  # fmt: skip
_REFERENCE = dict(end_weight=0.0, output_bias=True, first_step_layernorm=False)

PRESETS: dict[str, Preset] = {
    "reference_code": Preset(
        "the authors' code, which made Tables 2/3: END never a target, Conv1d bias, the first "
        "generated user scored before the LayerNorm, Noam schedule, the last epoch kept. 50 "
        "epochs, not the code's 20: on small sets 20 epochs end inside the 1000-step warm-up "
        "(ndm_irvine, 12 batches an epoch: Macro/Micro-F1 .038/.072 after 20 epochs, "
        ".084/.112 after 50, 3 seeds, `make bench NAME=ndm_tables_irvine_20epochs`; paper "
        ".076/.108); Tables 2/3 on lastfm/twitter used epochs=20",
        "code",
        model=_REFERENCE,
        train={**_NOAM, "max_epochs": 50, "select": "last"},
    ),
    "reference_code_init": Preset(
        "reference_code with the initial-user term F_init = 1 (the paper uses it on Twitter)",
        "paper",
        model={**_REFERENCE, "use_init": True},
        train={**_NOAM, "max_epochs": 50, "select": "last"},
    ),
    "paper": Preset(
        "the text of §4: END (Terminate) is a target; ≤ 50 epochs, early stopping and selection "
        "on validation NLL (identification F1 about a third of the paper's: samples learn to stop)",
        "paper",
        train={**_NOAM, "max_epochs": 50, "patience": 10, "select": "nll"},
    ),
}


class NDMNet(nn.Module):
    """The NDM network; implements `models.base.SequentialDiffusionModel`.

    ``fixed`` (V, fixed_embedding_dim) fills the frozen columns (NDM+SN); without it they are zeros
    until a state dict is loaded.
    """

    def __init__(self, n_users: int, config: NDMConfig, fixed: np.ndarray | None = None) -> None:
        super().__init__()
        self.n_users = n_users
        self.config = config
        d, k = config.embedding_dim, config.fixed_embedding_dim
        pad = pad_token(n_users)
        self.embed = nn.Embedding(n_users + 2, d - k, padding_idx=pad)
        # persistent buffer: saved with the weights, never trained
        self.register_buffer("fixed", torch.zeros(n_users + 2, k))
        if fixed is not None:
            arr = np.asarray(fixed, dtype=np.float32)
            if arr.shape != (n_users, k):
                raise ValueError(f"fixed embeddings must be ({n_users}, {k}), got {arr.shape}")
            self.fixed[:n_users] = torch.from_numpy(arr)
        inner = config.n_heads * config.head_dim
        self.qkv = nn.Linear(d, 3 * inner, bias=False)
        self.proj = nn.Linear(inner, d, bias=False)
        self.drop = nn.Dropout(config.dropout)
        self.norm = nn.LayerNorm(d)
        # W^C_n for n = 0..win-1 stored as one Conv1d weight (V+1, d, win), as the reference code;
        # tap win-1-n sees u_{j-n}. `_score` applies it as one matmul over the scored positions.
        self.conv = nn.Conv1d(d, n_users + 1, config.window, bias=config.output_bias)
        self.init_proj = nn.Linear(d, n_users + 1, bias=False) if config.use_init else None

    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """Shapes: tokens (...) → (..., d): [fixed | learned]."""
        if self.config.fixed_embedding_dim == 0:
            return self.embed(tokens)
        return torch.cat([self.fixed[tokens], self.embed(tokens)], dim=-1)

    def _heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Shapes: x (B, L, d) → q, k, v each (B, h, L, head_dim)."""
        b, length, _ = x.shape
        h, hd = self.config.n_heads, self.config.head_dim
        q, k, v = self.qkv(x).view(b, length, 3, h, hd).permute(2, 0, 3, 1, 4)
        return q, k, v

    def _residual(self, emb: torch.Tensor, att: torch.Tensor) -> torch.Tensor:
        """emb + dropout(W^O att), before the LayerNorm. Shapes: att (B, h, L, hd) → (B, L, d)."""
        b, _, length, _ = att.shape
        merged = att.transpose(1, 2).reshape(b, length, -1)
        return emb + self.drop(self.proj(merged))

    def _normalize(self, pre: torch.Tensor) -> torch.Tensor:
        """act = LayerNorm(pre), except a length-1 input without ``first_step_layernorm`` (the
        reference code's LayerNormalization passes it through). Shapes: (B, L, d) → (B, L, d)."""
        if pre.shape[1] == 1 and not self.config.first_step_layernorm:
            return pre
        return self.norm(pre)

    def _attn_dropout(self) -> float:
        return self.config.attention_dropout if self.training else 0.0

    def _encode(self, seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Causal attention pass. Shapes: seq (B, L) → the pre-LayerNorm active embeddings and the
        user embeddings, (B, L, d)."""
        emb = self._embed(seq)
        q, k, v = self._heads(emb)
        dropout = self._attn_dropout()
        att = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True)
        return self._residual(emb, att), emb

    def _last_window(self, act: torch.Tensor) -> torch.Tensor:
        """The last ``window`` positions, zeros before the start. Shapes: (B, L, d) → (B, win, d)."""
        win = self.config.window
        return F.pad(act, (0, 0, max(win - act.shape[1], 0), 0))[:, -win:]

    def _absorbed(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Decoding weights with the key and value projections folded in (exact, no biases):
        q_h·k_hj = (W_k^hᵀ W_q^h e)·e_j and W^O_h W_v^h, so the cache holds the d-dim user
        embeddings instead of 2·h·head_dim keys and values (16× less memory at the paper's sizes).
        Shapes: → A (h·d, d) maps e to the h absorbed queries, B (d, h·d) maps the h
        attention-weighted embedding sums to W^O·[head_1 .. head_h]."""
        h, hd = self.config.n_heads, self.config.head_dim
        wq, wk, wv = self.qkv.weight.view(3, h, hd, -1)
        a = torch.einsum("hef,hed->hfd", wk, wq).flatten(0, 1)
        b = torch.einsum("dhe,hef->dhf", self.proj.weight.view(-1, h, hd), wv).flatten(1)
        return a, b

    def logits(self, seq: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """Shapes: seq (B, L) → (B, L, V+1), or (N, V+1) at the N true entries of ``positions``
        (B, L) only — training scores no padding. PAD is right-padding, so the causal mask alone
        keeps real positions from attending to it."""
        pre, _ = self._encode(seq)
        act = self._normalize(pre)
        win = self.config.window
        padded = F.pad(act, (0, 0, win - 1, 0))
        # windows[b, t] = act[b, t-win+1 .. t], oldest first (zeros before the start)
        windows = torch.stack([padded[:, k : k + seq.shape[1]] for k in range(win)], dim=2)
        if positions is None:
            act0 = act[:, :1].expand(-1, seq.shape[1], -1)
            return self._score(windows, act0)
        return self._score(windows[positions], act[:, 0][positions.nonzero()[:, 0]])

    def _score(self, window: torch.Tensor, act0: torch.Tensor) -> torch.Tensor:
        """Eq. 7. Shapes: window (..., win, d) oldest first; act0 (..., d) → (..., V+1)."""
        flat = window.flatten(-2)  # (..., win·d), tap k of position t-win+1+k
        weight = self.conv.weight.permute(0, 2, 1).reshape(self.conv.weight.shape[0], -1)
        out = F.linear(flat, weight, self.conv.bias)
        if self.init_proj is not None:
            out = out + self.init_proj(act0)
        return out

    def begin(
        self, prefix: torch.Tensor, capacity: int | None = None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """Shapes: prefix (B, L0) → logits (B, V+1), state: the cache of user embeddings
        (B, capacity, d; first ``length`` filled; default capacity 2·L0 + 8), the last ``window``
        active embeddings (B, win, d; zeros before the start), act(u_0) (B, d) and the
        `_absorbed` weights."""
        pre, emb = self._encode(prefix)
        act = self.norm(pre)  # later steps see u_0 normalised, as the code's full recomputation
        window = self._last_window(act)
        length = prefix.shape[1]
        size = max(capacity or 2 * length + 8, length)
        # `step` writes in place (and doubles the capacity if decoding outgrows it)
        cache = emb.new_empty(emb.shape[0], size, emb.shape[2])
        cache[:, :length] = emb
        state = {
            "cache": cache, "length": length, "window": window, "act0": act[:, 0],
            "absorbed": self._absorbed(),
        }  # fmt: skip
        return self._score(self._last_window(self._normalize(pre)), state["act0"]), state

    def step(
        self, state: dict[str, Any], tokens: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """Shapes: tokens (B,) → logits (B, V+1), new state; costs O(current length).

        The cache is updated in place (the previous state must not be reused)."""
        emb = self._embed(tokens)  # (B, d)
        cache, n = state["cache"], state["length"]
        if n == cache.shape[1]:
            cache = torch.cat([cache, torch.empty_like(cache)], dim=1)
        cache[:, n] = emb
        seen = cache[:, : n + 1]  # (B, n+1, d)
        a, b = state["absorbed"]
        queries = F.linear(emb, a).view(len(emb), self.config.n_heads, -1)  # (B, h, d)
        scores = torch.bmm(queries, seen.transpose(1, 2)) * self.config.head_dim**-0.5
        weights = F.dropout(scores.softmax(dim=-1), self._attn_dropout(), self.training)
        heads = F.linear(torch.bmm(weights, seen).flatten(1), b)  # W^O [head_1 .. head_h]
        act = self.norm(emb + self.drop(heads))[:, None]
        window = torch.cat([state["window"][:, 1:], act], dim=1)
        new = {**state, "cache": cache, "length": n + 1, "window": window}
        return self._score(window, new["act0"]), new

    @staticmethod
    def select_state(state: dict[str, Any], rows: torch.Tensor) -> dict[str, Any]:
        """Keep only decoding rows ``rows`` (samplers drop finished rows). Shapes: rows (B',)."""
        return {
            **state, "cache": state["cache"][rows], "window": state["window"][rows],
            "act0": state["act0"][rows],
        }  # fmt: skip


class NDM(SequenceEstimator):
    """Estimator: ``NDM(NDMConfig(), TrainConfig()).fit(train, valid)``; the registry's presets
    (`PRESETS`) give the published configurations. NDM+SN: pass ``fixed_embeddings`` (V, k) with
    ``config.fixed_embedding_dim = k``, or call `use_bundle` on `NDMSN` with a bundle that has a
    graph."""

    name = "ndm"
    config_class = NDMConfig

    def __init__(
        self,
        config: NDMConfig | None = None,
        train_config: TrainConfig | None = None,
        *,
        fixed_embeddings: np.ndarray | None = None,
    ) -> None:
        super().__init__(config, train_config)
        self.fixed_embeddings = fixed_embeddings

    def fit(self, train: CascadeSet, valid: CascadeSet | None = None, *args: Any, **kw: Any) -> NDM:
        """`TorchEstimator.fit`; NDM+SN configs must have their fixed embeddings by now."""
        if self.config.fixed_embedding_dim and self.fixed_embeddings is None:
            raise ValueError(
                "fixed_embedding_dim > 0 needs fixed_embeddings (or use_bundle with a graph)"
            )
        if self.config.fixed_embedding_dim and self.config.min_user_count is not None:
            raise ValueError("NDM+SN embeds every user of the graph: min_user_count must be None")
        super().fit(train, valid, *args, **kw)
        return self

    def _network(self, meta: dict[str, Any]) -> NDMNet:
        # loading builds without the array: the saved buffer fills the fixed columns
        return NDMNet(meta["n_users"], self.config, self.fixed_embeddings)


class NDMSN(NDM):
    """NDM+SN (§5.4): half of each user vector is a frozen DeepWalk embedding of the social graph
    (``fixed_embedding_dim`` defaults to d/2 = 32). `pipeline.train` calls `use_bundle`; the
    presets are NDM's."""

    name = "ndm_sn"

    def __init__(
        self,
        config: NDMConfig | None = None,
        train_config: TrainConfig | None = None,
        *,
        fixed_embeddings: np.ndarray | None = None,
    ) -> None:
        config = config or NDMConfig()
        if config.fixed_embedding_dim == 0:
            config = replace(config, fixed_embedding_dim=config.embedding_dim // 2)
        super().__init__(config, train_config, fixed_embeddings=fixed_embeddings)

    def use_bundle(self, bundle: DatasetBundle) -> NDMSN:
        """DeepWalk (dim = fixed_embedding_dim) of ``bundle.graph``, whose vocabulary must be the
        cascades' (the mshgat readers build both on one); isolated users get their own rows."""
        from cascadekit.graph.deepwalk import DeepWalkConfig, deepwalk

        if bundle.graph is None or bundle.cascades is None:
            raise ValueError(f"{bundle.name} has no social graph; NDM+SN needs one")
        graph, users = bundle.graph, bundle.cascades.vocab
        if list(graph.vocab.tokens) != list(users.tokens):
            # re-indexing would add graph-only ids to the cascades' vocabulary (and change V)
            raise ValueError(
                f"{bundle.name}: graph and cascades must share one user vocabulary for NDM+SN"
            )
        self.fixed_embeddings = deepwalk(
            graph, DeepWalkConfig(dim=self.config.fixed_embedding_dim, seed=self.train_config.seed)
        )
        return self
