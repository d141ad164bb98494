"""`cascadekit.parallel` and sharded Monte Carlo identification: shard seeds and ranges, results in
shard order, and bit-identical identification / size numbers in this process, on joblib (loky),
a local 2-worker Ray cluster and a local 2-worker Dask cluster; sharded IC simulation alike."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from fake_registry import bundle_differences

from cascadekit import parallel
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.vocab import Vocabulary
from cascadekit.models.lstm import LSTMConfig, LSTMNet
from cascadekit.parallel import map_shards, shard_ranges, shard_seed
from cascadekit.simulate.ic import simulate_ic
from cascadekit.simulate.synthetic import random_graph
from cascadekit.tasks.identification import Sharding, evaluate_identification, evaluate_size


def test_shard_seeds_depend_on_the_run_seed_and_the_shard_only() -> None:
    seeds = [shard_seed(7, k) for k in range(4)]
    assert seeds == [shard_seed(7, k) for k in range(4)]  # not on how many shards are asked
    assert len(set(seeds)) == 4 and shard_seed(8, 0) != seeds[0]
    assert all(0 <= s < 2**63 for s in seeds)


def test_shard_ranges_cover_every_item_once() -> None:
    assert shard_ranges(7, 3) == [range(0, 3), range(3, 6), range(6, 7)]
    assert shard_ranges(0, 3) == []
    with pytest.raises(ValueError, match="shard_size"):
        shard_ranges(5, 0)


def test_results_come_back_in_shard_order() -> None:
    def work(shard: range, offset: int) -> int:
        return sum(shard) + offset

    shards = shard_ranges(20, 3)
    want = [sum(r) + 1 for r in shards]
    assert map_shards(work, shards, shared={"offset": 1}) == want
    assert map_shards(work, shards, backend="threading", n_jobs=2, shared={"offset": 1}) == want


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        Sharding(backend="spark")
    with pytest.raises(ValueError, match="n_jobs"):
        Sharding(backend="ray", n_jobs=0)


def _cascades(n_users: int, n: int, seed: int) -> CascadeSet:
    rng = np.random.default_rng(seed)
    seqs = [rng.permutation(n_users)[: rng.integers(2, 9)].tolist() for _ in range(n)]
    return CascadeSet.from_sequences(seqs, Vocabulary.range(n_users))


@pytest.fixture(scope="module")
def net() -> LSTMNet:
    torch.manual_seed(0)
    return LSTMNet(15, LSTMConfig(embedding_dim=8, hidden_dim=8))


def _numbers(out: dict) -> dict:
    return {k: v for k, v in out.items() if k != "seconds"}


@pytest.fixture(scope="module")
def engines() -> object:
    yield
    parallel.shutdown()


@pytest.mark.usefixtures("engines")
def test_identification_is_bit_identical_on_every_backend(net: LSTMNet) -> None:
    data = _cascades(15, 40, 0)
    run = {"n_samples": 30, "seed": 3, "progress": False, "device": "cpu"}
    local = _numbers(evaluate_identification(net, data, sharding=Sharding(shard_size=8), **run))
    size_local = _numbers(evaluate_size(net, data, max_size=12, sharding=Sharding(shard_size=8),
                                        **run))  # fmt: skip
    assert 0 < local["macro_f1"] < 1 and local["n_cascades"] == 40
    for backend in ("loky", "ray", "dask"):
        sharding = Sharding(backend=backend, n_jobs=2, shard_size=8)
        assert _numbers(evaluate_identification(net, data, sharding=sharding, **run)) == local
        assert _numbers(evaluate_size(net, data, max_size=12, sharding=sharding, **run)) == (
            size_local
        )
    # the shard size is part of the protocol (each shard draws its own stream); the workers not
    other = evaluate_identification(net, data, sharding=Sharding(shard_size=40), **run)
    assert _numbers(other) != local


@pytest.mark.usefixtures("engines")
def test_sharded_ic_simulation_is_the_same_on_every_backend() -> None:
    graph = random_graph(60, avg_degree=4.0, seed=0)
    run = {"edge_prob": 0.3, "n_samples": 5, "seed": 2, "shard_size": 16}
    local = simulate_ic(graph, np.arange(20), **run)
    assert len(local) == 100 and local.lengths.max() > 1
    for backend in ("loky", "ray", "dask"):
        other = simulate_ic(graph, np.arange(20), backend=backend, n_jobs=2, **run)
        assert not bundle_differences(other, local)
    # one stream (the default) and per-shard streams are two protocols
    single = simulate_ic(graph, np.arange(20), edge_prob=0.3, n_samples=5, seed=2)
    assert not np.array_equal(single.users, local.users)


@pytest.mark.usefixtures("engines")
def test_sharded_ego_networks_are_the_same_on_every_backend(monkeypatch) -> None:
    from cascadekit.graph import ego

    monkeypatch.setattr(ego, "CHUNK", 100)  # the driver cuts the chunks: several shards here
    graph = random_graph(400, avg_degree=8, seed=0)
    rng = np.random.default_rng(0)
    cascades = simulate_ic(graph, rng.integers(0, 400, 30), edge_prob=0.2, seed=0)

    def build(backend: str | None, n_jobs: int = 1) -> object:
        options = ego.EgoOptions(ego_size=12, backend=backend, n_jobs=n_jobs)
        inst = ego.build_instances(graph, cascades, options, seed=5)
        inst.info.pop("options")  # records the backend asked for
        return inst

    local = build("local")
    assert local.info["instances"]["positive"] > 300 and len(local.labels) > 400
    for backend in ("loky", "ray", "dask"):
        assert not bundle_differences(build(backend, 2), local)
    # one stream (the published instances) and per-chunk streams are two protocols
    assert not np.array_equal(build(None).vertices, local.vertices)


def test_cli_evaluate_with_a_backend_gives_the_local_numbers(tmp_path) -> None:
    from typer.testing import CliRunner

    from cascadekit import pipeline
    from cascadekit.cli import app

    pipeline.train("lstm", "synthetic", tmp_path / "r", task="identification",
                   options={"epochs": 1, "progress": False, "select": "last"},
                   data_options={"n_users": 40, "n_cascades": 150})  # fmt: skip
    args = ["evaluate", str(tmp_path / "r"), "--json", "--set", "n_samples=20",
            "--set", "shard_size=4"]  # fmt: skip
    runner = CliRunner()
    local = runner.invoke(app, args)
    sharded = runner.invoke(app, [*args, "--backend", "loky", "--workers", "2"])
    assert local.exit_code == 0 and sharded.exit_code == 0, sharded.output
    keys = ("macro_f1", "micro_f1", "macro_f1_first5", "micro_f1_first5")
    got, want = (json.loads(r.stdout)["metrics"] for r in (sharded, local))
    assert [got[k] for k in keys] == [want[k] for k in keys]
    bad = runner.invoke(app, [*args, "--backend", "spark"])
    assert bad.exit_code == 2 and "backend must be one of" in bad.stderr
