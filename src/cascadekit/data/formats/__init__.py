"""Readers and writers, one module per external format; each reader returns a DatasetBundle.

``read(path, fmt)`` dispatches a user's own file or folder to the right reader (the CLI's
``convert --format``). Registered datasets name their reader in ``registry.json`` instead.
``describe(fmt)`` lists a format's reader options (the CLI's ``formats FORMAT``); every reader
documents its keyword options in an ``Options:`` section of its docstring, one ``name: text`` entry
each, for it.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cascadekit.data.bundle import DatasetBundle
from cascadekit.errors import CascadeKitError
from cascadekit.options import checked_kwargs

# format name → ("module:function", what the path is)
FORMATS: dict[str, tuple[str, str]] = {
    "lines": (
        "lines:read_lines_dataset",
        "folder with cascade.txt / cascadevalid.txt / cascadetest.txt (+ edges.txt)",
    ),
    "lines-file": ("lines:read_lines_file", "one file of `user,timestamp` lines"),
    "infvae": (
        "infvae:read_infvae",
        "Inf-VAE folder: train.txt / val.txt / test.txt (`seed u t u t ...`) + graph.txt",
    ),
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
    "deepinf": (
        "deepinf:read_deepinf",
        "DeepInf instance folder (adjacency_matrix.npy, influence_feature.npy, label.npy, "
        "vertex_id.npy, vertex_feature.npy, deepwalk.emb_<D>): influence task only",
    ),
}


def read(path: str | Path, fmt: str, **kwargs: Any) -> DatasetBundle:
    """Read ``path`` with the reader registered for format ``fmt`` (see ``FORMATS``)."""
    return call_reader(reader(fmt), Path(path), fmt, **kwargs)


def call_reader(
    func: Callable[..., DatasetBundle], path: Path, what: str, **kwargs: Any
) -> DatasetBundle:
    """``func(path, **kwargs)``, with what a damaged file makes the underlying libraries raise
    (a truncated .mat, .tar.gz or .parquet, an unreadable file) turned into one clear
    CascadeKitError naming the path; our own FormatErrors pass through unchanged. Reader options
    are checked first: an unknown one is an error listing the known ones with their defaults, and
    each value is coerced to the reader's annotated type (`options.coerce`: "false" is False)."""
    import tarfile
    import zlib

    import pyarrow as pa
    from scipy.io.matlab import MatReadError

    kwargs = checked_kwargs(func, kwargs, f"{what} reader", skip=1)
    try:
        return func(path, **kwargs)
    except CascadeKitError:
        raise
    except (OSError, EOFError, ValueError, tarfile.TarError, zlib.error, pa.ArrowException,
            MatReadError) as exc:  # fmt: skip
        raise CascadeKitError(
            f"{path}: cannot be read as {what} ({type(exc).__name__}: {exc})"
        ) from None


def reader(fmt: str) -> Callable[..., DatasetBundle]:
    """The reader function registered for ``fmt``; an unknown format names the known ones."""
    if fmt not in FORMATS:
        raise CascadeKitError(
            f"unknown format {fmt!r}; known formats: {', '.join(sorted(FORMATS))}"
        )
    module_name, func_name = FORMATS[fmt][0].split(":")
    module = importlib.import_module(f"cascadekit.data.formats.{module_name}")
    return getattr(module, func_name)


def describe(fmt: str) -> list[dict[str, Any]]:
    """One row per parameter of the reader of ``fmt``: ``name``, ``default``, ``required``, and
    ``description`` (the path's row, first, has the format's description from ``FORMATS``; the
    options' rows have the one-line text of the reader's ``Options:`` section, "" if missing)."""
    func = reader(fmt)
    docs = option_docs(func)
    rows = []
    for i, p in enumerate(inspect.signature(func).parameters.values()):
        required = p.default is inspect.Parameter.empty
        rows.append(
            {
                "name": p.name,
                "default": None if required else p.default,
                "required": required,
                "description": FORMATS[fmt][1] if i == 0 else docs.get(p.name, ""),
            }
        )
    return rows


_ENTRY = re.compile(r"(?P<name>\w+): (?P<text>.+)")


def option_docs(func: Callable[..., Any]) -> dict[str, str]:
    """``name → description`` from the ``Options:`` section of ``func``'s docstring.

    The section runs to the first blank or less indented line; an entry is ``name: text`` at the
    section's indent, and deeper indented lines continue it (joined into one line).
    """
    lines = (inspect.getdoc(func) or "").splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if line.strip() == "Options:"), len(lines))
    docs: dict[str, str] = {}
    indent, current = None, None
    for line in lines[start:]:
        depth = len(line) - len(line.lstrip())
        if not line.strip() or depth == 0 or (indent is not None and depth < indent):
            break
        indent = depth if indent is None else indent
        entry = _ENTRY.fullmatch(line.strip()) if depth == indent else None
        if entry:
            current = entry["name"]
            docs[current] = entry["text"]
        elif current is not None:
            docs[current] += " " + line.strip()
    return docs
