"""Every metric of the registry, one definition each (see :mod:`.registry`).

``aggregates(rows)`` returns the named per-group sums a metric needs from the
``sums`` query (shared names are computed once); ``finish(a)`` turns a group's
aggregates into a :class:`MetricValue`. Aggregates arrive as a dict holding
``n``, ``n_labeled``, the sums, and the outputs of other stages (``score``,
``lat``, ``cm``, ``classes``). See ``analytics/docs/metrics.md`` for the
definitions and interval methods in prose.
"""

from __future__ import annotations

import math

import ibis
import numpy as np

from analytics.log.columns import C
from analytics.stats import intervals as iv
from .queries import EPS, Rows, count
from .registry import MetricDef, MetricValue, missing, register

WILSON = "Wilson score interval for a proportion (95%)."
T_MEAN = "Student-t interval for a mean: mean +- t(0.975, n-1) sd / sqrt(n)."
BOOT = ("Percentile bootstrap (2,000 seeded multinomial draws of the group's confusion counts; "
        "cheap because it resamples the counts, not the rows).")
QUANT = ("Distribution-free order-statistic interval: the values at ranks floor(nq - d) and "
         "ceil(nq + d), d = 1.96 sqrt(n q (1-q)) (binomial count below the quantile, normal approximation).")


def _n(a, key: str) -> int:
    return int(a.get(key) or 0)


def _f(a, key: str) -> float:
    return float(a.get(key) or 0.0)


def _value(value: float, interval: iv.Interval, n: int, reason: str | None = None) -> MetricValue:
    lo, hi, se = interval
    if lo is not None:  # an interval always contains its estimate
        lo, hi = min(lo, value), max(hi, value)
    return MetricValue(float(value), lo, hi, int(n), se, reason)


def _proportion(num: float, den: int, why_empty: str) -> MetricValue:
    if den <= 0:
        return missing(why_empty)
    return _value(num / den, iv.wilson(num, den), den)


def _mean(total_key: str, sq_key: str, count_key: str, why_empty: str):
    def finish(a) -> MetricValue:
        n = _n(a, count_key)
        if n <= 0:
            return missing(why_empty)
        return _value(_f(a, total_key) / n, iv.mean_t(_f(a, total_key), _f(a, sq_key), n), n,
                      None if n >= 2 else "a single row: no interval")
    return finish


# --------------------------------------------------------------------- binary

NO_DECISIONS = "no labeled rows with a decision"
NO_SCORES = "no labeled rows with a valid score (or the model logs no score)"


def _confusion(r: Rows) -> dict:
    y, p, d = r.y, r.pred, r.decided
    return {"n_dec": count(d), "tp": count(d & (p == 1) & (y == 1)), "fp": count(d & (p == 1) & (y == 0)),
            "fn": count(d & (p == 0) & (y == 1)), "tn": count(d & (p == 0) & (y == 0))}


def _score_sums(r: Rows) -> dict:
    if not r.has_score:
        return {}
    s = r.t[C.SCORE].clip(lower=EPS, upper=1 - EPS)
    y = r.y.cast("float64")
    ll = -(y * s.ln() + (1 - y) * (1 - s).ln())
    br = (r.t[C.SCORE] - y) ** 2
    sc = r.scored
    return {"n_sc": count(sc), "ll": ll.sum(where=sc), "ll2": (ll * ll).sum(where=sc),
            "br": br.sum(where=sc), "br2": (br * br).sum(where=sc)}


def _f1_stat(draws: np.ndarray) -> np.ndarray:
    tp, fp, fn = draws[:, 0], draws[:, 1], draws[:, 2]
    den = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2 * tp / den, np.nan)


def _binary_f1(a) -> MetricValue:
    tp, fp, fn, tn = (_n(a, k) for k in ("tp", "fp", "fn", "tn"))
    den = 2 * tp + fp + fn
    if den == 0:
        return missing(NO_DECISIONS if tp + fp + fn + tn == 0 else
                       "no positive labels and no positive decisions (zero division)", tn)
    return _value(2 * tp / den, iv.multinomial_bootstrap(np.array([tp, fp, fn, tn]), _f1_stat),
                  tp + fp + fn + tn)


def _auc(a) -> MetricValue:
    s = a.get("score") or {}
    P, N = _f(s, "n_p"), _f(s, "n_n")
    if P + N == 0:
        return missing(NO_SCORES)
    if P == 0 or N == 0:
        return missing(f"only one class among labeled rows ({int(P):,} positive, {int(N):,} negative)",
                       int(P + N))
    auc = _f(s, "s_w") / (P * N)
    var10 = (_f(s, "s_w2") / (N * N) - P * auc * auc) / (P - 1) if P > 1 else None
    sum_v01_sq = (P * P * N - 2 * P * _f(s, "s_v") + _f(s, "s_v2")) / (P * P)
    var01 = (sum_v01_sq - N * auc * auc) / (N - 1) if N > 1 else None
    return _value(auc, iv.auc_delong(auc, P, N, var10, var01), int(P + N))


def _pr_auc(a) -> MetricValue:
    s = a.get("score") or {}
    P, N = _f(s, "n_p"), _f(s, "n_n")
    if P + N == 0:
        return missing(NO_SCORES)
    if P == 0:
        return missing("no positive labels: average precision is undefined", int(N))
    ap = _f(s, "s_ap") / P
    return _value(ap, iv.logit_interval(ap, P), int(P + N))


# ----------------------------------------------------------------- multiclass

def _matrix(a) -> tuple[np.ndarray, tuple[str, ...]]:
    """Confusion counts: rows = true class, columns = predicted class plus one
    column for predictions outside the classes."""
    cm = a.get("cm") or {}
    classes = a.get("classes") or tuple(sorted({k for pair in cm for k in pair}))
    idx = {c: i for i, c in enumerate(classes)}
    m = np.zeros((len(classes), len(classes) + 1))
    for (label, pred), cnt in cm.items():
        if label in idx:
            m[idx[label], idx.get(pred, len(classes))] += cnt
    return m, classes


def _per_class(m: np.ndarray):
    """Per-class tp, predicted and true counts for a (..., K, K+1) array of matrices."""
    k = m.shape[-2]
    tp = np.diagonal(m[..., :k], axis1=-2, axis2=-1)
    pred = m[..., :k].sum(axis=-2)
    true = m.sum(axis=-1)
    return tp, pred, true


def _safe_div(num, den):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


def _macro(kind: str):
    def stat(m: np.ndarray) -> np.ndarray:
        tp, pred, true = _per_class(m)
        if kind == "precision":
            per = _safe_div(tp, pred)
        elif kind == "recall":
            per = _safe_div(tp, true)
        else:
            per = _safe_div(2 * tp, pred + true)
        if kind == "weighted_f1":
            tot = true.sum(axis=-1)
            return np.where(tot > 0, (per * true).sum(axis=-1) / np.where(tot > 0, tot, 1), np.nan)
        return per.mean(axis=-1)

    def finish(a) -> MetricValue:
        m, classes = _matrix(a)
        n = int(m.sum())
        if n == 0 or not classes:
            return missing(NO_DECISIONS)
        return _value(float(stat(m)), iv.multinomial_bootstrap(m, stat), n)
    return finish


def _mc_accuracy(a) -> MetricValue:
    m, _ = _matrix(a)
    n = int(m.sum())
    k = m.shape[0]
    return _proportion(float(np.trace(m[:, :k])) if k else 0.0, n, NO_DECISIONS)


def _accuracy(a) -> MetricValue:
    if "cm" in a:
        return _mc_accuracy(a)
    return _proportion(_n(a, "tp") + _n(a, "tn"), _n(a, "n_dec"), NO_DECISIONS)


# ----------------------------------------------------------------- regression

NO_ERRORS = "no labeled rows with a prediction"


def _reg_sums(r: Rows) -> dict:
    e = r.error
    y = r.y.cast("float64")
    d = r.decided
    e2 = e * e
    ape = e.abs() / ibis.greatest(y.abs(), EPS)
    return {"n_e": count(d), "s_e": e.sum(where=d), "s_e2": e2.sum(where=d), "s_ae": e.abs().sum(where=d),
            "s_e4": (e2 * e2).sum(where=d), "s_ape": ape.sum(where=d), "s_ape2": (ape * ape).sum(where=d),
            "s_y": y.sum(where=d), "s_y2": (y * y).sum(where=d), "s_y3": (y * y * y).sum(where=d),
            "s_y4": (y * y * y * y).sum(where=d), "s_e2y": (e2 * y).sum(where=d),
            "s_e2y2": (e2 * y * y).sum(where=d)}


def _rmse(a) -> MetricValue:
    n = _n(a, "n_e")
    if n == 0:
        return missing(NO_ERRORS)
    return _value(math.sqrt(_f(a, "s_e2") / n), iv.sqrt_of_mean_t(_f(a, "s_e2"), _f(a, "s_e4"), n), n,
                  None if n >= 2 else "a single row: no interval")


def _r2(a) -> MetricValue:
    n = _n(a, "n_e")
    if n == 0:
        return missing(NO_ERRORS)
    ybar = _f(a, "s_y") / n
    sst = _f(a, "s_y2") - n * ybar * ybar
    if n < 2 or sst <= 1e-12 * max(_f(a, "s_y2"), 1e-300):
        return missing("the actual values do not vary: r2 is undefined", n)
    sse = _f(a, "s_e2")
    r2 = 1 - sse / sst
    A, B = sse / n, sst / n
    m4 = (_f(a, "s_y4") - 4 * ybar * _f(a, "s_y3") + 6 * ybar ** 2 * _f(a, "s_y2")
          - 4 * ybar ** 3 * _f(a, "s_y") + n * ybar ** 4) / n
    var_a = _f(a, "s_e4") / n - A * A
    var_b = m4 - B * B
    cov = (_f(a, "s_e2y2") - 2 * ybar * _f(a, "s_e2y") + ybar * ybar * sse) / n - A * B
    se = iv.ratio_delta(A, B, var_a, var_b, cov, n)
    return _value(r2, iv.normal(r2, se, hi=1.0), n)


# ----------------------------------------------------------------- every task

def _volume(a) -> MetricValue:
    return MetricValue(float(_n(a, "n")), n=_n(a, "n"))


def _latency(i: int, q: float):
    def finish(a) -> MetricValue:
        lat = a.get("lat")
        if lat is None:
            return missing("the model declares no latency_ms column")
        m = _n(lat, "m")
        if m == 0:
            return missing("no latency values")
        value = interpolate(m, q, lat[f"lo_{i}"], lat[f"hi_{i}"])
        lo, hi = float(lat[f"r_{i}"]), float(lat[f"s_{i}"])
        se = (hi - lo) / (2 * iv.Z95) if m > 1 else None
        return _value(value, (lo, hi, se) if m > 1 else iv.NO_INTERVAL, m)
    return finish


def interpolate(m: int, q: float, lo_value: float, hi_value: float) -> float:
    """numpy's default ('linear') quantile from the two order statistics around it.

    Same arithmetic as numpy: virtual index h = m q + (1 - q) - 1, weight
    g = h - floor(h), and numpy's two-sided lerp.
    """
    h = m * q + (1 + q * (1 - 1 - 1)) - 1
    g = h - math.floor(h)
    a, b = float(lo_value), float(hi_value)
    if a == b:
        return a
    diff = b - a
    return b - diff * (1 - g) if g >= 0.5 else a + diff * g


def _def(name, label, tasks, kind, hib, fmt, description, interval_method, finish, aggregates=None,
         stage="sums", test="normal") -> MetricDef:
    return MetricDef(name=name, label=label, tasks=tuple(tasks), kind=kind, higher_is_better=hib, fmt=fmt,
                     description=description, interval_method=interval_method, stage=stage, test=test,
                     aggregates=aggregates, finish=finish)


#: Quantiles the latency stage computes, in the order of the latency metrics below.
LATENCY_QUANTILES = (0.5, 0.95, 0.99)
B, MC, R = ("binary",), ("multiclass",), ("regression",)
EVERY = ("binary", "multiclass", "regression")


def _accuracy_aggs(r: Rows) -> dict:
    """Binary accuracy comes from the sums query; multiclass from the confusion query."""
    return _confusion(r) if r.task == "binary" else {}


register({
    # binary (accuracy is shared with multiclass)
    "accuracy": _def("accuracy", "Accuracy", ("binary", "multiclass"), "label", True, "pct",
                     "Share of labeled rows whose decision (binary: score >= threshold, or the prediction "
                     "column) or predicted class equals the label.",
                     WILSON, _accuracy, _accuracy_aggs, stage="confusion", test="proportion"),
    "precision": _def("precision", "Precision", B, "label", True, "pct",
                      "Among labeled rows decided positive, the share whose label is positive. Null when no "
                      "labeled row is decided positive.",
                      WILSON, lambda a: _proportion(_n(a, "tp"), _n(a, "tp") + _n(a, "fp"),
                                                    "no positive decisions among labeled rows (zero division)"),
                      _confusion, test="proportion"),
    "recall": _def("recall", "Recall", B, "label", True, "pct",
                   "Among labeled rows with a positive label, the share decided positive.",
                   WILSON, lambda a: _proportion(_n(a, "tp"), _n(a, "tp") + _n(a, "fn"),
                                                 "no positive labels (zero division)"),
                   _confusion, test="proportion"),
    "f1": _def("f1", "F1", B, "label", True, "num",
               "Harmonic mean of precision and recall, 2TP / (2TP + FP + FN), over labeled rows.",
               BOOT, _binary_f1, _confusion),
    "roc_auc": _def("roc_auc", "ROC AUC", B, "label", True, "num",
                    "Probability that a random positive scores above a random negative, ties counted half "
                    "(exact; equals scikit-learn's roc_auc_score). Labeled rows with a valid score.",
                    "DeLong interval from placement values computed in the engine (Hanley-McNeil when a "
                    "class has a single row); normal, clipped to [0, 1].",
                    _auc, stage="score", test="auc"),
    "pr_auc": _def("pr_auc", "PR AUC", B, "label", True, "num",
                   "Average precision: sum over distinct score thresholds of (recall step) x precision, "
                   "tied scores one step (scikit-learn's average_precision_score; not the trapezoid).",
                   "Logit-normal interval with variance AP(1-AP)/positives (Boyd, Eng & Page 2013).",
                   _pr_auc, stage="score"),
    "log_loss": _def("log_loss", "Log loss", B, "label", False, "num",
                     "Mean cross-entropy -[y ln p + (1-y) ln(1-p)], p clipped to [eps, 1-eps], "
                     "eps = 2.22e-16 (float64 machine epsilon).",
                     T_MEAN, _mean("ll", "ll2", "n_sc", NO_SCORES), _score_sums, test="mean"),
    "brier": _def("brier", "Brier score", B, "label", False, "num",
                  "Mean squared difference between the score and the 0/1 label.",
                  T_MEAN, _mean("br", "br2", "n_sc", NO_SCORES), _score_sums, test="mean"),
    "positive_rate": _def("positive_rate", "Positive rate", B, "label", None, "pct",
                          "Share of labeled rows decided positive.",
                          WILSON, lambda a: _proportion(_n(a, "tp") + _n(a, "fp"), _n(a, "n_dec"), NO_DECISIONS),
                          _confusion, test="proportion"),
    "base_rate": _def("base_rate", "Base rate", B, "label", None, "pct",
                      "Share of labeled rows whose label is positive.",
                      WILSON, lambda a: _proportion(_n(a, "n_pos"), _n(a, "n_labeled"), "no labeled rows"),
                      lambda r: {"n_pos": count(r.labeled & (r.y == 1))}, test="proportion"),
    # multiclass
    "macro_f1": _def("macro_f1", "Macro F1", MC, "label", True, "num",
                     "Unweighted mean over the classes of per-class F1 (a class never true nor predicted "
                     "counts 0, scikit-learn's zero_division=0).",
                     BOOT, _macro("f1"), stage="confusion"),
    "weighted_f1": _def("weighted_f1", "Weighted F1", MC, "label", True, "num",
                        "Mean of per-class F1 weighted by each class's count of true labels.",
                        BOOT, _macro("weighted_f1"), stage="confusion"),
    "macro_precision": _def("macro_precision", "Macro precision", MC, "label", True, "num",
                            "Unweighted mean over the classes of per-class precision (0 for a class never "
                            "predicted).", BOOT, _macro("precision"), stage="confusion"),
    "macro_recall": _def("macro_recall", "Macro recall", MC, "label", True, "num",
                         "Unweighted mean over the classes of per-class recall (0 for a class never true).",
                         BOOT, _macro("recall"), stage="confusion"),
    # regression
    "mae": _def("mae", "MAE", R, "label", False, "num", "Mean absolute error |prediction - actual|.",
                T_MEAN, _mean("s_ae", "s_e2", "n_e", NO_ERRORS), _reg_sums, test="mean"),
    "rmse": _def("rmse", "RMSE", R, "label", False, "num", "Square root of the mean squared error.",
                 "t-interval of the mean squared error, mapped through the square root "
                 "(se by the delta method).", _rmse, _reg_sums),
    "mape": _def("mape", "MAPE", R, "label", False, "pct",
                 "Mean absolute percentage error as a fraction: mean |prediction - actual| / max(|actual|, eps) "
                 "(scikit-learn's definition; a zero actual value gives a huge term).",
                 T_MEAN, _mean("s_ape", "s_ape2", "n_e", NO_ERRORS), _reg_sums, test="mean"),
    "r2": _def("r2", "R²", R, "label", True, "num",
               "Coefficient of determination 1 - SSE / SST (scikit-learn's r2_score); null when the actual "
               "values do not vary.",
               "Delta-method normal interval for 1 - mean(e^2)/mean((y - ybar)^2) from per-group moment sums.",
               _r2, _reg_sums),
    "bias": _def("bias", "Bias", R, "label", None, "num", "Mean of prediction - actual (positive: over-predicts).",
                 T_MEAN, _mean("s_e", "s_e2", "n_e", NO_ERRORS), _reg_sums, test="mean"),
    # every task
    "volume": _def("volume", "Volume", EVERY, "operational", None, "count", "Number of predictions.",
                   "None: an exact count.", _volume),
    "label_coverage": _def("label_coverage", "Label coverage", EVERY, "operational", None, "pct",
                           "Share of predictions that have a (valid) label so far.",
                           WILSON, lambda a: _proportion(_n(a, "n_labeled"), _n(a, "n"), "no predictions"),
                           test="proportion"),
    "latency_p50": _def("latency_p50", "Latency p50", EVERY, "operational", False, "ms",
                        "Median latency in ms (exact; numpy's linear interpolation).", QUANT, _latency(0, LATENCY_QUANTILES[0]),
                        stage="latency"),
    "latency_p95": _def("latency_p95", "Latency p95", EVERY, "operational", False, "ms",
                        "95th percentile latency in ms (exact; numpy's linear interpolation).", QUANT,
                        _latency(1, LATENCY_QUANTILES[1]), stage="latency"),
    "latency_p99": _def("latency_p99", "Latency p99", EVERY, "operational", False, "ms",
                        "99th percentile latency in ms (exact; numpy's linear interpolation).", QUANT,
                        _latency(2, LATENCY_QUANTILES[2]), stage="latency"),
})

