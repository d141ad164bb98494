"""DMT-LIC (Chen et al., SIGIR 2019): one network, two tasks over the same observed cascade —
the next adopter (activation, a softmax over users + END) and the incremental size
(log2(label + 1)) — trained with L = γ ℓ1 + (1 − γ) ℓ2 (eq. 3–4).

Layers (§2; the first ``max_nodes`` observed adopters of each cascade, in adoption order):

* cascade graph → multi-head GAT (`nn.gat.DenseGraphAttention`, ``gat_layers`` layers, heads
  averaged, ReLU) with H⁰ = Adj + I: node i's input is its row of the adjacency (its own position
  and its neighbours' positions, ``max_nodes`` columns) → H_cas. The graph is the repost tree
  from ``parents``, edges in both directions (the paper's Adj is not symmetric but it does not
  say which direction attends);
* user sequence → user embeddings (50) → Bi-LSTM (32 per direction) → H_user;
* user importance A_user = softmax(tanh(H_cas W + b) U), H_new = A_user ⊙ H_user
  (`nn.shared_gate.UserImportance`); the shared gate (eq. 2, `nn.shared_gate.SharedGate`) over
  [H_new, H_cas, H_user] → H_share;
* pooling Σ_i λ_{f(T − t_i)} h_i with a learned non-parametric λ over ``n_intervals`` equal
  intervals of the observation window T_o;
* size head MLP(concat(h_cas, h_share)) with h_cas the mean of H_cas, T = T_o; next-user head
  MLP(concat(h_user_t, h_share_t)) at every position t (teacher forcing).

**Causality (our choice; the paper does not say).** Position t's next-user scores may depend on
adopters 0 … t only, so the activation head reads a *causal pass* of the same layers: the GAT
keeps only edges to earlier adopters (each node attends to itself and its parent — a time mask
of the dense graph, one pass), H⁰ keeps the same columns, the Bi-LSTM's backward direction sees
node t alone (it has not seen later adopters yet; the forward direction is causal as it is), the
importance of node i is normalised over nodes 0 … i, the gate is a forward recurrence, and the
pooling at t weighs node i ≤ t by λ_{f(t_t − t_i)} (T = the time of position t). Re-running the
full model on every prefix would be exact too but costs O(L²) GAT/LSTM work per cascade. The size
head reads the *full pass* over the whole observed prefix (everything before T_o is observed):
both edge directions, the full Bi-LSTM, one softmax per cascade, T = T_o. Both passes share
every weight; γ = 1 skips the full pass, γ = 0 the causal one.

**Vocabulary.** Users with at least ``min_user_count`` adoptions in the training part's observed
prefixes get an embedding row and an output class; every other user (unseen in training) shares
the UNK input row and has no output class: `logits` gives them the row's lowest score minus 1, so
they are never ranked above a known user or END (a position whose target is unseen ranks it
behind every known candidate; the training loss skips such positions).

Ablations (config flags, registry presets): ``gamma`` 1 / 0 (single task), ``shared_gate=False``
(H_share = the concatenation [H_new, H_cas, H_user]), ``user_importance=False`` (H_new = H_user),
``time_decay=False`` (every node weighs ``decay_init``, fixed: uniform sum pooling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from cascadekit.data.cascades import CascadeSet
from cascadekit.errors import CascadeKitError
from cascadekit.metrics import msle_log2
from cascadekit.models.base import Preset, end_token
from cascadekit.models.batching import encode_padded
from cascadekit.models.popularity import (
    SizeEstimator,
    SizeNet,
    SizeOptions,
    padded,
    relative_times,
)
from cascadekit.models.sequence import mask_infected
from cascadekit.nn.gat import DenseGraphAttention
from cascadekit.nn.shared_gate import SharedGate, UserImportance


@dataclass
class DMTLICConfig(SizeOptions):
    """Sizes from §3.1 (embedding 50, RNN 32, MLP 32); ``gat_heads``, ``gat_layers``,
    ``attention_dim`` and ``share_dim`` are not stated (our choice: 4, 2, 32, 32).
    ``max_nodes``: adopters a cascade is read up to (H⁰ has this many columns; CasFlow reads the
    first 100). ``gamma``: weight of the next-user loss ℓ1 (1 − gamma: the size loss ℓ2); the
    paper gives no value. See the module docstring for the ablation flags and
    ``min_user_count``."""

    rnn_hidden: int = 32
    gat_hidden: int = 32
    gat_heads: int = 4
    gat_layers: int = 2
    attention_dim: int = 32
    share_dim: int = 32
    mlp_hidden: int = 32
    n_intervals: int = 6
    decay_init: float = 0.05
    max_nodes: int = 100
    gamma: float = 0.5
    shared_gate: bool = True
    user_importance: bool = True
    time_decay: bool = True
    min_user_count: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        sizes = (self.rnn_hidden, self.gat_hidden, self.gat_heads, self.gat_layers,
                 self.attention_dim, self.share_dim, self.mlp_hidden, self.n_intervals,
                 self.max_nodes, self.min_user_count)  # fmt: skip
        if min(sizes) < 1:
            raise ValueError("DMT-LIC sizes, max_nodes and min_user_count must be >= 1")
        if not 0 <= self.gamma <= 1:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")


_PAPER_TRAIN = {"lr": 1e-3, "batch_size": 32, "patience": 10, "max_epochs": 100, "select": "loss"}
_PAPER = "§3.1 settings; Adam 1e-3 (user embeddings 1e-4), batch 32, selection and early stopping "
PRESETS: dict[str, Preset] = {
    "paper": Preset(
        _PAPER + "on the validation loss γ ℓ1 + (1 − γ) ℓ2 (10 checks), γ = 0.5",
        "paper",
        train=_PAPER_TRAIN,
    ),
    **{
        name: Preset(
            f"ablation: {doc} (otherwise `paper`)", "paper", model=model, train=_PAPER_TRAIN
        )  # fmt: skip
        for name, doc, model in (
            ("size_only", "single task γ = 0 (size loss only)", {"gamma": 0.0}),
            ("activation_only", "single task γ = 1 (next-user loss only)", {"gamma": 1.0}),
            ("no_shared_gate", "H_share = [H_new, H_cas, H_user], no gate", {"shared_gate": False}),
            ("no_user_importance", "H_new = H_user", {"user_importance": False}),
            ("no_time_decay", "uniform sum pooling, no learned λ", {"time_decay": False}),
        )
    },
}


def known_user_rows(train: CascadeSet, min_count: int) -> np.ndarray:
    """Row of every vocabulary user: 1 … K for the K users with ≥ ``min_count`` adoptions in
    ``train`` (vocabulary order), 0 (UNK) for the rest. Shapes: (V,) int64."""
    known = np.bincount(train.users, minlength=train.n_users) >= min_count
    rows = np.zeros(train.n_users, dtype=np.int64)
    rows[known] = np.arange(1, int(known.sum()) + 1)
    return rows


def _interval(elapsed: torch.Tensor, window: float, n: int) -> torch.Tensor:
    """f(Δ): the equal interval of [0, T_o) holding Δ (clamped into it). Shapes: any → same."""
    return (elapsed.clamp(min=0) * (n / window)).long().clamp(max=n - 1)


class DMTLICNet(SizeNet):
    """The two-headed network (module docstring): `predict_increment` (size, from `SizeNet`) and
    ``logits(seq, positions, cascades=...)`` (next user; ``needs_cascades``: the next-user task
    passes each batch's cascades, whose graph and times the tokens do not carry)."""

    needs_cascades = True

    def __init__(self, meta: dict[str, Any], config: DMTLICConfig) -> None:
        super().__init__(meta, config)
        c = self.config = config
        self.n_users = int(meta["n_users"])
        self.n_known = int(meta["n_known_users"])
        self.max_positions = c.max_nodes  # the next-user task ranks no further than this
        self.lstm = nn.LSTM(c.embedding_dim, c.rnn_hidden, batch_first=True, bidirectional=True)
        widths = [c.max_nodes] + [c.gat_hidden] * c.gat_layers
        self.gat = nn.ModuleList(
            DenseGraphAttention(a, b, c.gat_heads, concat=False)
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        d_user = 2 * c.rnn_hidden
        self.importance = UserImportance(c.gat_hidden, c.attention_dim)
        d_in = d_user + c.gat_hidden + d_user  # [H_new, H_cas, H_user]
        self.gate = SharedGate(d_in, c.share_dim) if c.shared_gate else None
        d_share = c.share_dim if c.shared_gate else d_in
        decay = torch.full((c.n_intervals,), c.decay_init)
        if c.time_decay:
            self.decay = nn.Parameter(decay)
        else:
            self.register_buffer("decay", decay)
        self.head = nn.Sequential(
            nn.Linear(c.gat_hidden + d_share, c.mlp_hidden), nn.ReLU(), nn.Linear(c.mlp_hidden, 1)
        )
        self.next_head = nn.Sequential(
            nn.Linear(d_user + d_share, c.mlp_hidden), nn.ReLU(),
            nn.Linear(c.mlp_hidden, self.n_known + 1),  # known users, then END
        )  # fmt: skip

    # inputs ------------------------------------------------------------------------------
    def encode(self, cascades: CascadeSet, length: int | None = None) -> dict[str, torch.Tensor]:
        """The first ``min(length, max_nodes)`` adopters of each cascade as padded columns.

        Shapes: tokens (B, L+1) long (users, END after a cascade read whole, PAD; the next-user
        targets), parent (B, L) long (position of the parent, −1 = none), time (B, L) float
        seconds since publication, mask (B, L) bool."""
        cap = self.config.max_nodes if length is None else length
        if cap > self.config.max_nodes:
            raise CascadeKitError(
                f"DMT-LIC reads at most max_nodes = {self.config.max_nodes} adopters a cascade; "
                f"asked to score {cap} (score fewer, or train with a larger max_nodes)"
            )
        part = cascades.prefix(max_len=cap)
        parents = part.parents if part.parents is not None else np.where(part.positions, 0, -1)
        return {
            "tokens": encode_padded(cascades, max_len=cap),
            "parent": torch.from_numpy(padded(part, parents.astype(np.int64), -1)),
            "time": torch.from_numpy(padded(part, relative_times(part).astype(np.float32))),
            "mask": torch.from_numpy(padded(part, np.ones(part.n_events, dtype=bool), False)),
        }

    # the shared layers -------------------------------------------------------------------
    def _states(self, batch: dict[str, torch.Tensor], *, causal: bool) -> dict[str, torch.Tensor]:
        """One pass of the shared layers (module docstring: causal or full).

        Shapes: returns h_cas (B, L, gat_hidden), h_user (B, L, 2·rnn_hidden), h_share
        (B, L, d_share)."""
        mask = batch["mask"]
        b, n = mask.shape
        users = batch["tokens"][:, :n].clone()
        users[~mask] = 0  # PAD / END columns read user 0; masked everywhere below
        x = self.users(users)
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        h_user = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=n)[0]
        if causal:  # the backward direction at t has read node t only
            alone = self.lstm(x.reshape(b * n, 1, -1))[0].view(b, n, -1)
            h_user = torch.cat([h_user[..., : self.config.rnn_hidden],
                                alone[..., self.config.rnn_hidden :]], dim=-1)  # fmt: skip
        h_user = h_user * mask[..., None]
        adj = self._adjacency(batch["parent"], mask, causal=causal)
        eye = torch.eye(n, dtype=adj.dtype, device=adj.device)
        h = F.pad(adj + eye * mask[:, :, None], (0, self.config.max_nodes - n))  # H⁰ = Adj + I
        for layer in self.gat:
            h = torch.relu(layer(h, adj, mask))
        h_cas = h
        if self.config.user_importance:
            h_new = self.importance(h_cas, mask, causal=causal)[..., None] * h_user
        else:
            h_new = h_user
        stacked = torch.cat([h_new, h_cas, h_user], dim=-1)
        h_share = self.gate(stacked) if self.gate is not None else stacked
        return {"h_cas": h_cas, "h_user": h_user, "h_share": h_share * mask[..., None]}

    @staticmethod
    def _adjacency(parent: torch.Tensor, mask: torch.Tensor, *, causal: bool) -> torch.Tensor:
        """Repost edges child → parent (causal: only these, to earlier adopters) and, in the
        full pass, parent → child too. Shapes: parent (B, L), mask (B, L) → (B, L, L) float."""
        b, n = parent.shape
        adj = torch.zeros(b, n, n, device=parent.device)
        child = (parent >= 0) & (parent < n) & mask
        rows, cols = child.nonzero(as_tuple=True)
        adj[rows, cols, parent[rows, cols]] = 1.0
        if causal:
            return adj.tril(-1)  # a parent listed after its child would be a later adopter
        return ((adj + adj.transpose(1, 2)) > 0).float()

    def _pool(self, h: torch.Tensor, elapsed: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """Σ_i λ_{f(elapsed_{t,i})} h_i over the nodes ``keep`` allows.

        Shapes: h (B, L, F), elapsed and keep (B, M, L) → (B, M, F)."""
        c = self.config
        weights = self.decay[_interval(elapsed, self.observation_window, c.n_intervals)]
        return torch.matmul(weights * keep, h)

    # heads -------------------------------------------------------------------------------
    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Size head on the full pass. Shapes: the `encode` dict of B cascades → (B,) predicted
        log2(increment + 1)."""
        s = self._states(batch, causal=False)
        mask = batch["mask"]
        elapsed = (self.observation_window - batch["time"])[:, None, :]
        h_share = self._pool(s["h_share"], elapsed, mask[:, None, :].float())[:, 0]
        h_cas = s["h_cas"].sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        return self.head(torch.cat([h_cas, h_share], dim=-1)).squeeze(-1)

    def known_logits(
        self, batch: dict[str, torch.Tensor], positions: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Next-user head on the causal pass.

        Shapes: the `encode` dict, positions (B, L) bool or None → (B, L, K + 1) scores over the
        K known users and END, or (N, K + 1) at the N true ``positions`` (row-major)."""
        s = self._states(batch, causal=True)
        t, mask = batch["time"], batch["mask"]
        elapsed = t[:, :, None] - t[:, None, :]  # (B, t, i): t_t − t_i
        earlier = torch.tril(torch.ones_like(elapsed)) * mask[:, None, :]
        state = torch.cat([s["h_user"], self._pool(s["h_share"], elapsed, earlier)], dim=-1)
        return self.next_head(state if positions is None else state[positions])

    def class_logits(
        self,
        seq: torch.Tensor,
        positions: torch.Tensor | None = None,
        *,
        cascades: CascadeSet | None = None,
    ) -> torch.Tensor:
        """The scores of `logits` in class space: the K known users, END, then the one score
        every unseen user gets (the row's lowest known score − 1). The next-user task ranks
        these instead of V + 1 columns (`tasks.next_user.evaluate_next_user`).

        Shapes: seq (B, L) tokens, positions (B, L) bool or None → (B, L, K + 2) or (N, K + 2)."""
        if cascades is None:
            raise CascadeKitError("DMT-LIC scores need the cascades (graph and times) of seq")
        self.check_input(cascades)
        device = next(self.parameters()).device
        batch = {k: v.to(device) for k, v in self.encode(cascades, seq.shape[1]).items()}
        if not torch.equal(batch["tokens"][:, : seq.shape[1]], seq):
            raise CascadeKitError("seq is not the first users of the cascades passed with it")
        known = self.known_logits(batch, positions)
        return torch.cat([known, known.min(dim=-1, keepdim=True).values.detach() - 1], dim=-1)

    def logits(
        self,
        seq: torch.Tensor,
        positions: torch.Tensor | None = None,
        *,
        cascades: CascadeSet | None = None,
    ) -> torch.Tensor:
        """`models.base.NextUserScorer` over the dataset's users: ``seq`` must be the first
        users of ``cascades`` (the next-user task passes them); unseen users score the row's
        lowest known score − 1 (module docstring).

        Shapes: seq (B, L) tokens, positions (B, L) bool or None → (B, L, V+1) or (N, V+1)."""
        scores = self.class_logits(seq, positions, cascades=cascades)
        k = self.n_known
        users = torch.cat([scores[..., -1:], scores[..., :k]], dim=-1)[..., self.users.rows]
        return torch.cat([users, scores[..., k : k + 1]], dim=-1)

    def known_classes(self, tokens: torch.Tensor) -> torch.Tensor:
        """Dataset tokens → output classes: known user k → k − 1, END → K, unseen users and
        PAD → K + 1 (never a class). Shapes: any long → same."""
        v, k = self.n_users, self.n_known
        is_user = tokens < v
        rows = self.users.rows[tokens.clamp(max=v - 1)]
        out = torch.where(is_user & (rows > 0), rows - 1, torch.full_like(tokens, k + 1))
        return out.masked_fill(tokens == end_token(v), k)

    def time_decay(self) -> dict[str, list[float]]:
        """λ per interval of the time since adoption: ``edges`` (n + 1 seconds), ``weights``."""
        edges = np.linspace(0.0, self.observation_window, self.config.n_intervals + 1)
        return {"edges": edges.tolist(), "weights": self.decay.detach().cpu().tolist()}


def activation_loss(net: DMTLICNet, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """ℓ1: masked cross-entropy (users already in the prefix excluded, as `models.sequence`) of
    every next adopter with a class (known user or END), averaged over those positions.

    Shapes: the `encode` dict → scalar (0 when no position has a class)."""
    classes = net.known_classes(batch["tokens"])
    n = batch["mask"].shape[1]
    inputs, target = classes[:, :n], classes[:, 1 : n + 1]
    scored = batch["mask"] & (target <= net.n_known)
    scores = mask_infected(net.known_logits(batch, scored), inputs, scored)
    if not len(scores):
        return scores.sum()
    return F.cross_entropy(scores, target[scored])


class DMTLIC(SizeEstimator):
    """Estimator: ``DMTLIC(DMTLICConfig(), TrainConfig()).fit(train, valid)`` on the popularity
    task's observed cascades; its network is both a `PopularityRegressor` and a
    `NextUserScorer`."""

    name = "dmt_lic"
    config_class = DMTLICConfig

    def _network(self, meta: dict[str, Any]) -> DMTLICNet:
        return DMTLICNet(meta, self.config)

    def _build_meta(self, train: CascadeSet) -> dict[str, Any]:
        meta = super()._build_meta(train)
        self._train_rows = known_user_rows(train, self.config.min_user_count)
        meta["n_known_users"] = int(self._train_rows.max(initial=0))
        return meta

    def _loss(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """L = γ ℓ1 + (1 − γ) ℓ2; a head whose weight is 0 is not run (no gradient reaches it)."""
        g = self.config.gamma
        zero = batch["target"].new_zeros(())
        l1 = activation_loss(module, batch) if g > 0 else zero
        l2 = F.mse_loss(module(batch), batch["target"]) if g < 1 else zero
        return {"loss": g * l1 + (1 - g) * l2, "activation": l1, "size": l2}

    @torch.no_grad()
    def _validate(self, module: nn.Module, valid: CascadeSet) -> dict[str, float]:
        """``loss`` (the training objective, batch means averaged), its parts, and ``msle``."""
        parts: dict[str, float] = {}
        n = 0
        for batch in self._batches(valid, -1):
            device = next(module.parameters()).device
            out = self._loss(module, {k: v.to(device) for k, v in batch.items()})
            for k, v in out.items():
                parts[k] = parts.get(k, 0.0) + float(v)
            n += 1
        out = {k: v / max(n, 1) for k, v in parts.items()}
        out["msle"] = msle_log2(module.predict_increment(valid), valid.meta["label"])
        return out
