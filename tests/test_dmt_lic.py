"""DMT-LIC (`models.dmt_lic`): shapes on a hand-built cascade, the causal pass (a position's scores
ignore later adopters), which head the loss reaches for each γ, the ablation flags, bit-exact
save/load, both heads beating their trivial baselines on the planted problem, the popularity
task's per-model metrics and selection, and a real-data run through the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from cascadekit import pipeline, registry
from cascadekit.cli import app
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.vocab import Vocabulary
from cascadekit.models.base import NextUserScorer, PopularityRegressor
from cascadekit.models.dmt_lic import DMTLIC, DMTLICConfig, known_user_rows
from cascadekit.pipeline import load_bundle
from cascadekit.tasks.next_user import evaluate_next_user
from cascadekit.training import TrainConfig

torch.set_num_threads(1)
T0 = 1464710400.0


def cascades_of(users: list[list[int]], times: list[list[float]], parents: list[list[int]]):
    cs = CascadeSet.from_sequences(
        users, Vocabulary.range(10), times=[[T0 + t for t in row] for row in times],
        parents=parents, root_times=np.full(len(users), T0),
    )  # fmt: skip
    cs.meta = {"label": np.arange(len(users), dtype=np.int64) + 3}
    cs.attrs = {"observation_window_s": 100.0}
    return cs


def hand() -> CascadeSet:
    """c0: u0 ← root, u1 ← u0, u2 ← u1, u3 ← u0, u4 ← u2 at 0, 10, 20, 60, 70 s; c1: u5, u1, u7
    at 0, 30, 90 s (u7 ← u5, u1 ← u5). Users 6, 8, 9 never adopt: UNK."""
    return cascades_of(
        [[0, 1, 2, 3, 4], [5, 1, 7]], [[0, 10, 20, 60, 70], [0, 30, 90]],
        [[-1, 0, 1, 0, 2], [-1, 0, 0]],
    )  # fmt: skip


def net_of(train: CascadeSet, **config: Any) -> Any:
    """An unfitted DMT-LIC network built from ``train`` (seeded)."""
    torch.manual_seed(0)
    est = DMTLIC(DMTLICConfig(**config), TrainConfig(progress=False))
    est.meta_ = est._build_meta(train)
    est.module_ = est._build(est.meta_)
    return est, est.module_.eval()


def test_shapes_and_unseen_users_rank_last() -> None:
    cs = hand()
    est, net = net_of(cs)
    assert known_user_rows(cs, 1).tolist() == [1, 2, 3, 4, 5, 6, 0, 7, 0, 0]
    assert known_user_rows(cs, 2).tolist() == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]  # u1 twice
    batch = net.encode(cs)
    assert batch["tokens"].tolist() == [[0, 1, 2, 3, 4, 10], [5, 1, 7, 10, 11, 11]]  # END 10
    assert batch["parent"].tolist() == [[-1, 0, 1, 0, 2], [-1, 0, 0, -1, -1]]
    assert batch["time"][1].tolist() == [0, 30, 90, 0, 0]
    assert net(batch).shape == (2,)
    assert net.known_logits(batch).shape == (2, 5, 7 + 1)  # 7 known users + END
    seq = batch["tokens"][:, :5]
    full = net.logits(seq, cascades=cs)
    assert full.shape == (2, 5, 10 + 1)
    positions = seq < 10
    picked = net.logits(seq, positions, cascades=cs)
    assert torch.equal(picked, full[positions])
    lowest = torch.cat([full[..., :6], full[..., [7, 10]]], dim=-1).min(-1).values
    for unk in (6, 8, 9):  # one below every known user and END
        assert torch.equal(full[..., unk], lowest - 1)
    assert isinstance(net, PopularityRegressor) and isinstance(net, NextUserScorer)
    assert net.predict_increment(cs).shape == (2,)


def test_a_position_never_sees_later_adopters() -> None:
    a = hand()
    # c0 after position 2 replaced: other users, times and parents
    b = cascades_of(
        [[0, 1, 2, 8, 9], [5, 1, 7]], [[0, 10, 20, 25, 99], [0, 30, 90]],
        [[-1, 0, 1, 2, 1], [-1, 0, 0]],
    )  # fmt: skip
    for flags in ({}, {"shared_gate": False}, {"user_importance": False}):
        _, net = net_of(a, **flags)
        la, lb = net.known_logits(net.encode(a)), net.known_logits(net.encode(b))
        assert torch.equal(la[0, :3], lb[0, :3]), flags
        assert not torch.allclose(la[0, 3:], lb[0, 3:]), flags  # the test can fail
        assert not torch.isclose(net(net.encode(a))[0], net(net.encode(b))[0])  # size: all seen


@pytest.mark.parametrize(
    ("gamma", "reached"), [(0.5, {"head", "next_head"}), (1.0, {"next_head"}), (0.0, {"head"})]
)
def test_the_loss_reaches_the_heads_gamma_weighs(gamma: float, reached: set[str]) -> None:
    cs = hand()
    est, net = net_of(cs, gamma=gamma)
    net.train()
    batch = next(iter(est._batches(cs, 0)))
    est._loss(net, batch)["loss"].backward()
    for head in ("head", "next_head"):
        grads = [p.grad for p in getattr(net, head).parameters()]
        got = any(g is not None and bool(g.abs().sum() > 0) for g in grads)
        assert got == (head in reached), (gamma, head)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.gat.parameters())


def test_each_ablation_changes_the_architecture_as_documented() -> None:
    cs = hand()
    _, full = net_of(cs)
    _, no_gate = net_of(cs, shared_gate=False)
    assert full.gate is not None and no_gate.gate is None
    d_in = 64 + 32 + 64  # [H_new, H_cas, H_user]
    assert no_gate.next_head[0].in_features == 64 + d_in and full.next_head[0].in_features == 96
    assert no_gate.head[0].in_features == 32 + d_in
    _, no_decay = net_of(cs, time_decay=False)
    assert "decay" in dict(full.named_parameters())
    assert "decay" not in dict(no_decay.named_parameters()) and "decay" in dict(
        no_decay.named_buffers()
    )
    _, no_importance = net_of(cs, user_importance=False)
    batch = no_importance.encode(cs)
    before = no_importance.known_logits(batch)
    with torch.no_grad():
        for p in no_importance.importance.parameters():
            p.add_(1.0)
    assert torch.equal(no_importance.known_logits(batch), before)  # importance unused
    with torch.no_grad():
        for p in full.importance.parameters():
            p.add_(1.0)
    assert not torch.equal(full.known_logits(batch), net_of(cs)[1].known_logits(batch))


def test_importance_is_causal_and_sums_to_one_over_the_prefix() -> None:
    _, net = net_of(hand())
    batch = net.encode(hand())
    h = torch.randn(2, 5, 32)
    full = net.importance(h, batch["mask"], causal=False)
    causal = net.importance(h, batch["mask"], causal=True)
    torch.testing.assert_close(full.sum(1), torch.ones(2))
    assert torch.all(full[1, 3:] == 0) and causal[0, 0] == 1 and causal[1, 0] == 1
    s = net.importance.score(torch.tanh(net.importance.proj(h[0, :3]))).squeeze(-1)
    torch.testing.assert_close(causal[0, 2], torch.softmax(s, 0)[2])


@pytest.fixture(scope="module")
def planted() -> tuple[Any, Any, Any]:
    """DMT-LIC fitted on the time-ordered popularity split of `synthetic_popularity`."""
    task = registry.task("popularity", {"order": "time"}, {"activation_max_len": 60})
    split = task.build(load_bundle("synthetic_popularity", 0, {"n_cascades": 200}), seed=0)
    est = registry.create(
        "dmt_lic", None, epochs=5, lr=5e-3, embedding_lr=5e-3, max_nodes=60, progress=False
    )
    return task, split, est.fit(split.train, split.valid)


def test_both_heads_beat_their_trivial_baselines(planted: tuple[Any, Any, Any]) -> None:
    task, split, est = planted
    metrics = task.evaluate(est, split)
    y = np.log2(split.test.meta["label"] + 1)
    mean_msle = float(np.mean((y - np.log2(split.train.meta["label"] + 1).mean()) ** 2))
    assert metrics["msle"] < 0.8 * mean_msle, (metrics["msle"], mean_msle)
    # uniform scores over C candidates give E[1/rank] = H_C / C; C ≥ V + 1 − 60 here
    c = est.module_.n_users + 1 - 60
    uniform = sum(1 / k for k in range(1, c + 1)) / c
    assert metrics["mrr"] > 3 * uniform, (metrics["mrr"], uniform)
    assert metrics["a@10"] >= metrics["a@5"] > 0


def test_save_load_round_trips_bit_exactly(planted: tuple[Any, Any, Any], tmp_path: Path) -> None:
    _, split, est = planted
    est.save(tmp_path / "m")
    again = DMTLIC.load(tmp_path / "m")
    a, b = est.module_, again.module_
    assert np.array_equal(a.predict_increment(split.test), b.predict_increment(split.test))
    ra = evaluate_next_user(a, split.test, ks=(5,), max_len=60)
    rb = evaluate_next_user(b, split.test, ks=(5,), max_len=60)
    assert ra == rb
    assert torch.equal(a.users.rows, b.users.rows)


class FullScores:
    """A network seen only through `logits` (V + 1 columns), as any other next-user model."""

    needs_cascades = True

    def __init__(self, net: Any) -> None:
        self.net, self.n_users = net, net.n_users

    def logits(self, seq: torch.Tensor, positions: Any = None, *, cascades: Any = None) -> Any:
        return self.net.logits(seq, positions, cascades=cascades)


@pytest.mark.parametrize("min_user_count", [1, 4])
def test_ranking_in_class_space_equals_ranking_over_every_user(
    planted: tuple[Any, Any, Any], min_user_count: int
) -> None:
    _, split, _ = planted
    est = registry.create("dmt_lic", None, epochs=1, max_nodes=60, progress=False,
                          min_user_count=min_user_count)  # fmt: skip
    net = est.fit(split.train, split.valid).module_.eval()
    if min_user_count > 1:  # users without a class are targets and infected users here
        assert net.n_known < net.n_users // 2
    compact = evaluate_next_user(net, split.test, ks=(5, 10), max_len=60)
    full = evaluate_next_user(FullScores(net), split.test, ks=(5, 10), max_len=60)
    nll = compact.pop("nll")
    assert nll == pytest.approx(full.pop("nll"), rel=1e-5)
    assert compact == full


def test_the_task_scores_and_selects_by_what_a_model_implements(
    planted: tuple[Any, Any, Any], tmp_path: Path
) -> None:
    task, split, dmt = planted
    assert task.selection(registry.create("lstm"))[1] == ("map@10", "max")  # unfitted: no net
    info = pipeline.train(
        "lstm", "synthetic_popularity", tmp_path / "lstm", task="popularity",
        options={"epochs": 1, "progress": False}, data_options={"n_cascades": 200},
        split_options={"order": "time"},
    )  # fmt: skip
    assert info.selection["monitor"] == ["map@10", "max"]
    lstm = pipeline.load_run(tmp_path / "lstm")[1]
    activation = task.evaluate(lstm, split)
    assert {"mrr", "a@5", "a@10"} <= set(activation) and "msle" not in activation
    ranks = evaluate_next_user(lstm.module_, split.test, ks=(5, 10), max_len=60)
    assert activation["a@5"] == ranks["hits@5"] and activation["mrr"] == ranks["mrr"]
    assert task.selection(dmt)[1] == ("msle", "min")  # (its presets select on their loss)
    assert task.selection(registry.create("deephawkes"))[1] == ("msle", "min")
    size = task.evaluate(registry.create("popularity_features").fit(split.train), split)
    assert "msle" in size and "mrr" not in size
    both = task.evaluate(dmt, split)
    assert {"msle", "mape", "mse", "mrr", "a@5", "a@10"} <= set(both)
    assert math.isfinite(both["activation_nll"])


@pytest.mark.slow
def test_train_and_evaluate_on_weibo_through_the_cli(mirror: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    sets = ["epochs=1", "min_user_count=3", "max_nodes=30", "progress=false"]
    args = ["train", "dmt_lic", "--data", "weibo_deephawkes_obs1h", "--out", str(run)]
    result = CliRunner().invoke(app, [*args, *(x for s in sets for x in ("--set", s))])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        app, ["evaluate", str(run), "--json", "--set", "activation_max_len=30"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)["metrics"]
    assert metrics["n_cascades"] == 173 and 0 < metrics["msle"] < 20
    assert 0 <= metrics["a@5"] <= metrics["a@10"] <= 1 and 0 < metrics["mrr"] <= 1
    info = json.loads((run / "run.json").read_text())
    assert info["selection"]["monitor"] == ["loss", "min"]
