"""Two-sample statistical tests, pure functions on aggregates (no engine, no I/O).

Shared by version comparison (:mod:`analytics.analyses.compare`), weak segments
(:mod:`analytics.analyses.segments`) and health (:mod:`analytics.analyses.health`): one definition of
each test. Every function returns a :class:`Test` (difference, interval, p-value,
method) or a :class:`Test` with ``p_value=None`` and the reason it cannot be computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from scipy import stats

#: McNemar: below this many discordant pairs the exact binomial test is used.
MCNEMAR_EXACT_BELOW = 25


@dataclass(frozen=True)
class Test:
    """A difference (candidate minus baseline) with its interval and two-sided p-value."""

    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    method: str
    reason: str | None = None


def _none(method: str, reason: str, delta: float | None = None) -> Test:
    return Test(delta, None, None, None, method, reason)


def _zcrit(alpha: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2))


def z_test(delta: float, se: float, alpha: float = 0.05, method: str = "normal approximation") -> Test:
    """Normal test of ``delta`` with standard error ``se``."""
    if se is None or not math.isfinite(se) or se <= 0:
        return _none(method, "the difference has no standard error (no variation)", delta)
    z = _zcrit(alpha)
    return Test(delta, delta - z * se, delta + z * se, float(2 * stats.norm.sf(abs(delta / se))), method)


def two_proportion(x1: float, n1: int, x2: float, n2: int, alpha: float = 0.05) -> Test:
    """Two-proportion z test: pooled standard error for the p-value (the same as a
    chi-square test of the 2x2 table without continuity correction), unpooled
    (Wald) for the interval."""
    method = "two-proportion z test"
    if n1 < 1 or n2 < 1:
        return _none(method, "one side has no rows")
    p1, p2 = x1 / n1, x2 / n2
    d = p2 - p1
    pool = (x1 + x2) / (n1 + n2)
    se0 = math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    z = _zcrit(alpha)
    p = 1.0 if se0 == 0 else float(2 * stats.norm.sf(abs(d / se0)))
    return Test(d, d - z * se, d + z * se, p, method)


def welch(m1: float, se1: float, n1: int, m2: float, se2: float, n2: int, alpha: float = 0.05) -> Test:
    """Welch's t test from each side's mean, standard error (sd/sqrt(n)) and n,
    as ``scipy.stats.ttest_ind(equal_var=False)``."""
    method = "Welch t test"
    if n1 < 2 or n2 < 2 or se1 is None or se2 is None:
        return _none(method, "each side needs at least two rows with a standard error", m2 - m1)
    v = se1 ** 2 + se2 ** 2
    d = m2 - m1
    if v <= 0:
        return _none(method, "no variation on either side", d)
    df = v ** 2 / (se1 ** 4 / (n1 - 1) + se2 ** 4 / (n2 - 1))
    se = math.sqrt(v)
    tc = float(stats.t.ppf(1 - alpha / 2, df))
    return Test(d, d - tc * se, d + tc * se, float(2 * stats.t.sf(abs(d / se), df)), method)


def paired_t(n: int, sum_d: float, sumsq_d: float, alpha: float = 0.05) -> Test:
    """Paired t test of the mean per-row difference, from its count, sum and sum of
    squares (as ``scipy.stats.ttest_rel(candidate, baseline)``)."""
    method = "paired t test"
    if n < 2:
        return _none(method, "fewer than two pairs")
    d = sum_d / n
    var = max((sumsq_d - sum_d * sum_d / n) / (n - 1), 0.0)
    if var == 0:
        return _none(method, "the paired differences do not vary", d)
    se = math.sqrt(var / n)
    tc = float(stats.t.ppf(1 - alpha / 2, n - 1))
    return Test(d, d - tc * se, d + tc * se, float(2 * stats.t.sf(abs(d / se), n - 1)), method)


def mcnemar(b: int, c: int, n: int, alpha: float = 0.05) -> Test:
    """McNemar's test on paired decisions: ``b`` pairs where only the baseline is
    right, ``c`` where only the candidate is. ``delta = (c - b) / n`` (accuracy
    difference) with a Wald interval for paired proportions. The p-value is the
    exact two-sided binomial test when ``b + c < 25``, else chi-square with one
    degree of freedom and no continuity correction (statsmodels' ``mcnemar``
    with ``exact=True`` / ``exact=False, correction=False``)."""
    if n < 1:
        return _none("McNemar test", "no pairs")
    d = (c - b) / n
    k = b + c
    if k < MCNEMAR_EXACT_BELOW:
        method = "McNemar test (exact binomial)"
        p = 1.0 if k == 0 else min(1.0, 2 * float(stats.binom.cdf(min(b, c), k, 0.5)))
    else:
        method = "McNemar test (chi-square)"
        p = float(stats.chi2.sf((b - c) ** 2 / k, 1))
    se = math.sqrt(max(k - (c - b) ** 2 / n, 0.0)) / n
    z = _zcrit(alpha)
    return Test(d, d - z * se, d + z * se, p, method)


@dataclass(frozen=True)
class PlacementMoments:
    """Sums over one class of the placement values of two scores (a, b) on the same rows."""

    n: int
    sa: float
    sb: float
    saa: float
    sbb: float
    sab: float

    def cov(self) -> tuple[float, float, float]:
        """Sample (co)variances (ddof=1): var a, var b, cov a b."""
        if self.n < 2:
            return 0.0, 0.0, 0.0
        k = self.n - 1
        return ((self.saa - self.sa ** 2 / self.n) / k, (self.sbb - self.sb ** 2 / self.n) / k,
                (self.sab - self.sa * self.sb / self.n) / k)


def paired_delong(pos: PlacementMoments, neg: PlacementMoments, alpha: float = 0.05) -> Test:
    """DeLong's test for two correlated ROC AUCs (DeLong, DeLong & Clarke-Pearson 1988).

    ``pos`` holds the placements ``V10`` of the positives (share of negatives
    scored lower, ties half) under the baseline (a) and candidate (b) scores;
    ``neg`` the placements ``V01`` of the negatives (share of positives scored
    higher). AUC = mean V10 = mean V01;
    ``Var(AUC_b - AUC_a) = (S10_aa + S10_bb - 2 S10_ab) / m + (S01_aa + S01_bb - 2 S01_ab) / n``.
    """
    method = "paired DeLong test"
    if pos.n < 1 or neg.n < 1:
        return _none(method, "the common ids hold only one class")
    auc_a, auc_b = pos.sa / pos.n, pos.sb / pos.n
    a10, b10, ab10 = pos.cov()
    a01, b01, ab01 = neg.cov()
    var = (a10 + b10 - 2 * ab10) / pos.n + (a01 + b01 - 2 * ab01) / neg.n
    d = auc_b - auc_a
    if var <= 0:
        return _none(method, "the two scores rank the common ids identically", d)
    return z_test(d, math.sqrt(var), alpha, method)


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (q-values: step-up, monotone, capped at 1).

    ``None`` (a test that could not be computed) stays ``None`` and is not counted
    among the hypotheses.
    """
    idx = [i for i, p in enumerate(p_values) if p is not None]
    m = len(idx)
    adj: list[float | None] = [None] * len(p_values)
    order = sorted(idx, key=lambda i: p_values[i])
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adj[i] = min(running, 1.0)
    return adj


def unpaired_test(mdef, base, cand, alpha: float = 0.05) -> Test:
    """The test of one metric between two independent samples, from the registry's
    :class:`MetricValue` of each side; the registry's ``MetricDef.test`` picks it:
    ``proportion`` (two-proportion z), ``auc`` (DeLong, independent samples),
    ``mean`` (Welch), anything else the normal approximation from the two se's.
    Counts (``fmt == "count"``) get no interval."""
    if base.value is None or cand.value is None:
        why = base.reason if base.value is None else cand.reason
        side = "baseline" if base.value is None else "candidate"
        return _none("-", f"not computable for the {side}: {why or 'no value'}")
    d = cand.value - base.value
    if mdef.fmt == "count":
        return _none("count", "a count, not an estimate: no interval", d)
    if mdef.test == "proportion":
        return two_proportion(round(base.value * base.n), base.n, round(cand.value * cand.n), cand.n, alpha)
    if base.se is None or cand.se is None:
        return _none("-", "no standard error on one side (too few rows)", d)
    if mdef.test == "mean":
        return welch(base.value, base.se, base.n, cand.value, cand.se, cand.n, alpha)
    method = "DeLong test (independent samples)" if mdef.test == "auc" else "normal approximation"
    return z_test(d, math.sqrt(base.se ** 2 + cand.se ** 2), alpha, method)


# ---------------------------------------------------------------- stratified (like-for-like) tests


@dataclass(frozen=True)
class Stratum:
    """One stratum (a period) of a two-sample comparison: each side's value, se and n.

    For a proportion, ``value * n`` is the count of successes."""

    baseline: float
    baseline_se: float | None
    baseline_n: int
    candidate: float
    candidate_se: float | None
    candidate_n: int


def cochran_mantel_haenszel(strata: Sequence[Stratum], alpha: float = 0.05) -> Test:
    """A rate compared within strata, then combined: the Mantel-Haenszel risk
    difference (candidate minus baseline) with Sato's (1989) variance for its
    interval, and the Cochran-Mantel-Haenszel chi-square test (one degree of
    freedom, no continuity correction; as ``statsmodels``'
    ``StratifiedTable.test_null_odds(correction=False)``) for its p-value.

    A stratum in which one side has no rows carries no information and is left
    out; so is one where every row of both sides is a success (or none is).
    """
    method = "Cochran-Mantel-Haenszel (stratified by period)"
    num = den = sum_p = sum_q = 0.0
    dev = var0 = 0.0
    used = 0
    for s in strata:
        n1, n0 = int(s.candidate_n), int(s.baseline_n)
        if n1 <= 0 or n0 <= 0:
            continue
        a, c = round(s.candidate * n1), round(s.baseline * n0)
        n = n1 + n0
        m1, m0 = a + c, n - a - c
        used += 1
        num += (a * n0 - c * n1) / n
        den += n1 * n0 / n
        sum_p += (n1 * n1 * c - n0 * n0 * a + n1 * n0 * (n0 - n1) / 2) / (n * n)
        sum_q += (a * (n0 - c) + c * (n1 - a)) / (2 * n)
        if n > 1:
            dev += a - n1 * m1 / n
            var0 += n1 * n0 * m1 * m0 / (n * n * (n - 1))
    if not used or den == 0:
        return _none(method, "no period in which both versions have rows")
    d = num / den
    var = (d * sum_p + sum_q) / (den * den)
    p = 1.0 if var0 <= 0 else float(stats.chi2.sf(dev * dev / var0, 1))
    if var <= 0:
        return Test(d, None, None, p, method)
    z = _zcrit(alpha)
    se = math.sqrt(var)
    return Test(d, d - z * se, d + z * se, p, method)


def inverse_variance(strata: Sequence[Stratum], alpha: float = 0.05) -> Test:
    """A metric compared within strata, then combined: the inverse-variance weighted
    mean of the per-stratum differences (fixed effect), with its normal interval and
    z test. Strata without a standard error on both sides are left out."""
    method = "inverse-variance weighted (stratified by period)"
    sw = swd = 0.0
    for s in strata:
        if s.baseline_se is None or s.candidate_se is None:
            continue
        v = s.baseline_se ** 2 + s.candidate_se ** 2
        if not math.isfinite(v) or v <= 0:
            continue
        sw += 1.0 / v
        swd += (s.candidate - s.baseline) / v
    if sw == 0:
        return _none(method, "no period with a standard error on both sides")
    d = swd / sw
    return z_test(d, math.sqrt(1.0 / sw), alpha, method)


def stratified_test(mdef, strata: Sequence[Stratum], alpha: float = 0.05) -> Test:
    """The stratified counterpart of :func:`unpaired_test`: CMH for proportions,
    inverse-variance weighting for every other metric with a standard error."""
    if mdef.fmt == "count":
        return _none("count", "a count, not an estimate: no interval")
    if mdef.test == "proportion":
        return cochran_mantel_haenszel(strata, alpha)
    return inverse_variance(strata, alpha)
