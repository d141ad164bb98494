"""Monte Carlo identification (protocols §1): exact F1 on scripted models, masking, END, seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cascadekit.data.cascades import CascadeSet
from cascadekit.data.vocab import Vocabulary
from cascadekit.models.base import end_token, pad_token
from cascadekit.models.lstm import LSTMConfig, LSTMNet
from cascadekit.models.ndm import NDMConfig, NDMNet
from cascadekit.tasks.identification import (
    evaluate_identification,
    evaluate_size,
    sample_categorical,
    sample_protocol,
)

torch.set_num_threads(1)
BIG = 60.0  # softmax gap: e^-60 ≈ 1e-26, so the top unmasked token is drawn with certainty


class ScriptedModel(nn.Module):
    """Scores depend only on the row's seed: ``table[seed]`` (V+1,) every step, so with the
    infected-user mask a row walks down that ranking deterministically."""

    def __init__(self, table: torch.Tensor) -> None:
        super().__init__()
        self.n_users = table.shape[1] - 1
        self.register_buffer("table", table)

    def logits(self, seq: torch.Tensor) -> torch.Tensor:
        return self.table[seq[:, :1]].expand(-1, seq.shape[1], -1)

    def begin(
        self, prefix: torch.Tensor, capacity: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.table[prefix[:, 0]], prefix[:, 0]

    def step(self, state: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.table[state], state


def ranking(
    n_users: int, order_by_seed: dict[int, list[int]], end_rank: int | None
) -> torch.Tensor:
    """Table whose row s ranks ``order_by_seed[s]`` first (in order), then END at position
    ``end_rank`` of that list (None: END last), then every other user."""
    table = torch.zeros(n_users, n_users + 1)
    for s, order in order_by_seed.items():
        order = list(order)
        if end_rank is not None:
            order.insert(end_rank, n_users)
        for r, u in enumerate(order):
            table[s, u] = BIG * (len(order) - r)
    return table


def cascades(seqs: list[list[int]], n_users: int) -> CascadeSet:
    return CascadeSet.from_sequences(seqs, Vocabulary.range(n_users))


SEQS = [[0, 3, 5, 7], [1, 4, 2], [2, 6, 8, 9, 3, 4, 5]]


def test_oracle_model_gets_f1_one() -> None:
    table = ranking(10, {s[0]: s[1:] for s in SEQS}, end_rank=None)
    out = evaluate_identification(
        ScriptedModel(table), cascades(SEQS, 10), n_samples=7, progress=False
    )
    for key in ("macro_f1", "micro_f1", "macro_f1_first5", "micro_f1_first5"):
        assert out[key] == pytest.approx(1.0)
    assert out["n_cascades"] == 3


def test_disjoint_model_gets_zero() -> None:
    # users 10..17 appear in no cascade; the longest G has 6 users
    table = ranking(18, {s[0]: list(range(10, 18)) for s in SEQS}, end_rank=None)
    out = evaluate_identification(
        ScriptedModel(table), cascades(SEQS, 18), n_samples=5, progress=False
    )
    assert out["macro_f1"] == 0.0 and out["micro_f1"] == 0.0


def test_hand_computed_partial_overlap() -> None:
    # seed 0, G = [2, 5]; the model generates 1, 2 → P_1 = P_2 = 1: right 1, pred 2, |G| 2 → F1 .5
    # seed 3, G = [4, 6, 7]; the model generates 4, 6, 7 → F1 1.  Macro (.5 + 1)/2, Micro 4/5 both
    table = ranking(8, {0: [1, 2, 5], 3: [4, 6, 7]}, end_rank=None)
    out = evaluate_identification(
        ScriptedModel(table), cascades([[0, 2, 5], [3, 4, 6, 7]], 8), n_samples=3, progress=False
    )
    assert out["macro_f1"] == pytest.approx(0.75)
    assert out["micro_f1"] == pytest.approx(0.8)
    # first five = everything here (|G| ≤ 5)
    assert out["macro_f1_first5"] == pytest.approx(0.75)


def test_first_five_cuts_truth_and_samples() -> None:
    # G = [1..7]; the model generates 1,2,3,4,9(not in G),5,6 → all users: right 6 of 7
    # first five: truth 1..5, samples cut to 1,2,3,4,9 → right 4, pred 5 → F1 .8
    table = ranking(10, {0: [1, 2, 3, 4, 9, 5, 6]}, end_rank=None)
    out = evaluate_identification(
        ScriptedModel(table), cascades([[0, 1, 2, 3, 4, 5, 6, 7]], 10), n_samples=2, progress=False
    )
    assert out["macro_f1"] == pytest.approx(6 / 7)
    assert out["macro_f1_first5"] == pytest.approx(0.8)


def test_mask_never_resamples_infected_users() -> None:
    # the scripted ranking puts the seed and user 1 on top: both must be skipped after infection
    v = 6
    table = torch.zeros(v, v + 1)
    table[:, 0], table[:, 1] = 2 * BIG, BIG  # uniform among the rest after the top two
    prefix = torch.tensor([[0]])
    gen = torch.Generator().manual_seed(0)
    out = sample_protocol(ScriptedModel(table), prefix, 50, torch.tensor([4]), gen)
    assert out.shape == (50, 4)
    assert (out[:, 0] == 1).all()  # the seed is masked, so user 1 comes first
    for row in out.tolist():
        users = [u for u in row if u < v]
        assert 0 not in users and len(set(users)) == len(users)


def test_end_stops_a_row() -> None:
    v = 5
    table = ranking(v, {0: [2, 3]}, end_rank=1)  # ranking: 2, END, 3
    out = sample_protocol(ScriptedModel(table), torch.tensor([[0]]), 3, torch.tensor([4]),
                          torch.Generator().manual_seed(0))  # fmt: skip
    expected = [2, end_token(v), pad_token(v), pad_token(v)]
    assert out.tolist() == [expected] * 3
    res = evaluate_identification(
        ScriptedModel(table), cascades([[0, 2, 3]], v), n_samples=4, progress=False
    )
    # samples hold {2} only: right 1, pred 1, |G| 2 → P 1, R .5, F1 2/3
    assert res["macro_f1"] == pytest.approx(2 / 3)


def test_size_exact_with_immediate_end() -> None:
    v = 12
    table = torch.zeros(v, v + 1)
    table[:, v] = BIG  # END at once: predicted size = revealed prefix
    seqs = [[0, 1, 2], [3, 4, 5, 6, 7, 8, 9, 10]]
    out = evaluate_size(ScriptedModel(table), cascades(seqs, v), n_samples=4, progress=False)
    # pred = [3, 5], true = [3, 8] → MSLE = (ln 8 − ln 5)² / 2
    assert out["msle_ln"] == pytest.approx(np.log(8 / 5) ** 2 / 2)
    assert out["capped_samples"] == 0


def test_size_capped_without_end() -> None:
    v = 12
    table = ranking(v, {0: list(range(1, v))}, end_rank=None)
    out = evaluate_size(ScriptedModel(table), cascades([[0, 1]], v), n_samples=2,
                        max_size=6, progress=False)  # fmt: skip
    assert out["mean_pred_size"] == 6.0 and out["capped_samples"] == 2


def _random_set(n_users: int, n: int, seed: int) -> CascadeSet:
    rng = np.random.default_rng(seed)
    return cascades([rng.permutation(n_users)[: rng.integers(2, 9)].tolist() for _ in range(n)],
                    n_users)  # fmt: skip


def test_same_seed_same_numbers_and_seed_matters() -> None:
    torch.manual_seed(0)
    net = LSTMNet(15, LSTMConfig(embedding_dim=8, hidden_dim=8))
    data = _random_set(15, 12, 0)
    a = evaluate_identification(net, data, n_samples=40, seed=3, progress=False)
    b = evaluate_identification(net, data, n_samples=40, seed=3, progress=False)
    c = evaluate_identification(net, data, n_samples=40, seed=4, progress=False)
    keys = ("macro_f1", "micro_f1", "macro_f1_first5", "micro_f1_first5")
    assert all(a[k] == b[k] for k in keys)
    assert any(a[k] != c[k] for k in keys)
    assert 0 < a["macro_f1"] < 1


def test_kv_cache_sampling_matches_full_recomputation() -> None:
    """Batched begin/step sampling of NDM draws the same tokens as recomputing `logits` on the
    whole prefix at every step with the same generator (checks the cache and the row masks)."""
    torch.manual_seed(1)
    v = 25
    net = NDMNet(v, NDMConfig(embedding_dim=16, n_heads=2, head_dim=8)).eval()
    prefix = torch.tensor([[3], [7]])
    caps = torch.tensor([6, 6])
    got = sample_protocol(net, prefix, 4, caps, torch.Generator().manual_seed(5))
    gen = torch.Generator().manual_seed(5)
    rows = prefix.repeat_interleave(4, dim=0)
    live = torch.ones(len(rows), dtype=torch.bool)
    batch = torch.ones(len(rows), dtype=torch.bool)  # rows still in the sampler's batch
    with torch.no_grad():
        for _ in range(6):
            scores = net.logits(rows)[:, -1].clone()
            for r in range(len(rows)):
                scores[r, rows[r]] = float("-inf")
            # rows in the batch draw; finished ones leave once half of the batch has finished
            tok = torch.full((len(rows), 1), v)
            tok[batch, 0] = sample_categorical(scores[batch], gen)
            tok[~live] = v
            rows = torch.cat([rows, tok], dim=1)
            live &= tok[:, 0] != v
            if (batch & ~live).sum() * 2 >= batch.sum():
                batch &= live
    # compare up to each row's END
    for r in range(len(rows)):
        ref = rows[r, 1:].tolist()
        n = ref.index(v) + 1 if v in ref else len(ref)
        assert got[r, :n].tolist() == ref[:n]
    assert not live.all(), "the check needs at least one row that stopped early"


def test_sample_categorical_matches_softmax_and_skips_masked() -> None:
    scores = torch.tensor([[0.0, float("-inf"), 1.0, 2.0, float("-inf")]]).repeat(200_000, 1)
    draws = sample_categorical(scores, torch.Generator().manual_seed(0))
    freq = torch.bincount(draws, minlength=5).double() / len(draws)
    expected = torch.softmax(scores[0].double(), 0)
    assert freq[1] == 0 and freq[4] == 0
    # binomial std of a frequency ≈ sqrt(p(1-p)/n) ≤ 0.0012: 5 sigma
    assert torch.allclose(freq, expected, atol=0.006)
