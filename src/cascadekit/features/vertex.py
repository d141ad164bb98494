"""DeepInf's 7 structural vertex features (paper 004 Table 2; protocols §5), on a sparse graph.

Input: the symmetric 0/1 adjacency A of an undirected simple graph
(`graph.ego.undirected_adjacency`), V vertices, d = A·1 the degrees. Columns, in the authors'
order (`FEATURE_NAMES`):

* ``rarity`` = 1 / max(d, 1);
* ``clustering``: local clustering coefficient 2·T(v) / (d(d − 1)), T(v) the triangles through v,
  0 when d < 2 (igraph ``transitivity_local_undirected(mode="zero")``, networkx ``clustering``);
* ``pagerank``: damping 0.85, uniform teleport, a dangling (isolated) vertex's mass spread
  uniformly; sums to 1 (igraph / networkx ``pagerank``);
* ``authority``, ``hub``: HITS — authority = principal eigenvector of AᵀA, hub = A·authority, each
  summing to 1. On an undirected graph the two coincide (the authors' code computes both on its
  undirected graph all the same, so the layout keeps 7 columns);
* ``eigenvector``: principal eigenvector of A, unit 2-norm (networkx ``eigenvector_centrality``);
* ``coreness``: the k-core number (networkx ``core_number``, igraph ``coreness``).

PageRank by power iteration; the principal eigenvectors (of A, and of AᵀA for HITS) by Lanczos
(ARPACK) started at the uniform vector, which gives what power iteration from there converges to
(networkx's and igraph's answer, also on a disconnected graph) in far fewer products; triangles
from (A_R A) ∘ A_R in row blocks R of bounded size; coreness by peeling every vertex of degree
≤ k at once, round by round.
`structural_features` stacks the seven and standardises every column over all vertices (mean 0,
population standard deviation 1; a constant column becomes 0: `data.influence.standardise`), as
the authors' data loader does (scikit-learn ``preprocessing.scale``).
``benchmarks/vertex_features.py`` measures these implementations against networkx (time, peak
memory, agreement).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from cascadekit.data.influence import standardise
from cascadekit.errors import CascadeKitError
from cascadekit.simulate.ic import _ranges as concat_ranges

FEATURE_NAMES = ("rarity", "clustering", "pagerank", "authority", "hub", "eigenvector", "coreness")
# intermediate nonzeros of one (A_R A) block in the triangle count (≈ 100 MB)
TRIANGLE_BLOCK = 6_000_000


def _degree(adj: sp.csr_matrix) -> np.ndarray:
    return np.diff(adj.indptr)


def rarity(adj: sp.csr_matrix) -> np.ndarray:
    """1 / degree (1 for an isolated vertex). Shapes: adj (V, V); return (V,) float64."""
    return 1.0 / np.maximum(_degree(adj), 1)


def clustering(adj: sp.csr_matrix) -> np.ndarray:
    """Local clustering coefficient (0 below degree 2). Shapes: adj (V, V); return (V,)."""
    deg = _degree(adj)
    cost = adj @ deg.astype(np.float64)  # nonzeros row r contributes to A_R A (at most)
    pairs = np.zeros(len(deg))  # ordered adjacent neighbour pairs = 2 · triangles
    start = 0
    cum = np.cumsum(cost)
    while start < len(deg):
        base = cum[start - 1] if start else 0.0
        stop = max(int(np.searchsorted(cum, base + TRIANGLE_BLOCK, side="right")), start + 1)
        block = adj[start:stop]
        pairs[start:stop] = np.asarray((block @ adj).multiply(block).sum(axis=1)).ravel()
        start = stop
    out = np.zeros(len(deg))
    ok = deg >= 2
    out[ok] = pairs[ok] / (deg[ok] * (deg[ok] - 1.0))
    return out


def _power(step: object, n: int, tol: float, max_iter: int, what: str) -> np.ndarray:
    """Iterate ``x ← step(x)`` from the uniform vector until the 1-norm change is below ``tol``."""
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        new = step(x)  # type: ignore[operator]
        if np.abs(new - x).sum() < tol:
            return new
        x = new
    raise CascadeKitError(f"{what}: power iteration did not converge in {max_iter} iterations")


def _principal(matvec: object, n: int, tol: float, what: str) -> np.ndarray:
    """Unit principal eigenvector of a symmetric non-negative operator, by Lanczos (ARPACK)
    started at the uniform vector. A Krylov space from v0 holds only v0's projection onto a
    repeated top eigenvalue's eigenspace, so the result is the limit of power iteration from
    the uniform vector — what networkx and igraph compute — without its slow convergence."""
    if n <= 2:  # ARPACK needs k < n
        dense = np.column_stack([matvec(e) for e in np.eye(n)])  # type: ignore[operator]
        vector = np.linalg.eigh(dense)[1][:, -1] if n else np.zeros(0)
    else:
        op = spla.LinearOperator((n, n), matvec=matvec, dtype=np.float64)  # type: ignore[arg-type]
        try:
            vector = spla.eigsh(op, k=1, which="LA", v0=np.full(n, n**-0.5), tol=tol)[1][:, 0]
        except spla.ArpackNoConvergence:
            raise CascadeKitError(f"{what}: the eigenvector solver did not converge") from None
    # Perron–Frobenius: the vector is non-negative up to its sign and rounding
    return _unit(np.abs(vector))


def pagerank(
    adj: sp.csr_matrix, *, damping: float = 0.85, tol: float = 1e-10, max_iter: int = 1000
) -> np.ndarray:
    """PageRank with uniform teleport; dangling mass spread uniformly. Shapes: return (V,)."""
    n = adj.shape[0]
    deg = _degree(adj).astype(np.float64)
    inv = np.divide(1.0, deg, out=np.zeros(n), where=deg > 0)
    dangling = deg == 0

    def step(x: np.ndarray) -> np.ndarray:
        spread = damping * x[dangling].sum() + 1.0 - damping
        return damping * (adj.T @ (x * inv)) + spread / n

    return _power(step, n, tol, max_iter, "pagerank")


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x)
    return x / norm if norm > 0 else x


def hits(adj: sp.csr_matrix, *, tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """(hub, authority): authority = principal eigenvector of AᵀA, hub = A·authority, each
    summing to 1 (networkx ``hits``). Shapes: return two (V,) arrays."""
    a = _principal(lambda x: adj.T @ (adj @ x), adj.shape[0], tol, "hits")
    h = adj @ a
    return h / max(h.sum(), np.finfo(float).tiny), a / max(a.sum(), np.finfo(float).tiny)


def eigenvector_centrality(adj: sp.csr_matrix, *, tol: float = 1e-12) -> np.ndarray:
    """Principal eigenvector of A, unit 2-norm (networkx ``eigenvector_centrality``).
    Shapes: (V,)."""
    return _principal(lambda x: adj @ x, adj.shape[0], tol, "eigenvector centrality")


def coreness(adj: sp.csr_matrix) -> np.ndarray:
    """k-core number of every vertex: at level k, vertices of remaining degree ≤ k are removed
    (all at once, then again while new ones fall to ≤ k) and get core k.

    Shapes: adj (V, V); return (V,) int64."""
    deg = _degree(adj).astype(np.int64)
    full = deg.copy()
    core = np.zeros(len(deg), dtype=np.int64)
    alive = np.ones(len(deg), dtype=bool)
    k = 0
    frontier = np.flatnonzero(alive)
    while alive.any():
        peel = frontier[alive[frontier] & (deg[frontier] <= k)]
        if not len(peel):
            k = int(deg[alive].min())
            frontier = np.flatnonzero(alive)
            continue
        core[peel] = k
        alive[peel] = False
        nbr = adj.indices[concat_ranges(adj.indptr[peel], full[peel])]
        nbr = nbr[alive[nbr]]
        np.subtract.at(deg, nbr, 1)
        frontier = np.unique(nbr)
    return core


def structural_features(adj: sp.csr_matrix) -> np.ndarray:
    """The 7 features of `FEATURE_NAMES`, standardised over all vertices.

    Shapes: adj (V, V) symmetric 0/1 CSR without self loops; return (V, 7) float32."""
    adj = sp.csr_matrix(adj, dtype=np.float64)
    if adj.shape[0] != adj.shape[1] or (adj != adj.T).nnz or adj.diagonal().any():
        raise CascadeKitError(
            "structural features need a symmetric adjacency without self loops "
            "(graph.ego.undirected_adjacency)"
        )
    hub, authority = hits(adj)
    columns = (rarity(adj), clustering(adj), pagerank(adj), authority, hub,
               eigenvector_centrality(adj), coreness(adj))  # fmt: skip
    return standardise(np.column_stack(columns)).astype(np.float32)
