"""MMCAs' interpretable multimodal fusion (paper 003 §4.3–4.4, eq. 5–12): modality projections,
six kinds of experts over the fused representation, perturbation-based interaction losses and
the reweighting network.

**Inputs.** M modality embeddings Z_m (B, d_m) and a presence mask (B, M). Each is projected to d
(eq. 5); Z_F is the M projected vectors (eq. 6), kept as M tokens. A modality a cascade lacks
(no image) is never zeros pretending to be data: its token is a learned *absent* vector, the
uniqueness expert of that modality gets weight 0 in the reweighting, and its interaction losses
are left out. A modality a dataset has for no cascade is simply not built (M = 3 on CED).

**Experts** (eq. 7): one uniqueness expert per modality, one synergy and one redundancy expert
(K = M + 2), each a Switch-Transformer block (self-attention over the M tokens, then a switch
feed-forward: top-1 routing among ``n_ffn`` feed-forward networks, the output scaled by the
router probability) → mean over present tokens → a linear head: Y_k, a prediction of
log2(increment + 1).

**Interaction losses** (eq. 8): Z_{F_i} = Z_F with token i replaced by r ~ N(0, I)
(``perturbation="noise"``, the paper's) or by another cascade's token i from the batch
(``"shuffle"``: the token stays in distribution, so an expert cannot tell a perturbation from
data and ignore it), for each present modality i; Y_ki = E_k(Z_{F_i}). The paper names the losses but gives no formula; ours,
on the log-scale outputs, with the bounded similarity s(a, b) = exp(−(a − b)² / τ) ∈ (0, 1]
(as the cosine of the usual InfoNCE is bounded; τ sets how small a change counts as none):
* uniqueness of m: InfoNCE with anchor Y_m, positives Y_mi (i ≠ m: perturbing another modality
  should not matter) and negative Y_mm (its own modality perturbed): mean over positives of
  −log(e^{s(Y_m, Y_mi)} / (e^{s(Y_m, Y_mi)} + e^{s(Y_m, Y_mm)})). The bound matters: with
  an unbounded s = −(a − b)², an expert satisfies the loss by moving a lot under its own
  perturbation while still reading the other modalities, since only the gap between the two
  similarities counts;
* synergy: mean_i s(Y_syn, Y_syn,i), small when every perturbation changes the output
  (bounded, unlike a negated squared error);
* redundancy: mean_i (Y_red − Y_red,i)², small when no single perturbation matters.

**Reweighting** (eq. 10–11): w = softmax(MLP(Z_F)) over the K experts (absent modalities'
uniqueness experts masked), Ŷ = Σ_k w_k Y_k — combined in log space, where every expert
predicts. Eq. 12 is `FusionOutput.loss`: MSLE(Ŷ) + λ1/K Σ L_int + λ2/K Σ L_expert.

**Variants** (paper Table 3 rows): ``fusion="concat"`` (an MLP on the concatenated tokens),
``"transformer"`` (one transformer block over the tokens, mean-pooled, then a head) and
``"switch"`` (one switch block, the same way): a single prediction, no experts or weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

FUSIONS = ("moe", "concat", "transformer", "switch")
PERTURBATIONS = ("noise", "shuffle")


class SwitchFFN(nn.Module):
    """Top-1 routed feed-forward (Fedus et al. 2022): each token goes to the one of ``n_ffn``
    networks its router scores highest, its output scaled by that router probability (which
    keeps the router trained)."""

    def __init__(self, dim: int, hidden: int, n_ffn: int) -> None:
        super().__init__()
        self.router = nn.Linear(dim, n_ffn)
        self.ffn = nn.ModuleList(
            nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
            for _ in range(n_ffn)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: (..., dim) → (..., dim)."""
        p = self.router(x).softmax(dim=-1)
        top, choice = p.max(dim=-1)
        out = torch.zeros_like(x)
        for k, ffn in enumerate(self.ffn):
            picked = choice == k
            if picked.any():
                out[picked] = ffn(x[picked])
        return out * top[..., None]


class TokenBlock(nn.Module):
    """Pre-norm self-attention over the modality tokens (absent ones masked as keys), then a
    feed-forward (switch or plain), both residual."""

    def __init__(self, dim: int, heads: int, hidden: int, n_ffn: int | None) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ff = (SwitchFFN(dim, hidden, n_ffn) if n_ffn
                   else nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)))  # fmt: skip

    def forward(self, tokens: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """Shapes: tokens (B, M, d), present (B, M) bool (≥ 1 per row) → (B, d) pooled."""
        h = self.norm1(tokens)
        a, _ = self.attention(h, h, h, key_padding_mask=~present, need_weights=False)
        x = tokens + a
        x = x + self.ff(self.norm2(x))
        keep = present[..., None].to(x.dtype)
        return (x * keep).sum(1) / keep.sum(1)


class Expert(nn.Module):
    def __init__(self, dim: int, heads: int, hidden: int, n_ffn: int | None) -> None:
        super().__init__()
        self.block = TokenBlock(dim, heads, hidden, n_ffn)
        self.head = nn.Linear(dim, 1)

    def forward(self, tokens: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """Shapes: (B, M, d), (B, M) → (B,)."""
        return self.head(self.block(tokens, present)).squeeze(-1)


@dataclass
class FusionOutput:
    """``prediction`` (B,) log2(increment + 1); with MoE fusion also ``experts`` (B, K) = Y_k,
    ``weights`` (B, K) = w, and ``interaction`` (K,) the interaction losses (0 where a loss has
    no present modality to perturb)."""

    prediction: torch.Tensor
    experts: torch.Tensor | None = None
    weights: torch.Tensor | None = None
    interaction: torch.Tensor | None = None

    def loss(
        self, target: torch.Tensor, lambda1: float, lambda2: float, *, gate_width: float = 0.0
    ) -> torch.Tensor:
        """Eq. 12 on log2(increment + 1) targets (B,). ``gate_width`` > 0 replaces its first
        term, MSLE(Ŷ), by the competitive mixture loss of Jacobs et al. (1991),
        −log Σ_k w_k exp(−(Y − Y_k)² / gate_width): the weights are then rewarded for picking
        the experts that fit a cascade, not for averaging outputs (a variant; 0 = the paper)."""
        main = F.mse_loss(self.prediction, target)
        if self.experts is None:
            return main
        if gate_width > 0:
            fit = -((self.experts - target[:, None]) ** 2) / gate_width
            main = -torch.logsumexp(torch.log(self.weights.clamp(min=1e-12)) + fit, dim=1).mean()
        k = self.experts.shape[1]
        expert = ((self.experts - target[:, None]) ** 2).mean(0).sum()
        return main + lambda1 / k * self.interaction.sum() + lambda2 / k * expert


class ModalityFusion(nn.Module):
    """See the module docstring. ``modalities``: names, in the order of the inputs; the experts
    are ``uniqueness:<name>`` for each, then ``synergy`` and ``redundancy`` (`expert_names`)."""

    def __init__(
        self,
        input_dims: Sequence[int],
        modalities: Sequence[str],
        *,
        dim: int = 64,
        heads: int = 4,
        hidden: int = 128,
        n_ffn: int = 4,
        fusion: str = "moe",
        temperature: float = 1.0,
        perturbation: str = "noise",
    ) -> None:
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, got {fusion!r}")
        if len(input_dims) != len(modalities) or not modalities:
            raise ValueError("give one input dimension per modality (at least one)")
        if perturbation not in PERTURBATIONS:
            raise ValueError(f"perturbation must be one of {', '.join(PERTURBATIONS)}, "
                             f"got {perturbation!r}")  # fmt: skip
        self.modalities, self.fusion, self.temperature = list(modalities), fusion, temperature
        self.perturbation = perturbation
        m = len(modalities)
        self.project = nn.ModuleList(nn.Linear(d, dim) for d in input_dims)
        self.absent = nn.Parameter(torch.randn(m, dim) * 0.02)
        if fusion == "moe":
            self.experts = nn.ModuleList(Expert(dim, heads, hidden, n_ffn) for _ in range(m + 2))
            self.reweight = nn.Sequential(nn.Linear(m * dim, hidden), nn.ReLU(),
                                          nn.Linear(hidden, m + 2))  # fmt: skip
        elif fusion == "concat":
            self.head = nn.Sequential(nn.Linear(m * dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        else:
            self.single = Expert(dim, heads, hidden, n_ffn if fusion == "switch" else None)

    def output_layers(self) -> list[nn.Linear]:
        """The final linear layers, one per prediction (each expert's, or the variant's one)."""
        if self.fusion == "moe":
            return [e.head for e in self.experts]
        return [self.head[-1] if self.fusion == "concat" else self.single.head]

    @property
    def expert_names(self) -> list[str]:
        return [f"uniqueness:{n}" for n in self.modalities] + ["synergy", "redundancy"]

    def tokens(self, inputs: Sequence[torch.Tensor], present: torch.Tensor) -> torch.Tensor:
        """Z_F as tokens, an absent modality replaced by its learned absent vector.
        Shapes: M × (B, d_m), (B, M) bool → (B, M, d)."""
        z = torch.stack([p(x) for p, x in zip(self.project, inputs, strict=True)], dim=1)
        return torch.where(present[..., None], z, self.absent.expand_as(z))

    def forward(self, inputs: Sequence[torch.Tensor], present: torch.Tensor) -> FusionOutput:
        """Shapes: inputs M × (B, d_m), present (B, M) bool, ≥ 1 present per row."""
        if not present.any(dim=1).all():
            raise ValueError("every cascade needs at least one present modality")
        tokens = self.tokens(inputs, present)
        b, m, _ = tokens.shape
        if self.fusion == "concat":
            return FusionOutput(self.head(tokens.reshape(b, -1)).squeeze(-1))
        if self.fusion != "moe":
            return FusionOutput(self.single(tokens, present))
        y = torch.stack([e(tokens, present) for e in self.experts], dim=1)  # (B, K)
        allowed = torch.cat([present, present.new_ones(b, 2)], dim=1)
        w = self.reweight(tokens.reshape(b, -1)).masked_fill(~allowed, float("-inf")).softmax(1)
        interaction = self._interaction(tokens, present, y) if self.training else None
        return FusionOutput((w * y).sum(1), y, w, interaction)

    def _interaction(
        self, tokens: torch.Tensor, present: torch.Tensor, y: torch.Tensor
    ) -> torch.Tensor:
        """The K interaction losses (module docstring), each averaged over the cascades where
        it is defined. Shapes: tokens (B, M, d), present (B, M), y (B, K) → (K,)."""
        m = tokens.shape[1]
        perturbed = []  # Y_ki, (B, K) per modality i
        for i in range(m):
            t = tokens.clone()
            if self.perturbation == "noise":
                t[:, i] = torch.randn_like(t[:, i])
            else:  # another cascade's token of the batch: in distribution, information gone
                t[:, i] = t[torch.randperm(len(t), device=t.device), i]
            perturbed.append(torch.stack([e(t, present) for e in self.experts], dim=1))
        yp = torch.stack(perturbed, dim=2)  # (B, K, M): expert k with modality i perturbed
        sim = torch.exp(-((y[..., None] - yp) ** 2) / self.temperature)  # (B, K, M)
        losses = []
        for k in range(m):  # uniqueness of modality k: negative = its own perturbation
            pos = present & (torch.arange(m, device=present.device) != k)  # (B, M)
            nce = -F.logsigmoid(sim[:, k] - sim[:, k, k : k + 1])  # −log e^p / (e^p + e^n)
            rows = present[:, k] & pos.any(1)
            per_row = (nce * pos).sum(1) / pos.sum(1).clamp(min=1)
            losses.append(per_row[rows].mean() if rows.any() else y.new_zeros(()))
        d2 = (y[..., None] - yp) ** 2
        weight = present.to(y.dtype)
        losses.append((sim[:, m] * weight).sum() / weight.sum())  # synergy
        losses.append((d2[:, m + 1] * weight).sum() / weight.sum())  # redundancy
        return torch.stack(losses)
