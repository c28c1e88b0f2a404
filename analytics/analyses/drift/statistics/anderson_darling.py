"""The Anderson-Darling k-sample statistic (k = 2: the reference and a current window),
exactly as ``scipy.stats.anderson_ksamp([ref, cur], variant="midrank").statistic``: the
midrank ``A2akN`` of Scholz and Stephens (1987, eq. 7, ties included), standardized by
its mean ``k - 1`` and standard deviation under the null.

The engine computes the two inner sums in the sorted pass KS and Wasserstein come from
(the distinct values of the reference and each window pooled, per target and window:
:func:`analytics.analyses.drift.queries.pooled`):
for each distinct pooled value ``z_j`` with ``l_j`` pooled rows,
``B_j`` = pooled rows below ``z_j`` + ``l_j / 2``, ``M_ij`` = rows of sample ``i`` below
``z_j`` + half of its rows at ``z_j``, and ``S_i = sum_j l_j / N (N M_ij - n_i B_j)^2 /
(B_j (N - B_j) - N l_j / 4)``; then ``A2akN = (N - 1) / N (S_ref / n_ref + S_cur / n_cur)``.
Only those sums (and the number of distinct values) come back to Python.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import ibis
import ibis.expr.types as ir
import numpy as np

from .. import queries as q
from .registry import DriftStatistic, Missing, register

K = 2  # samples compared: the reference and one current window


def pooled_sums(p: ir.Table) -> dict[str, ir.Value]:
    """``ad_s_ref``, ``ad_s_cur``, ``ad_distinct`` as aggregates over the pooled values
    (:func:`analytics.analyses.drift.queries.pooled`), per target and current key: the
    sorted pass computes them beside KS and Wasserstein (the registry's ``pooled``)."""
    f64 = "float64"
    n = (p._nr + p._nk).cast(f64)
    lj = (p._cr + p._ck).cast(f64)
    b = (p._cum_r + p._cum_k).cast(f64) - lj / 2
    den = b * (n - b) - n * lj / 4
    m_ref = p._cum_r.cast(f64) - p._cr.cast(f64) / 2
    m_cur = p._cum_k.cast(f64) - p._ck.cast(f64) / 2

    def term(m, n_i):
        return ibis.ifelse(den > 0, lj / n * (n * m - n_i.cast(f64) * b) ** 2 / den, 0.0)

    return {"ad_s_ref": term(m_ref, p._nr).sum(), "ad_s_cur": term(m_cur, p._nk).sum(), "ad_distinct": p.count()}


def pooled_sums_query(counts: ir.Table, idx: Sequence[int]) -> ir.Table:
    """Per numeric target and current key: ``ad_s_ref``, ``ad_s_cur``, ``ad_distinct``
    (:func:`pooled_sums` alone, as a query of its own)."""
    p = q.pooled(counts, idx)
    return p.group_by([q.F, q.KEY]).aggregate(**pooled_sums(p))


def standardized(a2: float, n_ref: int, n_cur: int) -> float:
    """``(A2akN - (k - 1)) / sigma``, sigma as ``scipy.stats.anderson_ksamp`` computes it."""
    n_i = np.array([n_ref, n_cur], dtype=float)
    big_n = n_ref + n_cur
    h_big = float((1.0 / n_i).sum())
    hs_cs = (1.0 / np.arange(big_n - 1, 1, -1)).cumsum()
    h = float(hs_cs[-1]) + 1
    g = float((hs_cs / np.arange(2, big_n)).sum())
    k = K
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * h_big
    b = (2 * g - 4) * k ** 2 + 8 * h * k + (2 * g - 14 * h - 4) * h_big - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k ** 2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * h_big + 4 * h
    d = (2 * h + 6) * k ** 2 - 4 * h * k
    sigmasq = (a * big_n ** 3 + b * big_n ** 2 + c * big_n + d) / ((big_n - 1.0) * (big_n - 2.0) * (big_n - 3.0))
    return (a2 - (k - 1)) / math.sqrt(sigmasq)


def finish(a: Mapping[str, Any]) -> float:
    n_ref, n_cur = int(a["n_ref"]), int(a["n_cur"])
    if a.get("ad_distinct") is None or int(a["ad_distinct"]) < 2:
        raise Missing("needs more than one distinct value in the two windows")
    if n_ref + n_cur < 4:
        raise Missing("needs at least 4 values in the two windows")
    big_n = n_ref + n_cur
    a2 = (big_n - 1.0) / big_n * (float(a["ad_s_ref"]) / n_ref + float(a["ad_s_cur"]) / n_cur)
    return float(standardized(a2, n_ref, n_cur))


register(DriftStatistic(
    name="anderson_darling", kinds=("numeric",), needs=("sizes",), finish=finish, pooled=pooled_sums,
    label="Anderson-Darling",
    doc="Anderson-Darling k-sample statistic (midrank, ties included), standardized: "
        "scipy.stats.anderson_ksamp(...).statistic; not used by the default rule.",
))
