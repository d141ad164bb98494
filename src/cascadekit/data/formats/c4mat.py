"""C4 / MIC marked event logs ``music2.mat`` and ``url.mat`` (MATLAB v5, read with scipy; no pickle).

Variables: ``adj`` (uint8 user × user adjacency), ``traindata`` / ``testdata`` structs with fields
``node`` (1-based user), ``prod`` (1-based product = mark), ``time`` (sorted ints, milliseconds),
``numuser``, ``numprod``; url also has ``users_index`` (original user ids, one per node).

Bundle:

* user vocabulary: url → the original ids from ``users_index`` (node k ↔ ``users_index[k-1]``);
  music2 (no original ids shipped) → the 1-based node numbers as strings ``"1" … "93"``. Either way
  index ``k-1`` is node ``k``, so the 0-based indices equal the C4 code's ``node - 1``.
* mark vocabulary: the 1-based product numbers as strings; index ``p-1`` is product ``p``.
* ``event_splits``: ``"train"`` / ``"test"`` exactly as shipped (file order kept for tied times).
* ``events``: every distinct event once. music2's test set is the last 9,066 events of its
  training set (``info["test_is_suffix_of_train"]``), so its ``events`` is the training data and
  its shipped split must not be used as a held-out set; url's test follows its train in time and
  ``events`` is train then test.
* ``graph``: ``adj`` as stored (``adj[u, v] != 0`` → arc u → v: u's events excite v), self-loops
  dropped and counted (C4's code adds the identity itself). The direction is checked on the data:
  IC fits better, on training and held-out events of music2 and url, with the arcs as read than
  reversed (``benchmarks/c4_adjacency_direction.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.events import EventLog
from cascadekit.data.graph import SocialGraph
from cascadekit.data.report import ReadReport
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import FormatError

TIME_UNIT = "ms"


def _field(path: Path, struct: Any, name: str, var: str) -> np.ndarray:
    if name not in (struct.dtype.names or ()):
        raise FormatError(path, None, f"a field {name!r} in {var}", str(struct.dtype.names))
    return np.asarray(struct[name]).ravel()


def _read_split(
    path: Path, mat: dict[str, Any], var: str, n_users: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(users 0-based, marks 0-based, times, number of products) of one struct, validated.

    The number of products is ``numprod`` when the struct has it (and every ``prod`` must lie in
    ``1..numprod``), else the largest ``prod``.

    Shapes: users, marks, times (N,).
    """
    if var not in mat:
        raise FormatError(path, None, f"a variable {var!r}", str(sorted(mat)))
    s = mat[var][0, 0]
    node = _integer_ids(path, _field(path, s, "node", var), f"{var}.node")
    prod = _integer_ids(path, _field(path, s, "prod", var), f"{var}.prod")
    time = _field(path, s, "time", var)
    if not len(node) == len(prod) == len(time):
        raise FormatError(
            path,
            None,
            f"{var} fields node/prod/time of equal length",
            f"{len(node)}/{len(prod)}/{len(time)}",
        )
    if time.dtype.kind not in "iuf" or (len(time) and not np.all(np.isfinite(time))):
        raise FormatError(path, None, f"finite numeric {var}.time", str(time.dtype))
    if "numprod" in s.dtype.names:
        declared = _integer_ids(path, _field(path, s, "numprod", var), f"{var}.numprod")
        if len(declared) != 1:
            raise FormatError(path, None, f"one {var}.numprod", f"{len(declared)} values")
        numprod = int(declared[0])
    else:
        numprod = int(prod.max(initial=0))
    for col, hi, what in ((node, n_users, "node"), (prod, numprod, "prod")):
        bad = (col < 1) | (col > hi)
        if np.any(bad):
            i = int(np.argmax(bad))
            raise FormatError(
                path, None, f"{var}.{what} in 1..{hi} (1-based)", f"{col[i]} at event {i + 1}"
            )
    times = time.astype(np.float64)
    if np.any(np.diff(times) < 0):
        i = int(np.argmax(np.diff(times) < 0))
        raise FormatError(path, None, f"{var}.time sorted", f"{times[i]:g} before {times[i + 1]:g}")
    return node - 1, prod - 1, times, numprod


def _integer_ids(path: Path, values: np.ndarray, what: str) -> np.ndarray:
    """1-based ids as int64; a fractional or non-finite id is an error (never truncated)."""
    v = np.asarray(values)
    if v.dtype.kind == "f":
        bad = ~np.isfinite(v) | (v != np.round(v))
        if np.any(bad):
            i = int(np.argmax(bad))
            raise FormatError(path, None, f"integer {what}", f"{v[i]} at event {i + 1}")
    elif v.dtype.kind not in "iu":
        raise FormatError(path, None, f"integer {what}", str(v.dtype))
    return v.astype(np.int64)


def read_c4(folder: str | Path, which: str = "music2") -> DatasetBundle:
    """Read ``<folder>/<which>.mat`` (see module docstring).

    Options:
        which: the dataset to read, "music2" or "url".
    """
    import scipy.io
    from scipy.io.matlab import MatReadError

    if which not in ("music2", "url"):
        raise ValueError(f"which must be 'music2' or 'url', got {which!r}")
    path = Path(folder) / f"{which}.mat"
    if not path.is_file():
        raise FormatError(path.parent, None, f"a {path.name} file")
    try:
        mat = scipy.io.loadmat(str(path))
    except (OSError, ValueError, TypeError, MatReadError) as exc:  # truncated or not a .mat
        raise FormatError(
            path, None, "a MATLAB 5 .mat file", f"{type(exc).__name__}: {exc}"
        ) from None
    if "adj" not in mat:
        raise FormatError(
            path, None, "a variable 'adj'", str(sorted(k for k in mat if k[0] != "_"))
        )
    adj = np.asarray(mat["adj"])
    if adj.ndim != 2 or adj.shape[0] != adj.shape[1]:
        raise FormatError(path, None, "a square adj matrix", str(adj.shape))
    n_users = adj.shape[0]
    if "users_index" in mat:
        original = _integer_ids(path, np.asarray(mat["users_index"]).ravel(), "users_index")
        if len(original) != n_users:
            raise FormatError(path, None, f"{n_users} users_index entries", str(len(original)))
        user_vocab = Vocabulary(str(u) for u in original.tolist())
        user_ids = "users_index (original ids)"
    else:
        user_vocab = Vocabulary(str(k) for k in range(1, n_users + 1))
        user_ids = "1-based node numbers"
    if len(user_vocab) != n_users:
        raise FormatError(path, None, "distinct users_index entries", "duplicates")
    report = ReadReport(source=str(path))

    u_tr, m_tr, t_tr, np_tr = _read_split(path, mat, "traindata", n_users)
    u_te, m_te, t_te, np_te = _read_split(path, mat, "testdata", n_users)
    n_marks = max(np_tr, np_te)
    mark_vocab = Vocabulary(str(p) for p in range(1, n_marks + 1))
    attrs = {"name": which, "time_unit": TIME_UNIT}

    def log(u: np.ndarray, m: np.ndarray, t: np.ndarray) -> EventLog:
        return EventLog(u, m, t, user_vocab, mark_vocab, attrs=attrs)

    train, test = log(u_tr, m_tr, t_tr), log(u_te, m_te, t_te)
    k = len(test)
    suffix = bool(
        k <= len(train)
        and np.array_equal(u_tr[len(train) - k :], u_te)
        and np.array_equal(m_tr[len(train) - k :], m_te)
        and np.array_equal(t_tr[len(train) - k :], t_te)
    )
    if suffix:
        events = train
    elif not k or not len(train) or t_te[0] >= t_tr[-1]:
        events = EventLog.concat(train, test)
    else:
        raise FormatError(path, None, "testdata either a suffix of traindata or after it in time")

    src, dst = np.nonzero(adj)
    loops = src == dst
    report.add("self_loop_dropped", int(loops.sum()))
    graph = SocialGraph.from_edges(
        src[~loops], dst[~loops], user_vocab, directed=True, attrs={"source": "adj"}
    )
    info = {
        "time_unit": TIME_UNIT,
        "user_ids": user_ids,
        "test_is_suffix_of_train": suffix,
        "note": (
            "the shipped test split is the tail of the training split: split by time yourself"
            if suffix
            else "events = train then test (disjoint in time)"
        ),
    }
    return DatasetBundle(
        name=which,
        events=events,
        event_splits={"train": train, "test": test},
        graph=graph,
        report=report,
        info=info,
    )
