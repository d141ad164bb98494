"""Next-user models over the users known from training (`models.sequence.KnownUsers`, the
``min_user_count`` option of NDM and LSTM): the token maps on a hand case, OTHER never a target,
ranking in class space equal to ranking over every user, save/load, and the refusal for NDM+SN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from cascadekit import registry
from cascadekit.models.lstm import LSTM
from cascadekit.models.sequence import KnownUsers
from cascadekit.pipeline import load_bundle
from cascadekit.tasks.next_user import evaluate_next_user

torch.set_num_threads(1)


class Scores(torch.nn.Module):
    """An inner network whose scores are fixed: column j scores j (K + 1 users, END)."""

    def __init__(self, n_users: int) -> None:
        super().__init__()
        self.n_users = n_users
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def logits(self, seq: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        out = torch.arange(self.n_users + 1, dtype=torch.float32).expand(*seq.shape, -1)
        return out[positions] if positions is not None else out


def hand() -> KnownUsers:
    net = KnownUsers(Scores(3), n_users=6)  # K = 2 known users
    net.rows.copy_(torch.tensor([0, 2, 0, 1, 0, 0]))  # user 3 → class 0, user 1 → class 1
    return net


def test_tokens_map_to_the_inner_vocabulary_and_to_classes() -> None:
    net = hand()
    tokens = torch.tensor([3, 1, 0, 5, 6, 7])  # known, known, unseen, unseen, END, PAD
    assert net.to_inner(tokens).tolist() == [0, 1, 2, 2, 3, 4]
    assert net.known_classes(tokens).tolist() == [0, 1, 3, 3, 2, 3]


def test_class_scores_put_unseen_users_below_every_known_one() -> None:
    net = hand()
    c = net.class_logits(torch.tensor([[3, 1]]))
    # inner columns: known 0, 1, OTHER 2, END 3 → known 0, 1, END 3, floor min(0, 1) − 1
    assert c[0, 0].tolist() == [0.0, 1.0, 3.0, -1.0]
    full = net.logits(torch.tensor([[3, 1]]))
    assert full[0, 0].tolist() == [-1.0, 1.0, -1.0, 0.0, -1.0, -1.0, 3.0]


@pytest.fixture(scope="module")
def fitted() -> tuple[Any, Any]:
    split = registry.task("popularity", {"order": "time"}).build(
        load_bundle("synthetic_popularity", 0, {"n_cascades": 200}), 0
    )
    est = registry.create("lstm", None, epochs=2, min_user_count=2, progress=False)
    return split, est.fit(split.train, split.valid)


class FullScores:
    """The network seen only through `logits` (V + 1 columns), as any other next-user model."""

    def __init__(self, net: Any) -> None:
        self.net, self.n_users = net, net.n_users

    def logits(self, seq: torch.Tensor, positions: Any = None) -> Any:
        return self.net.logits(seq, positions)


def test_ranking_in_class_space_equals_ranking_over_every_user(fitted: tuple[Any, Any]) -> None:
    split, est = fitted
    net = est.module_.eval()
    assert isinstance(net, KnownUsers) and net.n_known < net.n_users // 2
    assert net.inner.n_users == net.n_known + 1
    compact = evaluate_next_user(net, split.test, ks=(5, 10), max_len=60)
    full = evaluate_next_user(FullScores(net), split.test, ks=(5, 10), max_len=60)
    assert compact.pop("nll") == pytest.approx(full.pop("nll"), rel=1e-5)
    assert compact == full
    assert np.isfinite(est.history_[-1]["train_loss"])


def test_save_load_round_trips(fitted: tuple[Any, Any], tmp_path: Path) -> None:
    split, est = fitted
    est.save(tmp_path / "m")
    again = LSTM.load(tmp_path / "m")
    a = evaluate_next_user(est.module_, split.test, ks=(5,), max_len=60)
    assert evaluate_next_user(again.module_, split.test, ks=(5,), max_len=60) == a
    assert torch.equal(again.module_.rows, est.module_.rows)


def test_ndm_sn_refuses_a_reduced_vocabulary() -> None:
    split = registry.task("popularity", {"order": "time"}).build(
        load_bundle("synthetic_popularity", 0, {"n_cascades": 40}), 0
    )
    est = registry.create("ndm", None, fixed_embedding_dim=4, min_user_count=2, epochs=1)
    est.fixed_embeddings = np.zeros((split.train.n_users, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="min_user_count must be None"):
        est.fit(split.train, split.valid)


class Wrapped(torch.nn.Module):
    """A module seen through a wrapper that forwards attributes, as Fabric hands it to the loss."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)


def test_training_scores_the_known_classes_even_through_a_wrapper(fitted: tuple[Any, Any]) -> None:
    from cascadekit.models.sequence import next_user_loss

    split, est = fitted
    net = est.module_
    batch = next(iter(est._batches(split.train, 0)))
    want = next_user_loss(net.inner, net.to_inner(batch), skip_target=net.n_known)
    torch.testing.assert_close(est._loss(Wrapped(net), batch), want)
