"""The engine side of drift: exact statistics from sorted aggregates.

The windows are the reference and one or many current windows told apart by a
*key* (a constant for :func:`analytics.analyses.drift.compute_drift`, the period start
for :func:`analytics.analyses.drift.drift_over_time`). :func:`flagged` reads the rows of
either window once, :func:`value_counts` counts each target's distinct values
(one scan of its column) and :func:`windowed` turns those into
``(f, is_ref, key, x, c)``: per target ``f``, the sorted distinct values of
each window with their counts. Everything below runs in the engine on that
table; only a few numbers per window come back, however many distinct values
a feature has.

The numeric plan (:func:`numeric_query`), for every numeric target and window at once,
in one query:

1. ``counts``: the table above, numeric targets only.
2. :func:`pooled`: per target and current key, the reference's distinct values and
   that window's, pooled (one row per distinct value, the counts of both windows
   at it); ordered by value within each (target, key), cumulative counts ``Cr``,
   ``Ck`` and the next pooled value. One sort, partitioned by (target, key).
3. Per (target, key): the Kolmogorov-Smirnov numerator ``max |Cr nk - Ck nr|`` over
   the pooled values (integers: exact; the supremum of ``|Fr - Fk|`` is reached at
   a pooled value, both CDFs being right-continuous steps), the Wasserstein distance
   ``sum |Cr / nr - Ck / nk| (z' - z)`` (``z'`` the next pooled value: the integral
   ``scipy.stats.wasserstein_distance`` sums), the per-bin counts for PSI and
   Jensen-Shannon, and the sums registered statistics compute on the same rows
   (Anderson-Darling: :attr:`~.statistics.registry.DriftStatistic.pooled`).

Cost: one sort of ``keys x reference values + current values`` rows per target (the
reference is repeated beside every key: the pooled rows Anderson-Darling's midrank sums
need; KS and Wasserstein ride on them, so the plan sorts once where it sorted the
distinct values three times). An earlier plan found each current value's place in the
reference with as-of passes (no repetition, two pooled sorts) and still needed this
table for Anderson-Darling: the two passes together cost 3.1 CPU seconds where this one
costs 1.1 (one version of the 5M-row bench, ``bench/README.md``).

Every query here compiles for Trino (no exact ``quantile``, no ``ASOF JOIN``,
no DuckDB-only functions): see ``tests/test_drift_cli.py``.

"""

from __future__ import annotations

import functools
import operator
from typing import Any, Callable, Mapping, Sequence

import ibis
import ibis.expr.types as ir

from analytics.query.selection import segment_text

IS_REF = "_lm_is_ref"
IN_REF = "_lm_in_ref"
IN_CUR = "_lm_in_cur"
KEY = "_lm_key"
X = "_lm_x"
XN = "_lm_xn"
XS = "_lm_xs"
F = "_lm_f"
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


def flagged(log: ir.Table, ref_preds: Sequence[ir.BooleanValue], cur_preds: Sequence[ir.BooleanValue],
            key: ir.Value | Callable[[ir.Table], ir.Value], **values: ValueFn) -> ir.Table:
    """The rows of either window, read once: ``in_ref``, ``in_cur``, ``key`` and the named values.

    ``ref_preds`` / ``cur_preds`` are the windows' conditions
    (:meth:`analytics.query.selection.Selection.predicates`); ``key`` (a function of
    the log, or a literal) tells current windows apart and is NULL outside the
    current selection. A row in both windows counts in both.
    """
    ref_m = functools.reduce(operator.and_, ref_preds, ibis.literal(True))
    cur_m = functools.reduce(operator.and_, cur_preds, ibis.literal(True))
    k = key(log) if callable(key) else key
    t = log.filter(ref_m | cur_m)
    return t.select(**{IN_REF: ref_m, IN_CUR: cur_m, KEY: ibis.ifelse(cur_m, k, ibis.null().cast(k.type()))},
                    **{n: f(t) for n, f in values.items()})


def value_counts(st: ir.Table, kinds: Sequence[str]) -> ir.Table:
    """``(f, in_ref, in_cur, key, xn, xs, c)``: how many rows hold each value of each target.

    ``st`` comes from :func:`flagged` with columns ``v0, v1, ...``; target ``f``
    is ``v{f}``, of kind ``kinds[f]``: its values are in ``xn`` (numeric) or
    ``xs`` (categorical); NULL counts the missing ones. One aggregate per
    target, all in one statement (each scan reads only that target's column;
    unnesting the targets instead is several times slower in DuckDB).
    """
    parts = []
    for i, kind in enumerate(kinds):
        v = st[f"v{i}"]
        xn = v if kind == "numeric" else ibis.null().cast("float64")
        xs = v if kind == "categorical" else ibis.null().cast("string")
        part = st.select(IN_REF, IN_CUR, KEY, **{XN: xn, XS: xs})
        part = part.group_by([IN_REF, IN_CUR, KEY, XN, XS]).aggregate(c=part.count())
        parts.append(part.select(**{F: ibis.literal(i, "int32")},
                                 **{k: part[k] for k in (IN_REF, IN_CUR, KEY, XN, XS, "c")}))
    return ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]


def windowed(raw: ir.Table) -> ir.Table:
    """``(f, is_ref, key, xn, xs, c)``: the counts of :func:`value_counts` per window --
    the reference (``is_ref``, NULL key) and each current key -- one row per value."""
    cols = [F, XN, XS]
    r = raw.filter(raw[IN_REF])
    r = r.group_by(cols).aggregate(c=r.c.sum())
    k = raw.filter(raw[IN_CUR])
    k = k.group_by([*cols, KEY]).aggregate(c=k.c.sum())
    out = [F, IS_REF, KEY, XN, XS, "c"]
    r = r.mutate(**{IS_REF: ibis.literal(True), KEY: ibis.null().cast(raw[KEY].type())}).select(out)
    k = k.mutate(**{IS_REF: ibis.literal(False)}).select(out)
    return r.union(k, distinct=False)


def window_sizes_query(counts: ir.Table) -> ir.Table:
    """Per target and window: rows, and rows whose value is not missing."""
    valid = ibis.ifelse(counts[XN].notnull() | counts[XS].notnull(), counts.c, 0)
    return counts.group_by([F, IS_REF, KEY]).aggregate(rows=counts.c.sum(), valid=valid.sum())


def _numeric_counts(counts: ir.Table, idx: Sequence[int]) -> ir.Table:
    t = counts.filter(counts[F].isin([int(i) for i in idx]), counts[XN].notnull())
    return t.select(F, IS_REF, KEY, t.c, *(["_bin"] if "_bin" in t.columns else []), **{X: t[XN]})


def categorical_query(counts: ir.Table, idx: Sequence[int], limit: int) -> ir.Table:
    """Counts per categorical target, window and category (at most ``limit`` rows)."""
    t = counts.filter(counts[F].isin([int(i) for i in idx]), counts[XS].notnull())
    return t.select(F, IS_REF, KEY, t.c, **{X: t[XS]}).limit(limit)


def reference_summary_query(counts: ir.Table, idx: Sequence[int], bins: int) -> ir.Table:
    """Per numeric target, about its reference values: n, mean, variance (ddof=1),
    min, max, ``g_max`` and the quantile bin edges ``e1 .. e{bins-1}``.

    Edge ``j`` is the smallest reference value whose cumulative share reaches
    ``j / bins`` (numpy's ``inverted_cdf`` quantile), found exactly from
    cumulative counts. ``g_max = int_{min}^{max} Fr dx``.
    """
    r = _numeric_counts(counts, idx)
    r = r.filter(r[IS_REF])
    every = ibis.window(group_by=r[F])
    r = r.mutate(_cr=r.c.sum().over(ibis.cumulative_window(group_by=r[F], order_by=r[X])),
                 _nr=r.c.sum().over(every),
                 _gap=r[X].lead().over(ibis.window(group_by=r[F], order_by=r[X])) - r[X],
                 _sx=(r.c * r[X]).sum().over(every))
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
    return r.group_by(F).aggregate(**aggs)


def bin_index(x: ir.FloatingValue, edges: Sequence[float]) -> ir.IntegerValue:
    """Bin of ``x`` for right-closed bins ``(-inf, e1], (e1, e2], ..., (e_last, inf)``."""
    if not edges:
        return ibis.literal(0)
    # one CASE (the first edge at or above x), smaller to build and compile than a sum of tests
    return ibis.cases(*[(x <= ibis.literal(float(e)), i) for i, e in enumerate(edges)], else_=len(edges))


def _bin_expr(f: ir.IntegerValue, x: ir.FloatingValue, edges: Mapping[int, Sequence[float]]) -> ir.IntegerValue:
    if len(edges) == 1:
        return bin_index(x, next(iter(edges.values())))
    return ibis.cases(*[(f == i, bin_index(x, e)) for i, e in edges.items()])


def pooled(counts: ir.Table, idx: Sequence[int]) -> ir.Table:
    """Per numeric target ``f`` and current key: the distinct values of the reference and
    of that window pooled, one row each, with ``_cr`` / ``_ck`` (rows of each window at
    ``x``), ``_cum_r`` / ``_cum_k`` (at or below ``x``), the window sizes ``_nr`` / ``_nk``,
    the next pooled value ``_nx`` (NULL on the last) and ``_bin`` (the bin of ``x``, from
    the current rows; NULL where the window has none at ``x``).

    ``counts`` comes from :func:`windowed` (with ``_bin`` added by :func:`numeric_query`,
    or not). The reference's values are repeated beside every key's: the size is
    ``keys x reference values + current values`` (the sum Anderson-Darling needs)."""
    t = _numeric_counts(counts, idx)
    b = t["_bin"] if "_bin" in counts.columns else ibis.null().cast("int64")
    t = t.mutate(_bin=b)
    ref = t.filter(t[IS_REF])
    cur = t.filter(~t[IS_REF])
    keys = cur.select(F, KEY).distinct()
    r = ref.select(F, X, _cr=ref.c).join(keys, F)
    zero, no_bin = ibis.literal(0, "int64"), ibis.null().cast(t._bin.type())
    p = ibis.union(r.select(F, KEY, X, _cr=r._cr, _ck=zero, _bin=no_bin),
                   cur.select(F, KEY, X, _cr=zero, _ck=cur.c, _bin=cur._bin), distinct=False)
    p = p.group_by([F, KEY, X]).aggregate(_cr=p._cr.sum(), _ck=p._ck.sum(), _bin=p._bin.max())
    part = dict(group_by=[p[F], p[KEY]])
    cum = ibis.cumulative_window(**part, order_by=p[X])
    return p.mutate(_cum_r=p._cr.sum().over(cum), _cum_k=p._ck.sum().over(cum),
                    _nr=p._cr.sum().over(ibis.window(**part)), _nk=p._ck.sum().over(ibis.window(**part)),
                    _nx=p[X].lead().over(ibis.window(**part, order_by=p[X])))


#: The first columns of :func:`numeric_query`; the bins ``b0 ..`` and the pooled aggregates follow.
NUMERIC_BASE = (F, KEY, IS_REF, "n", "ks_num", "wasserstein")

PooledAggregates = Callable[[ir.Table], Mapping[str, ir.Value]]


def numeric_query(counts: ir.Table, edges: Mapping[int, Sequence[float]],
                  more: Sequence[PooledAggregates] = ()) -> ir.Table:
    """Per numeric target ``f`` (the keys of ``edges``, its reference's quantile bin edges)
    and window: ``n``, ``ks_num``, ``wasserstein`` (current windows), the bin counts
    ``b0 ..``, and the aggregates each of ``more`` builds on :func:`pooled` (one query).

    Over the pooled values ``z`` of the reference and a window, ascending (see the module
    docstring): ``ks_num = max |Cr(z) nk - Ck(z) nr|`` and
    ``wasserstein = sum |Cr(z) / nr - Ck(z) / nk| (z' - z)`` (``z'`` the next pooled value).
    """
    f64 = "float64"
    nbins = max(len(e) for e in edges.values()) + 1
    counts = counts.mutate(_bin=_bin_expr(counts[F], counts[XN], edges))
    p = pooled(counts, list(edges))
    gap = (p._nx - p[X]).fill_null(0.0)
    share_gap = (p._cum_r.cast(f64) / p._nr - p._cum_k.cast(f64) / p._nk).abs() * gap
    extra = {k: v for fn in more for k, v in fn(p).items()}
    cur_agg = p.group_by([p[F], p[KEY]]).aggregate(
        n=p._ck.sum(), ks_num=(p._cum_r * p._nk - p._cum_k * p._nr).abs().max(), wasserstein=share_gap.sum(),
        **{f"b{i}": ibis.ifelse(p._bin == i, p._ck, 0).sum() for i in range(nbins)}, **extra)
    rb = _numeric_counts(counts, list(edges))
    rb = rb.filter(rb[IS_REF])
    ref_agg = rb.group_by(F).aggregate(n=rb.c.sum(), **{f"b{i}": ibis.ifelse(rb._bin == i, rb.c, 0).sum()
                                                         for i in range(nbins)})
    cols = [*NUMERIC_BASE, *[f"b{i}" for i in range(nbins)], *extra]
    nulls = {k: ibis.null().cast(cur_agg[k].type()) for k in ("ks_num", "wasserstein", *extra)}
    ref_agg = ref_agg.mutate(**{KEY: ibis.null().cast(cur_agg[KEY].type()), IS_REF: ibis.literal(True)},
                             **nulls).select(cols)
    cur_agg = cur_agg.mutate(**{IS_REF: ibis.literal(False)}).select(cols)
    return ref_agg.union(cur_agg, distinct=False)
