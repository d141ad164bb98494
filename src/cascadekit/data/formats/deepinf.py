"""DeepInf instance folders (the layout the authors' loader reads: github.com/xptree/DeepInf,
``src/data_loader.py``), read into and written from `InfluenceInstances`.

Files, for N instances of n vertices over V users::

    adjacency_matrix.npy   (N, n, n)  the ego networks' adjacency: nonzero = edge, symmetric. The
                                      loader adds the self loops itself, so a diagonal in the
                                      file is dropped (counted: ``self_loops_dropped``)
    influence_feature.npy  (N, n, 2)  0/1 columns [active, is the ego]; the ego is the last vertex
    label.npy              (N,)       0/1: the ego adopts
    vertex_id.npy          (N, n)     user ids: rows of vertex_feature.npy and of the embedding
    vertex_feature.npy     (V, F)     structural features; the authors' files hold them raw and
                                      their loader standardises them, so they are standardised on
                                      reading unless ``cascadekit.json`` says they already are
    deepwalk.emb_<D>       word2vec text: a line "count D", then "id x_1 … x_D" per vertex; ids
                                      without a line get a zero row (as the authors' loader)

Our writer adds what the authors' loader ignores: ``item.npy`` (N,) int64 and ``time.npy`` (N,)
float64 (without them, read from the authors' data, items are −1 and times NaN: only the
paper's random split can use such a folder), and ``cascadekit.json`` (format marker, schema, the
instances' ``info``: how they were built). Arrays are written as the authors' loader reads them
(uint8 adjacency, float32 features) and never read with pickle.

How a folder maps onto the data model: it holds instances, not cascades, so
`read_instances` / `write_instances` are the reader and writer proper. `read_deepinf`, the
registered ``deepinf`` format (``--format deepinf FOLDER`` in ``train``, ``evaluate``,
``datasets stats``), checks the folder's shapes and returns a `DatasetBundle` with no cascades
and no graph whose ``info[INSTANCES_KEY]`` names the folder; the influence task reads the
instances from there (every other task refuses a bundle without cascades or events).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from cascadekit.data.atomic import check_output, replace_folder, temporary_sibling
from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.influence import InfluenceInstances, standardise
from cascadekit.errors import FormatError

INSTANCES_KEY = "influence_instances"
SIDECAR = "cascadekit.json"
SIDECAR_FORMAT = "cascadekit.influence_instances"
SIDECAR_SCHEMA = 1
REQUIRED = ("adjacency_matrix.npy", "influence_feature.npy", "label.npy", "vertex_id.npy",
            "vertex_feature.npy")  # fmt: skip


def _load(folder: Path, name: str, *, mmap: bool = False) -> np.ndarray:
    path = folder / name
    if not path.is_file():
        raise FormatError(folder, None, f"a {name} file (DeepInf instance folder)")
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    except ValueError as exc:  # an object array needs pickle: never loaded
        raise FormatError(path, None, "a numeric .npy array (pickles are never loaded)",
                          str(exc)) from None  # fmt: skip


def _check_shape(path: Path, arr: np.ndarray, expected: list[tuple[str, int | None]]) -> None:
    """``expected``: (symbol, size or None for any) per axis."""
    sizes = [size for _, size in expected]
    if arr.ndim != len(sizes) or any(
        e is not None and e != g for e, g in zip(sizes, arr.shape, strict=True)
    ):
        shown = ", ".join(k if v is None else f"{k}={v}" for k, v in expected)
        raise FormatError(path, None, f"an array of shape ({shown})", f"shape {arr.shape}")


def _embedding_file(folder: Path, dim: int | None) -> Path | None:
    if dim is not None:
        path = folder / f"deepwalk.emb_{dim}"
        if not path.is_file():
            raise FormatError(folder, None, f"a deepwalk.emb_{dim} embedding file")
        return path
    found = sorted(folder.glob("deepwalk.emb_*"))
    if len(found) > 1:
        raise FormatError(folder, None, "one deepwalk.emb_<D> file (or pass embedding_dim)",
                          ", ".join(p.name for p in found))  # fmt: skip
    return found[0] if found else None


def shapes(folder: str | Path, *, embedding_dim: int | None = None) -> dict[str, Any]:
    """The folder's sizes after checking that its arrays agree (memory-mapped, nothing else is
    read): ``instances`` N, ``ego_size`` n, ``users`` V, ``vertex_features`` F, ``embedding``
    file name or None, ``has_items_and_times``."""
    folder = Path(folder)
    ids = _load(folder, "vertex_id.npy", mmap=True)
    _check_shape(folder / "vertex_id.npy", ids, [("N", None), ("n", None)])
    n_inst, n = ids.shape
    expected = {"adjacency_matrix.npy": [("N", n_inst), ("n", n), ("n", n)],
                "influence_feature.npy": [("N", n_inst), ("n", n), ("2", 2)],
                "label.npy": [("N", n_inst)]}  # fmt: skip
    for name, shape in expected.items():
        _check_shape(folder / name, _load(folder, name, mmap=True), shape)
    feats = _load(folder, "vertex_feature.npy", mmap=True)
    _check_shape(folder / "vertex_feature.npy", feats, [("V", None), ("F", None)])
    extra = [name for name in ("item.npy", "time.npy") if (folder / name).is_file()]
    for name in extra:
        _check_shape(folder / name, _load(folder, name, mmap=True), [("N", n_inst)])
    emb = _embedding_file(folder, embedding_dim)
    return {"instances": n_inst, "ego_size": n, "users": len(feats),
            "vertex_features": feats.shape[1], "embedding": None if emb is None else emb.name,
            "has_items_and_times": len(extra) == 2}  # fmt: skip


def _binary(path: Path, arr: np.ndarray, what: str) -> np.ndarray:
    if arr.dtype.kind not in "biuf" or not ((arr == 0) | (arr == 1)).all():
        raise FormatError(path, None, f"{what} with values 0 and 1 only")
    return arr != 0


def read_embedding(path: str | Path, n_rows: int) -> tuple[np.ndarray, int]:
    """A word2vec text embedding as (``n_rows``, D) float32 rows by vertex id, and how many rows
    had no line (zeros, as the authors' loader). Ids must be integers in [0, n_rows), each once."""
    path = Path(path)
    with path.open("rb") as f:
        header = f.readline().split()
        if len(header) != 2 or not all(h.isdigit() for h in header):
            raise FormatError(path, 1, 'a "count dimension" header line', repr(header))
        dim = int(header[1])
        try:
            data = np.loadtxt(f, dtype=np.float64, ndmin=2)
        except ValueError as exc:
            raise FormatError(path, None, f"lines of an integer id and {dim} numbers",
                              str(exc)) from None  # fmt: skip
    if data.size == 0:
        data = np.zeros((0, dim + 1))
    if data.shape[1] != dim + 1:
        raise FormatError(path, 2, f"lines of an integer id and {dim} numbers",
                          f"{data.shape[1]} fields")  # fmt: skip
    ids = data[:, 0]
    bad = np.flatnonzero((ids != np.round(ids)) | (ids < 0) | (ids >= n_rows))
    if len(bad):
        raise FormatError(
            path, int(bad[0]) + 2, f"a vertex id in [0, {n_rows})", f"{ids[bad[0]]:g}"
        )
    ids = ids.astype(np.int64)
    if len(np.unique(ids)) != len(ids):
        raise FormatError(path, None, "each vertex id once")
    out = np.zeros((n_rows, dim), dtype=np.float32)
    out[ids] = data[:, 1:]
    return out, int(n_rows - len(ids))


def write_embedding(embedding: np.ndarray, path: str | Path) -> None:
    """``embedding`` (V, D) as word2vec text, one line per vertex id; '%.9g' keeps float32 exact."""
    n, dim = embedding.shape
    rows = np.column_stack([np.arange(n, dtype=np.float64), embedding.astype(np.float64)])
    with Path(path).open("w") as f:
        f.write(f"{n} {dim}\n")
        np.savetxt(f, rows, fmt=["%d"] + ["%.9g"] * dim)


def read_instances(folder: str | Path, *, embedding_dim: int | None = None) -> InfluenceInstances:
    """The instances of a DeepInf folder (module docstring); any disagreement between its files
    is a FormatError naming the file. ``embedding_dim`` picks ``deepwalk.emb_<dim>`` when the
    folder has several (none: the only one; no file: a (V, 0) embedding)."""
    folder = Path(folder)
    sizes = shapes(folder, embedding_dim=embedding_dim)
    n_users = sizes["users"]
    sidecar = _read_sidecar(folder)
    info: dict[str, Any] = dict(sidecar["info"]) if sidecar else {"source": "DeepInf folder"}
    adj_path = folder / "adjacency_matrix.npy"
    adjacency = _binary(adj_path, _load(folder, "adjacency_matrix.npy"), "an adjacency")
    diagonal = np.einsum("kii->ki", adjacency)
    loops = int(diagonal.sum())
    if loops:
        adjacency[:, np.arange(adjacency.shape[1]), np.arange(adjacency.shape[1])] = False
        info["self_loops_dropped"] = loops
    asym = np.flatnonzero((adjacency != adjacency.transpose(0, 2, 1)).any(axis=(1, 2)))
    if len(asym):
        raise FormatError(adj_path, None, "symmetric ego networks",
                          f"instance {int(asym[0])} is not symmetric")  # fmt: skip
    feat_path = folder / "influence_feature.npy"
    flags = _binary(feat_path, _load(folder, "influence_feature.npy"), "influence features")
    ego_flag = flags[..., 1]
    if not (ego_flag[:, -1].all() and not ego_flag[:, :-1].any()):
        raise FormatError(feat_path, None, "the ego flag (column 1) on the last vertex only")
    if flags[:, -1, 0].any():
        raise FormatError(feat_path, None, "an inactive ego (column 0 of the last vertex is 0)")
    label_path = folder / "label.npy"
    labels = _binary(label_path, _load(folder, "label.npy"), "labels").astype(np.int8)
    ids_path = folder / "vertex_id.npy"
    vertices = _load(folder, "vertex_id.npy")
    in_range = vertices.size == 0 or (vertices.min() >= 0 and vertices.max() < n_users)
    if vertices.dtype.kind not in "iu" or not in_range:
        expected = f"integer vertex ids in [0, {n_users}) (rows of vertex_feature.npy)"
        raise FormatError(ids_path, None, expected)
    features = _load(folder, "vertex_feature.npy").astype(np.float64)
    if not np.isfinite(features).all():
        raise FormatError(folder / "vertex_feature.npy", None, "finite vertex features")
    if not (sidecar and sidecar.get("vertex_features") == "standardised"):
        features = standardise(features)
    emb_file = folder / sizes["embedding"] if sizes["embedding"] else None
    if emb_file is None:
        embedding = np.zeros((n_users, 0), dtype=np.float32)
    else:
        embedding, missing = read_embedding(emb_file, n_users)
        if missing:
            info["embedding_rows_missing"] = missing
    n_inst = sizes["instances"]
    if sizes["has_items_and_times"]:
        items = _load(folder, "item.npy").astype(np.int64)
        times = _load(folder, "time.npy").astype(np.float64)
    else:
        items, times = np.full(n_inst, -1, dtype=np.int64), np.full(n_inst, np.nan)
    return InfluenceInstances(
        vertices=vertices.astype(np.int64), adjacency=adjacency, active=flags[..., 0],
        labels=labels, items=items, times=times, vertex_features=features.astype(np.float32),
        embedding=embedding, info=info,
    )  # fmt: skip


def _read_sidecar(folder: Path) -> dict[str, Any] | None:
    path = folder / SIDECAR
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise FormatError(path, None, "a JSON object", str(exc)) from None
    if not isinstance(doc, dict) or doc.get("format") != SIDECAR_FORMAT:
        raise FormatError(path, None, f'"format": "{SIDECAR_FORMAT}"')
    if doc.get("schema") != SIDECAR_SCHEMA:
        raise FormatError(path, None, f"schema {SIDECAR_SCHEMA}", str(doc.get("schema")))
    return doc


def _plain(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def write_instances(
    instances: InfluenceInstances, folder: str | Path, *, overwrite: bool = False
) -> Path:
    """Write ``instances`` as a DeepInf folder (module docstring) that the authors' loader and
    `read_instances` both read; `read_instances` gives back identical arrays and ``info``.
    Atomic (`data.atomic`): written into a temporary sibling folder that takes ``folder``'s place
    once complete. A non-empty ``folder`` is refused unless ``overwrite``, and even then only an
    instance folder we wrote (``cascadekit.json``) is replaced."""
    folder = Path(folder)
    check_output(folder, overwrite=overwrite, folder=True, marker=SIDECAR)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(folder)
    tmp.mkdir()
    try:
        _write(instances, tmp)
        replace_folder(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _write(inst: InfluenceInstances, folder: Path) -> None:
    flags = np.zeros((*inst.vertices.shape, 2), dtype=np.float32)
    flags[..., 0] = inst.active
    flags[:, -1, 1] = 1
    arrays = {
        "adjacency_matrix.npy": inst.adjacency.astype(np.uint8),
        "influence_feature.npy": flags,
        "label.npy": inst.labels.astype(np.int64),
        "vertex_id.npy": inst.vertices.astype(np.int64),
        "vertex_feature.npy": inst.vertex_features.astype(np.float32),
        "item.npy": inst.items.astype(np.int64),
        "time.npy": inst.times.astype(np.float64),
    }
    for name, arr in arrays.items():
        np.save(folder / name, arr, allow_pickle=False)
    if inst.embedding.shape[1]:
        write_embedding(inst.embedding, folder / f"deepwalk.emb_{inst.embedding.shape[1]}")
    doc = {"format": SIDECAR_FORMAT, "schema": SIDECAR_SCHEMA, "vertex_features": "standardised",
           "instances": len(inst), "ego_size": inst.size, "info": inst.info}  # fmt: skip
    (folder / SIDECAR).write_text(json.dumps(doc, indent=1, default=_plain), encoding="utf-8")


def read_deepinf(folder: str | Path, embedding_dim: int | None = None) -> DatasetBundle:
    """A DeepInf instance folder as a bundle for the influence task: its shapes are checked
    (`shapes`) and ``info[INSTANCES_KEY]`` names the folder; the task reads the instances.

    Options:
        embedding_dim: which deepwalk.emb_<D> file to use when the folder has several (None: the
            only one).
    """
    folder = Path(folder).resolve()
    sizes = shapes(folder, embedding_dim=embedding_dim)
    info = {INSTANCES_KEY: str(folder), "embedding_dim": embedding_dim, **sizes}
    return DatasetBundle(name=folder.name, info=info)
