"""LSTM baseline: learns a deterministic successor rule; incremental decoding = full pass; save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from cascadekit.data import CascadeSet, Vocabulary
from cascadekit.models.lstm import LSTMConfig, LSTMModel
from cascadekit.tasks.next_user import evaluate_next_user
from cascadekit.training import TrainConfig


def successor_cascades(n: int, seed: int) -> CascadeSet:
    # user u is always followed by (u + 1) mod 12; cascades stop after 3-6 adopters
    rng = np.random.default_rng(seed)
    seqs = []
    for _ in range(n):
        start, length = rng.integers(0, 12), rng.integers(3, 7)
        seqs.append([(start + i) % 12 for i in range(length)])
    return CascadeSet.from_sequences(seqs, Vocabulary.range(12))


def test_learns_successor_rule_and_round_trips(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    cfg = TrainConfig(max_epochs=40, lr=0.02, batch_size=32, progress=False, patience=40)
    model = LSTMModel(LSTMConfig(embedding_dim=16, hidden_dim=32, dropout=0.0), cfg)
    model.fit(successor_cascades(300, 0), successor_cascades(50, 1))
    test = successor_cascades(50, 2)
    out = evaluate_next_user(model.module_, test, ks=(1, 2))
    # the successor is always right; END positions are the only uncertain ones (3-6 long)
    non_end = test.lengths.sum() - len(test)
    assert out["hits@2"] > 0.9 and out["hits@1"] > 0.8 * non_end / out["positions"]
    # incremental decoding agrees with the teacher-forced pass
    seq = torch.tensor([[3, 4, 5, 6]])
    full = model.module_.logits(seq)
    lg, state = model.module_.begin(seq[:, :2])
    assert torch.allclose(lg, full[:, 1], atol=1e-5)
    for t in (2, 3):
        lg, state = model.module_.step(state, seq[:, t])
        assert torch.allclose(lg, full[:, t], atol=1e-5)
    # save / load restores identical logits
    back = LSTMModel.load(model.save(tmp_path / "m"))
    assert torch.equal(back.module_.logits(seq), full)
