"""The engine side of drift: exact statistics from sorted aggregates.

Every window (the reference, and one or many current windows told apart by a
*key*: a constant for :func:`analytics.drift.compute_drift`, the period start
for :func:`analytics.drift.drift_over_time`) is stacked into one table of
``(is_ref, key, x)`` rows, and everything below runs in the engine. Only a few
numbers per window come back, however many distinct values a feature has.

The numeric plan (:func:`numeric_query`), for one feature and all windows at once:

1. ``counts``: rows grouped by ``(is_ref, key, x)`` -- the sorted distinct
   values with their counts, one table for every window.
2. The reference part ``R`` (ordered by x): cumulative count ``Cr``, the count
   just below each value ``Crp`` and the integral ``G(r) = int Fr`` from the
   smallest reference value up to ``r`` (a cumulative sum of
   ``Fr(r_i) * (r_{i+1} - r_i)``).
3. The current part ``K`` (per key, ordered by x): cumulative count ``Ck``.
4. One pass over ``R`` and ``K`` pooled and ordered by ``x`` (reference rows
   first at equal x): running maxima of the reference columns give, at every
   current value ``s``, ``Fr(s)``, ``Fr(s-)`` and ``G(s)`` -- an as-of lookup
   written with standard window functions. Every key is served by this one sort.
5. One pass over ``R`` and ``K`` pooled and ordered by cumulative share
   (descending): running minima give ``x*(f) = min{r : Fr(r) >= f}`` and
   ``G(x*)`` for each current level ``f = Fk(s)``.
6. Per current row (the interval ``[s, next s)`` where ``Fk = f``):
   ``int |Fr - f| = (G(b) - G(s) - f (b - s)) + 2 (f (c - s) - (G(c) - G(s)))``
   with ``c = clamp(x*, s, b)`` (``Fr < f`` exactly left of ``x*``); summed per
   key plus ``G(first s)`` (left of the first current value, ``Fk = 0``) this is
   the Wasserstein distance ``int |Fr - Fk| dx`` -- the same integral
   ``scipy.stats.wasserstein_distance`` sums over the pooled values.
   The Kolmogorov-Smirnov numerator is ``max |Cr * nk - Ck * nr|`` at every
   current value and just below it (integers: exact); the supremum of
   ``|Fr - Fk|`` is reached at one of those points because ``Fk`` is constant
   between current values while ``Fr`` is monotone.
7. The same counts give the per-bin counts for PSI and Jensen-Shannon.

Cost: a few sorts of the distinct-value table (at most the number of rows),
no join, nothing proportional to ``windows x reference values``.

Every query here compiles for Trino (no exact ``quantile``, no ``ASOF JOIN``,
no DuckDB-only functions): see ``tests/test_drift_sql.py``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import ibis
import ibis.expr.types as ir

from ..selection import segment_text

IS_REF = "_lm_is_ref"
KEY = "_lm_key"
X = "_lm_x"
MISSING = "(missing)"

ValueFn = Callable[[ir.Table], ir.Value]


def numeric_value(col: ir.Column) -> ir.FloatingValue:
    """A numeric column as float64, with NaN and +-inf treated as missing."""
    x = col.cast("float64")
    if col.type().is_floating() or col.type().is_decimal():
        return ibis.ifelse(x.isnan() | x.isinf(), ibis.null().cast("float64"), x)
    return x


def category_value(col: ir.Column) -> ir.StringValue:
    """A categorical column as text; missing values are the category ``(missing)``."""
    return segment_text(col).fill_null(MISSING)


def stacked(ref: ir.Table, cur: ir.Table, key: ir.Value | Callable[[ir.Table], ir.Value],
            **values: ValueFn) -> ir.Table:
    """Reference and current rows in one table: ``is_ref``, ``key`` and the named values.

    ``key`` (a function of the current table, or a literal) tells current
    windows apart; reference rows carry a NULL key.
    """
    k = key(cur) if callable(key) else key
    a = ref.select(**{IS_REF: ibis.literal(True), KEY: ibis.null().cast(k.type())},
                   **{n: f(ref) for n, f in values.items()})
    b = cur.select(**{IS_REF: ibis.literal(False), KEY: k}, **{n: f(cur) for n, f in values.items()})
    return a.union(b, distinct=False)


def window_counts_query(st: ir.Table, names: Sequence[str]) -> ir.Table:
    """Per window: rows, and non-missing values of each named column."""
    return st.group_by([IS_REF, KEY]).aggregate(
        n=st.count(), **{f"v_{i}": st[n].count() for i, n in enumerate(names)})


def categorical_query(st: ir.Table, limit: int) -> ir.Table:
    """Counts per window and category (``st`` from :func:`stacked` with one value ``X``)."""
    return st.group_by([IS_REF, KEY, X]).aggregate(c=st.count()).limit(limit)


def reference_summary_query(ref: ir.Table, value: ValueFn, bins: int) -> ir.Table:
    """One row about the reference: n, mean, variance (ddof=1), min, max, ``g_max`` and the bin edges.

    Edge ``j`` (``j = 1 .. bins-1``) is the smallest reference value whose
    cumulative share reaches ``j / bins`` (numpy's ``inverted_cdf`` quantile),
    found exactly from cumulative counts. ``g_max = int_{min}^{max} Fr dx``.
    """
    v = ref.select(**{X: value(ref)})
    v = v.filter(v[X].notnull())
    r = v.group_by(X).aggregate(c=v.count())
    order = ibis.window(order_by=r[X])
    r = r.mutate(_cr=r.c.sum().over(ibis.cumulative_window(order_by=r[X])),
                 _nr=r.c.sum().over(ibis.window()),
                 _gap=r[X].lead().over(order) - r[X],
                 _sx=(r.c * r[X]).sum().over(ibis.window()))
    r = r.mutate(_mean=r._sx / r._nr)
    aggs = {
        "n": r.c.sum(),
        "mean": r._mean.max(),
        "var": (r.c * (r[X] - r._mean) ** 2).sum() / (r.c.sum() - 1).nullif(0),
        "x_min": r[X].min(),
        "x_max": r[X].max(),
        "g_max": (r._cr / r._nr * r._gap).fill_null(0.0).sum(),
    }
    for j in range(1, bins):
        aggs[f"e{j}"] = ibis.ifelse(r._cr * bins >= r._nr * j, r[X], ibis.null().cast("float64")).min()
    return r.aggregate(**aggs)


def _bin_index(x: ir.FloatingValue, edges: Sequence[float]) -> ir.IntegerValue:
    """Bin of ``x`` for right-closed bins ``(-inf, e1], (e1, e2], ..., (e_last, inf)``."""
    idx = ibis.literal(0)
    for e in edges:
        idx = idx + ibis.ifelse(x > ibis.literal(float(e)), 1, 0)
    return idx


def numeric_query(st: ir.Table, n_ref: int, x_max: float, g_max: float,
                  edges: Sequence[float]) -> ir.Table:
    """Per current key: ``n``, ``ks_num``, ``wasserstein`` and ``b0..`` bin counts;
    plus one reference row (``is_ref``) with its bin counts. See the module docstring."""
    nr = ibis.literal(int(n_ref))
    rm = ibis.literal(float(x_max))
    gm = ibis.literal(float(g_max))
    nbins = len(edges) + 1
    f64 = "float64"
    null_f, null_i = ibis.null().cast(f64), ibis.null().cast("int64")

    base = st.filter(st[X].notnull())
    counts = base.group_by([IS_REF, KEY, X]).aggregate(c=base.count())
    counts = counts.mutate(_bin=_bin_index(counts[X], edges))

    # 2. the reference: cumulative counts and the integral G of its CDF
    r = counts.filter(counts[IS_REF])
    r = r.mutate(_cr=r.c.sum().over(ibis.cumulative_window(order_by=r[X])),
                 _gap=r[X].lead().over(ibis.window(order_by=r[X])) - r[X])
    r = r.mutate(_seg=(r._cr.cast(f64) / nr * r._gap).fill_null(0.0))
    r = r.mutate(_g=r._seg.sum().over(ibis.cumulative_window(order_by=r[X])) - r._seg)
    ref_part = r.select(**{X: r[X], KEY: r[KEY]}, _o=ibis.literal(0), c=null_i, _ck=null_i, _nk=null_i,
                        _r=r[X], _rc=r._cr, _rcp=r._cr - r.c, _rg=r._g,
                        _p=r._cr.cast(f64) / nr)

    # 3. the current windows: cumulative counts per key
    k = counts.filter(~counts[IS_REF])
    k = k.mutate(_ck=k.c.sum().over(ibis.cumulative_window(group_by=k[KEY], order_by=k[X])),
                 _nk=k.c.sum().over(ibis.window(group_by=k[KEY])))
    cur_part = k.select(**{X: k[X], KEY: k[KEY]}, _o=ibis.literal(1), c=k.c, _ck=k._ck, _nk=k._nk,
                        _r=null_f, _rc=null_i, _rcp=null_i, _rg=null_f,
                        _p=k._ck.cast(f64) / k._nk)

    # 4. as-of by value: the reference CDF and its integral at each current value
    u = ref_part.union(cur_part, distinct=False)
    w1 = ibis.window(order_by=[u[X], u._o], rows=(None, 0))
    u = u.mutate(_r_at=u._r.max().over(w1), _rc_at=u._rc.max().over(w1),
                 _rcp_at=u._rcp.max().over(w1), _rg_at=u._rg.max().over(w1))
    # 5. as-of by share: the first reference value whose CDF reaches each level f
    w2 = ibis.window(order_by=[u._p.desc(), u._o], rows=(None, 0))
    u = u.mutate(_xs=u._r.min().over(w2), _gs=u._rg.min().over(w2))
    c = u.filter(u._o == 1)
    s = c[X]
    cr_s = c._rc_at.fill_null(0)
    cr_below = ibis.ifelse(c._r_at == s, c._rcp_at, c._rc_at).fill_null(0)
    g_s = (c._rg_at + c._rc_at.cast(f64) / nr * (s - c._r_at)).fill_null(0.0)
    c = c.mutate(_s=s, _cr_s=cr_s, _cr_below=cr_below, _g_s=g_s, _f=c._p)

    # 6. per interval [s, b): the Wasserstein piece and the KS numerator
    w3 = ibis.window(group_by=c[KEY], order_by=c[X])
    last_b = ibis.greatest(rm, c._s)
    b = c._s.lead().over(w3).fill_null(last_b)
    g_b = c._g_s.lead().over(w3).fill_null(gm + (last_b - rm))
    c = c.mutate(_b=b, _g_b=g_b)
    cc = ibis.least(ibis.greatest(c._xs, c._s), c._b)
    g_c = ibis.cases((cc == c._s, c._g_s), (cc == c._b, c._g_b), else_=c._gs)
    piece = (c._g_b - c._g_s - c._f * (c._b - c._s)
             + 2.0 * (c._f * (cc - c._s) - (g_c - c._g_s)))
    num = ibis.greatest((c._cr_s * c._nk - c._ck * nr).abs(),
                        (c._cr_below * c._nk - (c._ck - c.c) * nr).abs())
    c = c.mutate(_piece=piece, _num=num, _bin=_bin_index(c[X], edges))

    bins_c = {f"b{i}": ibis.ifelse(c._bin == i, c.c, 0).sum() for i in range(nbins)}
    cur_agg = c.group_by(c[KEY]).aggregate(
        **{IS_REF: ibis.literal(False)}, n=c.c.sum(), ks_num=c._num.max(),
        wasserstein=c._piece.sum() + c._g_s.min(), **bins_c)
    rb = counts.filter(counts[IS_REF])
    bins_r = {f"b{i}": ibis.ifelse(rb._bin == i, rb.c, 0).sum() for i in range(nbins)}
    ref_agg = rb.aggregate(**{KEY: ibis.null().cast(cur_agg[KEY].type()), IS_REF: ibis.literal(True)},
                           n=rb.c.sum(), ks_num=null_i, wasserstein=null_f, **bins_r)
    cols = [KEY, IS_REF, "n", "ks_num", "wasserstein"] + [f"b{i}" for i in range(nbins)]
    return ref_agg.select(cols).union(cur_agg.select(cols), distinct=False)
