"""LSTM baseline: learns a deterministic successor rule; incremental decoding = full pass; save/load;
a short real-data run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cascadekit import datasets
from cascadekit.data import CascadeSet, Vocabulary
from cascadekit.models.lstm import LSTM, LSTMConfig
from cascadekit.tasks.next_user import evaluate_next_user
from cascadekit.training import TrainConfig


def successor_cascades(n: int, seed: int) -> CascadeSet:
    # user u is always followed by (u + 1) mod 12 and every cascade has 4 adopters, so every
    # target (END included) is a deterministic function of the prefix
    starts = np.random.default_rng(seed).integers(0, 12, n)
    return CascadeSet.from_sequences(
        [[(s + i) % 12 for i in range(4)] for s in starts], Vocabulary.range(12)
    )


def small(seed: int = 0, epochs: int = 15) -> LSTM:
    cfg = TrainConfig(max_epochs=epochs, lr=0.02, progress=False, seed=seed)
    return LSTM(LSTMConfig(embedding_dim=16, hidden_dim=32), cfg)


def test_learns_successor_rule_and_round_trips(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    test = successor_cascades(50, 2)
    untrained = small(epochs=1)
    untrained.train_config.lr = 0.0
    chance = evaluate_next_user(untrained.fit(successor_cascades(300, 0)).module_, test, ks=(1,))
    model = small().fit(successor_cascades(300, 0), successor_cascades(50, 1))
    out = evaluate_next_user(model.module_, test, ks=(1,))
    assert out["positions"] == 200 and out["hits@1"] == 1.0 and out["nll"] < 0.05
    assert chance["hits@1"] < 0.3 and chance["nll"] > 2.0  # the rule is learned, not given
    # incremental decoding agrees with the teacher-forced pass
    seq = torch.tensor([[3, 4, 5, 6]])
    full = model.module_.logits(seq)
    lg, state = model.module_.begin(seq[:, :2])
    assert torch.allclose(lg, full[:, 1], atol=1e-5)
    for t in (2, 3):
        lg, state = model.module_.step(state, seq[:, t])
        assert torch.allclose(lg, full[:, t], atol=1e-5)
    # save / load restores identical logits and configs
    back = LSTM.load(model.save(tmp_path / "m"))
    assert torch.equal(back.module_.logits(seq), full)
    assert back.config == model.config and back.train_config == model.train_config


def test_same_seed_same_model_other_seed_differs() -> None:
    torch.set_num_threads(1)
    data, seq = successor_cascades(100, 0), torch.tensor([[0, 1, 2]])
    a, b, c = (small(seed, epochs=2).fit(data).module_.logits(seq) for seed in (0, 0, 1))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_real_data_irvine(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # NDM Irvine: 424 train / 47 test cascades over 540 users; 5 epochs take about a second
    torch.set_num_threads(1)
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))
    bundle = datasets.load("ndm_irvine", download=False, progress=False)
    train = bundle.cascades.subset(bundle.splits["train"])
    test = bundle.cascades.subset(bundle.splits["test"])
    dropped = len(test) - len(test.filter_length(2, 500))
    model = LSTM(LSTMConfig(), TrainConfig(max_epochs=5, progress=False)).fit(train)
    out = evaluate_next_user(model.module_, test)
    # every test adopter after the first, plus END, is one position: 663 events in 47 cascades
    assert dropped == 0 and out["positions"] == 663
    # measured 0.149 / 5.97 after 5 epochs; chance is hits@10 ≈ 10/541 and nll ≈ log 541 = 6.29
    assert out["hits@10"] > 0.1 and out["nll"] < 6.1


def test_estimator_resume_equals_uninterrupted(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    data, seq = successor_cascades(100, 0), torch.tensor([[0, 1, 2]])
    straight = small(epochs=4).fit(data).module_.logits(seq)
    small(epochs=2).fit(data, run_dir=tmp_path)  # a run that stopped after 2 of 4 epochs
    resumed = small(epochs=4).fit(data, run_dir=tmp_path, resume=True)
    assert len(resumed.history_) == 4 and torch.equal(resumed.module_.logits(seq), straight)


def test_reference_style_training_keeps_last_epoch_and_never_targets_end() -> None:
    torch.set_num_threads(1)
    cfg = TrainConfig(max_epochs=8, lr=0.03, progress=False, select="last", patience=1)
    ref = LSTM(LSTMConfig(embedding_dim=8, hidden_dim=8, end_weight=0.0), cfg)
    ref.fit(successor_cascades(100, 0), successor_cascades(20, 1))
    assert ref.fit_result_.monitor is None and ref.fit_result_.kept_epoch == 7
    assert ref.fit_result_.epochs_run == 8
    # END never a target: after the 4th adopter (where END is the truth) the reference-style
    # model gives END far less probability than the same LSTM trained with END as a target
    with_end = LSTM(LSTMConfig(embedding_dim=8, hidden_dim=8), cfg)
    with_end.fit(successor_cascades(100, 0), successor_cascades(20, 1))
    seq = torch.tensor([[0, 1, 2, 3]])
    p_end = [m.module_.logits(seq)[0, -1].softmax(-1)[12].item() for m in (ref, with_end)]
    assert p_end[0] < 0.01 and p_end[1] > 20 * p_end[0]
