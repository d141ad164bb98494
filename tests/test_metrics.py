"""Every metric against values computed by hand (arithmetic in the comments), plus edge cases and
properties. No sklearn in the environment: AUC is cross-checked against a brute-force pair count
(and against sklearn too when it happens to be installed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cascadekit import metrics as M


# ----------------------------------------------------------------------------- ranking
def test_rank_of_target_with_mask_and_ties() -> None:
    scores = np.array([[0.1, 0.9, 0.5, 0.5], [3.0, 2.0, 1.0, 0.0]])
    # row 0: target 2 (0.5); only 0.9 is strictly greater → rank 2; the tie at 0.5 doesn't count
    # row 1: target 3 (0.0); 3, 2, 1 are greater, 3 and 2 masked → 1 + 1 = rank 2
    mask = np.array([[False] * 4, [True, True, False, False]])
    assert M.rank_of_target(scores, np.array([2, 3]), mask).tolist() == [2, 2]
    assert M.rank_of_target(scores, np.array([2, 3])).tolist() == [2, 4]
    # a masked target is still ranked (mask only removes competitors); -inf scores are fine
    s = np.array([[-np.inf, 1.0, 2.0]])
    assert M.rank_of_target(s, [1], [[True, True, False]]).tolist() == [2]
    assert M.rank_of_target(s, [0]).tolist() == [3]


def test_rank_of_target_matches_sorting() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50, 30))  # continuous: no ties
    target = rng.integers(0, 30, 50)
    mask = rng.random((50, 30)) < 0.3
    mask[np.arange(50), target] = False
    got = M.rank_of_target(scores, target, mask)
    for i in range(50):
        kept = np.flatnonzero(~mask[i])
        order = kept[np.argsort(-scores[i, kept])]
        assert got[i] == 1 + int(np.flatnonzero(order == target[i])[0])


def test_rank_of_target_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        M.rank_of_target(np.zeros(3), [0])
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        M.rank_of_target(np.zeros((1, 2)), [2])
    with pytest.raises(ValueError, match="shape of scores"):
        M.rank_of_target(np.zeros((1, 2)), [0], np.zeros((1, 3), bool))
    with pytest.raises(ValueError, match="NaN"):
        M.rank_of_target([[np.nan, 1.0]], [1])


def test_hits_map_mrr() -> None:
    ranks = [1, 2, 5, 11]
    # hits@1 = 1/4; hits@5 = 3/4 (1, 2, 5); hits@10 = 3/4
    assert M.hits_at_k(ranks, 1) == 0.25
    assert M.hits_at_k(ranks, 5) == 0.75
    assert M.hits_at_k(ranks, 10) == 0.75
    # map@10 = (1 + 1/2 + 1/5 + 0) / 4 = 1.7 / 4 = 0.425; map@2 = (1 + 1/2) / 4 = 0.375
    assert M.map_at_k(ranks, 10) == pytest.approx(0.425)
    assert M.map_at_k(ranks, 2) == pytest.approx(0.375)
    # mrr = (1 + .5 + .2 + 1/11) / 4
    assert M.mrr(ranks) == pytest.approx((1 + 0.5 + 0.2 + 1 / 11) / 4)
    assert M.accuracy_at_k is M.hits_at_k  # DMT-LIC's A@k is hits@k, one implementation
    rep = M.ranking_report(ranks, ks=(1, 10))
    assert list(rep) == ["hits@1", "hits@10", "map@1", "map@10", "mrr"]
    assert rep["map@1"] == 0.25 and rep["hits@10"] == 0.75 and rep["mrr"] == M.mrr(ranks)
    # k beyond the candidate count: every position is a hit and map@k is the plain MRR
    assert M.hits_at_k(ranks, 10**6) == 1.0
    assert M.map_at_k(ranks, 10**6) == pytest.approx(M.mrr(ranks))


def test_ranking_properties() -> None:
    ranks = np.random.default_rng(0).integers(1, 300, size=500)
    ks = (1, 5, 10, 50, 100, 300)
    hits = [M.hits_at_k(ranks, k) for k in ks]
    maps = [M.map_at_k(ranks, k) for k in ks]
    assert hits == sorted(hits) and maps == sorted(maps)  # monotone in k
    assert all(m <= h for m, h in zip(maps, hits, strict=True))  # 1/rank ≤ 1 on every hit
    assert M.map_at_k(ranks, 1) == M.hits_at_k(ranks, 1)  # rank 1 contributes 1 to both


def test_ranking_errors() -> None:
    with pytest.raises(ValueError, match="ranks is empty"):
        M.hits_at_k([], 10)
    with pytest.raises(ValueError, match="ranks is empty"):
        M.mrr(np.array([]))
    with pytest.raises(ValueError, match="positive integer"):
        M.map_at_k([1, 2], 0)
    with pytest.raises(ValueError, match="1-based"):
        M.mrr([0, 1])


# ----------------------------------------------------------------------------- NDM identification
def test_infection_frequencies() -> None:
    n_users = 5  # END = 5, PAD = 6
    samples = np.array([[1, 2, 3], [2, 5, 6], [4, 1, 0]])
    # keep 2 per sample: {1,2}, {2} (END stops it), {4,1} → P = [0, 2/3, 2/3, 0, 1/3]
    p = M.infection_frequencies(samples, n_users, n_keep=2)
    np.testing.assert_allclose(p, [0, 2 / 3, 2 / 3, 0, 1 / 3])
    # keep 3: {1,2,3}, {2}, {4,1,0} → P = [1/3, 2/3, 2/3, 1/3, 1/3]
    np.testing.assert_allclose(
        M.infection_frequencies(samples, n_users, 3), [1 / 3, 2 / 3, 2 / 3, 1 / 3, 1 / 3]
    )
    # a user after END does not count; a repeat inside one sample counts once: [[2, 2, 5, 1]]
    # keeps {2} → P_2 = 1, P_1 = 0
    np.testing.assert_allclose(M.infection_frequencies([[2, 2, 5, 1]], 5, 4), [0, 0, 1, 0, 0])
    assert M.infection_frequencies(samples, n_users, 0).sum() == 0.0
    with pytest.raises(ValueError, match="non-empty"):
        M.infection_frequencies(np.zeros((0, 3)), 5, 2)
    with pytest.raises(ValueError, match="non-negative"):
        M.infection_frequencies([[-1, 2]], 5, 2)


def test_identification_terms_all_and_first_k() -> None:
    n_users = 8  # END = 8
    samples = np.array([[1, 2, 3, 4], [3, 8, 8, 8], [5, 6, 1, 2]])
    truth = [3, 1, 7, 2]  # G, in infection order
    # all users, keep |G| = 4: sample sets {1,2,3,4}, {3}, {5,6,1,2}
    # right = P_3 + P_1 + P_7 + P_2 = 2/3 + 2/3 + 0 + 2/3 = 2; pred = (4 + 1 + 4)/3 = 3
    r, p, n = M.sample_identification_terms(samples, truth, n_users)
    assert (r, p, n) == (pytest.approx(2.0), pytest.approx(3.0), 4)
    # first_k = 2: G → [3, 1], samples keep 2: {1,2}, {3}, {5,6}
    # right = P_3 + P_1 = 1/3 + 1/3 = 2/3; pred = (2 + 1 + 2)/3 = 5/3
    r, p, n = M.sample_identification_terms(samples, truth, n_users, first_k=2)
    assert (r, p, n) == (pytest.approx(2 / 3), pytest.approx(5 / 3), 2)
    # first_k ≥ |G| is the all-users case
    assert M.sample_identification_terms(samples, truth, n_users, first_k=5) == (
        M.sample_identification_terms(samples, truth, n_users)
    )
    # the two-step route gives the same numbers
    freq = M.infection_frequencies(samples, n_users, 2)
    assert M.identification_terms(freq, [3, 1]) == pytest.approx((2 / 3, 5 / 3, 2))


def test_identification_f1_hand_values() -> None:
    # cascade A: right 2/3, pred 5/3, |G| 2 → P = 0.4, R = 1/3, F1 = 2·.4·(1/3)/(.4+1/3) = 4/11
    # cascade B: right 0 → P = R = F1 = 0
    out = M.identification_f1([2 / 3, 0.0], [5 / 3, 1.0], [2, 3])
    assert out["macro_f1"] == pytest.approx((4 / 11) / 2)
    assert out["macro_precision"] == pytest.approx(0.2)  # (0.4 + 0) / 2
    assert out["macro_recall"] == pytest.approx(1 / 6)  # (1/3 + 0) / 2
    # micro: P = (2/3)/(8/3) = 1/4, R = (2/3)/5 = 2/15 → F1 = 2·(1/4)(2/15)/(1/4 + 2/15) = 4/23
    assert out["micro_precision"] == pytest.approx(0.25)
    assert out["micro_recall"] == pytest.approx(2 / 15)
    assert out["micro_f1"] == pytest.approx(4 / 23)


def test_identification_f1_edge_cases() -> None:
    assert M.identification_f1([3, 2], [3, 2], [3, 2])["macro_f1"] == 1.0
    zero = dict.fromkeys(
        ("macro_f1", "micro_f1", "macro_precision", "macro_recall", "micro_precision",
         "micro_recall"), 0.0,
    )  # fmt: skip
    # nothing right
    assert M.identification_f1([0, 0], [3, 2], [3, 2]) == zero
    # all-zero predictions (every sample ended at once): P = R = F1 = 0, no division error
    assert M.identification_f1([0, 0], [0, 0], [3, 2]) == zero
    # in practice pred = |G| (samples never end early), so P = R = F1
    out = M.identification_f1([1.5], [3.0], [3])
    assert out["macro_f1"] == out["macro_precision"] == out["macro_recall"] == 0.5
    with pytest.raises(ValueError, match="same length"):
        M.identification_f1([1, 2], [1], [1, 2])
    with pytest.raises(ValueError, match="right is empty"):
        M.identification_f1([], [], [])


# ----------------------------------------------------------------------------- popularity
def test_popularity_losses() -> None:
    pred, true = [1.0, 6.0], [3.0, 6.0]
    # log2(1+1) − log2(3+1) = 1 − 2 = −1 → MSLE = (1 + 0) / 2
    assert M.msle_log2(pred, true) == 0.5
    # MAPE: |log2 3 − log2 5| / log2 5 for the first, 0 for the second → mean
    assert M.mape_log2(pred, true) == pytest.approx(
        abs(math.log2(3) - math.log2(5)) / math.log2(5) / 2
    )
    # CasFlow MSLE: (log2 1 − log2 3)² = (log2 3)², then 0 → mean
    assert M.msle_casflow(pred, true) == pytest.approx(math.log2(3) ** 2 / 2)
    # CasFlow MAPE: |log2 2 − log2 4| / log2 5 = 1 / log2 5, then 0 → mean
    assert M.mape_casflow(pred, true) == pytest.approx(1 / math.log2(5) / 2)
    assert M.mse([1, 3], [2, 5]) == 2.5  # (1 + 4) / 2
    assert M.mse([-1], [1]) == 4.0  # mse takes any real values
    # size MSLE, natural log: (ln 10 − ln 5)² = (ln 2)²
    assert M.size_msle_ln([5], [10]) == pytest.approx(math.log(2) ** 2)


def test_casflow_variants_clip_below_one() -> None:
    # ŷ = 0, y = 1: the standard MSLE sees (log2 1 − log2 2)² = 1; CasFlow clips ŷ to 1 → 0
    assert M.msle_log2([0.0], [1.0]) == 1.0 and M.msle_casflow([0.0], [1.0]) == 0.0
    # y = 0 is clipped to 1 too; ŷ = 3: MSLE (log2 3)², MAPE |log2 4 − log2 2| / log2 3 = 1/log2 3
    assert M.msle_casflow([3.0], [0.0]) == pytest.approx(math.log2(3) ** 2)
    assert M.mape_casflow([3.0], [0.0]) == pytest.approx(1 / math.log2(3))
    # the standard MAPE with y = 0: |log2 5 − log2 2| / log2 2 = log2 2.5
    assert M.mape_log2([3.0], [0.0]) == pytest.approx(math.log2(2.5))
    # a negative regressor output is clipped, not rejected
    assert M.msle_casflow([-4.0], [1.0]) == 0.0


def test_popularity_errors() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        M.msle_log2([-1], [1])
    with pytest.raises(ValueError, match="differ in shape"):
        M.mape_log2([1, 2], [1])
    with pytest.raises(ValueError, match="pred is empty"):
        M.mse([], [])
    with pytest.raises(ValueError, match="≥ 1"):
        M.size_msle_ln([0.5], [2])
    with pytest.raises(ValueError, match="NaN"):
        M.msle_log2([np.nan], [1])


# ----------------------------------------------------------------------------- classification
def _auc_by_pairs(s: np.ndarray, y: np.ndarray) -> float:
    pos, neg = s[y == 1], s[y == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def test_auc_with_ties_and_reversal() -> None:
    scores, labels = [0.1, 0.4, 0.35, 0.8, 0.4], [0, 0, 1, 1, 1]
    # positives {.35, .8, .4} vs negatives {.1, .4}: .35>.1, .8>.1, .8>.4, .4>.1 win; .35<.4
    # loses; .4=.4 counts ½ → 4.5 of 6 = 0.75
    assert M.roc_auc(scores, labels) == 0.75
    assert M.roc_auc(-np.asarray(scores), labels) == pytest.approx(0.25)
    assert M.roc_auc([1.0, 1.0, 1.0], [0, 1, 1]) == 0.5  # all tied
    assert M.roc_auc([0.2, 0.9], [0, 1]) == 1.0
    rng = np.random.default_rng(1)
    s, y = rng.integers(0, 5, 200).astype(float), rng.integers(0, 2, 200)  # many ties
    auc = M.roc_auc(s, y)
    assert auc == pytest.approx(_auc_by_pairs(s, y))
    assert M.roc_auc(-s, y) == pytest.approx(1 - auc)
    try:
        from sklearn.metrics import roc_auc_score
    except ImportError:
        return
    assert auc == pytest.approx(roc_auc_score(y, s))


def test_auc_errors() -> None:
    with pytest.raises(ValueError, match="both positive and negative"):
        M.roc_auc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="0 or 1"):
        M.roc_auc([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match="scores is empty"):
        M.roc_auc([], [])


def test_best_f1_threshold() -> None:
    vs, vl = [0.9, 0.8, 0.3, 0.2], [1, 1, 0, 0]
    # F1 = 2TP/(predicted + positives): .9 → 2/3; .8 → 4/4 = 1; .3 → 4/5; .2 → 4/6 → .8
    assert M.best_f1_threshold(vs, vl) == 0.8
    # tied scores move together: .9 → 2/3; .5 (3 predicted, TP 2) → 4/5; .1 → 4/6 → .5
    assert M.best_f1_threshold([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]) == 0.5
    # F1 tie: .9 → 2/(1+2) = 2/3 and .6 → 4/(4+2) = 2/3 (.8 → 1/2, .7 → 2/5): highest wins
    assert M.best_f1_threshold([0.9, 0.8, 0.7, 0.6], [1, 0, 0, 1]) == 0.9
    with pytest.raises(ValueError, match="at least one positive"):
        M.best_f1_threshold([0.3, 0.2], [0, 0])


def test_threshold_chosen_on_validation_applied_to_test() -> None:
    vs, vl = [0.9, 0.8, 0.3, 0.2], [1, 1, 0, 0]  # threshold .8 (above)
    rep = M.classification_report(vs, vl, [0.85, 0.5, 0.8], [1, 1, 0])
    # test predictions ≥ .8: {.85, .8} → TP 1 of 2 predicted, 1 of 2 positives → P = R = F1 = .5
    assert rep == {"auc": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5, "threshold": 0.8}
    # AUC: positives .85, .5 vs negative .8 → one win, one loss = 0.5
    # DeepInf's code applies score > thr on test: predicted {.85} → P 1, R .5, F1 2/3
    strict = M.classification_report(vs, vl, [0.85, 0.5, 0.8], [1, 1, 0], strict_test=True)
    assert strict["precision"] == 1.0 and strict["recall"] == 0.5
    assert strict["f1"] == pytest.approx(2 / 3)
    # nothing predicted positive → precision 0 by convention, and F1 0
    assert M.precision_recall_f1([0.1], [1], 0.5) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


# ----------------------------------------------------------------------------- point processes
def test_binned_counts() -> None:
    counts = M.binned_counts([0.0, 0.5, 1.0, 1.5, 2.0], [0, 1, 0, 0, 1], 2, [0, 1, 2])
    # bin [0,1): mark0 @0, mark1 @.5; bin [1,2]: mark0 @1, @1.5, mark1 @2 (right edge included)
    assert counts.tolist() == [[1, 2], [1, 1]]
    # events outside [0, 2] are not counted; no events gives zeros
    assert M.binned_counts([-1.0, 0.2, 2.5], [0, 0, 0], 1, [0, 1, 2]).tolist() == [[1, 0]]
    assert M.binned_counts([], [], 2, [0, 1, 2]).tolist() == [[0, 0], [0, 0]]
    with pytest.raises(ValueError, match="marks must lie"):
        M.binned_counts([0.5], [2], 2, [0, 1])
    with pytest.raises(ValueError, match="strictly increasing"):
        M.binned_counts([0.5], [0], 1, [1, 1])


def test_pearson_and_inverse_l1() -> None:
    # [1,2,3,4] vs [1,3,2,4]: centred (−1.5,−.5,.5,1.5) and (−1.5,.5,−.5,1.5);
    # Σxy = 2.25 − .25 − .25 + 2.25 = 4, Σx² = Σy² = 5 → r = 4/5
    assert M.pearson([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert M.pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert M.pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(M.pearson([1, 1, 1], [1, 2, 3]))  # constant curve: undefined
    with pytest.raises(ValueError, match="differ in shape"):
        M.pearson([1, 2], [1, 2, 3])
    # mean |diff| = (0 + 2) / 2 = 1 → 1 / (1 + 1); identical curves → 1
    assert M.inverse_l1([1, 2], [1, 4]) == 0.5 and M.inverse_l1([3, 3], [3, 3]) == 1.0
    # (1 + 1 + 4) / 3 = 2 → 1/3
    assert M.inverse_l1([0, 1, 5], [1, 0, 1]) == pytest.approx(1 / 3)


def test_loglik_per_event() -> None:
    assert M.loglik_per_event(-10.0, 4) == -2.5
    with pytest.raises(ValueError, match="positive"):
        M.loglik_per_event(-1.0, 0)


def test_direction_of_losses_and_scores() -> None:
    assert M.direction("nll") == "min" and M.direction("msle_log2") == "min"
    assert M.direction("map@10") == "max" and M.direction("macro_f1") == "max"
