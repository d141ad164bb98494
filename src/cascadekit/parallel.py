"""Independent shards of work on an existing engine: in this process, joblib (loky / threading),
Ray or Dask — never a scheduler of our own.

The caller cuts its work into shards whose boundaries and seeds do not depend on the number of
workers (`shard_seed`: seed and shard index → the shard's own seed), so every backend and every
worker count gives the same numbers. A `ShardPool` sends the objects every shard needs once
(``shared``: `ray.put`, Dask's broadcast scatter; joblib pickles them with each task) for any
number of rounds of `ShardPool.map`, which reports progress from the driver as shards finish and
returns the results in shard order; `map_shards` is one round. Objects travel pickled between
this process and its own workers only; nothing downloaded is ever unpickled.

Clusters: ``backend="ray"`` joins the Ray cluster already initialised in this process, else the one
at ``address`` / ``$RAY_ADDRESS``, else starts a local one with ``n_jobs`` CPUs; ``backend="dask"``
uses the current Dask client, else a scheduler at ``address`` / ``$DASK_SCHEDULER_ADDRESS``, else a
local cluster of ``n_jobs`` single-threaded worker processes. A local cluster started here stays up
for later calls in this process (starting one costs seconds) and stops when the process exits.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from cascadekit.errors import CascadeKitError

BACKENDS = ("local", "loky", "threading", "ray", "dask")

_dask_local: Any = None  # the (cluster, client) this process started, reused by later calls


def check_backend(backend: str, n_jobs: int) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be >= 1, got {n_jobs}")


def shard_seed(seed: int, shard: int) -> int:
    """The seed of shard ``shard`` of a run seeded ``seed``: independent streams per shard that do
    not depend on how many shards or workers there are."""
    return int(np.random.SeedSequence([seed, shard]).generate_state(1, np.uint64)[0] >> 1)


def shard_ranges(n_items: int, shard_size: int) -> list[range]:
    """Consecutive index ranges of at most ``shard_size`` items covering ``range(n_items)``."""
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    return [range(i, min(i + shard_size, n_items)) for i in range(0, n_items, shard_size)]


class _Shared:
    """The objects every shard needs, sent as one opaque pickled object: Dask's own torch
    serializer fails on some modules (LSTM weight weakrefs) where plain pickling works."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values


def _call(fn: Callable[..., Any], shard: Any, threads: int | None, shared: _Shared) -> Any:
    """Run one shard in a worker with ``threads`` torch threads (the worker's own pool, not the
    driver's), restoring the previous count afterwards."""
    if threads is None:
        return fn(shard, **shared.values)
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return fn(shard, **shared.values)
    finally:
        torch.set_num_threads(before)


def _engine_missing(name: str, exc: ImportError) -> CascadeKitError:
    return CascadeKitError(
        f"backend={name!r} needs {name} installed: pip install 'cascadekit[dist]' ({exc})"
    )


class ShardPool:
    """Workers on ``backend`` holding ``shared`` once, for several rounds of `map` (an iterative
    fit sends its data once, then only each round's shards); use it as a ``with`` block, which
    keeps one joblib pool for every round and releases what it sent.

    ``threads``: torch threads per worker (default 1: ``n_jobs`` workers share the cores); the
    ``local`` backend runs in this process with its own thread count. ``address``: the cluster to
    join (see the module docstring)."""

    def __init__(
        self,
        backend: str = "local",
        n_jobs: int = 1,
        *,
        shared: dict[str, Any] | None = None,
        threads: int | None = 1,
        address: str | None = None,
    ) -> None:
        check_backend(backend, n_jobs)
        self.backend, self.n_jobs = backend, n_jobs
        # torch's thread count is per process: the local run keeps it, threads must not race on it
        self.threads = None if backend in ("local", "threading") else threads
        shared_values = _Shared(shared or {})
        if backend == "ray":
            self._ray = _ray_module(address, n_jobs)
            self._shared: Any = self._ray.put(shared_values)
            self._task = self._ray.remote(num_cpus=1)(_call)
        elif backend == "dask":
            self._client = _dask_client(address, n_jobs)
            # a fresh key (not the content hash): a later pool scattering the same objects
            # must not share, and lose, this pool's copy when it is released
            self._shared = self._client.scatter(shared_values, broadcast=True, hash=False)
        else:
            self._shared = shared_values
        if backend in ("loky", "threading"):
            import joblib

            self._joblib = joblib
            self._pool = joblib.Parallel(n_jobs=n_jobs, backend=backend, return_as="generator")

    def __enter__(self) -> ShardPool:
        if self.backend in ("loky", "threading"):
            self._pool.__enter__()  # one set of workers (and memmapped arrays) for every round
        return self

    def __exit__(self, *exc: object) -> None:
        if self.backend in ("loky", "threading"):
            self._pool.__exit__(None, None, None)
        if self.backend == "dask":
            self._shared.release()

    def map(
        self, fn: Callable[..., Any], shards: Sequence[Any], *, progress: bool = False,
        desc: str = "shards",
    ) -> list[Any]:  # fmt: skip
        """``[fn(shard, **shared) for shard in shards]``, in shard order."""
        from tqdm.auto import tqdm

        out: list[Any] = [None] * len(shards)
        with tqdm(total=len(shards), desc=desc, disable=not progress, leave=False) as bar:
            for i, result in self._results(fn, shards):
                out[i] = result
                bar.update()
        return out

    def _results(self, fn: Callable[..., Any], shards: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """(shard index, result) as shards finish."""
        args = (self.threads, self._shared)
        if self.backend == "local":
            yield from ((i, _call(fn, s, *args)) for i, s in enumerate(shards))
        elif self.backend in ("loky", "threading"):
            calls = (self._joblib.delayed(_call)(fn, s, *args) for s in shards)
            yield from enumerate(self._pool(calls))
        elif self.backend == "ray":
            index = {self._task.remote(fn, s, *args): i for i, s in enumerate(shards)}
            waiting = list(index)
            while waiting:
                done, waiting = self._ray.wait(waiting, num_returns=1)
                yield index[done[0]], self._ray.get(done[0])
        else:
            from distributed import as_completed

            futures = [self._client.submit(_call, fn, s, *args, pure=False) for s in shards]
            index = {f.key: i for i, f in enumerate(futures)}
            for future in as_completed(futures):
                yield index[future.key], future.result()


def map_shards(
    fn: Callable[..., Any],
    shards: Sequence[Any],
    *,
    backend: str = "local",
    n_jobs: int = 1,
    shared: dict[str, Any] | None = None,
    threads: int | None = 1,
    address: str | None = None,
    progress: bool = False,
    desc: str = "shards",
) -> list[Any]:
    """One round of `ShardPool.map`: ``[fn(shard, **shared) for shard in shards]`` on
    ``backend``, in shard order."""
    with ShardPool(backend, n_jobs, shared=shared, threads=threads, address=address) as pool:
        return pool.map(fn, shards, progress=progress, desc=desc)


def _ray_module(address: str | None, n_jobs: int) -> Any:
    try:
        import ray
    except ImportError as exc:
        raise _engine_missing("ray", exc) from exc
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS")
        local = {} if address else {"num_cpus": n_jobs, "include_dashboard": False}
        ray.init(address=address, log_to_driver=False, **local)
    return ray


def _dask_client(address: str | None, n_jobs: int) -> Any:
    try:
        from distributed import Client, LocalCluster, get_client
    except ImportError as exc:
        raise _engine_missing("dask", exc) from exc
    global _dask_local
    try:
        return get_client()
    except ValueError:  # no current client
        pass
    address = address or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        return Client(address)
    if _dask_local is None or _dask_local[0].status.name != "running":
        # ":0": any free port for its HTTP server (parallel test workers would clash on 8787)
        cluster = LocalCluster(n_workers=n_jobs, threads_per_worker=1, processes=True,
                               dashboard_address=":0")  # fmt: skip
        _dask_local = (cluster, Client(cluster))
        atexit.register(_close_dask)
    return _dask_local[1]


def _close_dask() -> None:
    global _dask_local
    if _dask_local is not None:
        cluster, client = _dask_local
        client.close()
        cluster.close()
        _dask_local = None


def shutdown() -> None:
    """Disconnect from Ray and stop the local Dask cluster this process started (the next call
    on either engine starts or joins one again)."""
    import sys

    if "ray" in sys.modules:
        sys.modules["ray"].shutdown()
    _close_dask()
