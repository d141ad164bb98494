"""MMCAs (paper 003): multimodal cascade popularity — cascade dynamics, user profiles, text and
images (where a dataset has them) fused by an interpretable mixture of experts.

Inputs are the popularity task's observed cascades (`tasks.popularity`); each modality reads the
first ``max_events`` adoptions of a cascade (the source post first), in adoption order:

* **cascade (Z_C, §4.2)**: GraphWave embeddings (`graph.graphwave`) of the observed repost tree,
  edge (parent → i) weighted (T_o − t_i) / T_o, the time from the retweet to the end of the
  window; a NetMF embedding (`graph.netmf`, NetSMF's factorisation) of the global graph of the
  training part's observed repost edges between known users (frozen; UNK = 0); one
  self-attention encoder over each sequence, concatenated as the jump inputs of a neural ODE
  (`nn.ode.JumpODE`, times in units of T_o, dopri5 at rtol = atol = ``ode_tol``) integrated on to
  T_o. Z_C = [h(T_o), log2(1 + observed size)]: the size joins because truncation to
  ``max_events`` would otherwise hide it (our choice);
* **user (Z_U, eq. 1)**: per adopter with a profile, MLP(log(1 + followers), log(1 + friends)) ⊕
  embedding(verified type: the training adopters' values, others UNK), a self-attention encoder
  and attention pooling (`nn.sequence`). On CED only the source poster has a profile;
* **image (Z_V, §4.1)**: the source post's image features (``meta["image_features"]`` of the
  popularity task, from `data.content.Content`; EfficientNet-Lite0 through `features.image`,
  where the paper uses ViT) projected to the encoder width; one image per cascade, so the
  attention over a cascade's images is the identity;
* **text (Z_T, §4.1)**: every post's text (``events["text"]``: the source post and the repost
  comments) through `features.text.CharNgramTextEncoder` learned on the training part's texts
  (offline, Chinese without segmentation), a self-attention encoder and attention pooling.
  Multilingual BERT (the paper's) is not packaged offline; ``text_model`` takes any local
  sentence-transformers model instead (the packaged all-MiniLM-L6-v2 is English only).

A cascade without any profile, any text or an image lacks that modality: the fusion masks it
(`nn.moe.ModalityFusion`); a dataset with none at all does not build it (``meta["modalities"]``,
the dropped ones in ``meta["dropped_modalities"]``: CED has no images, so five experts there).

**Fusion and loss**: `nn.moe.ModalityFusion` (six experts with four modalities), and
eq. 12 (`nn.moe.FusionOutput.loss`) with ``lambda1`` (interaction losses) and ``lambda2`` (each
expert's own MSLE) and the similarity width ``temperature`` τ of the interaction losses. The
paper names no values (its Fig. 4 only says that a large λ1 hurts and that λ2 is kept small: the
step-wise objective is this weighting, trained jointly); ours are λ1 = λ2 = 1, τ = 0.1.
On the planted-modality problem (`benchmarks/mmcas_planted.py`: the driver's uniqueness expert
should carry the weight) this literal reading (the ``paper`` preset) did not put the weight on
the driver. The ``interpretable`` preset changes three things, each for that reason:
``perturbation="shuffle"`` (a modality's token replaced by another cascade's, not by N(0, I)
noise, which an expert can tell from data and ignore), ``gate_width`` = 0.5 (eq. 12's MSLE(Ŷ)
replaced by a competitive mixture loss, `nn.moe.FusionOutput.loss`: with Ŷ = Σ w_k Y_k alone the
reweighting averages accurate experts instead of choosing one) and λ1 = 5 (with λ1 = 1 the
winning expert read the other modalities anyway, the bounded uniqueness loss costing less than
the gate gained). ``mmcas_planted.json`` holds all three settings. ``fusion``:
"moe" or the Table 3 variants "concat", "transformer", "switch"; ``modalities``: the ablations
(w/o C, U, T) and the Table 4 pairs. `MMCAsNet.explain` gives each cascade's expert weights and outputs.

**Caching**: the text encoder's fit, the per-post text vectors, the GraphWave embeddings and the
NetMF table are `features.cache.ArrayCache` entries keyed by the content they were computed
from (``cache_dir``, default ``<data home>/features``): a second run on the same data encodes
nothing (``MMCAs.cache_.misses`` counts what was computed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from cascadekit.data.cascades import CascadeSet
from cascadekit.datasets import data_home
from cascadekit.features.cache import ArrayCache, content_hash
from cascadekit.features.text import CharNgramTextEncoder, SentenceModelEncoder, TextEncoderConfig
from cascadekit.graph.graphwave import graphwave
from cascadekit.graph.netmf import netmf_embedding
from cascadekit.models.base import Preset
from cascadekit.models.batching import length_buckets
from cascadekit.models.popularity import (
    SizeEstimator,
    SizeNet,
    SizeOptions,
    observation_window_of,
    padded,
    parent_positions,
    relative_times,
)
from cascadekit.nn.moe import FUSIONS, PERTURBATIONS, FusionOutput, ModalityFusion
from cascadekit.nn.ode import ADAPTIVE, FIXED_STEP, JumpODE
from cascadekit.nn.sequence import AttentionPool, SelfAttentionEncoder

MODALITIES = ("cascade", "user", "text", "image")
PROFILE = ("profile:followers", "profile:friends")
VERIFIED = "profile:verified_type"
WAVE, TEXT_VEC = "mmcas:graphwave", "mmcas:text"  # per-adoption feature columns (featurized)


@dataclass
class MMCAsConfig(SizeOptions):
    """``embedding_dim``: the NetMF global-graph embedding (a frozen table over the training
    users of ``min_user_count``; ``embedding_lr`` is unused). ``encoder_dim``: the self-attention
    encoders; ``fusion_dim``: d of eq. 5 (paper App. D tries 16–128); ``expert_hidden``,
    ``n_ffn``, ``fusion_heads``: the experts' feed-forward width, switch experts and heads.
    ``ode_method``: the ODE solver (`nn.ode`): dopri5 at ``ode_tol`` as the reference code, or a
    fixed-step one, "rk4" taking one step per inter-event interval (≈ 3× faster per epoch on
    CED, `benchmarks/popularity_speed.py`; the CED table's setting).
    ``text_*``: the character n-gram encoder (`features.text`), or with ``text_model`` a local
    sentence-transformers model folder or "all-MiniLM-L6-v2" (packaged, English) whose
    embeddings replace it (``text_dim`` is then the model's); ``graphwave_*``: scales and
    sampling points; ``netmf_window``: NetMF's T. See the module docstring for the rest."""

    embedding_dim: int = 32
    modalities: tuple[str, ...] = MODALITIES
    fusion: str = "moe"
    max_events: int = 100
    encoder_dim: int = 32
    ode_hidden: int = 32
    ode_method: str = "dopri5"
    ode_tol: float = 1e-4
    fusion_dim: int = 64
    expert_hidden: int = 128
    n_ffn: int = 4
    fusion_heads: int = 4
    lambda1: float = 1.0
    lambda2: float = 1.0
    temperature: float = 0.1
    perturbation: str = "noise"
    gate_width: float = 0.0
    text_dim: int = 64
    text_model: str | None = None
    text_max_features: int = 20_000
    text_min_df: int = 2
    graphwave_scales: tuple[float, ...] = (1.0, 10.0)
    graphwave_points: int = 25
    netmf_window: int = 2
    cache_dir: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.modalities = tuple(self.modalities)
        self.graphwave_scales = tuple(float(s) for s in self.graphwave_scales)
        unknown = set(self.modalities) - set(MODALITIES)
        if unknown or not self.modalities or len(set(self.modalities)) != len(self.modalities):
            raise ValueError(f"modalities must be distinct names among {', '.join(MODALITIES)}, "
                             f"got {list(self.modalities)}")  # fmt: skip
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, got {self.fusion!r}")
        if self.perturbation not in PERTURBATIONS:
            raise ValueError(f"perturbation must be one of {', '.join(PERTURBATIONS)}, "
                             f"got {self.perturbation!r}")  # fmt: skip
        sizes = (self.max_events, self.encoder_dim, self.ode_hidden, self.fusion_dim,
                 self.expert_hidden, self.n_ffn, self.fusion_heads, self.text_dim,
                 self.graphwave_points, self.netmf_window)  # fmt: skip
        if min(sizes) < 1:
            raise ValueError("sizes, max_events and netmf_window must be >= 1")
        if self.encoder_dim % 2 or self.fusion_dim % self.fusion_heads:
            raise ValueError("encoder_dim must be even and fusion_dim a multiple of fusion_heads")
        if min(self.lambda1, self.lambda2, self.gate_width) < 0:
            raise ValueError("lambda1, lambda2 and gate_width must be >= 0")
        if self.temperature <= 0 or self.ode_tol <= 0:
            raise ValueError("temperature and ode_tol must be > 0")
        if self.ode_method not in ADAPTIVE + FIXED_STEP:
            raise ValueError(f"ode_method must be one of {', '.join(ADAPTIVE + FIXED_STEP)}, "
                             f"got {self.ode_method!r}")  # fmt: skip


def feature_cache(config: MMCAsConfig) -> ArrayCache:
    return ArrayCache(Path(config.cache_dir) if config.cache_dir else data_home() / "features")


def _window_rows(cascades: CascadeSet, max_events: int) -> np.ndarray:
    """Shapes: (N,) bool, True at the adoptions a modality reads (positions < max_events)."""
    return cascades.positions < max_events


def post_texts(cascades: CascadeSet) -> np.ndarray:
    """Each adoption's post text, stripped ("" without one). Shapes: (N,) object."""
    if "text" not in cascades.events:
        return np.full(cascades.n_events, "", dtype=object)
    return np.asarray([str(t).strip() for t in cascades.events["text"]], dtype=object)


def category_index(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """1 + the position of each value among the sorted ``known`` values, 0 (UNK) for a value
    not among them (NaN included). Shapes: (N,), (K,) → (N,) int64."""
    values = np.asarray(values, dtype=np.float64)
    if len(known) == 0:
        return np.zeros(len(values), dtype=np.int64)
    pos = np.clip(np.searchsorted(known, values), 0, len(known) - 1)
    return np.where(known[pos] == values, pos + 1, 0).astype(np.int64)


def graphwave_rows(cascades: CascadeSet, config: MMCAsConfig) -> np.ndarray:
    """GraphWave embedding of every read adoption in its observed repost tree (module
    docstring; 0 beyond ``max_events``). Shapes: (N, 2 · scales · points) float32."""
    points = np.linspace(0.0, 100.0, config.graphwave_points)
    width = 2 * len(config.graphwave_scales) * len(points)
    out = np.zeros((cascades.n_events, width), dtype=np.float32)
    window = observation_window_of(cascades)
    weight = np.clip((window - relative_times(cascades)) / window, 0.0, None)
    parent = parent_positions(cascades)
    for lo, n in zip(cascades.offsets[:-1], cascades.lengths, strict=True):
        n = min(int(n), config.max_events)
        if n == 0:
            continue
        par, w = parent[lo : lo + n], weight[lo : lo + n]
        child = np.flatnonzero((par >= 0) & (par < n))
        adj = np.zeros((n, n))
        adj[par[child], child] = w[child]
        adj = np.maximum(adj, adj.T)
        out[lo : lo + n] = graphwave(adj, config.graphwave_scales, points)
    return out


def global_adjacency(train: CascadeSet, rows: np.ndarray) -> sp.csr_matrix:
    """The training part's observed repost edges (parent's user – adopter) between known users,
    undirected, weighted by their count, over embedding rows 1 … K (index row − 1).

    Shapes: rows (V,) from `models.popularity.train_user_rows` → (K, K)."""
    k = int(rows.max(initial=0))
    parent = parent_positions(train)
    has = np.flatnonzero(parent >= 0)
    start = np.repeat(train.offsets[:-1], train.lengths)
    a, b = rows[train.users[start[has] + parent[has]]], rows[train.users[has]]
    keep = (a > 0) & (b > 0) & (a != b)
    m = sp.coo_matrix((np.ones(int(keep.sum())), (a[keep] - 1, b[keep] - 1)), shape=(k, k))
    m = m.tocsr()
    return (m + m.T).tocsr()


def text_encoder_config(config: MMCAsConfig) -> TextEncoderConfig:
    return TextEncoderConfig(dim=config.text_dim, min_df=config.text_min_df,
                             max_features=config.text_max_features, seed=0)  # fmt: skip


def fit_text_encoder(
    texts: np.ndarray, config: MMCAsConfig, cache: ArrayCache
) -> CharNgramTextEncoder:
    """The character n-gram encoder of the training texts, its state cached (vocabulary, idf
    and projection) under the hash of those texts and the encoder settings."""
    enc_config = text_encoder_config(config)
    key = {"kind": "char_ngram_fit", "config": repr(enc_config), "texts": content_hash(texts)}
    fitted: list[CharNgramTextEncoder] = []

    def fit() -> CharNgramTextEncoder:
        if not fitted:
            fitted.append(CharNgramTextEncoder(enc_config).fit(list(texts)))
        return fitted[0]

    return CharNgramTextEncoder.from_state(
        enc_config,
        cache.get({**key, "part": "vocabulary"}, lambda: np.asarray(fit().vocabulary, dtype=str)),
        cache.get({**key, "part": "idf"}, lambda: fit().idf),
        cache.get({**key, "part": "components"}, lambda: fit().components),
    )


class MMCAsNet(SizeNet):
    """The network of the module docstring; ``self.users`` (a `TrainUsers`) holds the frozen
    NetMF table."""

    def __init__(self, meta: dict[str, Any], config: MMCAsConfig) -> None:
        super().__init__(meta, config)
        self.config = config
        self.modalities: list[str] = list(meta["modalities"])
        self.users.embed.weight.requires_grad_(False)
        self.cache: ArrayCache | None = None
        self._featured: dict[int, tuple[CascadeSet, CascadeSet]] = {}
        e = config.encoder_dim
        dims = {}  # fusion input width per modality, given to the fusion in modality order
        if "cascade" in self.modalities:
            self.wave_encoder = SelfAttentionEncoder(meta["wave_dim"], e)
            self.global_encoder = SelfAttentionEncoder(config.embedding_dim, e)
            self.ode = JumpODE(2 * e, config.ode_hidden, method=config.ode_method,
                               rtol=config.ode_tol, atol=config.ode_tol)  # fmt: skip
            dims["cascade"] = config.ode_hidden + 1
        if "user" in self.modalities:
            self.profile_mlp = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16))
            self.verified = nn.Embedding(len(meta["verified_types"]) + 1, 8)
            self.register_buffer("verified_values",
                                 torch.tensor(meta["verified_types"], dtype=torch.float64))  # fmt: skip
            self.user_encoder = SelfAttentionEncoder(24, e)
            self.user_pool = AttentionPool(e)
            dims["user"] = e
        if "text" in self.modalities:
            if config.text_model is None:  # the fitted n-gram encoder travels with the weights
                vocabulary = len(meta["text_vocabulary"])
                self.register_buffer("text_idf", torch.zeros(vocabulary, dtype=torch.float64))
                self.register_buffer("text_components", torch.zeros(
                    config.text_dim, vocabulary, dtype=torch.float64))  # fmt: skip
            self.text_encoder = SelfAttentionEncoder(meta.get("text_dim", config.text_dim), e)
            self.text_pool = AttentionPool(e)
            dims["text"] = e
        if "image" in self.modalities:
            self.image_proj = nn.Sequential(nn.Linear(meta["image_dim"], e), nn.ReLU())
            dims["image"] = e
        self.fusion = ModalityFusion(
            [dims[m] for m in self.modalities], self.modalities, dim=config.fusion_dim, heads=config.fusion_heads,
            hidden=config.expert_hidden, n_ffn=config.n_ffn, fusion=config.fusion,
            temperature=config.temperature, perturbation=config.perturbation,
        )  # fmt: skip
        self._vocabulary = meta.get("text_vocabulary", [])

    @torch.no_grad()
    def init_output_bias(self, value: float) -> None:
        for layer in self.fusion.output_layers():
            layer.bias.fill_(value)

    # features -------------------------------------------------------------------------------
    def text_encoder_state(self) -> CharNgramTextEncoder | SentenceModelEncoder:
        if self.config.text_model is not None:
            return SentenceModelEncoder(self.config.text_model)
        return CharNgramTextEncoder.from_state(
            text_encoder_config(self.config), self._vocabulary,
            self.text_idf.cpu().numpy(), self.text_components.cpu().numpy(),
        )  # fmt: skip

    def featurized(self, cascades: CascadeSet) -> CascadeSet:
        """``cascades`` with the per-adoption encodings as events columns (computed once per
        CascadeSet object, from the disk cache when there)."""
        if WAVE in cascades.events:
            return cascades
        hit = self._featured.get(id(cascades))
        if hit is not None and hit[0] is cascades:
            return hit[1]
        if self.cache is None:
            self.cache = feature_cache(self.config)
        rows = _window_rows(cascades, self.config.max_events)
        events = dict(cascades.events)
        if "cascade" in self.modalities:
            key = {"kind": "graphwave", "scales": list(self.config.graphwave_scales),
                   "points": self.config.graphwave_points, "max_events": self.config.max_events,
                   "window": observation_window_of(cascades),
                   "content": content_hash([cascades.offsets, cascades.times,
                                            parent_positions(cascades)])}  # fmt: skip
            events[WAVE] = self.cache.get(key, lambda: graphwave_rows(cascades, self.config))
        if "text" in self.modalities:
            texts = np.where(rows, post_texts(cascades), "")
            enc = self.text_encoder_state()
            key = {"kind": "char_ngram_vectors", "encoder": enc.state_hash(),
                   "texts": content_hash(texts)}  # fmt: skip

            def vectors() -> np.ndarray:
                width = self.text_encoder.proj.in_features
                out = np.zeros((len(texts), width), dtype=np.float32)
                some = np.flatnonzero(texts != "")
                if len(some):
                    out[some] = enc.transform(list(texts[some]))
                return out

            events[TEXT_VEC] = self.cache.get(key, vectors)
            events["mmcas:has_text"] = texts != ""
        out = cascades.with_columns(events=events)
        if len(self._featured) >= 4:
            self._featured.clear()
        self._featured[id(cascades)] = (cascades, out)
        return out

    def encode(self, cascades: CascadeSet) -> dict[str, torch.Tensor]:
        """Shapes (B cascades, L = min(longest, max_events)): mask (B, L) bool, times (B, L) in
        units of T_o, users (B, L) long, log_size (B,); with the cascade modality wave (B, L, W);
        with user profile (B, L, 2), verified (B, L) long, profile_mask (B, L); with text text
        (B, L, text_dim), text_mask (B, L)."""
        self.check_input(cascades)
        cascades = self.featurized(cascades)
        log_size = np.log2(1.0 + cascades.lengths).astype(np.float32)  # before truncation
        cascades = cascades.prefix(max_len=self.config.max_events)
        rel = relative_times(cascades) / self.observation_window
        lengths = np.maximum(cascades.lengths, 1)
        mask = np.arange(int(lengths.max(initial=1)))[None, :] < lengths[:, None]
        out = {
            "mask": torch.from_numpy(mask),
            "times": torch.from_numpy(padded(cascades, np.clip(rel, 0, 1).astype(np.float32))),
            "users": torch.from_numpy(padded(cascades, cascades.users)),
            "log_size": torch.from_numpy(log_size),
        }
        if "cascade" in self.modalities:
            out["wave"] = torch.from_numpy(padded(cascades, cascades.events[WAVE]))
        if "user" in self.modalities:
            prof = np.stack([cascades.events[k] for k in PROFILE], axis=1)
            known = np.isfinite(prof).all(axis=1)
            prof = np.log1p(np.where(known[:, None], np.maximum(prof, 0.0), 0.0))
            vt = cascades.events.get(VERIFIED, np.full(cascades.n_events, np.nan))
            cat = category_index(vt, self.verified_values.cpu().numpy())
            out["profile"] = torch.from_numpy(padded(cascades, prof.astype(np.float32)))
            out["verified"] = torch.from_numpy(padded(cascades, cat.astype(np.int64)))
            out["profile_mask"] = torch.from_numpy(padded(cascades, known))
        if "image" in self.modalities:
            out["image"] = torch.from_numpy(cascades.meta["image_features"].astype(np.float32))
            out["image_mask"] = torch.from_numpy(cascades.meta["image_mask"].astype(bool))
        if "text" in self.modalities:
            out["text"] = torch.from_numpy(padded(cascades, cascades.events[TEXT_VEC]))
            out["text_mask"] = torch.from_numpy(padded(cascades, cascades.events["mmcas:has_text"]))
        return out

    # network --------------------------------------------------------------------------------
    def _pooled(self, encoder: SelfAttentionEncoder, pool: AttentionPool, x: torch.Tensor,
                present: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """Encode and pool the present tokens; a row with none reads its first token (and is
        reported absent). Shapes: x (B, L, F), present (B, L) → (B, dim), (B,) bool."""
        any_present = present.any(1)
        safe = present.clone()
        safe[:, 0] |= ~any_present
        return pool(encoder(x, safe), safe), any_present

    def fuse(self, batch: dict[str, torch.Tensor]) -> FusionOutput:
        inputs, present = [], []
        mask = batch["mask"]
        for name in self.modalities:
            if name == "cascade":
                events = torch.cat([self.wave_encoder(batch["wave"], mask),
                                    self.global_encoder(self.users(batch["users"]), mask)], -1)  # fmt: skip
                end = torch.ones(len(mask), dtype=events.dtype, device=events.device)
                h = self.ode(events, batch["times"], mask, end)
                inputs.append(torch.cat([h, batch["log_size"][:, None]], dim=-1))
                present.append(torch.ones_like(mask[:, 0]))
            elif name == "user":
                tokens = torch.cat([self.profile_mlp(batch["profile"]),
                                    self.verified(batch["verified"])], dim=-1)  # fmt: skip
                z, has = self._pooled(self.user_encoder, self.user_pool, tokens,
                                      batch["profile_mask"] & mask)  # fmt: skip
                inputs.append(z)
                present.append(has)
            elif name == "text":
                z, has = self._pooled(self.text_encoder, self.text_pool, batch["text"],
                                      batch["text_mask"] & mask)  # fmt: skip
                inputs.append(z)
                present.append(has)
            else:  # one source image per cascade: its features, projected
                inputs.append(self.image_proj(batch["image"]))
                present.append(batch["image_mask"])
        return self.fusion(inputs, torch.stack(present, dim=1))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Shapes: the `encode` dict of B cascades → (B,) predicted log2(increment + 1)."""
        return self.fuse(batch).prediction

    def predict_increment(self, cascades: CascadeSet, batch_size: int = 256) -> np.ndarray:
        return super().predict_increment(self.featurized(cascades), batch_size)

    @torch.no_grad()
    def explain(self, cascades: CascadeSet, batch_size: int = 256) -> dict[str, Any]:
        """Per cascade: the reweighting ``weights`` (C, K) over ``experts`` (names), each expert's
        prediction ``outputs`` (C, K) and the fused ``prediction`` (C,), on the log2(increment +
        1) scale (the paper's local interpretability; over a test set, the global one)."""
        if self.fusion.fusion != "moe":
            raise ValueError(f"only the mixture of experts has expert weights (fusion = "
                             f"{self.fusion.fusion!r})")  # fmt: skip
        self.check_input(cascades)
        cascades = self.featurized(cascades)
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        k = len(self.fusion.expert_names)
        weights, outputs = np.zeros((len(cascades), k)), np.zeros((len(cascades), k))
        prediction = np.zeros(len(cascades))
        for idx in length_buckets(cascades.lengths, batch_size, shuffle=False, seed=0):
            batch = {n: v.to(device) for n, v in self.encode(cascades.subset(idx)).items()}
            out = self.fuse(batch)
            weights[idx] = out.weights.double().cpu().numpy()
            outputs[idx] = out.experts.double().cpu().numpy()
            prediction[idx] = out.prediction.double().cpu().numpy()
        self.train(was_training)
        return {"experts": self.fusion.expert_names, "weights": weights, "outputs": outputs,
                "prediction": prediction, "ids": list(cascades.ids)}  # fmt: skip


class MMCAs(SizeEstimator):
    """Estimator: ``MMCAs(MMCAsConfig(), TrainConfig()).fit(train, valid)`` on the popularity
    task's observed cascades. ``cache_`` is the feature cache of the last fit."""

    name = "mmcas"
    config_class = MMCAsConfig

    def _build_meta(self, train: CascadeSet) -> dict[str, Any]:
        meta = super()._build_meta(train)
        c = self.config
        self.cache_ = feature_cache(c)
        rows = _window_rows(train, c.max_events)
        texts = post_texts(train)[rows]
        texts = texts[texts != ""]
        has_profile = all(k in train.events for k in PROFILE) and bool(
            np.isfinite(np.stack([train.events[k][rows] for k in PROFILE])).all(0).any()
        )  # fmt: skip
        has_image = "image_mask" in train.meta and bool(np.any(train.meta["image_mask"]))
        available = {"cascade": True, "user": has_profile, "text": len(texts) >= 2,
                     "image": has_image}  # fmt: skip
        meta["modalities"] = [m for m in c.modalities if available[m]]
        meta["dropped_modalities"] = [m for m in c.modalities if not available[m]]
        if not meta["modalities"]:
            raise ValueError(f"none of the modalities {list(c.modalities)} is in these cascades")
        meta["wave_dim"] = 2 * len(c.graphwave_scales) * c.graphwave_points
        if "image" in meta["modalities"]:
            meta["image_dim"] = int(train.meta["image_features"].shape[1])
        if "user" in meta["modalities"]:
            vt = train.events[VERIFIED][rows] if VERIFIED in train.events else []
            meta["verified_types"] = sorted({float(v) for v in vt if np.isfinite(v)})
        self._text = None
        if "text" in meta["modalities"] and c.text_model is not None:
            meta["text_dim"] = SentenceModelEncoder(c.text_model).dim
        elif "text" in meta["modalities"]:
            self._text = fit_text_encoder(texts, c, self.cache_)
            meta["text_vocabulary"] = self._text.vocabulary
            meta["text_dim"] = c.text_dim
        self._global = None
        if "cascade" in meta["modalities"]:
            adj = global_adjacency(train, self._train_rows)
            key = {"kind": "netmf", "dim": c.embedding_dim, "window": c.netmf_window,
                   "content": content_hash([adj.indptr, adj.indices, adj.data])}  # fmt: skip
            self._global = self.cache_.get(key, lambda: netmf_embedding(
                adj, c.embedding_dim, window=c.netmf_window, seed=0))  # fmt: skip
        return meta

    def _build(self, meta: dict[str, Any]) -> MMCAsNet:
        net = super()._build(meta)
        if getattr(self, "_train_rows", None) is not None:  # fitting (load restores buffers)
            with torch.no_grad():
                if self._global is not None:
                    net.users.embed.weight[1:] = torch.from_numpy(self._global)
                    net.users.embed.weight[0] = 0.0
                if self._text is not None:
                    net.text_idf.copy_(torch.from_numpy(self._text.idf))
                    net.text_components.copy_(torch.from_numpy(self._text.components))
            net.cache = self.cache_
        return net

    def _network(self, meta: dict[str, Any]) -> MMCAsNet:
        return MMCAsNet(meta, self.config)

    def _batches(self, train: CascadeSet, epoch: int) -> Any:
        return super()._batches(self.module_.featurized(train), epoch)

    def _loss(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = module.fuse(batch)
        c = self.config
        loss = out.loss(batch["target"], c.lambda1, c.lambda2, gate_width=c.gate_width)
        parts = {"loss": loss, "msle": ((out.prediction - batch["target"]) ** 2).mean().detach()}
        if out.interaction is not None:
            parts["interaction"] = out.interaction.sum().detach()
        return parts

    def _param_groups(self, module: nn.Module) -> list[dict[str, Any]]:
        return [{"params": [p for p in module.parameters() if p.requires_grad]}]


_TRAIN = {"lr": 1e-3, "batch_size": 32, "patience": 10, "max_epochs": 100}
PRESETS: dict[str, Preset] = {
    "paper": Preset(
        "MMCAs with every modality the data has, MoE fusion, N(0, I) perturbations, eq. 12 with "
        "λ1 = λ2 = 1, τ = 0.1; Adam 1e-3, batch "
        "32, selection on validation MSLE (10 checks' patience, ≤ 100 epochs: the DMT-LIC "
        "baselines' settings; the paper gives none)",
        "paper",
        train=_TRAIN,
    ),
    **{
        name: Preset(f"variant: {doc} (otherwise `paper`)", "paper", model=model, train=_TRAIN)
        for name, doc, model in (
            (
                "interpretable",
                "expert weights that follow the modality: shuffle perturbations, "
                "a competitive gate (width 0.5), λ1 = 5",
                {"perturbation": "shuffle", "gate_width": 0.5, "lambda1": 5.0},
            ),
            ("concat", "fusion by concatenation + MLP (MMCAs-concat)", {"fusion": "concat"}),
            (
                "transformer",
                "fusion by one transformer block (MMCAs-trans)",
                {"fusion": "transformer"},
            ),
            ("switch", "fusion by one switch-transformer block (MMCAs-swiT)", {"fusion": "switch"}),
            *(
                (
                    f"no_{m}",
                    f"without {m} (w/o {m[0].upper()})",
                    {"modalities": tuple(x for x in MODALITIES if x != m)},
                )
                for m in MODALITIES
            ),
            *((f"{m}_only", f"{m} alone", {"modalities": (m,)}) for m in MODALITIES),
            *(
                (
                    f"{a}_{b}",
                    f"{a} and {b} only (Table 4's {a[0].upper()}{b[0].upper()})",
                    {"modalities": (a, b)},
                )
                for i, a in enumerate(MODALITIES)
                for b in MODALITIES[i + 1 :]
            ),
        )
    },  # fmt: skip
}
