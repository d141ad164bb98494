"""Names → models and tasks: the one registry the CLI, the quickstart, the benchmarks and the Python
API use.

A model entry names its estimator class (which carries its ``config_class``), the tasks it serves
(the first is the task it trains for by default), its named presets (the configurations behind
reported numbers, with where their values come from) and its default preset. Adding a model is
one entry here plus its module; the pipeline never branches on a family.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from cascadekit.errors import CascadeKitError
from cascadekit.models.base import Preset
from cascadekit.models.estimator import TorchEstimator
from cascadekit.options import build, describe, known_list
from cascadekit.tasks.base import Task
from cascadekit.training import TrainConfig

ALIASES = {"epochs": "max_epochs"}


def _load(target: str) -> Any:
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    estimator: str  # "module:Class"
    summary: str
    tasks: tuple[str, ...]  # the first: the task `train` uses unless told otherwise
    presets: str | None = None  # "module:PRESETS" (dict name → Preset)
    default_preset: str | None = None
    fixed: dict[str, Any] = field(default_factory=dict)  # config values this entry pins

    @property
    def estimator_class(self) -> type:
        return _load(self.estimator)

    @property
    def config_class(self) -> type:
        return self.estimator_class.config_class

    @property
    def uses_training_loop(self) -> bool:
        return issubclass(self.estimator_class, TorchEstimator)

    def preset_table(self) -> dict[str, Preset]:
        return _load(self.presets) if self.presets else {}

    def preset(self, name: str | None) -> tuple[str | None, Preset | None]:
        """The preset ``name`` (None: the default preset, if the model has one)."""
        name = name or self.default_preset
        if name is None:
            return None, None
        table = self.preset_table()
        if name not in table:
            known = ", ".join(table) or "none"
            raise CascadeKitError(f"{self.name} has no preset {name!r}; presets: {known}")
        return name, table[name]

    def configs(
        self, preset: str | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str | None, Any, TrainConfig | None]:
        """(preset name, model config, TrainConfig or None) from the preset and ``options``; each
        option goes to whichever config has the field (``epochs`` = ``max_epochs``); an unknown
        key is an error listing every option with its default."""
        name, chosen = self.preset(preset)
        model_opts = {**self.fixed, **(chosen.model if chosen else {})}
        train_opts = dict(chosen.train) if chosen else {}
        model_keys = {f.name for f in fields(self.config_class)}
        train_keys = {f.name for f in fields(TrainConfig)} if self.uses_training_loop else set()
        for key, value in (options or {}).items():
            key = ALIASES.get(key, key) if self.uses_training_loop else key
            if key in self.fixed:
                raise CascadeKitError(f"{self.name} fixes {key}={self.fixed[key]!r}")
            if key in model_keys:
                model_opts[key] = value
            elif key in train_keys:
                train_opts[key] = value
            else:
                train_list = f"; training options: {known_list(TrainConfig)}" if train_keys else ""
                raise CascadeKitError(
                    f"unknown option {key!r} for {self.name}; model options: "
                    f"{known_list(self.config_class)}{train_list}"
                )
        config = build(self.config_class, model_opts, f"{self.name} model")
        if not self.uses_training_loop:
            return name, config, None
        return name, config, build(TrainConfig, train_opts, f"{self.name} training")

    def create(self, preset: str | None = None, options: dict[str, Any] | None = None) -> Any:
        """A new, unfitted estimator."""
        _, config, train = self.configs(preset, options)
        cls = self.estimator_class
        return cls(config, train) if train is not None else cls(config)

    def describe(self) -> dict[str, Any]:
        """Everything `cascadekit models NAME` shows: options with defaults, presets, tasks."""
        out = {
            "name": self.name,
            "summary": self.summary,
            "tasks": list(self.tasks),
            "default_preset": self.default_preset,
            "presets": {
                n: {"source": p.source, "doc": p.doc, "model": p.model, "train": p.train}
                for n, p in self.preset_table().items()
            },
            "model_options": describe(self.config_class),
            "fixed": self.fixed,
        }
        if self.uses_training_loop:
            out["training_options"] = describe(TrainConfig)
        return out


_SEQ = ("next_user", "identification", "size_identification")
_NDM_PRESETS = "cascadekit.models.ndm:PRESETS"

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            "ndm", "cascadekit.models.ndm:NDM", "Neural Diffusion Model (NDM, paper 001)",
            ("identification", "next_user", "size_identification", "popularity"), _NDM_PRESETS,
            "reference_code",
        ),
        ModelSpec(
            "ndm_sn", "cascadekit.models.ndm:NDMSN",
            "NDM+SN: half of each user vector a frozen DeepWalk embedding of the social graph",
            ("identification", "next_user", "size_identification"), _NDM_PRESETS,
            "reference_code",
        ),
        ModelSpec(
            "lstm", "cascadekit.models.lstm:LSTM", "LSTM next-adopter baseline (NDM §5.1)",
            (*_SEQ, "popularity"), "cascadekit.models.lstm:PRESETS", "default",
        ),
        ModelSpec(
            "embedded_ic", "cascadekit.models.embedded_ic:EmbeddedIC",
            "Embedded IC baseline (Bourigault et al., WSDM 2016; NDM §5.1)",
            ("identification", "size_identification"), "cascadekit.models.embedded_ic:PRESETS",
            "reference",
        ),
        ModelSpec(
            "user_frequency", "cascadekit.models.user_frequency:UserFrequency",
            "every user scored by their training adoption count (the next-user floor)", _SEQ,
        ),
        ModelSpec(
            "popularity_features", "cascadekit.models.popularity_features:PopularityFeatures",
            "ridge regression of log2(increment+1) on observed size, timing, depth, breadth, "
            "growth and leaves of the observed cascade", ("popularity",),
        ),
        ModelSpec(
            "lstm_size", "cascadekit.models.lstm_size:LSTMSize",
            "LSTM over the observed user / inter-arrival sequence → log2(increment+1)",
            ("popularity",), "cascadekit.models.lstm_size:PRESETS", "paper",
        ),
        ModelSpec(
            "deephawkes", "cascadekit.models.deephawkes:DeepHawkes",
            "DeepHawkes (Cao et al., CIKM 2017): GRU over repost paths, non-parametric time "
            "decay, sum pooling → log2(increment+1)", ("popularity",),
            "cascadekit.models.deephawkes:PRESETS", "paper",
        ),
        ModelSpec(
            "dmt_lic", "cascadekit.models.dmt_lic:DMTLIC",
            "DMT-LIC (Chen et al., SIGIR 2019): GAT cascade graph + Bi-LSTM + user importance + "
            "shared gate + time decay; next-user and increment heads, L = γ ℓ1 + (1 − γ) ℓ2",
            ("popularity",), "cascadekit.models.dmt_lic:PRESETS", "paper",
        ),
        ModelSpec(
            "mmcas", "cascadekit.models.mmcas:MMCAs",
            "MMCAs (paper 003): cascade dynamics (GraphWave + NetMF + neural ODE), user "
            "profiles and post text fused by a mixture of interaction experts → "
            "log2(increment+1)", ("popularity",), "cascadekit.models.mmcas:PRESETS", "paper",
        ),
        ModelSpec(
            "deepinf_gat", "cascadekit.models.deepinf:DeepInfGAT",
            "DeepInf-GAT: graph attention over the ego network, read at the ego (paper 004)",
            ("influence",), "cascadekit.models.deepinf:GAT_PRESETS", "paper",
        ),
        ModelSpec(
            "deepinf_gcn", "cascadekit.models.deepinf:DeepInfGCN",
            "DeepInf-GCN: graph convolution on the ego network, read at the ego (paper 004)",
            ("influence",), "cascadekit.models.deepinf:GCN_PRESETS", "paper",
        ),
        ModelSpec(
            "influence_lr", "cascadekit.models.influence_baselines:InfluenceLR",
            "logistic regression on hand-crafted ego features (DeepInf's LR baseline)",
            ("influence",),
        ),
        ModelSpec(
            "influence_svm", "cascadekit.models.influence_baselines:InfluenceSVM",
            "linear SVM on hand-crafted ego features (DeepInf's SVM baseline)", ("influence",),
        ),
        ModelSpec(
            "pscn", "cascadekit.models.influence_baselines:PSCN",
            "PATCHY-SAN on a BFS receptive field of the ego network (DeepInf's PSCN baseline)",
            ("influence",), "cascadekit.models.influence_baselines:PSCN_PRESETS", "paper",
        ),
        *(
            ModelSpec(
                variant, "cascadekit.models.hawkes:MarkedHawkes",
                f"{label} marked Hawkes model of an event log (paper 002, Table 1)",
                ("point_process",), fixed={"variant": variant},
            )
            for variant, label in (("ic", "IC"), ("linmic", "linMIC"), ("cc", "CC"),
                                   ("mic", "MIC"))
        ),
    ]
}  # fmt: skip

TASKS: dict[str, str] = {
    "next_user": "cascadekit.tasks.next_user:NextUser",
    "identification": "cascadekit.tasks.identification:Identification",
    "size_identification": "cascadekit.tasks.identification:SizeIdentification",
    "point_process": "cascadekit.tasks.point_process:PointProcess",
    "popularity": "cascadekit.tasks.popularity:Popularity",
    "influence": "cascadekit.tasks.influence:Influence",
}


def model(name: str) -> ModelSpec:
    if name not in MODELS:
        raise CascadeKitError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))}")
    return MODELS[name]


def create(name: str, preset: str | None = None, **options: Any) -> Any:
    """A new, unfitted estimator of registered model ``name`` with ``preset`` and ``options``:
    ``create("ndm", "reference_code", max_epochs=20)``."""
    return model(name).create(preset, options)


def task_class(name: str) -> type[Task]:
    if name not in TASKS:
        raise CascadeKitError(f"unknown task {name!r}; available: {', '.join(TASKS)}")
    return _load(TASKS[name])


def task(
    name: str, split: dict[str, Any] | None = None, options: dict[str, Any] | None = None
) -> Task:
    return task_class(name)(split, options)


def resolved(preset: str | None, config: Any, train: TrainConfig | None) -> dict[str, Any]:
    """The full configuration a run records."""
    out = {"preset": preset, "model_config": asdict(config)}
    if train is not None:
        out["train_config"] = asdict(train)
    return out
