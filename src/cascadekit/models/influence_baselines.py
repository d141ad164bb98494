"""The baselines of DeepInf's Table 3 (paper 004 §4.3; protocols §5): logistic regression and a
linear SVM on hand-crafted ego features, and PSCN (PATCHY-SAN, Niepert et al., ICML 2016) on a
BFS receptive field of the ego network.

Ego features (`ego_features`), one row per instance, on the *sampled* ego network (its n vertices
and their induced edges; the ego is vertex n − 1). With N(v) the ego's neighbours there and
A ⊆ N(v) the active ones (adopted strictly before the instance time):

* the ego's global vertex features (``vertex_features[ego]``: rarity, clustering, PageRank, …);
* the ego's DeepWalk embedding (paper §4.3 (2); ``use_embedding``);
* ``n_active`` = |A|;  ``active_ratio`` = |A| / |N(v)| (0 when the ego has no neighbour);
* ``active_density`` = e(A) / (|A|(|A| − 1)/2), e(A) the edges among A (0 when |A| < 2);
* ``active_components`` = the number of connected components of the subgraph induced by A
  (0 when A is empty).

LR and SVM standardise these with the training part's mean and standard deviation (a constant
column is centred, not scaled) and are fitted by scikit-learn; the saved model is the scaler and
the linear coefficients in ``model.json`` (no pickle) and scoring is numpy: z = w·x̃ + b. LR scores
σ(z), its probability. The SVM scores σ(z) of its margin too: a monotone map, not a calibrated
probability (Platt scaling would refit on held-out data and change nothing the task reports: AUC
depends on the order only, and the F1 threshold, chosen on validation, moves with any monotone
map).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.special import expit
from torch import nn

from cascadekit.data.influence import InfluenceInstances
from cascadekit.errors import CascadeKitError
from cascadekit.models.base import read_model_header, write_model_header
from cascadekit.models.deepinf import (
    EgoBatch,
    EgoEstimator,
    EgoInput,
    EgoInputOptions,
    EgoNet,
    class_weights,
    presets,
)
from cascadekit.models.sequence import check_dropout

EGO_STRUCTURE = ("n_active", "active_ratio", "active_density", "active_components")


def ego_feature_names(n_features: int, embedding_dim: int, use_embedding: bool) -> list[str]:
    """Column names of `ego_features`, in order."""
    names = [f"vertex_feature_{i}" for i in range(n_features)]
    if use_embedding:
        names += [f"embedding_{i}" for i in range(embedding_dim)]
    return names + list(EGO_STRUCTURE)


def ego_features(instances: InfluenceInstances, *, use_embedding: bool = True) -> np.ndarray:
    """The hand-crafted features of every instance (module docstring), vectorised: the component
    count labels one block-diagonal graph of all instances' active-neighbour subgraphs at once.

    Shapes: → (N, F [+ D] + 4) float64, columns as `ego_feature_names`."""
    n_inst, n = instances.vertices.shape
    adj = instances.adjacency.astype(bool)
    neighbours = adj[:, -1, :].copy()
    neighbours[:, -1] = False
    act = neighbours & instances.active.astype(bool)  # (N, n): the active neighbours A
    k = act.sum(1)
    inner = adj & act[:, :, None] & act[:, None, :]
    edges = inner.sum((1, 2)) / 2
    pairs = k * (k - 1) / 2
    density = np.divide(edges, pairs, out=np.zeros(n_inst), where=pairs > 0)
    ratio = np.divide(k, neighbours.sum(1), out=np.zeros(n_inst), where=neighbours.any(1))
    b, i, j = np.nonzero(inner)
    graph = coo_matrix((np.ones(len(b)), (b * n + i, b * n + j)), shape=(n_inst * n,) * 2)
    _, component = connected_components(graph, directed=False)
    nodes = np.flatnonzero(act.ravel())
    # components never span two instances: count each distinct label once, at its instance
    _, first = np.unique(component[nodes], return_index=True)
    n_components = np.bincount(nodes[first] // n, minlength=n_inst)
    egos = instances.egos
    blocks = [instances.vertex_features[egos]]
    if use_embedding:
        blocks.append(instances.embedding[egos])
    blocks.append(np.stack([k, ratio, density, n_components], axis=1))
    return np.concatenate([np.asarray(x, dtype=np.float64) for x in blocks], axis=1)


@dataclass
class InfluenceLinearConfig:
    """``C``: inverse L2 regularisation strength (scikit-learn's, default 1; the paper states
    none). ``use_embedding``: include the ego's DeepWalk embedding (paper §4.3 lists it among
    the LR/SVM features). ``class_balanced``: weight the classes by N / (2 · N_c) on the
    training part, as the neural models' loss."""

    C: float = 1.0
    use_embedding: bool = True
    class_balanced: bool = True
    max_iter: int = 5000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.C <= 0:
            raise ValueError(f"C must be > 0, got {self.C}")
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be >= 1, got {self.max_iter}")


class InfluenceLinear:
    """A linear scorer of `ego_features`; implements `models.base.InfluenceScorer` itself.
    Subclasses name the scikit-learn estimator (`_estimator`)."""

    name: ClassVar[str]
    config_class = InfluenceLinearConfig

    def __init__(self, config: InfluenceLinearConfig | None = None) -> None:
        self.config = config or InfluenceLinearConfig()

    def _estimator(self, class_weight: dict[int, float] | None) -> Any:
        raise NotImplementedError

    def fit(
        self, train: InfluenceInstances, valid: InfluenceInstances | None = None, **_: Any
    ) -> InfluenceLinear:
        """Standardise and fit on ``train`` (``valid`` and the pipeline's keywords are unused:
        nothing is selected)."""
        if not isinstance(train, InfluenceInstances):
            raise CascadeKitError(
                f"{self.name} trains on InfluenceInstances (the influence task), got "
                f"{type(train).__name__}"
            )
        x = ego_features(train, use_embedding=self.config.use_embedding)
        weights = class_weights(train.labels)
        self.mean_ = x.mean(0)
        scale = x.std(0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        balanced = dict(enumerate(weights)) if self.config.class_balanced else None
        est = self._estimator(balanced).fit((x - self.mean_) / self.scale_, train.labels)
        self.coef_ = np.asarray(est.coef_, dtype=np.float64).ravel()
        self.intercept_ = float(np.ravel(est.intercept_)[0])
        self.feature_names_ = ego_feature_names(
            train.vertex_features.shape[1], train.embedding.shape[1], self.config.use_embedding
        )
        return self

    def use_bundle(self, bundle: Any) -> InfluenceLinear:
        return self

    def decision(self, instances: InfluenceInstances) -> np.ndarray:
        """z = w·x̃ + b on the standardised features. Shapes: → (N,) float64."""
        x = ego_features(instances, use_embedding=self.config.use_embedding)
        if x.shape[1] != len(self.coef_):
            raise CascadeKitError(
                f"{self.name} was fitted on {len(self.coef_)} features, these instances give "
                f"{x.shape[1]} (another embedding or vertex-feature width)"
            )
        return (x - self.mean_) / self.scale_ @ self.coef_ + self.intercept_

    def influence_scores(self, instances: InfluenceInstances) -> np.ndarray:
        """σ(z) per instance. Shapes: → (N,) float64 in [0, 1]."""
        return expit(self.decision(instances))

    def save(self, path: str | Path) -> Path:
        folder = Path(path)
        payload = {
            "config": asdict(self.config), "features": self.feature_names_,
            "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
            "coef": self.coef_.tolist(), "intercept": self.intercept_,
        }  # fmt: skip
        write_model_header(folder, self.name, payload)
        return folder

    @classmethod
    def load(cls, path: str | Path) -> InfluenceLinear:
        header = read_model_header(Path(path), (cls.name,))
        model = cls(InfluenceLinearConfig(**header["config"]))
        model.feature_names_ = list(header["features"])
        model.mean_ = np.asarray(header["mean"], dtype=np.float64)
        model.scale_ = np.asarray(header["scale"], dtype=np.float64)
        model.coef_ = np.asarray(header["coef"], dtype=np.float64)
        model.intercept_ = float(header["intercept"])
        return model


class InfluenceLR(InfluenceLinear):
    """Logistic regression (L2, lbfgs) on `ego_features`."""

    name = "influence_lr"

    def _estimator(self, class_weight: dict[int, float] | None) -> Any:
        from sklearn.linear_model import LogisticRegression

        cfg = self.config
        return LogisticRegression(
            C=cfg.C, class_weight=class_weight, max_iter=cfg.max_iter, random_state=cfg.seed
        )


class InfluenceSVM(InfluenceLinear):
    """Linear SVM (squared hinge, L2; scikit-learn's `LinearSVC`) on `ego_features`."""

    name = "influence_svm"

    def _estimator(self, class_weight: dict[int, float] | None) -> Any:
        from sklearn.svm import LinearSVC

        cfg = self.config
        return LinearSVC(
            C=cfg.C, class_weight=class_weight, max_iter=cfg.max_iter, random_state=cfg.seed
        )


# ----------------------------------------------------------------------------------- PSCN
def bfs_distances(adjacency: torch.Tensor, sources: torch.Tensor) -> torch.Tensor:
    """Hop distances from each source vertex, by frontier expansion (one batched product per
    BFS level).

    Shapes:
        adjacency: (B, n, n) bool, symmetric; sources: (B, S) long vertex positions, −1 = none.
        return: (B, S, n) long; n marks an unreachable vertex (and every vertex of a −1 source).
    """
    n = adjacency.shape[-1]
    a = adjacency.float()
    seen = F.one_hot(sources.clamp(min=0), n).bool() & (sources >= 0)[..., None]
    dist = torch.full(seen.shape, n, dtype=torch.long, device=adjacency.device)
    dist[seen] = 0
    frontier = seen
    for hop in range(1, n):
        frontier = (torch.matmul(frontier.float(), a) > 0) & ~seen
        if not frontier.any():
            break
        dist[frontier] = hop
        seen = seen | frontier
    return dist


def rank_vertices(dist: torch.Tensor, active: torch.Tensor, count: int) -> torch.Tensor:
    """The first ``count`` vertices by (BFS distance, active first, position in the ego network);
    −1 where fewer are reachable.

    Shapes: dist (B, S, n) from `bfs_distances`; active (B, n) bool → (B, S, count) long."""
    n = dist.shape[-1]
    position = torch.arange(n, device=dist.device)
    key = (dist * 2 + (~active).long()[:, None, :]) * n + position  # distinct: a total order
    order = key.argsort(dim=-1)[..., :count]
    reachable = dist.gather(-1, order) < n
    out = torch.where(reachable, order, torch.full_like(order, -1))
    if count > n:  # more slots than vertices: the rest is padding
        out = F.pad(out, (0, count - n), value=-1)
    return out


def receptive_field(
    adjacency: torch.Tensor, active: torch.Tensor, sequence_size: int, neighbor_size: int
) -> torch.Tensor:
    """PATCHY-SAN's receptive field as DeepInf §4.3 builds it: the first ``sequence_size`` (w)
    vertices in BFS order from the ego, ties within a BFS level broken active first (then by
    position); for each, its first ``neighbor_size`` (k) vertices in the same order from it
    (itself first). Slots beyond what is reachable are −1 (zero-padded by `PSCNNet`).

    The reference code pads with −1 too but then adds each instance's batch offset to the index
    (``recep + b·n`` in ``BatchPSCN.forward``), so a −1 slot reads row b·n − 1 of the flattened
    batch: the previous instance's ego (and fails as an out-of-range index in the first
    instance of a batch). The RWR ego networks there are connected and hold n = 50 ≥ w, k
    vertices, so the bug stays latent on their data; here padding is always zeros. The code's
    neighbourhoods follow igraph's BFS order without the active-first rule; here both levels use
    the one ranking (`rank_vertices`).

    Shapes: adjacency (B, n, n) bool; active (B, n) bool → (B, w·k) long, −1 = padding.
    """
    b, n = active.shape
    ego = torch.full((b, 1), n - 1, dtype=torch.long, device=active.device)
    sequence = rank_vertices(bfs_distances(adjacency, ego), active, sequence_size)[:, 0]
    fields = rank_vertices(bfs_distances(adjacency, sequence), active, neighbor_size)
    return fields.reshape(b, sequence_size * neighbor_size)


@dataclass
class PSCNConfig(EgoInputOptions):
    """DeepInf §4.3 / ``pscn.sh``: w = 16 vertices, k = 5 neighbours each; a 1-D convolution
    with 16 channels, kernel and stride k (one output per receptive field), then 8 channels with
    kernel 1, ReLU after both, dropout 0.2, a linear layer to the 2 classes."""

    sequence_size: int = 16
    neighbor_size: int = 5
    channels: tuple[int, int] = (16, 8)
    dropout: float = 0.2

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)
        if len(self.channels) != 2 or min(self.channels) < 1:
            raise ValueError(f"channels must be two sizes >= 1, got {self.channels}")
        if min(self.sequence_size, self.neighbor_size) < 1:
            raise ValueError("sequence_size and neighbor_size must be >= 1")
        check_dropout(dropout=self.dropout)


class PSCNNet(EgoNet):
    """Input layer (as DeepInf's) → features gathered along the receptive field (zeros at
    padding) → Conv1d(k, stride k) → ReLU → Conv1d(1) → ReLU → dropout → linear → log-softmax."""

    def __init__(self, meta: dict[str, Any], config: PSCNConfig) -> None:
        super().__init__(meta)
        self.config = config
        self.input = EgoInput(config, meta["embedding_dim"], meta["n_vertex_features"])
        c1, c2 = config.channels
        k = config.neighbor_size
        self.conv1 = nn.Conv1d(self.input.width, c1, kernel_size=k, stride=k)
        self.conv2 = nn.Conv1d(c1, c2, kernel_size=1)
        self.out = nn.Linear(c2 * config.sequence_size, 2)

    def forward(self, batch: EgoBatch) -> torch.Tensor:
        """Shapes: → (B, 2) log-probabilities of the ego's label."""
        cfg = self.config
        x = self.input(batch)  # (B, n, F)
        b, n, _ = x.shape
        field = receptive_field(
            batch.adjacency, batch.flags[..., 0] > 0, cfg.sequence_size, cfg.neighbor_size
        )
        padded = F.pad(x, (0, 0, 0, 1))  # row n is the zero vector
        rows = torch.arange(b, device=x.device)[:, None]
        seq = padded[rows, torch.where(field < 0, n, field)]  # (B, w·k, F)
        h = F.relu(self.conv2(F.relu(self.conv1(seq.transpose(1, 2)))))
        h = F.dropout(h, cfg.dropout, self.training)
        return F.log_softmax(self.out(h.flatten(1)), dim=-1)


class PSCN(EgoEstimator):
    """PSCN baseline: ``PSCN(PSCNConfig(), TrainConfig(...)).fit(train, valid)``."""

    name = "pscn"
    config_class = PSCNConfig

    def _build(self, meta: dict[str, Any]) -> PSCNNet:
        return PSCNNet(meta, self.config)


PSCN_PRESETS = presets()
