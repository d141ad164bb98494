import numpy as np
import torch

from cascadekit.data.cascades import CascadeSet
from cascadekit.data.vocab import Vocabulary
from cascadekit.models.user_frequency import UserFrequency
from cascadekit.tasks.identification import evaluate_identification
from cascadekit.tasks.next_user import evaluate_next_user


def train_set() -> CascadeSet:
    # adoption counts: user 0: 3, user 1: 2, user 2: 1, user 3: 0; 3 cascades (END)
    return CascadeSet.from_sequences([[0, 1, 2], [1, 0], [0]], Vocabulary.range(4))


def test_scores_are_log_counts_plus_one() -> None:
    model = UserFrequency().fit(train_set())
    assert np.allclose(model.scores.numpy(), np.log([4, 3, 2, 1, 4]))
    seq = torch.tensor([[0, 1, 5], [2, 5, 5]])
    positions = seq != 5
    assert model.logits(seq).shape == (2, 3, 5)
    assert model.logits(seq, positions).shape == (3, 5)


def test_next_user_ranks_by_popularity() -> None:
    model = UserFrequency().fit(train_set())
    test = CascadeSet.from_sequences([[2, 0]], Vocabulary.range(4))
    # after 2 → target 0: candidates 0 (log4) tied with END (log4), 1, 3 → rank 1 (ties not
    # counted as better); after 2, 0 → END: END log4 is the best left → rank 1
    out = evaluate_next_user(model, test, ks=(1,))
    assert out["hits@1"] == 1.0 and out["positions"] == 2


def test_identification_draws_popular_users() -> None:
    model = UserFrequency().fit(train_set())
    test = CascadeSet.from_sequences([[3, 0, 1]], Vocabulary.range(4))
    out = evaluate_identification(model, test, n_samples=4000, progress=False)
    # each sample draws up to 2 users from {0, 1, 2, END} ∝ (4, 3, 2, 4) (the seed 3 is masked)
    # without replacement, stopping at END: enumerate the paths for E[right] and E[pred]
    w = {0: 4.0, 1: 3.0, 2: 2.0, "end": 4.0}
    right = pred = 0.0
    for a, wa in w.items():
        pa = wa / sum(w.values())
        if a == "end":
            continue
        rest = {u: x for u, x in w.items() if u != a}
        for b, wb in rest.items():
            drawn = {a} if b == "end" else {a, b}
            p = pa * wb / sum(rest.values())
            right += p * len(drawn & {0, 1})
            pred += p * len(drawn)
    precision, recall = right / pred, right / 2
    expected = 2 * precision * recall / (precision + recall)
    assert abs(out["micro_f1"] - expected) < 0.02  # ≈ 4 standard errors at S = 4000


def test_save_load_round_trip(tmp_path) -> None:  # noqa: ANN001
    model = UserFrequency().fit(train_set())
    back = UserFrequency.load(model.save(tmp_path / "m"))
    assert torch.equal(back.scores, model.scores) and back.n_users == 4
