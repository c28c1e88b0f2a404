"""Drift statistics from aggregates: pure functions, no engine.

The engine brings back small aggregates (the Kolmogorov-Smirnov numerator,
the Wasserstein integral, per-bin and per-category counts); this module turns
them into the statistics the contract names, each defined exactly as the
reference implementation it is tested against:

* :func:`ks_p_value` -- the p-value of ``scipy.stats.ks_2samp(ref, cur)`` with
  its defaults (two-sided, ``method="auto"``): scipy's exact distribution when
  both samples have at most 10,000 values, else the asymptotic
  ``kstwo.sf(D, round(n*m/(n+m)))``.
* :func:`psi` -- population stability index ``sum((c - r) * ln(c / r))`` over
  shares, where an empty bin's share is replaced by :data:`PSI_EPSILON`.
* :func:`js_distance` -- ``scipy.spatial.distance.jensenshannon(r, c, base=2)``
  on the raw shares (no epsilon: the distance is finite with empty bins).
* :func:`chi2_p_value` -- ``scipy.stats.chi2_contingency(table,
  correction=False)`` on the 2 x K table of counts.
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

#: Share given to an empty bin or category in PSI (so ln(0) never happens);
#: only empty cells change, the other shares stay as counted.
PSI_EPSILON = 1e-4
#: scipy's ``ks_2samp(method="auto")`` is exact up to this many values per sample.
KS_EXACT_MAX_N = 10_000


def ks_p_value(numerator: int, n_ref: int, n_cur: int) -> tuple[float, float]:
    """``(D, p)`` exactly as ``scipy.stats.ks_2samp`` returns them.

    ``numerator`` is ``max |C_ref(x) * n_cur - C_cur(x) * n_ref|`` over the
    pooled values (``C`` = cumulative counts), an integer computed exactly in
    the engine, so ``D = numerator / (n_ref * n_cur)``.
    """
    from scipy.stats import kstwo
    from scipy.stats._stats_py import _attempt_exact_2kssamp  # ks_2samp's own exact routine

    d = numerator / (n_ref * n_cur)
    if max(n_ref, n_cur) <= KS_EXACT_MAX_N:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ok, d_exact, p = _attempt_exact_2kssamp(n_ref, n_cur, math.gcd(n_ref, n_cur), d, "two-sided")
        if ok:
            return float(d_exact), float(np.clip(p, 0.0, 1.0))
    m, n = sorted([float(n_ref), float(n_cur)], reverse=True)
    p = kstwo.sf(d, np.round(m * n / (m + n)))
    return float(d), float(np.clip(p, 0.0, 1.0))


def shares(counts: Sequence[float]) -> np.ndarray:
    c = np.asarray(counts, dtype=float)
    total = c.sum()
    return c / total if total > 0 else c


def psi(ref_counts: Sequence[float], cur_counts: Sequence[float], eps: float = PSI_EPSILON) -> float:
    """Population stability index over aligned bins (or categories)."""
    r, c = shares(ref_counts), shares(cur_counts)
    r = np.where(r > 0, r, eps)
    c = np.where(c > 0, c, eps)
    return float(np.sum((c - r) * np.log(c / r)))


def js_distance(ref_counts: Sequence[float], cur_counts: Sequence[float]) -> float:
    """Jensen-Shannon distance, base 2 (0 = same distribution, 1 = disjoint)."""
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(np.asarray(ref_counts, float), np.asarray(cur_counts, float), base=2))


def chi2_p_value(ref_counts: Sequence[int], cur_counts: Sequence[int]) -> float:
    """Chi-square test of homogeneity on the 2 x K table, no continuity correction.

    With a single category (K = 1) both windows hold the same distribution
    trivially: scipy gives 0 degrees of freedom and p = 1.0, and so do we.
    """
    from scipy.stats import chi2_contingency

    table = np.array([ref_counts, cur_counts], dtype=float)
    if table.shape[1] < 2:
        return 1.0
    return float(chi2_contingency(table, correction=False).pvalue)
