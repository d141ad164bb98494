"""Embedded IC: exact likelihood on hand-computed cases, finite-difference gradients, recovery of a
known IC process, the IC simulator (format, determinism, exact infection probabilities), save/load
and a short real-data run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from cascadekit import datasets
from cascadekit.data import CascadeSet, Vocabulary
from cascadekit.data.splits import shipped
from cascadekit.models.embedded_ic import EmbeddedIC, EmbeddedICConfig, EmbeddedICNet, mean_nll
from cascadekit.simulate.ic import simulate_ic
from cascadekit.simulate.synthetic import random_graph
from cascadekit.tasks.identification import evaluate_identification
from cascadekit.training import TrainConfig


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def hand_net() -> EmbeddedICNet:
    # d = 1: z = (0, 1, 2), ω = (0, 0, 1), b = (0, 0, 1) ⇒ p_uv = σ(−(b_v + (z_u − ω_v)²))
    net = EmbeddedICNet(3, EmbeddedICConfig(embedding_dim=1)).double()
    with torch.no_grad():
        net.sender.copy_(torch.tensor([[0.0], [1.0], [2.0]]))
        net.receiver.copy_(torch.tensor([[0.0], [0.0], [1.0]]))
        net.bias.copy_(torch.tensor([0.0, 0.0, 1.0]))
    return net


def test_probabilities_match_definition() -> None:
    p = hand_net().probabilities(torch.arange(3)).detach()
    expected = [[sig(0), sig(0), sig(-2)], [sig(-1), sig(-1), sig(-1)], [sig(-4), sig(-4), sig(-2)]]
    torch.testing.assert_close(p, torch.tensor(expected, dtype=torch.float64))
    # a sub-set of receivers picks the same columns
    torch.testing.assert_close(
        hand_net().probabilities(torch.tensor([2]), torch.tensor([1, 2])).detach()[0],
        torch.tensor([sig(-4), sig(-2)], dtype=torch.float64),
    )


def test_likelihood_equals_hand_computation() -> None:
    end, pad = 3, 4
    seq = torch.tensor([[0, 2, end, pad], [1, 0, 2, end]])
    nll = hand_net().cascade_nll(seq).detach()
    p01, p02, p21, p10, p12 = sig(0), sig(-2), sig(-4), sig(-1), sig(-1)
    # (0, 2): 2 infected by 0; 1 resisted both 0 and 2
    first = -math.log(p02) - math.log(1 - p01) - math.log(1 - p21)
    # (1, 0, 2): 0 infected by 1; 2 infected by 1 or 0; nobody outside
    second = -math.log(p10) - math.log(1 - (1 - p12) * (1 - p02))
    torch.testing.assert_close(nll, torch.tensor([first, second], dtype=torch.float64))


def test_gradient_matches_finite_differences() -> None:
    torch.manual_seed(0)
    net = EmbeddedICNet(5, EmbeddedICConfig(embedding_dim=2, init_std=0.7, init_bias=1.0)).double()
    seq = torch.tensor([[0, 3, 1, 5, 6], [4, 2, 5, 6, 6], [2, 0, 1, 3, 4]])
    loss = net.cascade_nll(seq).sum()
    loss.backward()
    eps = 1e-6

    def total() -> float:
        with torch.no_grad():
            return float(net.cascade_nll(seq).sum())

    for param in net.parameters():
        flat = param.data.view(-1)
        for k in range(flat.numel()):
            old = float(flat[k])
            flat[k] = old + eps
            up = total()
            flat[k] = old - eps
            down = total()
            flat[k] = old
            assert param.grad.view(-1)[k].item() == pytest.approx((up - down) / (2 * eps), abs=1e-6)


def test_recovers_known_ic_process() -> None:
    torch.set_num_threads(1)
    n = 30
    graph = random_graph(n, kind="erdos_renyi", avg_degree=3.0, seed=0)
    cascades = simulate_ic(graph, np.arange(n), edge_prob=0.3, n_samples=20, seed=1)
    tc = TrainConfig(max_epochs=15, lr=0.1, progress=False)
    model = EmbeddedIC(EmbeddedICConfig(embedding_dim=10), tc).fit(cascades)
    learned = model.module_.probabilities(torch.arange(n)).detach().numpy()
    truth = np.zeros((n, n))
    truth[np.repeat(np.arange(n), np.diff(graph.indptr)), graph.indices] = 0.3
    off = ~np.eye(n, dtype=bool)
    # measured: edges 0.27 vs non-edges 0.003, correlation 0.93
    assert learned[truth > 0].mean() > 0.15
    assert learned[(truth == 0) & off].mean() < 0.02
    assert np.corrcoef(learned[off], truth[off])[0, 1] > 0.8
    # training lowered the validation likelihood
    hist = [h["valid_nll"] for h in model.history_]
    assert min(hist) < hist[0] - 1.0


def test_sample_continuations_format_and_determinism() -> None:
    torch.manual_seed(0)
    v = 12
    net = EmbeddedICNet(v, EmbeddedICConfig(embedding_dim=2, init_std=0.3, init_bias=0.0))
    seeds = torch.tensor([0, 5, 7])
    caps = torch.tensor([4, 11, 0])
    out = net.sample_continuations(seeds, 50, caps, torch.Generator().manual_seed(3))
    again = net.sample_continuations(seeds, 50, caps, torch.Generator().manual_seed(3))
    assert torch.equal(out, again)
    assert out.shape == (150, 11)
    lengths = []
    for r, row in enumerate(out.tolist()):
        b = r // 50
        users = [t for t in row if t < v]
        n = len(users)
        lengths.append(n)
        assert row[:n] == users  # users first, contiguous
        assert len(set(users)) == n and int(seeds[b]) not in users
        assert n <= int(caps[b])
        tail = row[n:]
        if n < int(caps[b]):  # stopped early: END then PAD
            assert tail[0] == v and all(t == v + 1 for t in tail[1:])
        else:  # hit the cap: PAD only
            assert all(t == v + 1 for t in tail)
    assert max(lengths[:50]) == 4 and max(lengths[50:100]) > 4  # p ≈ 1/2: caps are reached
    # a (B, L0) prefix: none of the prefix users is generated again
    prefix = torch.tensor([[0, 1, 2], [3, 4, 5]])
    cont = net.sample_continuations(prefix, 20, 9, torch.Generator().manual_seed(0))
    for r, row in enumerate(cont.tolist()):
        assert not set(row) & set(prefix[r // 20].tolist())


def test_simulation_matches_exact_ic_probabilities() -> None:
    net = hand_net().float()
    s = 40_000
    out = net.sample_continuations(torch.tensor([0]), s, 2, torch.Generator().manual_seed(1))
    freq = [(out == u).any(1).float().mean().item() for u in (1, 2)]
    p = net.probabilities(torch.arange(3)).detach().double()
    # discrete IC from seed 0: v is infected directly, or through the other user one step later
    exact = [
        float(p[0, 1] + (1 - p[0, 1]) * p[0, 2] * p[2, 1]),
        float(p[0, 2] + (1 - p[0, 2]) * p[0, 1] * p[1, 2]),
    ]
    assert freq == pytest.approx(exact, abs=0.01)  # binomial sd ≤ 0.0025


def test_identification_protocol_uses_the_ic_simulator() -> None:
    # 0 → 1 with p ≈ 1 (ω_1 = z_0, b_1 = −20); every other pair is ≈ 0 (far apart, b = 20)
    net = EmbeddedICNet(4, EmbeddedICConfig(embedding_dim=1))
    with torch.no_grad():
        net.sender.copy_(torch.tensor([[0.0], [10.0], [20.0], [30.0]]))
        net.receiver.copy_(torch.tensor([[-40.0], [0.0], [-40.0], [-40.0]]))
        net.bias.copy_(torch.tensor([20.0, -20.0, 20.0, 20.0]))
    test = CascadeSet.from_sequences([[0, 1], [0, 1, 2], [3, 2]], Vocabulary.range(4))
    out = evaluate_identification(net, test, n_samples=20, progress=False, device="cpu")
    # per cascade F1: 1 (predicts {1}), 2·(1·½)/(1½) = ⅔ (misses 2), 0 (predicts nothing)
    assert out["macro_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert out["micro_f1"] == pytest.approx(2 * (2 / 2) * (2 / 4) / (1 + 2 / 4))


def test_save_load_round_trip(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    cascades = CascadeSet.from_sequences(
        [[0, 1, 2], [1, 2], [2, 3, 0], [3, 0], [0, 2]], Vocabulary.range(4)
    )
    model = EmbeddedIC(EmbeddedICConfig(embedding_dim=4), TrainConfig(max_epochs=2, progress=False))
    model.fit(cascades)
    loaded = EmbeddedIC.load(model.save(tmp_path / "m"))
    assert loaded.config == model.config
    users = torch.arange(4)
    torch.testing.assert_close(
        loaded.module_.probabilities(users), model.module_.probabilities(users)
    )
    gen = torch.Generator().manual_seed(0)
    same = model.module_.sample_continuations(users, 5, 3, torch.Generator().manual_seed(0))
    assert torch.equal(loaded.module_.sample_continuations(users, 5, 3, gen), same)


def test_real_data_short_run(mirror: Path) -> None:
    torch.set_num_threads(1)
    split = shipped(datasets.load("ndm_irvine"))
    tc = TrainConfig(max_epochs=5, lr=0.05, progress=False)
    model = EmbeddedIC(EmbeddedICConfig(), tc).fit(split.train, split.valid)
    untrained = EmbeddedIC(EmbeddedICConfig(), tc)
    untrained.module_ = untrained._build({"n_users": split.train.n_users})  # initial weights
    base = mean_nll(untrained.module_, split.test)
    # measured: test NLL per cascade 86.8 untrained → 63.3 after 5 epochs
    assert mean_nll(model.module_, split.test) < base - 15.0
