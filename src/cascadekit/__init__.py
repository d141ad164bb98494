"""cascadekit: information cascade modelling toolkit.

The public API (imported on first use, so ``import cascadekit`` stays fast)::

    import cascadekit as ck

    bundle = ck.load_dataset("ndm_irvine")              # or ck.load_bundle(folder_or_file, fmt=...)
    info = ck.train("ndm", "ndm_irvine", "runs/ndm")    # registry name, data, run folder
    result = ck.evaluate("runs/ndm", "identification", options={"n_samples": 1000})

    model = ck.NDM(ck.NDMConfig(), ck.TrainConfig(max_epochs=5)).fit(train, valid)
    ck.Identification().evaluate(model, split)          # any task on any compatible model
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

_EXPORTS = {
    # data and datasets
    "load_dataset": "cascadekit.datasets:load",
    "load_bundle": "cascadekit.pipeline:load_bundle",
    "DatasetBundle": "cascadekit.data.bundle:DatasetBundle",
    "CascadeSet": "cascadekit.data.cascades:CascadeSet",
    "EventLog": "cascadekit.data.events:EventLog",
    "SocialGraph": "cascadekit.data.graph:SocialGraph",
    # runs
    "train": "cascadekit.pipeline:train",
    "evaluate": "cascadekit.pipeline:evaluate",
    "simulate": "cascadekit.pipeline:simulate",
    "load_run": "cascadekit.pipeline:load_run",
    "report": "cascadekit.report.run_report:report_run",
    "models": "cascadekit.registry:MODELS",
    "create_model": "cascadekit.registry:create",
    # models
    "TrainConfig": "cascadekit.training:TrainConfig",
    "NDM": "cascadekit.models.ndm:NDM",
    "NDMSN": "cascadekit.models.ndm:NDMSN",
    "NDMConfig": "cascadekit.models.ndm:NDMConfig",
    "LSTM": "cascadekit.models.lstm:LSTM",
    "LSTMConfig": "cascadekit.models.lstm:LSTMConfig",
    "EmbeddedIC": "cascadekit.models.embedded_ic:EmbeddedIC",
    "EmbeddedICConfig": "cascadekit.models.embedded_ic:EmbeddedICConfig",
    "UserFrequency": "cascadekit.models.user_frequency:UserFrequency",
    "MarkedHawkes": "cascadekit.models.hawkes.model:MarkedHawkes",
    "HawkesConfig": "cascadekit.models.hawkes.model:HawkesConfig",
    "MIC": "cascadekit.models.hawkes.model:MIC",
    # tasks
    "NextUser": "cascadekit.tasks.next_user:NextUser",
    "Identification": "cascadekit.tasks.identification:Identification",
    "SizeIdentification": "cascadekit.tasks.identification:SizeIdentification",
    "PointProcess": "cascadekit.tasks.point_process:PointProcess",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'cascadekit' has no attribute {name!r}")
    module, attr = _EXPORTS[name].split(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
