"""Every metric the toolkit reports, numpy only, each with the definition it follows.

Conventions: inputs are array-likes; outputs are Python floats (or dicts of floats); empty input
or NaN is a ValueError, never a silent NaN. The one deliberate NaN is `pearson` of a constant
curve, where the correlation is undefined.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ArrayLike = Sequence[float] | np.ndarray

# metrics where lower is better (losses and errors); every other reported metric is higher-better
LOWER_IS_BETTER = frozenset(
    {"loss", "nll", "mse", "msle", "mape", "msle_log2", "mape_log2", "msle_casflow",
     "mape_casflow", "msle_ln", "activation_nll"}
)  # fmt: skip


def direction(metric: str) -> str:
    """ "min" for a loss or error (`LOWER_IS_BETTER`), else "max" — how a metric selects epochs."""
    return "min" if metric in LOWER_IS_BETTER else "max"


def _arr(x: ArrayLike, name: str, dtype: type = np.float64) -> np.ndarray:
    a = np.asarray(x, dtype=dtype)
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    if a.dtype.kind == "f" and np.isnan(a).any():
        raise ValueError(f"{name} contains NaN")
    return a


def _check_k(k: int) -> None:
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")


def _ranks(ranks: ArrayLike) -> np.ndarray:
    r = _arr(ranks, "ranks")
    if np.any(r < 1):
        raise ValueError("ranks are 1-based: every rank must be ≥ 1")
    return r


# ----------------------------------------------------------------------------- ranking
def rank_of_target(
    scores: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """1-based rank of each row's target among its non-excluded candidates.

    rank = 1 + the number of candidates, not excluded by ``mask``, whose score is *strictly
    greater* than the target's: a candidate tied with the target does not push it down (the
    optimistic tie rule; for continuous scores ties have probability 0). The target itself is never
    excluded, even where ``mask`` marks it. ``-inf`` scores are allowed (already-masked logits),
    NaN is an error.

    Shapes:
        scores: (N, K); target: (N,) ints in [0, K); mask: (N, K) bool, True = excluded
        (e.g. users already infected in the prefix). Returns (N,) int64.
    """
    s = _arr(scores, "scores")
    t = np.asarray(target, dtype=np.int64)
    if s.ndim != 2 or t.shape != (len(s),):
        raise ValueError(f"scores must be (N, K) and target (N,), got {s.shape} and {t.shape}")
    if np.any(t < 0) or np.any(t >= s.shape[1]):
        raise ValueError(f"target indices must lie in [0, {s.shape[1]})")
    better = s > s[np.arange(len(t)), t][:, None]
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape != s.shape:
            raise ValueError(f"mask {m.shape} must have the shape of scores {s.shape}")
        better &= ~m
    return 1 + better.sum(axis=1)


def hits_at_k(ranks: ArrayLike, k: int) -> float:
    """FOREST hits@k: fraction of prediction positions whose target ranks within the top k
    (micro-average over all positions of all cascades). DMT-LIC's A@k is the same quantity
    (`accuracy_at_k`). A k above the number of candidates counts every position as a hit."""
    _check_k(k)
    return float(np.mean(_ranks(ranks) <= k))


accuracy_at_k = hits_at_k


def map_at_k(ranks: ArrayLike, k: int) -> float:
    """FOREST MAP@k: mean over positions of 1/rank if rank ≤ k else 0 (one relevant item per
    position, so average precision@k is the reciprocal rank truncated at k)."""
    _check_k(k)
    r = _ranks(ranks)
    return float(np.mean(np.where(r <= k, 1.0 / r, 0.0)))


def mrr(ranks: ArrayLike) -> float:
    """Mean reciprocal rank, untruncated, as DMT-LIC reports it."""
    return float(np.mean(1.0 / _ranks(ranks)))


def ranking_report(ranks: ArrayLike, ks: Sequence[int] = (10, 50, 100)) -> dict[str, float]:
    """hits@k and map@k for every k in ``ks`` (in that order), then mrr, from one rank array."""
    return {
        **{f"hits@{k}": hits_at_k(ranks, k) for k in ks},
        **{f"map@{k}": map_at_k(ranks, k) for k in ks},
        "mrr": mrr(ranks),
    }


# ----------------------------------------------------------------------------- NDM identification
def infection_frequencies(samples: np.ndarray, n_users: int, n_keep: int) -> np.ndarray:
    """P_u: the fraction of the S samples whose first ``n_keep`` generated users include u.

    NDM §5.3 / reference ``evaluate.py``: a sample ends at its first token ≥ n_users (END or PAD);
    only its first ``n_keep`` = |G| generated positions count. A user repeated inside one sample
    counts once (P_u is a fraction of samples), though masked sampling never repeats one.

    Shapes:
        samples: (S, L) ints ≥ 0 (generated continuation only, seed excluded); returns (n_users,).
    """
    s = np.asarray(samples, dtype=np.int64)
    if s.ndim != 2 or len(s) == 0:
        raise ValueError(f"samples must be a non-empty (S, L) array, got shape {s.shape}")
    if n_keep < 0 or np.any(s < 0):
        raise ValueError("n_keep and sample tokens must be non-negative")
    s = s[:, :n_keep]
    # everything from the first END/PAD on becomes the sentinel n_users, which sorts last
    s = np.where(np.cumsum(s >= n_users, axis=1) > 0, n_users, s)
    s = np.sort(s, axis=1)
    first = np.ones(s.shape, dtype=bool)
    first[:, 1:] = s[:, 1:] != s[:, :-1]
    kept = s[first & (s < n_users)]
    return np.bincount(kept, minlength=n_users).astype(np.float64) / len(s)


def identification_terms(p: np.ndarray, truth: ArrayLike) -> tuple[float, float, int]:
    """(right, pred, n_true) of one cascade: right = Σ_{u∈G} P_u, pred = Σ_u P_u, n_true = |G|
    (distinct users of ``truth``).

    Shapes: p (V,) frequencies; truth (|G|,) user ids."""
    p = np.asarray(p, dtype=np.float64)
    g = np.unique(np.asarray(truth, dtype=np.int64))
    return float(p[g].sum()), float(p.sum()), int(len(g))


def sample_identification_terms(
    samples: np.ndarray, truth: ArrayLike, n_users: int, first_k: int | None = None
) -> tuple[float, float, int]:
    """(right, pred, n_true) of one cascade straight from its S sampled continuations.

    ``first_k=None``: all users, each sample keeps its first |G| users. ``first_k=5``: NDM's early
    stage (Table 3) — G and every sample are cut to their first min(5, |G|) users.

    Shapes: samples (S, L) as in `infection_frequencies`; truth (|G|,) users after the seed."""
    g = np.asarray(truth, dtype=np.int64)
    n_keep = len(g) if first_k is None else min(int(first_k), len(g))
    return identification_terms(infection_frequencies(samples, n_users, n_keep), g[:n_keep])


def identification_f1(right: ArrayLike, pred: ArrayLike, n_true: ArrayLike) -> dict[str, float]:
    """NDM's probabilistic Macro/Micro-F1 (paper 001 §5.3, protocols §1).

    Per cascade: precision = right/pred, recall = right/n_true, F1 = 2PR/(P+R), with P, R, F1 = 0
    when their denominator is 0 and F1 = 0 when P or R is 0. Macro = mean per-cascade F1 (and P,
    R); Micro = F1 of the pooled Σright/Σpred and Σright/Σn_true.

    Shapes: right, pred, n_true (C,), one entry per test cascade.
    """
    r, p, n = _arr(right, "right"), _arr(pred, "pred"), _arr(n_true, "n_true")
    if not r.shape == p.shape == n.shape or r.ndim != 1:
        raise ValueError("right, pred and n_true must be 1-D of the same length")
    prec = np.divide(r, p, out=np.zeros_like(r), where=p > 0)
    rec = np.divide(r, n, out=np.zeros_like(r), where=n > 0)
    f1 = np.divide(2 * prec * rec, prec + rec, out=np.zeros_like(r), where=(prec > 0) & (rec > 0))
    mp = r.sum() / p.sum() if p.sum() > 0 else 0.0
    mr = r.sum() / n.sum() if n.sum() > 0 else 0.0
    return {
        "macro_f1": float(f1.mean()),
        "micro_f1": float(2 * mp * mr / (mp + mr)) if mp > 0 and mr > 0 else 0.0,
        "macro_precision": float(prec.mean()),
        "macro_recall": float(rec.mean()),
        "micro_precision": float(mp),
        "micro_recall": float(mr),
    }


# ----------------------------------------------------------------------------- popularity
def _pair(pred: ArrayLike, true: ArrayLike, nonneg: bool = True) -> tuple[np.ndarray, np.ndarray]:
    p, t = _arr(pred, "pred"), _arr(true, "true")
    if p.shape != t.shape:
        raise ValueError(f"pred {p.shape} and true {t.shape} differ in shape")
    if nonneg and (np.any(p < 0) or np.any(t < 0)):
        raise ValueError("sizes must be non-negative (clip predictions at 0 first)")
    return p, t


def mse(pred: ArrayLike, true: ArrayLike) -> float:
    """Mean squared error, no transform (DMT-LIC reports it on log sizes: transform first)."""
    p, t = _pair(pred, true, nonneg=False)
    return float(np.mean((p - t) ** 2))


def msle_log2(pred: ArrayLike, true: ArrayLike) -> float:
    """MSLE = mean (log2(ŷ+1) − log2(y+1))² on raw counts — DeepHawkes, CasCN, CasFT, MMCAs
    eq. 13. Sizes must be ≥ 0."""
    p, t = _pair(pred, true)
    return float(np.mean((np.log2(p + 1) - np.log2(t + 1)) ** 2))


def mape_log2(pred: ArrayLike, true: ArrayLike) -> float:
    """MAPE = mean |log2(ŷ+2) − log2(y+2)| / log2(y+2) on raw counts — MMCAs eq. 14, CasFT.
    The +2 keeps the denominator ≥ 1 for y = 0. Sizes must be ≥ 0."""
    p, t = _pair(pred, true)
    return float(np.mean(np.abs(np.log2(p + 2) - np.log2(t + 2)) / np.log2(t + 2)))


def _casflow_clip(pred: ArrayLike, true: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    # CasFlow's casflow.py replaces every prediction and label below 1 by 1 before both metrics
    p, t = _pair(pred, true, nonneg=False)
    return np.maximum(p, 1.0), np.maximum(t, 1.0)


def msle_casflow(pred: ArrayLike, true: ArrayLike) -> float:
    """CasFlow's reported MSLE (protocols §3; reference ``casflow.py``): with ŷ' = max(ŷ, 1) and
    y' = max(y, 1), mean (log2 ŷ' − log2 y')² — no +1, so it is NOT `msle_log2` (e.g. ŷ = 0, y = 1
    scores 0 here and 1 there). Any real prediction is accepted (values below 1 are clipped)."""
    p, t = _casflow_clip(pred, true)
    return float(np.mean((np.log2(p) - np.log2(t)) ** 2))


def mape_casflow(pred: ArrayLike, true: ArrayLike) -> float:
    """CasFlow's reported MAPE (protocols §3; reference ``casflow.py``): on the same clipped
    ŷ' = max(ŷ, 1), y' = max(y, 1), mean |log2(ŷ'+1) − log2(y'+1)| / log2(y'+2) — +1 in the
    numerator's logs, +2 in the denominator, unlike `mape_log2` (+2 in both)."""
    p, t = _casflow_clip(pred, true)
    return float(np.mean(np.abs(np.log2(p + 1) - np.log2(t + 1)) / np.log2(t + 2)))


def size_msle_ln(pred_size: ArrayLike, true_size: ArrayLike) -> float:
    """NDM §5.5 size identification: mean (log|c| − log ĉ)². The paper writes "log" without a base
    and its code has no implementation; we use the natural log. Sizes must be ≥ 1 (a cascade holds
    at least its seed)."""
    p, t = _pair(pred_size, true_size)
    if np.any(p < 1) or np.any(t < 1):
        raise ValueError("cascade sizes must be ≥ 1")
    return float(np.mean((np.log(t) - np.log(p)) ** 2))


# ----------------------------------------------------------------------------- classification
def _binary(scores: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    s, y = _arr(scores, "scores"), _arr(labels, "labels", np.int64)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError(f"scores {s.shape} and labels {y.shape} must be 1-D of the same length")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    return s, y


def roc_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Exact area under the ROC curve = P(score of a random positive > a random negative), ties
    counted ½ (Mann–Whitney U with average ranks; equals the trapezoidal ROC area) — DeepInf's AUC.
    Needs both classes."""
    s, y = _binary(scores, labels)
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs both positive and negative labels")
    order = np.argsort(s, kind="stable")
    sorted_s = s[order]
    starts = np.flatnonzero(np.r_[True, sorted_s[1:] != sorted_s[:-1]])
    ends = np.r_[starts[1:], len(s)]
    ranks = np.empty(len(s), dtype=np.float64)
    # a tied run at sorted positions start..end-1 shares the mean 1-based rank (start+1+end)/2
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def precision_recall_f1(
    scores: ArrayLike, labels: ArrayLike, threshold: float, strict: bool = False
) -> dict[str, float]:
    """Precision, recall, F1 of "positive when score ≥ threshold" (``strict=True``: score >
    threshold, what DeepInf's ``train.py`` applies on test). Precision is 0 when nothing is
    predicted positive, recall 0 when there are no positives, F1 0 when P + R = 0."""
    s, y = _binary(scores, labels)
    pred = s > threshold if strict else s >= threshold
    tp = float(np.sum(pred & (y == 1)))
    p = tp / pred.sum() if pred.sum() else 0.0
    r = tp / y.sum() if y.sum() else 0.0
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return {"precision": float(p), "recall": float(r), "f1": float(f1)}


def best_f1_threshold(scores: ArrayLike, labels: ArrayLike) -> float:
    """The threshold maximising F1 over the precision–recall curve (DeepInf §4: chosen on the
    validation set). Candidates are the distinct scores, each predicting "score ≥ candidate"; among
    equal F1 the highest threshold wins (DeepInf's code, via sklearn's increasing thresholds, keeps
    the lowest). Needs at least one positive."""
    s, y = _binary(scores, labels)
    total = int(y.sum())
    if total == 0:
        raise ValueError("best_f1_threshold needs at least one positive label")
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    last_of_run = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    tp = np.cumsum(y_sorted)[last_of_run]
    n_pred = (np.arange(len(s)) + 1)[last_of_run]
    f1 = 2 * tp / (n_pred + total)  # 2PR/(P+R) = 2TP/(predicted + positives)
    return float(s_sorted[last_of_run][int(np.argmax(f1))])


def classification_report(
    valid_scores: ArrayLike,
    valid_labels: ArrayLike,
    test_scores: ArrayLike,
    test_labels: ArrayLike,
    strict_test: bool = False,
) -> dict[str, float]:
    """DeepInf protocol (paper §4.2, protocols §5): threshold = `best_f1_threshold` on validation,
    applied to test (``strict_test=True`` reproduces the code's ``score > thr``); test AUC.
    Returns auc, precision, recall, f1, threshold."""
    thr = best_f1_threshold(valid_scores, valid_labels)
    return {
        "auc": roc_auc(test_scores, test_labels),
        **precision_recall_f1(test_scores, test_labels, thr, strict=strict_test),
        "threshold": thr,
    }


# ----------------------------------------------------------------------------- point processes
def loglik_per_event(total_loglik: float, n_events: int) -> float:
    """Log-likelihood divided by the number of events it covers (for comparing test windows)."""
    if n_events <= 0:
        raise ValueError(f"n_events must be positive, got {n_events}")
    return float(total_loglik) / n_events


def binned_counts(times: ArrayLike, marks: ArrayLike, n_marks: int, edges: ArrayLike) -> np.ndarray:
    """Events per mark and time bin: bins [e_i, e_{i+1}), the last one closed [e_{B−1}, e_B].
    Events outside [e_0, e_B] are not counted (choose edges that cover the window); no events
    gives zeros (a simulation may produce none).

    Shapes: times, marks (N,); edges (B+1,) strictly increasing; returns (n_marks, B) int64.
    """
    t = np.asarray(times, dtype=np.float64)
    m = np.asarray(marks, dtype=np.int64)
    e = np.asarray(edges, dtype=np.float64)
    if t.shape != m.shape or t.ndim != 1:
        raise ValueError(f"times {t.shape} and marks {m.shape} must be 1-D of the same length")
    if len(e) < 2 or np.any(np.diff(e) <= 0):
        raise ValueError("edges must be strictly increasing with at least 2 entries")
    if np.any(m < 0) or np.any(m >= n_marks):
        raise ValueError(f"marks must lie in [0, {n_marks})")
    b = np.searchsorted(e, t, side="right") - 1
    b[t == e[-1]] = len(e) - 2
    inside = (b >= 0) & (b < len(e) - 1)
    out = np.zeros((n_marks, len(e) - 1), dtype=np.int64)
    np.add.at(out, (m[inside], b[inside]), 1)
    return out


def pearson(a: ArrayLike, b: ArrayLike) -> float:
    """Pearson correlation of two equal-length curves (MIC §7: real vs simulated binned intensity).

    Returns NaN (on purpose, not an error) when either curve is constant: its variance is 0, the
    correlation is 0/0 and undefined — e.g. a cascade with no events in the test window.
    Shapes: a, b (B,)."""
    x, y = _arr(a, "a"), _arr(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"a {x.shape} and b {y.shape} differ in shape")
    x, y = x - x.mean(), y - y.mean()
    den = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / den) if den > 0 else float("nan")


def inverse_l1(a: ArrayLike, b: ArrayLike) -> float:
    """Inverse ℓ1 distance between two binned count curves, 1 / (1 + mean_i |a_i − b_i|).

    MIC §7 only names the measure ("Inverse l1-distance", higher = closer; Fig. 4b/e) and gives no
    formula. Our reading: the mean absolute difference per bin (so curves with different numbers
    of bins are comparable) and a +1 so identical curves score 1 rather than infinity. Range
    (0, 1]. Shapes: a, b (B,).
    """
    x, y = _arr(a, "a"), _arr(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"a {x.shape} and b {y.shape} differ in shape")
    return float(1.0 / (1.0 + np.mean(np.abs(x - y))))
