"""Social influence locality (DeepInf, paper 004; protocols §5): does the ego adopt the item, given
its sampled ego network and which of its vertices adopted before?

**Instances** (`bundle_instances`): `graph.ego.build_instances` on the bundle's social graph and
timed adoptions (its cascades when they have times — Last.fm's tag cascades are each user's first
use of a tag —, else its event log, marks = items), with the 7 structural vertex features
(`features.vertex`) and a seeded DeepWalk embedding (`graph.deepwalk`) of the same undirected
graph; or the instances of a DeepInf folder (``--format deepinf``, `data.formats.deepinf`).
The build options and the split are one options dataclass, `InfluenceSplitOptions`; named
option sets are `BUILD_PRESETS` (``--split-set preset=reference_code``; explicit keys win, and
``run.json`` records the preset name beside every resolved value).

**What the features may see.** Vertex features and the embedding are computed from the social
graph alone, never from an adoption, so no adoption of any part (test included) reaches them,
whatever the split — the time split included, for which protocols §7.2 asks global structures
to come from the training window: a static relation shipped with the data (MelCup17's follow
graph, Last.fm's friends, the StackExchange graph of MS-HGAT) has no window. A graph built from
the interactions themselves (who retweeted whom) would carry the labels and is not what these
readers return. What remains is a property of the data, the same for every split: a follow made
*because of* a retweet, if the graph was crawled after it.

**Splits** (``split``): ``random`` (default) — the paper's seeded 75/12.5/12.5 over instances, so
numbers compare with the paper; the same item and the same ego fall in several parts, and
training instances are often later than test ones (protocols §7.1, §7.6). The leakage-safe ones:
``item`` — items (cascades) shuffled and cut by cumulative instance count, so no item is in two
parts; ``time`` — instances ordered by time, every validation instance at or after every training
one and every test instance at or after every validation one (ties at a cut go to the later
part, so test times are strictly later than training times).

**Evaluation**: AUC on the test scores; the decision threshold is the one maximising F1 on the
*validation* precision–recall curve, applied to test (`metrics.classification_report`;
``strict_threshold`` applies "score > thr" as the authors' ``train.py``); plus the rate of
positive predictions. Selection metric: validation AUC.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.formats.deepinf import INSTANCES_KEY, read_instances
from cascadekit.data.graph import SocialGraph
from cascadekit.data.influence import InfluenceInstances
from cascadekit.data.splits import Split, random_partition
from cascadekit.errors import CascadeKitError
from cascadekit.features.vertex import FEATURE_NAMES, structural_features
from cascadekit.graph.deepwalk import DeepWalkConfig, deepwalk
from cascadekit.graph.ego import EgoOptions, build_instances, undirected_adjacency
from cascadekit.metrics import classification_report, roc_auc
from cascadekit.models.base import InfluenceScorer
from cascadekit.tasks.base import Task

SPLITS = ("random", "item", "time")


@dataclass(frozen=True)
class BuildPreset:
    """A named set of build options; ``source``: "code" (the authors' preprocessing) or
    "paper" (its text)."""

    doc: str
    source: str
    options: dict[str, Any]


BUILD_PRESETS: dict[str, BuildPreset] = {
    "reference_code": BuildPreset(
        "the authors' preprocess/digg.py defaults: restart 0.2, one negative per adoption, items "
        "of 100 ≤ adopters < 1500, egos of degree 3 ≤ d < 31, n = 50, ≥ 3 active, 1000 steps",
        "code",
        {"ego_size": 50, "min_active_neighbors": 3, "restart_prob": 0.2, "walk_length": 1000,
         "negatives_per_positive": 1, "min_item_size": 100, "max_item_size": 1500,
         "min_degree": 3, "max_degree": 31},
    ),
    "paper": BuildPreset(
        "paper §4: restart probability 0.8, negative:positive 3:1, n = 50, ≥ 3 active "
        "neighbours; no item-size or degree window (the text has none)",
        "paper",
        {"ego_size": 50, "min_active_neighbors": 3, "restart_prob": 0.8, "walk_length": 1000,
         "negatives_per_positive": 3, "min_item_size": 1, "max_item_size": None,
         "min_degree": 0, "max_degree": None},
    ),
}  # fmt: skip


@dataclass
class InfluenceSplitOptions(EgoOptions):
    """How instances are built (`graph.ego.EgoOptions`, whose defaults are the authors' procedure
    without their Digg-sized windows) and split. ``preset``: a `BUILD_PRESETS` name whose values
    replace the defaults (explicit options win); ``split``: ``random`` (default, the paper's),
    ``item`` or ``time`` (module docstring); ``fractions``: train / validation / test (the
    paper's 75 / 12.5 / 12.5); ``embedding_dim``: DeepWalk dimension (0: no embedding)."""

    preset: str | None = None
    split: str = "random"
    fractions: tuple[float, float, float] = (0.75, 0.125, 0.125)
    embedding_dim: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if len(self.fractions) != 3 or min(self.fractions) <= 0:
            raise ValueError(f"fractions must be three positive numbers, got {self.fractions}")
        if not np.isclose(sum(self.fractions), 1.0):
            raise ValueError(f"fractions must sum to 1, got {self.fractions}")
        if self.embedding_dim < 0:
            raise ValueError(f"embedding_dim must be >= 0, got {self.embedding_dim}")
        if self.preset is not None and self.preset not in BUILD_PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; presets: {', '.join(BUILD_PRESETS)}")


def with_preset(values: dict[str, Any] | None) -> dict[str, Any]:
    """``values`` on top of its ``preset``'s options (an unknown preset is an error)."""
    values = dict(values or {})
    name = values.get("preset")
    if name is None:
        return values
    if name not in BUILD_PRESETS:
        raise CascadeKitError(
            f"unknown influence preset {name!r}; presets: {', '.join(BUILD_PRESETS)}"
        )
    return {**BUILD_PRESETS[name].options, **values}


def bundle_instances(
    bundle: DatasetBundle, options: InfluenceSplitOptions, seed: int, *, progress: bool = False
) -> InfluenceInstances:
    """Every instance of ``bundle`` with its vertex features and embedding (module docstring).
    A DeepInf folder's instances are used as they were built: the build options of ``options``
    do not apply to them, and ``info`` (``split.info["build"]``) says how they were made."""
    folder = bundle.info.get(INSTANCES_KEY)
    if folder is not None:
        return read_instances(folder, embedding_dim=bundle.info.get("embedding_dim"))
    if bundle.graph is None:
        raise CascadeKitError(
            f"{bundle.name} has no social graph: influence instances need one (a follow or "
            "friend graph) beside timed adoptions"
        )
    cascades = bundle.cascades
    log = cascades if cascades is not None and cascades.times is not None else bundle.events
    if log is None:
        raise CascadeKitError(
            f"{bundle.name} has no timed adoptions (cascades with times or an event log)"
        )
    vocab = log.vocab if log is cascades else log.user_vocab
    if vocab != bundle.graph.vocab:
        raise CascadeKitError(f"{bundle.name}: the graph and the adoptions use different users")
    adj = undirected_adjacency(bundle.graph)
    instances = build_instances(adj, log, options, seed=seed, progress=progress)
    embedding = np.zeros((adj.shape[0], 0), dtype=np.float32)
    if options.embedding_dim:
        graph = SocialGraph.from_scipy(adj, bundle.graph.vocab, directed=False)
        embedding = deepwalk(graph, DeepWalkConfig(dim=options.embedding_dim, seed=seed))
    info = {**instances.info, "preset": options.preset, "embedding_dim": options.embedding_dim,
            "vertex_features": list(FEATURE_NAMES)}  # fmt: skip
    return replace(
        instances, vertex_features=structural_features(adj), embedding=embedding, info=info
    )


def _parts(instances: InfluenceInstances, options: InfluenceSplitOptions, seed: int) -> tuple:
    """(train, valid, test) index arrays and what the split adds to ``info``."""
    n, fractions = len(instances), options.fractions
    cuts = np.round(np.cumsum(fractions)[:-1] * n).astype(np.int64)
    if options.split == "random":
        return random_partition(n, fractions, seed=seed), {}
    if options.split == "item":
        if (instances.items < 0).any():
            raise CascadeKitError(
                "an item split needs every instance's item (this folder has none)"
            )
        items, counts = np.unique(instances.items, return_counts=True)
        order = np.random.default_rng(seed).permutation(len(items))
        start = np.cumsum(counts[order]) - counts[order]  # instances before each item
        part_of_item = np.empty(len(items), dtype=np.int64)
        part_of_item[order] = np.searchsorted(cuts, start, side="right")
        part = part_of_item[np.searchsorted(items, instances.items)]
        extra = {"items_per_part": np.bincount(part_of_item, minlength=3).tolist()}
        return [np.flatnonzero(part == k) for k in range(3)], extra
    times = instances.times
    if not np.isfinite(times).all():
        raise CascadeKitError("a time split needs every instance's time (this folder has none)")
    ordered = np.sort(times)
    t1, t2 = (float(ordered[min(c, n - 1)]) for c in cuts)
    part = np.searchsorted([t1, t2], times, side="right")
    return [np.flatnonzero(part == k) for k in range(3)], {"cut_times": [t1, t2]}


def split_instances(
    instances: InfluenceInstances, options: InfluenceSplitOptions, seed: int
) -> Split:
    """The train / validation / test parts of ``instances`` (module docstring). ``info``: the
    split kind, seed and fractions, the build's counts (``build``), the part sizes and positives
    per part; every part must hold both labels (AUC)."""
    parts, extra = _parts(instances, options, seed)
    split = Split(*(instances.subset(p) for p in parts))
    sizes = [len(p) for p in parts]
    positives = [int(instances.labels[p].sum()) for p in parts]
    split.info = {"kind": options.split, "seed": seed, "fractions": list(options.fractions),
                  **extra, "sizes": sizes, "positives": positives,
                  "build": instances.info}  # fmt: skip
    for name, size, pos in zip(("train", "valid", "test"), sizes, positives, strict=True):
        if pos == 0 or pos == size:
            raise CascadeKitError(
                f"the {options.split} split leaves the {name} part with {size} instances, "
                f"{pos} positive: every part needs both labels (instances {len(instances)}, "
                f"sizes {sizes}, positives {positives})"
            )
    return split


def _scores(model: Any, part: InfluenceInstances) -> np.ndarray:
    scores = np.asarray(model.influence_scores(part), dtype=np.float64)
    if scores.shape != (len(part),) or not np.isfinite(scores).all():
        raise CascadeKitError(
            f"{type(model).__name__}.influence_scores must return {len(part)} finite scores, "
            f"got shape {scores.shape}"
        )
    return scores


@dataclass
class InfluenceOptions:
    """``strict_threshold``: predict positive when score > threshold on test (the authors'
    ``train.py``) instead of ≥ (the threshold itself is chosen on validation either way)."""

    strict_threshold: bool = False


class Influence(Task):
    """Social influence locality (DeepInf): AUC, precision, recall, F1 of the ego's adoption."""

    name = "influence"
    summary = "will the ego adopt, given its ego network's earlier adopters: AUC, P, R, F1"
    split_options = InfluenceSplitOptions
    Options = InfluenceOptions
    protocols = (InfluenceScorer,)
    monitor = ("auc", "max")

    def __init__(
        self, split: dict[str, Any] | None = None, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(with_preset(split), options)

    def build(self, bundle: DatasetBundle, seed: int) -> Split:
        return split_instances(bundle_instances(bundle, self.split, seed), self.split, seed)

    def validator(self) -> Any:
        return lambda net, valid: {"auc": roc_auc(_scores(net, valid), valid.labels)}

    def evaluate(
        self, model: Any, split: Split, *, seed: int = 0, progress: bool = False
    ) -> dict[str, Any]:
        net = self.check(model)
        valid, test = split.valid, split.test
        test_scores = _scores(net, test)
        strict = self.options.strict_threshold
        out = classification_report(_scores(net, valid), valid.labels, test_scores, test.labels,
                                    strict_test=strict)  # fmt: skip
        predicted = test_scores > out["threshold"] if strict else test_scores >= out["threshold"]
        return {**out, "predicted_positive_rate": float(predicted.mean()),
                "test_positive_rate": float(test.labels.mean()), "n_valid": len(valid),
                "n_test": len(test), "split": split.info.get("kind")}  # fmt: skip
