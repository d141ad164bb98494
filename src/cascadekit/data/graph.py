"""`SocialGraph`: CSR adjacency over a user vocabulary (directed or not, optional edge weights).

Arrays (V users, E stored arcs)::

    indptr  (V+1,) int64  out-neighbours of u are indices[indptr[u]:indptr[u+1]]
    indices (E,)   int64  sorted within each row, no duplicates
    weights (E,)   float64 or None

An undirected graph stores both arcs of every edge; ``n_edges`` counts each edge once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from cascadekit.data.vocab import Vocabulary


class SocialGraph:
    def __init__(
        self,
        indptr: np.ndarray,
        indices: np.ndarray,
        vocab: Vocabulary,
        *,
        weights: np.ndarray | None = None,
        directed: bool = True,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(indices, dtype=np.int64)
        self.weights = None if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
        self.vocab = vocab
        self.directed = bool(directed)
        self.attrs = dict(attrs or {})
        if len(self.indptr) != len(vocab) + 1:
            raise ValueError(f"indptr has {len(self.indptr)} entries for {len(vocab)} users")
        if self.indptr[-1] != len(self.indices):
            raise ValueError("indptr[-1] must equal len(indices)")
        if self.weights is not None and len(self.weights) != len(self.indices):
            raise ValueError("weights and indices differ in length")

    @classmethod
    def from_edges(
        cls,
        src: np.ndarray,
        dst: np.ndarray,
        vocab: Vocabulary,
        *,
        weights: np.ndarray | None = None,
        directed: bool = True,
        attrs: dict[str, Any] | None = None,
    ) -> SocialGraph:
        """Build from arcs ``src[i] -> dst[i]`` (user indices). Duplicate arcs are merged (weights
        summed); for ``directed=False`` each edge is stored in both directions."""
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        n = len(vocab)
        w = np.ones(len(src)) if weights is None else np.asarray(weights, dtype=np.float64)
        if not directed:
            src, dst, w = (
                np.concatenate([src, dst]),
                np.concatenate([dst, src]),
                np.concatenate([w, w]),
            )
        mat = sp.coo_matrix((w, (src, dst)), shape=(n, n)).tocsr()
        mat.sum_duplicates()
        mat.sort_indices()
        if weights is None:  # an undirected u-v listed twice must not become weight 2
            mat.data[:] = 1.0
        return cls(
            mat.indptr, mat.indices, vocab,
            weights=None if weights is None else mat.data, directed=directed, attrs=attrs,
        )  # fmt: skip

    @classmethod
    def from_scipy(
        cls, mat: sp.spmatrix, vocab: Vocabulary, *, directed: bool = True
    ) -> SocialGraph:
        csr = sp.csr_matrix(mat)
        csr.sum_duplicates()
        csr.sort_indices()
        csr.eliminate_zeros()
        binary = bool(np.all(csr.data == 1))
        return cls(
            csr.indptr, csr.indices, vocab, weights=None if binary else csr.data, directed=directed
        )

    def __len__(self) -> int:
        return len(self.vocab)

    @property
    def n_nodes(self) -> int:
        return len(self.vocab)

    @property
    def n_arcs(self) -> int:
        return len(self.indices)

    @property
    def n_edges(self) -> int:
        """Edges counted once (arcs for a directed graph, arcs minus mirrored pairs otherwise)."""
        if self.directed:
            return self.n_arcs
        loops = int(np.sum(self.indices == np.repeat(np.arange(self.n_nodes), self.degree())))
        return (self.n_arcs - loops) // 2 + loops

    def degree(self) -> np.ndarray:
        """(V,) out-degree (= degree for undirected graphs)."""
        return np.diff(self.indptr)

    def neighbors(self, u: int) -> np.ndarray:
        return self.indices[self.indptr[u] : self.indptr[u + 1]]

    def to_scipy(self) -> sp.csr_matrix:
        data = np.ones(self.n_arcs) if self.weights is None else self.weights
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n_nodes, self.n_nodes))

    def edge_array(self) -> np.ndarray:
        """(E_arcs, 2) array of ``(src, dst)`` arcs."""
        src = np.repeat(np.arange(self.n_nodes, dtype=np.int64), self.degree())
        return np.stack([src, self.indices], axis=1)

    def reverse(self) -> SocialGraph:
        """Transpose: in-neighbours become out-neighbours."""
        return SocialGraph.from_scipy(self.to_scipy().T, self.vocab, directed=self.directed)

    def with_vocab(self, vocab: Vocabulary) -> SocialGraph:
        """The same graph re-indexed onto ``vocab`` (a superset of ids is fine; ids missing from
        ``vocab`` are appended to it)."""
        remap = vocab.encode(self.vocab.tokens)
        e = self.edge_array()
        g = SocialGraph.from_edges(
            remap[e[:, 0]], remap[e[:, 1]], vocab, weights=self.weights, directed=True,
            attrs=self.attrs,
        )  # fmt: skip
        g.directed = self.directed
        return g

    def statistics(self) -> dict[str, Any]:
        deg = self.degree()
        return {
            "nodes": self.n_nodes,
            "nodes_with_edges": int(
                np.sum((deg > 0) | (np.bincount(self.indices, minlength=self.n_nodes) > 0))
            ),
            "arcs": self.n_arcs,
            "edges": self.n_edges,
            "directed": self.directed,
            "weighted": self.weights is not None,
        }

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        return f"SocialGraph({self.n_nodes} users, {self.n_edges} {kind} edges)"

    def to_parquet(self, path: str | Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        e = self.edge_array()
        tokens = np.asarray(self.vocab.tokens, dtype=object)
        cols: dict[str, Any] = {
            "src": pa.array(tokens[e[:, 0]].tolist(), pa.string()),
            "dst": pa.array(tokens[e[:, 1]].tolist(), pa.string()),
            "src_index": pa.array(e[:, 0]),
            "dst_index": pa.array(e[:, 1]),
        }
        if self.weights is not None:
            cols["weight"] = pa.array(self.weights)
        meta = {"kind": "SocialGraph", "vocab": self.vocab.tokens, "directed": self.directed,
                "attrs": self.attrs}  # fmt: skip
        pq.write_table(
            pa.table(cols).replace_schema_metadata({"cascadekit": json.dumps(meta)}), str(path)
        )

    @classmethod
    def from_parquet(cls, path: str | Path) -> SocialGraph:
        import pyarrow.parquet as pq

        table = pq.read_table(str(path))
        raw = (table.schema.metadata or {}).get(b"cascadekit")
        if raw is None or json.loads(raw).get("kind") != "SocialGraph":
            raise ValueError(f"{path}: not a cascadekit SocialGraph Parquet file")
        meta = json.loads(raw)
        vocab = Vocabulary(meta["vocab"])
        src = table.column("src_index").to_numpy()
        dst = table.column("dst_index").to_numpy()
        # arcs are stored row-sorted, so CSR can be rebuilt directly
        indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=len(vocab)))])
        weights = table.column("weight").to_numpy() if "weight" in table.column_names else None
        return cls(
            indptr, dst, vocab, weights=weights, directed=meta["directed"], attrs=meta["attrs"]
        )
