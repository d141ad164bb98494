"""Every metric the toolkit reports, numpy only, each with the definition it follows.

Conventions: inputs are array-likes; outputs are Python floats (or dicts of floats); empty input is
a ValueError, never a silent NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _arr(x: Sequence[float] | np.ndarray, name: str, dtype: type = np.float64) -> np.ndarray:
    a = np.asarray(x, dtype=dtype)
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    return a


# ----------------------------------------------------------------------------- ranking
def rank_of_target(
    scores: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """1-based rank of each row's target among its non-excluded candidates.

    rank = 1 + number of candidates, not excluded by ``mask``, with a score *strictly greater*
    than the target's (ties resolved in the target's favour, as ``torch.topk``-based evaluators
    effectively do for distinct float scores). The target itself is never excluded.

    Shapes:
        scores: (N, K); target: (N,) ints in [0, K); mask: (N, K) bool, True = excluded
        (e.g. users already infected in the prefix). Returns (N,) int64.
    """
    scores = np.asarray(scores, dtype=np.float64)
    target = np.asarray(target, dtype=np.int64)
    if scores.ndim != 2 or len(target) != len(scores):
        raise ValueError("scores must be (N, K) and target (N,)")
    gold = scores[np.arange(len(target)), target][:, None]
    better = scores > gold
    if mask is not None:
        better &= ~np.asarray(mask, dtype=bool)
    return 1 + better.sum(axis=1)


def hits_at_k(ranks: Sequence[int] | np.ndarray, k: int) -> float:
    """FOREST hits@k: fraction of prediction positions whose target ranks within the top k
    (micro-average over all positions of all cascades). DMT-LIC's A@k is the same quantity."""
    r = _arr(ranks, "ranks")
    return float(np.mean(r <= k))


accuracy_at_k = hits_at_k


def map_at_k(ranks: Sequence[int] | np.ndarray, k: int) -> float:
    """FOREST MAP@k: mean over positions of 1/rank if rank ≤ k else 0 (one relevant item per
    position, so average precision@k is the reciprocal rank truncated at k)."""
    r = _arr(ranks, "ranks")
    return float(np.mean(np.where(r <= k, 1.0 / r, 0.0)))


def mrr(ranks: Sequence[int] | np.ndarray) -> float:
    """Mean reciprocal rank (untruncated), as DMT-LIC reports it."""
    return float(np.mean(1.0 / _arr(ranks, "ranks")))


def ranking_report(
    ranks: Sequence[int] | np.ndarray, ks: Sequence[int] = (10, 50, 100)
) -> dict[str, float]:
    out = {}
    for k in ks:
        out[f"hits@{k}"] = hits_at_k(ranks, k)
    for k in ks:
        out[f"map@{k}"] = map_at_k(ranks, k)
    out["mrr"] = mrr(ranks)
    return out


# ----------------------------------------------------------------------------- NDM identification
def infection_frequencies(samples: np.ndarray, n_users: int, n_keep: int) -> np.ndarray:
    """P_u: the fraction of the S samples whose first ``n_keep`` generated users include u.

    NDM §5.3 / reference ``evaluate.py``: a sample ends at its first token ≥ n_users (END or PAD);
    only its first ``n_keep`` = |G| generated users count.

    Shapes:
        samples: (S, L) ints (generated continuation only, seed excluded); returns (n_users,).
    """
    s = np.asarray(samples, dtype=np.int64)
    if s.ndim != 2 or len(s) == 0:
        raise ValueError("samples must be a non-empty (S, L) array")
    ended = np.cumsum(s >= n_users, axis=1) > 0
    keep = ~ended
    keep[:, n_keep:] = False
    counts = np.zeros(n_users, dtype=np.float64)
    # a user appears at most once per sample (sampling masks infected users), so counting
    # occurrences counts samples
    np.add.at(counts, s[keep], 1.0)
    return counts / len(s)


def identification_terms(
    p: np.ndarray, truth: Sequence[int] | np.ndarray
) -> tuple[float, float, int]:
    """(right, pred, n_true) of one cascade: right = Σ_{u∈G} P_u, pred = Σ_u P_u, n_true = |G|."""
    p = np.asarray(p, dtype=np.float64)
    g = np.unique(np.asarray(truth, dtype=np.int64))
    return float(p[g].sum()), float(p.sum()), int(len(g))


def identification_f1(
    right: Sequence[float] | np.ndarray,
    pred: Sequence[float] | np.ndarray,
    n_true: Sequence[float] | np.ndarray,
) -> dict[str, float]:
    """NDM's probabilistic Macro/Micro-F1 (paper 001 §5.3, protocols §1).

    Per cascade: precision = right/pred, recall = right/n_true, F1 = 2PR/(P+R), with F1 = 0 when
    P or R is 0. Macro = mean per-cascade F1 (and P, R); Micro = F1 of Σright/Σpred and
    Σright/Σn_true.
    """
    r, p, n = _arr(right, "right"), _arr(pred, "pred"), _arr(n_true, "n_true")
    if not len(r) == len(p) == len(n):
        raise ValueError("right, pred and n_true must have the same length")
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
def _pair(
    pred: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    p, t = _arr(pred, "pred"), _arr(true, "true")
    if p.shape != t.shape:
        raise ValueError(f"pred {p.shape} and true {t.shape} differ in shape")
    if np.any(p < 0) or np.any(t < 0):
        raise ValueError("sizes must be non-negative")
    return p, t


def mse(pred: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray) -> float:
    """Mean squared error (DMT-LIC reports it on log-transformed sizes; transform first)."""
    p, t = _arr(pred, "pred"), _arr(true, "true")
    return float(np.mean((p - t) ** 2))


def msle(pred: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray) -> float:
    """MSLE = mean (log2(ŷ+1) − log2(y+1))² — DeepHawkes, CasCN, CasFT, MMCAs eq. 13."""
    p, t = _pair(pred, true)
    return float(np.mean((np.log2(p + 1) - np.log2(t + 1)) ** 2))


def mape_log(pred: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray) -> float:
    """MAPE = mean |log2(ŷ+2) − log2(y+2)| / log2(y+2) — MMCAs eq. 14, CasFT."""
    p, t = _pair(pred, true)
    return float(np.mean(np.abs(np.log2(p + 2) - np.log2(t + 2)) / np.log2(t + 2)))


def msle_casflow(pred: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray) -> float:
    """CasFlow's MSLE: mean (log2 max(ŷ,1) − log2 max(y,1))² (no +1; values below 1 clipped)."""
    p, t = _pair(pred, true)
    return float(np.mean((np.log2(np.maximum(p, 1)) - np.log2(np.maximum(t, 1))) ** 2))


def mape_casflow(pred: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray) -> float:
    """CasFlow's MAPE: mean |log2(ŷ+1) − log2(y+1)| / log2(y+2) (+1 in the numerator's logs, +2 in
    the denominator so a zero increment does not divide by zero) — protocols §3."""
    p, t = _pair(pred, true)
    return float(np.mean(np.abs(np.log2(p + 1) - np.log2(t + 1)) / np.log2(t + 2)))


def size_msle(
    pred_size: Sequence[float] | np.ndarray, true_size: Sequence[float] | np.ndarray
) -> float:
    """NDM §5.5 size identification: mean (ln|c| − ln ĉ)², natural log, sizes ≥ 1."""
    p, t = _arr(pred_size, "pred_size"), _arr(true_size, "true_size")
    if np.any(p < 1) or np.any(t < 1):
        raise ValueError("cascade sizes must be ≥ 1")
    return float(np.mean((np.log(t) - np.log(p)) ** 2))


# ----------------------------------------------------------------------------- classification
def _binary(
    scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    s, y = _arr(scores, "scores"), _arr(labels, "labels", np.int64)
    if s.shape != y.shape:
        raise ValueError("scores and labels differ in shape")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    return s, y


def roc_auc(scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray) -> float:
    """Area under the ROC curve = P(score of a random positive > random negative), ties counted ½
    (Mann–Whitney U with average ranks) — DeepInf's AUC."""
    s, y = _binary(scores, labels)
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs both positive and negative labels")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    # average ranks over tied runs
    starts = np.flatnonzero(np.r_[True, sorted_s[1:] != sorted_s[:-1]])
    ends = np.r_[starts[1:], len(s)]
    avg = (starts + ends + 1) / 2.0  # mean of 1-based ranks start+1..end
    ranks[order] = np.repeat(avg, ends - starts)
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def precision_recall_f1(
    scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray, threshold: float
) -> dict[str, float]:
    """Predict positive when score ≥ threshold; precision (0 if nothing predicted), recall, F1."""
    s, y = _binary(scores, labels)
    pred = s >= threshold
    tp = float(np.sum(pred & (y == 1)))
    p = tp / pred.sum() if pred.sum() else 0.0
    r = tp / y.sum() if y.sum() else 0.0
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return {"precision": float(p), "recall": float(r), "f1": float(f1)}


def best_f1_threshold(
    scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray
) -> float:
    """The score threshold maximising F1 over the precision–recall curve (DeepInf picks it on the
    validation set). Candidates are the distinct scores; ties in F1 keep the highest threshold."""
    s, y = _binary(scores, labels)
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_run = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    tp = np.cumsum(y_sorted)[last_of_run]
    n_pred = (np.arange(len(s)) + 1)[last_of_run]
    total = y.sum()
    f1 = np.where(tp > 0, 2 * tp / (n_pred + total), 0.0)  # 2PR/(P+R) = 2TP/(pred + positives)
    return float(s_sorted[last_of_run][int(np.argmax(f1))])


def classification_report(
    valid_scores: Sequence[float] | np.ndarray,
    valid_labels: Sequence[int] | np.ndarray,
    test_scores: Sequence[float] | np.ndarray,
    test_labels: Sequence[int] | np.ndarray,
) -> dict[str, float]:
    """DeepInf protocol: threshold chosen on validation (best F1), applied to test; test AUC."""
    thr = best_f1_threshold(valid_scores, valid_labels)
    return {
        "auc": roc_auc(test_scores, test_labels),
        **precision_recall_f1(test_scores, test_labels, thr),
        "threshold": thr,
    }


# ----------------------------------------------------------------------------- point processes
def loglik_per_event(total_loglik: float, n_events: int) -> float:
    if n_events <= 0:
        raise ValueError("n_events must be positive")
    return float(total_loglik) / n_events


def binned_counts(
    times: Sequence[float] | np.ndarray,
    marks: Sequence[int] | np.ndarray,
    n_marks: int,
    edges: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """Events per mark and time bin (bins [e_i, e_{i+1}); the last bin includes its right edge).

    Shapes: times, marks (N,); edges (B+1,) increasing; returns (n_marks, B) int64.
    """
    t = np.asarray(times, dtype=np.float64)
    m = np.asarray(marks, dtype=np.int64)
    e = np.asarray(edges, dtype=np.float64)
    if len(e) < 2 or np.any(np.diff(e) <= 0):
        raise ValueError("edges must be increasing with at least 2 entries")
    b = np.searchsorted(e, t, side="right") - 1
    b[t == e[-1]] = len(e) - 2
    inside = (b >= 0) & (b < len(e) - 1)
    out = np.zeros((n_marks, len(e) - 1), dtype=np.int64)
    np.add.at(out, (m[inside], b[inside]), 1)
    return out


def pearson(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Pearson correlation of two equal-length curves (MIC §7: real vs simulated binned intensity).
    NaN when either curve is constant (correlation undefined)."""
    x, y = _arr(a, "a"), _arr(b, "b")
    if x.shape != y.shape:
        raise ValueError("a and b differ in shape")
    x, y = x - x.mean(), y - y.mean()
    den = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / den) if den > 0 else float("nan")


def inverse_l1(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Inverse ℓ1 distance between two binned curves, 1 / (1 + mean_i |a_i − b_i|).

    MIC §7 names the measure ("inverse l1-distance", higher = closer) without a formula; we use the
    mean absolute difference per bin so curves with different bin counts are comparable, and the
    +1 so identical curves score 1 instead of infinity. Range (0, 1].
    """
    x, y = _arr(a, "a"), _arr(b, "b")
    if x.shape != y.shape:
        raise ValueError("a and b differ in shape")
    return float(1.0 / (1.0 + np.mean(np.abs(x - y))))
