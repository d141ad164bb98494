"""DeepInf-GAT and DeepInf-GCN (Qiu et al., KDD 2018 — paper 004 §3–4; protocols §5), and the
estimator base every neural ego-network scorer shares (PSCN too).

Per vertex of an ego network (n vertices, the ego last) the input layer (Fig. 2 b–d) is::

    [active flag, ego flag] ⊕ InstanceNorm(DeepWalk embedding) ⊕ vertex features

where the instance norm (eq. 3–4) standardises each embedding dimension over the n vertices of
that one ego network (biased variance, ε = 1e-5, no affine part — see below). Then three GAT
layers (8 heads × 16, 8 × 16 concatenated, ELU, dropout 0.2; output 1 head × 2, averaged) or
three GCN layers on D^-1/2 (A + I) D^-1/2 (128, 128, 2; ELU, dropout 0.2), a log-softmax, and the
prediction is read at the ego row. Training (`EgoEstimator`): class-balanced NLL with class
weights w_c = N / (2 · N_c) counted on the *training* part only (the reference code counts them
on all data — protocols §7.6), Adagrad lr 0.1, weight decay 5e-4, batch 1024.

Paper text vs the authors' code (xptree/DeepInf ``src/``), and what is done here:

* DeepWalk table and vertex features: frozen in both (``fine_tune=False``; the paper calls it a
  pre-trained embedding layer). Here they are not parameters at all: they travel with the
  instances (`data.influence.InfluenceInstances`), so a saved model holds only its layers.
* Instance norm: the code builds ``InstanceNorm1d(affine=True)`` but optimises only the graph
  layers, so the affine part stays the identity — eq. 3 exactly, which is what is computed here.
* GAT attention scores: the code scores tanh(W h) (``BatchMultiHeadGraphAttention``), the paper
  (eq. 7) W h: ``tanh_scores`` (True in the ``reference_code`` preset).
* GAT bias: the code adds one bias of width F_out shared by all heads before aggregating; here
  it is eq. 8's b after aggregation (one value per output feature; zero at initialisation).
* Selection: the code keeps the last of 500 epochs (``reference_code`` preset, ``select="last"``);
  the ``paper`` preset keeps the epoch with the best validation AUC (the influence task's
  monitor). The paper says "early stopping using loss on the validation sets": ``--set
  select=loss`` selects on the validation NLL instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cascadekit.data.influence import InfluenceInstances
from cascadekit.errors import CascadeKitError
from cascadekit.metrics import roc_auc
from cascadekit.models.base import Preset
from cascadekit.models.estimator import TorchEstimator
from cascadekit.models.sequence import check_dropout
from cascadekit.nn import DenseGraphAttention, DenseGraphConv, normalized_adjacency

INSTANCE_NORM_EPS = 1e-5  # torch.nn.InstanceNorm1d's default, as the reference code
SCORE_BATCH = 1024  # instances scored per forward pass outside training


@dataclass
class EgoBatch:
    """A batch of ego networks as tensors (`ego_batch`); ``.to(device)`` for the training loop.

    Shapes:
        flags (B, n, 2) float: [active, ego]; embedding (B, n, D) float; vertex_features
        (B, n, F) float; adjacency (B, n, n) bool; labels (B,) long.
    """

    flags: torch.Tensor
    embedding: torch.Tensor
    vertex_features: torch.Tensor
    adjacency: torch.Tensor
    labels: torch.Tensor

    def to(self, device: torch.device | str) -> EgoBatch:
        return EgoBatch(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def __len__(self) -> int:
        return len(self.labels)


def ego_batch(instances: InfluenceInstances, index: np.ndarray | None = None) -> EgoBatch:
    """The rows ``index`` (all by default) of ``instances`` as an `EgoBatch`: the per-user tables
    are gathered at each ego network's vertices (the ego flag marks the last vertex)."""
    idx = np.arange(len(instances)) if index is None else np.asarray(index)
    vertices = instances.vertices[idx]
    flags = np.zeros((*vertices.shape, 2), dtype=np.float32)
    flags[..., 0] = instances.active[idx]
    flags[:, -1, 1] = 1.0
    return EgoBatch(
        flags=torch.from_numpy(flags),
        embedding=torch.from_numpy(np.asarray(instances.embedding[vertices], dtype=np.float32)),
        vertex_features=torch.from_numpy(
            np.asarray(instances.vertex_features[vertices], dtype=np.float32)
        ),
        adjacency=torch.from_numpy(np.asarray(instances.adjacency[idx], dtype=bool)),
        labels=torch.from_numpy(instances.labels[idx].astype(np.int64)),
    )


@dataclass
class EgoInputOptions:
    """Fields every ego-network model config starts with: which blocks the input layer holds.
    Paper Table 6 (``use_vertex_features=False``) and §5.1 (``instance_norm=False``) ablate them."""

    instance_norm: bool = True
    use_embedding: bool = True
    use_vertex_features: bool = True


def instance_norm(x: torch.Tensor, eps: float = INSTANCE_NORM_EPS) -> torch.Tensor:
    """Eq. 3–4: each feature standardised over the n vertices of its own ego network.

    Shapes: x (B, n, D) → (B, n, D)."""
    mean = x.mean(dim=1, keepdim=True)
    var = x.var(dim=1, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


class EgoInput(nn.Module):
    """The input layer (Fig. 2 d): [active, ego] ⊕ (instance-normalised) embedding ⊕ vertex
    features, each block present as the options say."""

    def __init__(self, options: EgoInputOptions, embedding_dim: int, n_features: int) -> None:
        super().__init__()
        self.options = options
        # an empty block (instances built without DeepWalk) is left out, not normalised
        self.use_embedding = options.use_embedding and embedding_dim > 0
        self.use_vertex_features = options.use_vertex_features and n_features > 0
        self.width = (
            2
            + (embedding_dim if self.use_embedding else 0)
            + (n_features if self.use_vertex_features else 0)
        )

    def forward(self, batch: EgoBatch) -> torch.Tensor:
        """Shapes: → (B, n, width)."""
        parts = [batch.flags]
        if self.use_embedding:
            emb = batch.embedding
            parts.append(instance_norm(emb) if self.options.instance_norm else emb)
        if self.use_vertex_features:
            parts.append(batch.vertex_features)
        return torch.cat(parts, dim=-1)


class EgoNet(nn.Module):
    """A network scoring ego networks: ``forward(batch)`` gives the (B, 2) log-probabilities of
    the ego's label; implements `models.base.InfluenceScorer`."""

    def __init__(self, meta: dict[str, Any]) -> None:
        super().__init__()
        # not saved with the weights: `EgoEstimator` rebuilds it from the header's meta
        weights = torch.tensor(meta["class_weights"], dtype=torch.float32)
        self.register_buffer("class_weights", weights, persistent=False)

    def _parameter_device(self) -> torch.device:
        return next(self.parameters()).device

    def scoring_batches(self, instances: InfluenceInstances) -> Iterator[EgoBatch]:
        """``instances`` in order, as batches on the network's device, the network in eval mode
        meanwhile (its mode is restored afterwards)."""
        was_training = self.training
        self.eval()
        try:
            for start in range(0, len(instances), SCORE_BATCH):
                idx = np.arange(start, min(start + SCORE_BATCH, len(instances)))
                yield ego_batch(instances, idx).to(self._parameter_device())
        finally:
            self.train(was_training)

    @torch.no_grad()
    def log_probs(self, instances: InfluenceInstances) -> Iterator[tuple[torch.Tensor, EgoBatch]]:
        """(log-probabilities (B, 2), batch) over ``instances`` in order, in eval mode."""
        for batch in self.scoring_batches(instances):
            yield self(batch), batch

    def influence_scores(self, instances: InfluenceInstances) -> np.ndarray:
        """P(the ego adopts) per instance. Shapes: → (N,) float64 in [0, 1]."""
        out = [lp[:, 1].exp().cpu().double() for lp, _ in self.log_probs(instances)]
        return torch.cat(out).numpy() if out else np.zeros(0)


@dataclass
class DeepInfGATConfig(EgoInputOptions):
    """Paper §4.3 / ``gat.sh``: hidden units 16, 16 per head, heads 8, 8, 1 (the last layer
    averages its heads into the 2 classes), dropout 0.2 after each hidden layer, no attention
    dropout (the code's default)."""

    hidden_units: tuple[int, ...] = (16, 16)
    heads: tuple[int, ...] = (8, 8, 1)
    dropout: float = 0.2
    attention_dropout: float = 0.0
    tanh_scores: bool = False

    def __post_init__(self) -> None:
        self.hidden_units, self.heads = tuple(self.hidden_units), tuple(self.heads)
        if len(self.heads) != len(self.hidden_units) + 1:
            raise ValueError(
                f"heads needs one entry per layer ({len(self.hidden_units) + 1}), got {self.heads}"
            )
        if min(self.hidden_units + self.heads, default=1) < 1:
            raise ValueError("hidden_units and heads must be >= 1")
        check_dropout(dropout=self.dropout, attention_dropout=self.attention_dropout)


@dataclass
class DeepInfGCNConfig(EgoInputOptions):
    """Paper §4.3 / ``gcn.sh``: hidden units 128, 128, dropout 0.2 after each hidden layer."""

    hidden_units: tuple[int, ...] = (128, 128)
    dropout: float = 0.2

    def __post_init__(self) -> None:
        self.hidden_units = tuple(self.hidden_units)
        if min(self.hidden_units, default=1) < 1:
            raise ValueError("hidden_units must be >= 1")
        check_dropout(dropout=self.dropout)


N_CLASSES = 2


class DeepInfGATNet(EgoNet):
    """Input layer → GAT layers (concatenated heads, ELU, dropout) → averaged output heads."""

    def __init__(self, meta: dict[str, Any], config: DeepInfGATConfig) -> None:
        super().__init__(meta)
        self.config = config
        self.input = EgoInput(config, meta["embedding_dim"], meta["n_vertex_features"])
        widths = (*config.hidden_units, N_CLASSES)
        self.layers = nn.ModuleList()
        f_in = self.input.width
        for i, (f_out, heads) in enumerate(zip(widths, config.heads, strict=True)):
            last = i == len(widths) - 1
            self.layers.append(self._layer(f_in, f_out, heads, concat=not last))
            f_in = f_out * heads if not last else f_out

    def _layer(self, f_in: int, f_out: int, heads: int, *, concat: bool) -> nn.Module:
        """One attention layer (heads concatenated, or averaged in the output layer)."""
        c = self.config
        return DenseGraphAttention(f_in, f_out, heads, concat=concat,
                                   attention_dropout=c.attention_dropout,
                                   tanh_scores=c.tanh_scores)  # fmt: skip

    def _encode(self, batch: EgoBatch, keep: int | None = None) -> tuple[torch.Tensor, Any]:
        """Every vertex's output (B, n, 2) and the attention (B, H, n, n) of layer ``keep``."""
        x, kept = self.input(batch), None
        for i, layer in enumerate(self.layers):
            x, alpha = layer(x, batch.adjacency, return_attention=True)
            if keep is not None and i == keep % len(self.layers):
                kept = alpha
            if i < len(self.layers) - 1:
                x = F.dropout(F.elu(x), self.config.dropout, self.training)
        return x, kept

    def forward(self, batch: EgoBatch) -> torch.Tensor:
        """Shapes: → (B, 2) log-probabilities at the ego (the last vertex)."""
        return F.log_softmax(self._encode(batch)[0][:, -1], dim=-1)

    @torch.no_grad()
    def ego_attention(self, instances: InfluenceInstances, layer: int = -1) -> np.ndarray:
        """The case study (§5.2): how much the ego attends to each vertex of its network in GAT
        layer ``layer`` (default the last), averaged over that layer's heads; 0 off its
        neighbours. Rows sum to 1 (neighbours and the ego itself).

        Shapes: → (N, n) float32, column j = vertex j of the ego network (the ego last)."""
        out = [
            self._encode(batch, layer)[1][:, :, -1].mean(dim=1).cpu()
            for batch in self.scoring_batches(instances)
        ]
        n = instances.size
        return torch.cat(out).numpy() if out else np.zeros((0, n), np.float32)


class DeepInfGCNNet(EgoNet):
    """Input layer → GCN layers on Â = D^-1/2 (A + I) D^-1/2 (ELU, dropout between layers)."""

    def __init__(self, meta: dict[str, Any], config: DeepInfGCNConfig) -> None:
        super().__init__(meta)
        self.config = config
        self.input = EgoInput(config, meta["embedding_dim"], meta["n_vertex_features"])
        widths = (self.input.width, *config.hidden_units, N_CLASSES)
        self.layers = nn.ModuleList(
            DenseGraphConv(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )

    def forward(self, batch: EgoBatch) -> torch.Tensor:
        """Shapes: → (B, 2) log-probabilities at the ego (the last vertex)."""
        x, prop = self.input(batch), normalized_adjacency(batch.adjacency)
        for i, layer in enumerate(self.layers):
            x = layer(x, prop)
            if i < len(self.layers) - 1:
                x = F.dropout(F.elu(x), self.config.dropout, self.training)
        return F.log_softmax(x[:, -1], dim=-1)


def class_weights(labels: np.ndarray) -> list[float]:
    """Balanced class weights w_c = N / (2 · N_c) (scikit-learn's "balanced", as DeepInf's
    ``get_class_weight``), from the labels given — the training part's, never all data's."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=N_CLASSES)
    if len(counts) > N_CLASSES or counts.min() == 0:
        raise CascadeKitError(
            f"influence training needs both labels 0 and 1; the training part has counts {counts}"
        )
    return (len(labels) / (N_CLASSES * counts)).tolist()


class EgoEstimator(TorchEstimator):
    """Fit / select / save / load for an `EgoNet` on `InfluenceInstances`: shuffled batches,
    the class-balanced NLL at the ego, validation loss and AUC without a task."""

    default_monitor = ("auc", "max")

    def _build_meta(self, train: InfluenceInstances) -> dict[str, Any]:
        if not isinstance(train, InfluenceInstances):
            raise CascadeKitError(
                f"{self.name} trains on InfluenceInstances (the influence task), got "
                f"{type(train).__name__}"
            )
        return {
            "size": int(train.size),
            "embedding_dim": int(train.embedding.shape[1]),
            "n_vertex_features": int(train.vertex_features.shape[1]),
            "class_weights": class_weights(train.labels),
        }

    def _batches(self, train: InfluenceInstances, epoch: int) -> Iterator[EgoBatch]:
        """Shuffled with ``seed + epoch`` for training; ``epoch = -1`` (validation): in order."""
        tc = self.train_config
        order = np.arange(len(train))
        if epoch >= 0:
            order = np.random.default_rng(tc.seed + epoch).permutation(len(train))
        for start in range(0, len(order), tc.batch_size):
            yield ego_batch(train, order[start : start + tc.batch_size])

    def _loss(self, module: nn.Module, batch: EgoBatch) -> torch.Tensor:
        # Fabric's wrapper forwards attribute access to the network
        return F.nll_loss(module(batch), batch.labels, weight=module.class_weights)

    @torch.no_grad()
    def _validate(self, module: EgoNet, valid: InfluenceInstances) -> dict[str, float]:
        """``loss``: the class-weighted NLL over the validation part; ``auc`` of the ego scores
        (None-free: a validation part with one label only is an error)."""
        total, weight, scores = 0.0, 0.0, []
        for lp, batch in module.log_probs(valid):
            w = module.class_weights[batch.labels]
            total += float(F.nll_loss(lp, batch.labels, weight=module.class_weights) * w.sum())
            weight += float(w.sum())
            scores.append(lp[:, 1].cpu())
        labels = valid.labels.astype(np.int64)
        if len(np.unique(labels)) < N_CLASSES:
            raise CascadeKitError("the validation part needs both labels 0 and 1 for its AUC")
        return {"loss": total / weight, "auc": roc_auc(torch.cat(scores).numpy(), labels)}


class DeepInfGAT(EgoEstimator):
    """DeepInf-GAT: ``DeepInfGAT(DeepInfGATConfig(), TrainConfig(...)).fit(train, valid)``."""

    name = "deepinf_gat"
    config_class = DeepInfGATConfig

    def _build(self, meta: dict[str, Any]) -> DeepInfGATNet:
        return DeepInfGATNet(meta, self.config)


class DeepInfGCN(EgoEstimator):
    """DeepInf-GCN: ``DeepInfGCN(DeepInfGCNConfig(), TrainConfig(...)).fit(train, valid)``."""

    name = "deepinf_gcn"
    config_class = DeepInfGCNConfig

    def _build(self, meta: dict[str, Any]) -> DeepInfGCNNet:
        return DeepInfGCNNet(meta, self.config)


# the optimiser of paper §4.3 and of the code's gat.sh / gcn.sh / pscn.sh
DEEPINF_TRAIN = dict(optimizer="adagrad", lr=0.1, weight_decay=5e-4, batch_size=1024)


def presets(code_model: dict[str, Any] | None = None, code_doc: str = "") -> dict[str, Preset]:
    """The ``paper`` (default) and ``reference_code`` presets of an ego-network model;
    ``code_model``: model options the code's preset also sets, said in ``code_doc``."""
    return {
        "paper": Preset(
            "paper §4.3: Adagrad lr 0.1, weight decay 5e-4, batch 1024, at most 500 epochs; the "
            "epoch with the best validation AUC (the influence task's monitor) is kept, training "
            "stops after 20 checks without improvement (the text selects on validation loss: "
            "--set select=loss)",
            "paper",
            train={**DEEPINF_TRAIN, "max_epochs": 500, "patience": 20},
        ),
        "reference_code": Preset(
            "the authors' scripts (xptree/DeepInf src/*.sh): the same optimiser, the last of 500 "
            "epochs kept (the code selects nothing)" + code_doc,
            "code",
            model=dict(code_model or {}),
            train={**DEEPINF_TRAIN, "max_epochs": 500, "select": "last"},
        ),
    }


GAT_PRESETS = presets({"tanh_scores": True}, "; attention scored on tanh(W h), as its GAT layer")
GCN_PRESETS = presets()
