"""Every metric against values computed by hand (arithmetic in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cascadekit import metrics as M


def test_rank_of_target_with_mask_and_ties() -> None:
    scores = np.array([[0.1, 0.9, 0.5, 0.5], [3.0, 2.0, 1.0, 0.0]])
    # row 0: target 2 (0.5); 0.9 is greater → rank 2; the tie with 0.5 doesn't count
    # row 1: target 3 (0.0); 3, 2, 1 greater but 0 and 1 masked → rank 2
    mask = np.array([[False] * 4, [True, True, False, False]])
    assert M.rank_of_target(scores, np.array([2, 3]), mask).tolist() == [2, 2]
    assert M.rank_of_target(scores, np.array([2, 3])).tolist() == [2, 4]


def test_hits_map_mrr() -> None:
    ranks = [1, 2, 5, 11]
    # hits@1 = 1/4; hits@5 = 3/4; hits@10 = 3/4
    assert (
        M.hits_at_k(ranks, 1) == 0.25
        and M.hits_at_k(ranks, 5) == 0.75
        and M.hits_at_k(ranks, 10) == 0.75
    )
    # map@10 = (1 + 1/2 + 1/5 + 0) / 4 = 0.425
    assert M.map_at_k(ranks, 10) == pytest.approx(0.425)
    # mrr = (1 + .5 + .2 + 1/11) / 4
    assert M.mrr(ranks) == pytest.approx((1 + 0.5 + 0.2 + 1 / 11) / 4)
    assert M.accuracy_at_k(ranks, 5) == M.hits_at_k(ranks, 5)
    rep = M.ranking_report(ranks, ks=(1, 10))
    assert list(rep) == ["hits@1", "hits@10", "map@1", "map@10", "mrr"]
    assert rep["map@1"] == 0.25
    # k beyond the candidate count is just "everything counts"
    assert M.hits_at_k(ranks, 10**6) == 1.0


def test_ranking_properties() -> None:
    ranks = np.random.default_rng(0).integers(1, 300, size=500)
    hits = [M.hits_at_k(ranks, k) for k in (1, 10, 50, 100)]
    assert hits == sorted(hits)
    for k in (1, 10, 50, 100):
        assert M.map_at_k(ranks, k) <= M.hits_at_k(ranks, k)


def test_empty_is_an_error() -> None:
    with pytest.raises(ValueError, match="ranks is empty"):
        M.hits_at_k([], 10)


def test_infection_frequencies_and_identification_f1() -> None:
    n_users = 5  # END = 5, PAD = 6
    samples = np.array([[1, 2, 3], [2, 5, 6], [4, 1, 0]])
    # keep 2 per sample: {1,2}, {2} (END stops it), {4,1} → P = [0, 2/3, 2/3, 0, 1/3]
    p = M.infection_frequencies(samples, n_users, n_keep=2)
    np.testing.assert_allclose(p, [0, 2 / 3, 2 / 3, 0, 1 / 3])
    right, pred, n_true = M.identification_terms(p, [1, 3])
    assert (right, pred, n_true) == (pytest.approx(2 / 3), pytest.approx(5 / 3), 2)
    # cascade A: right 2/3, pred 5/3, |G| 2 → P = 0.4, R = 1/3, F1 = 2·.4·(1/3)/(.4+1/3) = 4/11
    # cascade B: right 0 → F1 0
    out = M.identification_f1([2 / 3, 0.0], [5 / 3, 1.0], [2, 3])
    assert out["macro_f1"] == pytest.approx((4 / 11) / 2)
    # micro: P = (2/3)/(8/3) = .25, R = (2/3)/5 = 2/15 → F1 = 2·.25·(2/15)/(.25 + 2/15) = 4/23
    assert out["micro_f1"] == pytest.approx(4 / 23)
    assert out["macro_precision"] == pytest.approx(0.2) and out["micro_recall"] == pytest.approx(
        2 / 15
    )


def test_identification_f1_perfect_and_disjoint() -> None:
    assert M.identification_f1([3, 2], [3, 2], [3, 2])["macro_f1"] == 1.0
    assert M.identification_f1([0, 0], [3, 2], [3, 2]) == {
        "macro_f1": 0.0, "micro_f1": 0.0, "macro_precision": 0.0,
        "macro_recall": 0.0, "micro_precision": 0.0, "micro_recall": 0.0,
    }  # fmt: skip


def test_popularity_losses() -> None:
    pred, true = [1.0, 6.0], [3.0, 6.0]
    # log2(2) − log2(4) = −1 → MSLE = (1 + 0) / 2
    assert M.msle(pred, true) == 0.5
    # MAPE: |log2 3 − log2 5| / log2 5 and 0 → mean
    assert M.mape_log(pred, true) == pytest.approx(
        abs(math.log2(3) - math.log2(5)) / math.log2(5) / 2
    )
    # CasFlow MSLE: log2 max(1,1) − log2 3 → (log2 3)² / 2
    assert M.msle_casflow(pred, true) == pytest.approx(math.log2(3) ** 2 / 2)
    # CasFlow MAPE: |log2 2 − log2 4| / log2 5 / 2
    assert M.mape_casflow(pred, true) == pytest.approx(1 / math.log2(5) / 2)
    assert M.mse([1, 3], [2, 5]) == 2.5  # (1 + 4) / 2
    # size MSLE, natural log: (ln 10 − ln 5)² = ln(2)²
    assert M.size_msle([5], [10]) == pytest.approx(math.log(2) ** 2)
    with pytest.raises(ValueError, match="non-negative"):
        M.msle([-1], [1])
    with pytest.raises(ValueError, match="differ in shape"):
        M.msle([1, 2], [1])


def test_auc_with_ties_and_reversal() -> None:
    scores, labels = [0.1, 0.4, 0.35, 0.8, 0.4], [0, 0, 1, 1, 1]
    # positives {.35, .8, .4} vs negatives {.1, .4}: pairs won: .35>.1, .8>.1, .8>.4, .4>.1,
    # .4=.4 (½) → 4.5 of 6 = 0.75
    assert M.roc_auc(scores, labels) == 0.75
    assert M.roc_auc(-np.asarray(scores), labels) == pytest.approx(0.25)
    try:
        from sklearn.metrics import roc_auc_score
    except ImportError:
        return
    rng = np.random.default_rng(1)
    s, y = rng.integers(0, 5, 200).astype(float), rng.integers(0, 2, 200)
    assert M.roc_auc(s, y) == pytest.approx(roc_auc_score(y, s))


def test_threshold_chosen_on_validation() -> None:
    vs, vl = [0.9, 0.8, 0.3, 0.2], [1, 1, 0, 0]
    # thresholds .9: P1 R.5 F.667; .8: P1 R1 F1; .3: P.667 R1 F.8 → .8
    assert M.best_f1_threshold(vs, vl) == 0.8
    rep = M.classification_report(vs, vl, [0.85, 0.5, 0.81], [1, 1, 0])
    # test predictions ≥ .8: {.85, .81} → TP 1 of 2 predicted, 1 of 2 positives
    assert (
        rep["threshold"] == 0.8
        and rep["precision"] == 0.5
        and rep["recall"] == 0.5
        and rep["f1"] == 0.5
    )
    assert rep["auc"] == 0.5  # .85 > .81 (win), .5 < .81 (loss)
    assert M.precision_recall_f1([0.1], [1], 0.5) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    with pytest.raises(ValueError, match="both positive and negative"):
        M.roc_auc([0.1, 0.2], [1, 1])


def test_point_process_measures() -> None:
    counts = M.binned_counts([0.0, 0.5, 1.0, 1.5, 2.0], [0, 1, 0, 0, 1], 2, [0, 1, 2])
    # bin [0,1): mark0 @0, mark1 @.5; bin [1,2]: mark0 @1, @1.5, mark1 @2 (right edge included)
    assert counts.tolist() == [[1, 2], [1, 1]]
    assert M.pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert M.pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(M.pearson([1, 1, 1], [1, 2, 3]))
    # mean |diff| = (0 + 2) / 2 = 1 → 1 / (1 + 1)
    assert M.inverse_l1([1, 2], [1, 4]) == 0.5 and M.inverse_l1([3, 3], [3, 3]) == 1.0
    assert M.loglik_per_event(-10.0, 4) == -2.5
