"""Expected confusion matrices, metrics and their intervals from per-bin masses.

A period's rows, reduced in the engine to cells (score bin ``b``, decision
``d``): ``n[b, d]`` rows, and for identity calibration the sums of their scores
and squared scores. With a calibration (:mod:`.calibration`) each cell gives

* ``M[b, d]`` -- the expected number of positives, sum of q over the cell's rows;
* ``W[b, d]`` -- the variance of that number, sum of q (1 - q): each label is an
  independent Bernoulli(q) draw, so the positives of a cell, and every
  confusion-matrix entry, are Poisson-binomial sums.

E[TP] = sum of M over d = 1, E[FN] over d = 0; FP and TN are the complements of
the fixed predicted counts. A metric f of the labels is linearised around
y = q (delta method): its gradient ``G[b, d]`` with respect to one label of
cell (b, d) gives Var f = sum G^2 W, plus the calibration's own error: the rate
of each PAV block j is uncertain by Var q_j = q_j (1 - q_j) / n_j, shared by
every row in the block, adding sum_j (sum over cells of j of G n)^2 Var q_j.
The 95% interval is f +- 1.96 sd, clipped to [0, 1]. The derivation is in
``analytics/docs/estimate.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from analytics.results import record

from .calibration import BINS, Calibration

Z95 = 1.959963984540054


@dataclass
class Masses:
    """Expected label mass of one group's cells, pooled over versions.

    ``n``, ``M``, ``W``: arrays (BINS, 2) (d = 0, 1). ``cal``: per pooled version,
    (its cell counts n_v, its :class:`Calibration`) for the calibration variance.
    ``outside``: rows whose score lies outside their version's reference support.
    """

    n: np.ndarray = field(default_factory=lambda: np.zeros((BINS, 2)))
    M: np.ndarray = field(default_factory=lambda: np.zeros((BINS, 2)))
    W: np.ndarray = field(default_factory=lambda: np.zeros((BINS, 2)))
    cal: list = field(default_factory=list)
    outside: float = 0.0

    def add(self, n: np.ndarray, s1: np.ndarray, s2: np.ndarray, cal: Calibration) -> None:
        """Add one version's cells (``n``, sums ``s1`` of scores and ``s2`` of squares)."""
        if cal.method == "isotonic":
            q = cal.q[:, None]
            m = n * q
            w = n * q * (1 - q)
            self.cal.append((n, cal))
        else:
            m = s1
            w = np.maximum(s1 - s2, 0.0)
        self.n = self.n + n
        self.M = self.M + m
        self.W = self.W + w
        lo, hi = cal.support
        tot = n.sum(axis=1)
        self.outside += float(tot[:lo].sum() + tot[hi + 1:].sum())

    def merged(self, other: "Masses") -> "Masses":
        out = Masses(self.n + other.n, self.M + other.M, self.W + other.W, self.cal + other.cal,
                     self.outside + other.outside)
        return out

    @property
    def rows(self) -> int:
        return int(round(self.n.sum()))


@dataclass(frozen=True)
class Estimate:
    """An estimated metric: value, 95% interval, standard error, or None with a reason."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    se: float | None = None
    reason: str | None = None

    def to_dict(self) -> dict:
        return record(self, drop=() if self.reason else ("reason",))

    def covers(self, x: float | None) -> bool | None:
        if x is None or self.ci_low is None or self.ci_high is None:
            return None
        return self.ci_low <= x <= self.ci_high


def none(reason: str) -> Estimate:
    return Estimate(None, reason=reason)


def variance(G: np.ndarray, m: Masses) -> float:
    """Poisson-binomial plus calibration variance of a metric with cell gradient ``G``."""
    var = float((G * G * m.W).sum())
    for n_v, cal in m.cal:
        per_bin = (G * n_v).sum(axis=1)
        by_block = np.bincount(cal.block, weights=per_bin, minlength=len(cal.block_var))
        var += float((by_block ** 2 * cal.block_var).sum())
    return var


def interval(value: float, var: float, lo: float = 0.0, hi: float = 1.0) -> Estimate:
    value, se = float(value), math.sqrt(max(float(var), 0.0))
    return Estimate(value, max(lo, value - Z95 * se), min(hi, value + Z95 * se), se)


def _confusion_grad(m: Masses, g1: float, g0: float) -> np.ndarray:
    G = np.empty_like(m.n)
    G[:, 1] = g1
    G[:, 0] = g0
    return G


#: Binary metrics estimated (names of the metric registry).
BINARY_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "base_rate")


def binary_metrics(m: Masses) -> dict[str, Estimate]:
    """Every binary metric of :data:`BINARY_METRICS` from one group's masses."""
    n = m.n.sum()
    if n <= 0:
        return {k: none("no scored predictions") for k in BINARY_METRICS}
    tp, fn = m.M[:, 1].sum(), m.M[:, 0].sum()
    npp = m.n[:, 1].sum()
    npn = n - npp
    out: dict[str, Estimate] = {}
    acc = (tp + npn - fn) / n
    out["accuracy"] = interval(acc, variance(_confusion_grad(m, 1 / n, -1 / n), m))
    if npp > 0:
        out["precision"] = interval(tp / npp, variance(_confusion_grad(m, 1 / npp, 0.0), m))
    else:
        out["precision"] = none("no positive decisions: precision is undefined")
    pos = tp + fn
    if pos > 0:
        out["recall"] = interval(tp / pos, variance(_confusion_grad(m, fn / pos ** 2, -tp / pos ** 2), m))
        d = npp + pos
        out["f1"] = interval(2 * tp / d, variance(_confusion_grad(m, 2 * (npp + fn) / d ** 2, -2 * tp / d ** 2), m))
    else:
        out["recall"] = out["f1"] = none("no expected positives")
    out["base_rate"] = interval(pos / n, variance(_confusion_grad(m, 1 / n, 1 / n), m))
    out["roc_auc"] = auc(m)
    return out


def auc(m: Masses) -> Estimate:
    """ROC AUC from the expected positive and negative mass per score bin.

    AUC = (sum_b P_b (N_{<b} + N_b / 2) - W / 2) / (P N - W): the expected number of
    (positive, negative) pairs of distinct rows in which the positive scores higher
    (ties count half) over the expected number of such pairs, E[n_pos n_neg] =
    P N - W (a row is never paired with itself: W = sum of q (1 - q) is the mass of
    such self-pairs). Its gradient with
    respect to one label of bin b is ((N_{<b} + N_b/2) - (P_{>b} + P_b/2)
    - AUC (N - P)) / (P N).
    """
    P_b = m.M.sum(axis=1)
    N_b = m.n.sum(axis=1) - P_b
    P, N = P_b.sum(), N_b.sum()
    if P <= 1e-9 or N <= 1e-9:
        return none("the expected labels hold one class only: ROC AUC is undefined")
    below = np.cumsum(N_b) - N_b
    above = P - np.cumsum(P_b)
    dU = (below + N_b / 2)
    W = float(m.W.sum())
    if P * N - W <= 1e-9:   # a single row: no pair of distinct rows to rank
        return none("fewer than two scored predictions: ROC AUC is undefined")
    U = float((P_b * dU).sum() - W / 2)
    value = U / (P * N - W)
    g = (dU - (above + P_b / 2) - value * (N - P)) / (P * N - W)
    G = np.repeat(g[:, None], 2, axis=1)
    return interval(value, variance(G, m))


# ------------------------------------------------------------------ multiclass (one-vs-rest)

MULTICLASS_METRICS = ("accuracy", "macro_precision", "macro_recall", "macro_f1")
PER_CLASS_METRICS = ("precision", "recall", "f1")


@dataclass
class ClassMasses:
    """One group of a multiclass model: per class k, the one-vs-rest :class:`Masses`
    (d = 1 where the decision is k), and per decided class c the raw-score products
    ``S[c][k, l]`` = sum over rows decided c of p_k p_l (for the covariance of the
    labels of one row: a row has exactly one class)."""

    classes: tuple[str, ...]
    per_class: list
    S: np.ndarray    # (K, K, K): decided class, k, l

    @classmethod
    def empty(cls, classes) -> "ClassMasses":
        K = len(classes)
        return cls(tuple(classes), [Masses() for _ in range(K)], np.zeros((K, K, K)))

    def merged(self, other: "ClassMasses") -> "ClassMasses":
        return ClassMasses(self.classes, [a.merged(b) for a, b in zip(self.per_class, other.per_class)],
                           self.S + other.S)

    @property
    def rows(self) -> int:
        return self.per_class[0].rows if self.per_class else 0


def _mc_variance(cm: ClassMasses, g1: np.ndarray, g0: np.ndarray) -> float:
    """Variance of a linear combination of one-vs-rest TP_k (gradient g1[k]) and FN_k (g0[k]).

    Per-class Poisson-binomial and calibration terms, minus the cross-class
    covariance of one row's labels: -sum_c sum_{k != l} a_k a_l S[c, k, l], with
    a_k = g1[k] if k == c else g0[k].
    """
    var = 0.0
    for k, m in enumerate(cm.per_class):
        var += variance(_confusion_grad(m, g1[k], g0[k]), m)
    K = len(cm.classes)
    for c in range(K):
        a = g0.copy()
        a[c] = g1[c]
        outer = np.outer(a, a) * cm.S[c]
        var -= float(outer.sum() - np.trace(outer))
    return var


def multiclass_metrics(cm: ClassMasses) -> tuple[dict[str, Estimate], dict[str, dict[str, Estimate]]]:
    """(the task's metrics, per class precision/recall/F1) from one group's masses."""
    K = len(cm.classes)
    n = cm.per_class[0].n.sum() if K else 0.0
    if n <= 0:
        return {k: none("no scored predictions") for k in MULTICLASS_METRICS}, {}
    tp = np.array([m.M[:, 1].sum() for m in cm.per_class])
    fn = np.array([m.M[:, 0].sum() for m in cm.per_class])
    npp = np.array([m.n[:, 1].sum() for m in cm.per_class])
    zero = np.zeros(K)
    out: dict[str, Estimate] = {}
    out["accuracy"] = interval(tp.sum() / n, _mc_variance(cm, np.full(K, 1 / n), zero))
    per: dict[str, dict[str, Estimate]] = {c: {} for c in cm.classes}
    # per-class values and gradients (zero where undefined; macro averages skip nothing:
    # an undefined class metric makes the macro metric undefined, as in the registry)
    grads: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, bool]] = {}
    for name in PER_CLASS_METRICS:
        vals, g1s, g0s, ok = np.zeros(K), np.zeros(K), np.zeros(K), True
        for k, c in enumerate(cm.classes):
            pos = tp[k] + fn[k]
            if name == "precision":
                if npp[k] <= 0:
                    ok = False
                    per[c][name] = none(f"no row is decided {c!r}")
                    continue
                vals[k], g1s[k] = tp[k] / npp[k], 1 / npp[k]
            elif pos <= 1e-12:
                ok = False
                per[c][name] = none(f"no expected rows of class {c!r}")
                continue
            elif name == "recall":
                vals[k], g1s[k], g0s[k] = tp[k] / pos, fn[k] / pos ** 2, -tp[k] / pos ** 2
            else:
                d = npp[k] + pos
                vals[k], g1s[k], g0s[k] = 2 * tp[k] / d, 2 * (npp[k] + fn[k]) / d ** 2, -2 * tp[k] / d ** 2
            e1, e0 = np.zeros(K), np.zeros(K)
            e1[k], e0[k] = g1s[k], g0s[k]
            per[c][name] = interval(vals[k], _mc_variance(cm, e1, e0))
        grads[name] = (vals, g1s, g0s, ok)
    for name in PER_CLASS_METRICS:
        vals, g1s, g0s, ok = grads[name]
        macro = f"macro_{name}"
        out[macro] = (interval(vals.mean(), _mc_variance(cm, g1s / K, g0s / K)) if ok
                      else none(f"{name} is undefined for some class"))
    return out, per
