"""Readers and writers, one module per external format; each reader returns a DatasetBundle.

``read(path, fmt)`` dispatches a user's own file or folder to the right reader (the CLI's
``convert --format``). Registered datasets name their reader in ``registry.json`` instead.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from cascadekit.data.bundle import DatasetBundle
from cascadekit.errors import CascadeKitError

# format name → ("module:function", what the path is)
FORMATS: dict[str, tuple[str, str]] = {
    "lines": (
        "lines:read_lines_dataset",
        "folder with cascade.txt / cascadevalid.txt / cascadetest.txt",
    ),
    "lines-file": ("lines:read_lines_file", "one file of `user,timestamp` lines"),
    "mshgat": ("mshgat:read_mshgat", "folder with cascades.txt (+ edges.txt)"),
    "raw-paths": ("deephawkes:read_raw_paths", "DeepHawkes/CasFlow raw path file"),
    "deephawkes": (
        "deephawkes:read_preprocessed",
        "folder with cascade_*.txt / shortestpath_*.txt",
    ),
    "c4": ("c4mat:read_c4", "folder with music2.mat / url.mat"),
    "hetrec-lastfm": ("hetrec:read_hetrec_lastfm", "HetRec 2011 Last.fm folder"),
    "ced": ("ced_weibo:read_ced", "CED_Dataset.tar.gz"),
    "melcup": ("melcup:read_melcup", "MelCup17 / Darwin folder root"),
    "csv": ("tabular:read_event_csv", "CSV event log (cascade, user, time[, parent])"),
    "parquet": ("tabular:read_event_parquet", "Parquet event log (cascade, user, time[, parent])"),
}


def read(path: str | Path, fmt: str, **kwargs: Any) -> DatasetBundle:
    """Read ``path`` with the reader registered for format ``fmt`` (see ``FORMATS``)."""
    if fmt not in FORMATS:
        raise CascadeKitError(
            f"unknown format {fmt!r}; known formats: {', '.join(sorted(FORMATS))}"
        )
    target, _ = FORMATS[fmt]
    module_name, func_name = target.split(":")
    module = importlib.import_module(f"cascadekit.data.formats.{module_name}")
    return getattr(module, func_name)(Path(path), **kwargs)
