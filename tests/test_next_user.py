"""Next-user protocol: masks, targets and ranks on hand-checked cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cascadekit.data import CascadeSet, Vocabulary
from cascadekit.data.bundle import DatasetBundle
from cascadekit.errors import CascadeKitError
from cascadekit.metrics import rank_of_target
from cascadekit.models.batching import encode_padded, iterate_batches, length_buckets
from cascadekit.models.sequence import mask_infected, next_user_loss
from cascadekit.tasks.next_user import CascadeSplitOptions, cascade_split, evaluate_next_user


def tiny() -> CascadeSet:
    return CascadeSet.from_sequences([[0, 2, 1], [3, 0]], Vocabulary.range(4))


def test_encode_padded() -> None:
    # V = 4: END = 4, PAD = 5
    assert encode_padded(tiny()).tolist() == [[0, 2, 1, 4], [3, 0, 4, 5]]
    assert encode_padded(tiny(), add_end=False).tolist() == [[0, 2, 1], [3, 0, 5]]
    # a cascade cut by max_len gets no END (it did not stop there)
    assert encode_padded(tiny(), [1, 0], max_len=2).tolist() == [[3, 0, 4], [0, 2, 5]]


def test_iterate_batches_covers_each_cascade_once_per_epoch() -> None:
    cs = CascadeSet.from_sequences([[u, u + 1] for u in range(9)], Vocabulary.range(10))

    def firsts(seed: int) -> list[list[int]]:
        return [b[:, 0].tolist() for b in iterate_batches(cs, 4, shuffle=True, seed=seed)]

    assert sorted(sum(firsts(0), [])) == list(range(9))
    assert sorted(len(b) for b in firsts(0)) == [1, 4, 4]
    assert firsts(0) == firsts(0) and firsts(0) != firsts(1)


def test_mask_hides_exactly_the_prefix_users() -> None:
    seq = encode_padded(tiny())[:, :-1]  # inputs [[0,2,1],[3,0,4]]
    masked = mask_infected(torch.zeros(2, 3, 5), seq)
    hidden = torch.isinf(masked)
    assert hidden[0, 0].tolist() == [True, False, False, False, False]  # after user 0
    assert hidden[0, 2].tolist() == [True, True, True, False, False]  # after 0, 2, 1
    assert hidden[1, 2].tolist() == [
        True,
        False,
        False,
        True,
        False,
    ]  # END in the input is not hidden


class Fixed(torch.nn.Module):
    """Scores every position with the same fixed vector."""

    def __init__(self, scores: list[float]) -> None:
        super().__init__()
        self.n_users = len(scores) - 1
        self.w = torch.nn.Parameter(torch.tensor(scores))

    def logits(self, seq: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        full = self.w.expand(*seq.shape, -1)
        return full if positions is None else full[positions]


def test_ranks_match_metrics_definition() -> None:
    model = Fixed([0.5, 0.1, 0.9, 0.3, 0.2])  # users 0..3, END
    out = evaluate_next_user(model, tiny(), ks=(1, 2))
    # cascade [0,2,1]: after 0 → target 2: candidates (0 hidden) 1:.1, 2:.9, 3:.3, END:.2 → rank 1
    #   after 0,2 → target 1: 1:.1, 3:.3, END:.2 → rank 3; after 0,2,1 → END: 3:.3 > .2 → rank 2
    # cascade [3,0]: after 3 → target 0 (.5): 2:.9 better → 2; after 3,0 → END: 2:.9, 1:.1 → 2
    ranks = np.array([1, 3, 2, 2, 2])
    assert out["positions"] == 5
    assert out["hits@1"] == 0.2 and out["hits@2"] == 0.8
    assert out["mrr"] == np.mean(1 / ranks)
    scores = np.tile([0.5, 0.1, 0.9, 0.3, 0.2], (5, 1))
    mask = np.zeros((5, 5), bool)
    mask[0, 0] = mask[1, [0, 2]] = mask[2, [0, 1, 2]] = mask[3, 3] = mask[4, [0, 3]] = True
    assert rank_of_target(scores, np.array([2, 1, 4, 0, 4]), mask).tolist() == ranks.tolist()


def test_loss_end_weight_zero_ignores_end_targets() -> None:
    model = Fixed([0.5, 0.1, 0.9, 0.3, 0.2])
    batch = encode_padded(tiny())
    full, no_end = next_user_loss(model, batch), next_user_loss(model, batch, end_weight=0.0)
    logits = mask_infected(model.logits(batch[:, :-1]), batch[:, :-1])
    lp = torch.log_softmax(logits, -1)
    end_terms = -(lp[0, 2, 4] + lp[1, 1, 4])
    assert torch.isclose(full - no_end, end_terms)
    # the full loss is the sum over the 5 real positions (targets 2, 1, END | 0, END)
    gold = lp[0, 0, 2] + lp[0, 1, 1] + lp[0, 2, 4] + lp[1, 0, 0] + lp[1, 1, 4]
    assert torch.isclose(full, -gold)
    # by hand, position "after 0,2" of cascade 0: candidates 1, 3, END → −log(e^.1 / Σ)
    assert lp[0, 1, 1].item() == pytest.approx(0.1 - np.log(np.exp([0.1, 0.3, 0.2]).sum()))


def test_batching_does_not_change_the_numbers() -> None:
    model = Fixed([0.5, 0.1, 0.9, 0.3, 0.2])
    ref = evaluate_next_user(model, tiny(), ks=(1, 2))
    one = evaluate_next_user(model, tiny(), ks=(1, 2), batch_size=1)
    tight = evaluate_next_user(model, tiny(), ks=(1, 2), budget=1)  # one cascade per batch
    assert one == pytest.approx(ref) and tight == pytest.approx(ref)
    assert ref["nll"] == pytest.approx(
        next_user_loss(model, encode_padded(tiny())).item() / ref["positions"]
    )


def test_repeated_user_is_a_clear_error() -> None:
    cs = CascadeSet.from_sequences([[0, 1], [2, 1, 2]], Vocabulary.range(3), ids=["a", "b"])
    with pytest.raises(ValueError, match="'b' repeats a user"):
        evaluate_next_user(Fixed([0.0] * 4), cs)


def test_split_filter_counts_drops_and_buckets() -> None:
    cs = CascadeSet.from_sequences(
        [[0], [0, 1], [0, 1, 2], [1, 2], [2, 0, 1], [2, 1]], Vocabulary.range(3)
    )
    splits = {"train": [0, 1, 2], "valid": [3], "test": [4, 5]}
    bundle = DatasetBundle("toy", cascades=cs, splits=splits)
    split = cascade_split(bundle, 0, CascadeSplitOptions(min_len=2, max_len=2))
    assert split.train.lengths.tolist() == [2] and split.test.lengths.tolist() == [2]
    assert split.info["dropped_by_length"] == {"train": 2, "valid": 0, "test": 1}
    with pytest.raises(CascadeKitError, match="no cascades left"):
        cascade_split(bundle, 0, CascadeSplitOptions(min_len=4, max_len=9))
    batches = length_buckets(np.array([5, 1, 4, 2, 3]), 2, shuffle=False, seed=0)
    assert [b.tolist() for b in batches] == [[1, 3], [4, 2], [0]]
