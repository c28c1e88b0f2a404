"""The engine-side half of the metrics: Ibis expressions that reduce the log to
small per-group aggregates. Nothing here pulls rows into Python.

A metric computation runs at most these queries (each only when a requested
metric needs it), all grouped by the same key columns:

* ``sums`` -- one aggregate per group of counts and sums (confusion counts,
  sums of losses and errors and their squares). See :func:`sums_query`.
* ``score`` -- binary ROC AUC and average precision: counts per distinct
  score, then cumulative sums over the scores (a window), then one aggregate.
  See :func:`score_query`. (The same sums for every group's *rest*, as the
  weak-segment ranking needs them: :mod:`.rest`.)
* ``quantiles`` -- exact quantiles (numpy's default linear interpolation) of
  one value per group from ``row_number`` and ``count`` windows, or from
  counts per distinct value and a cumulative-count window when values repeat
  (chosen from the distinct count the ``sums`` query measures); also fetches
  the order statistics that bound a distribution-free interval. Used for the
  latency percentiles and the median label delay. See :func:`quantile_query`.
* ``confusion`` -- multiclass: counts per (label, prediction) pair. (Binary
  confusion counts are four sums of the ``sums`` query.)

Every query also compiles for Trino (no exact ``quantile``, no DuckDB-only
functions); ``tests/test_metrics_sql.py`` checks it.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import ibis
import ibis.expr.types as ir

from analytics.log.columns import C
from analytics.stats.intervals import Z95

#: log loss clips probabilities to [EPS, 1 - EPS] (float64 machine epsilon, as scikit-learn).
EPS = 2.220446049250313e-16


@dataclass(frozen=True)
class Rows:
    """Canonical expressions over the (filtered, key-annotated) log."""

    t: ir.Table
    keys: tuple[str, ...]
    task: str
    #: binary: the decision comes from the score (no prediction column), so a row
    #: without a valid score has no decision (the engine's lm_pred says 0 there)
    decision_from_score: bool = False

    @property
    def labeled(self) -> ir.BooleanValue:
        return self.t[C.LABELED]

    @property
    def y(self) -> ir.Column:
        return self.t[C.LABEL]

    @property
    def pred(self) -> ir.Column:
        return self.t[C.PRED]

    @property
    def decided(self) -> ir.BooleanValue:
        """Labeled rows with a decision (binary/multiclass) or predicted value (regression)."""
        if self.decision_from_score:
            return self.labeled & self.t[C.SCORE].notnull()
        return self.labeled & self.pred.notnull()

    @property
    def has_score(self) -> bool:
        """Binary: does the model log a score (a model may log only decisions)?"""
        return C.SCORE in self.t.columns

    @property
    def scored(self) -> ir.BooleanValue:
        """Binary: labeled rows with a valid score."""
        return self.labeled & self.t[C.SCORE].notnull()

    @property
    def error(self) -> ir.FloatingValue:
        """Regression: prediction - actual."""
        return self.pred.cast("float64") - self.y.cast("float64")


def count(cond: ir.BooleanValue) -> ir.IntegerScalar:
    """Rows where ``cond`` holds (NULL counts as false)."""
    return ibis.ifelse(cond, 1, 0).sum()


def _grouped(t: ir.Table, keys: Sequence[str]):
    return t.group_by(list(keys)) if keys else t


def sums_query(rows: Rows, aggregates: Mapping[str, ir.Scalar]) -> ir.Table:
    """One row per group: ``n``, ``n_labeled`` and the requested aggregates."""
    aggs = {"n": rows.t.count(), "n_labeled": count(rows.labeled)}
    aggs.update(aggregates)
    return _grouped(rows.t, rows.keys).aggregate(**aggs)


def score_query(rows: Rows) -> ir.Table:
    """Per group: the sums behind exact ROC AUC (with DeLong variance) and average precision.

    Scores are first reduced to (positives, negatives) per distinct score, so
    tied scores are one step. With cumulative sums in ascending score order,
    for a score s: ``below_neg`` negatives and ``below_pos`` positives are
    strictly lower. Then

    * ``w = below_neg + neg/2`` is a positive's placement numerator (ties half),
      so AUC = sum(pos * w) / (P N) (Mann-Whitney = trapezoidal ROC AUC with
      ties averaged = scikit-learn's ``roc_auc_score``);
    * ``v = below_pos + pos/2``; a negative's placement is (P - v) / P;
    * precision at threshold s is (P - below_pos) / (P + N - below_pos - below_neg)
      and recall steps by pos / P, so average precision = sum(pos * precision) / P
      (scikit-learn's ``average_precision_score``).

    Returned per group: ``n_p`` = P, ``n_n`` = N, ``s_w`` = sum pos w, ``s_w2`` = sum pos w^2,
    ``s_v`` = sum neg v, ``s_v2`` = sum neg v^2, ``s_ap`` = sum pos precision.
    """
    return score_sums(score_counts(rows), rows.keys)


def score_counts(rows: Rows) -> ir.Table:
    """Labeled rows with a valid score, counted per group and distinct score: ``pos``, ``cnt`` (float)."""
    scored = rows.t.filter(rows.scored)
    return scored.group_by(list(rows.keys) + [C.SCORE]).aggregate(
        pos=count(scored[C.LABEL] == 1).cast("float64"), cnt=scored.count().cast("float64"))


def score_sums(per: ir.Table, keys: Sequence[str]) -> ir.Table:
    """The window and aggregate of :func:`score_query` over per-(group, score) counts."""
    keys = list(keys)
    per = per.mutate(neg=per.cnt - per.pos)
    cum = {"group_by": keys or None, "order_by": per[C.SCORE], "rows": (None, 0)}
    tot = {"group_by": keys or None}
    per = per.mutate(
        le_pos=per.pos.sum().over(**cum), le_neg=per.neg.sum().over(**cum),
        P=per.pos.sum().over(**tot), N=per.neg.sum().over(**tot))
    below_pos = per.le_pos - per.pos
    below_neg = per.le_neg - per.neg
    w = below_neg + per.neg * 0.5
    v = below_pos + per.pos * 0.5
    precision = (per.P - below_pos) / (per.P + per.N - below_pos - below_neg)
    return _grouped(per, keys).aggregate(
        n_p=per.pos.sum(), n_n=per.neg.sum(),
        s_w=(per.pos * w).sum(), s_w2=(per.pos * w * w).sum(),
        s_v=(per.neg * v).sum(), s_v2=(per.neg * v * v).sum(),
        s_ap=(per.pos * precision).sum())


def _ranks(m: ir.IntegerValue, qs: Sequence[float], interval: bool) -> dict[str, ir.IntegerValue]:
    """0-based ranks of the order statistics behind each quantile (see :func:`quantile_query`)."""
    mf = m.cast("float64")
    out = {}
    for i, q in enumerate(qs):
        ql = ibis.literal(float(q))
        lo = (mf * ql + (1 - ql) - 1).floor().cast("int64")
        out[f"lo_{i}"] = lo
        out[f"hi_{i}"] = ibis.least(lo + 1, m - 1)
        if interval:
            d = Z95 * (mf * ql * (1 - ql)).sqrt()
            out[f"r_{i}"] = ibis.least(ibis.greatest((mf * ql - d).floor().cast("int64"), 1), m) - 1
            out[f"s_{i}"] = ibis.least(ibis.greatest((mf * ql + d).ceil().cast("int64"), 1), m) - 1
    return out


#: The strategies of :func:`quantile_query`.
QUANTILE_STRATEGIES = ("rows", "counts", "native")


def quantile_query(t: ir.Table, keys: Sequence[str], value: ir.NumericValue,
                   qs: Sequence[float], interval: bool = True, strategy: str = "rows") -> ir.Table:
    """Exact quantiles per group, numpy's default ('linear') definition.

    Rows with a NULL value are left out. With ``m`` rows in a group, numpy's
    virtual index for quantile q is ``h = m q + (1 - q) - 1``; the query
    returns the values at 0-based ranks ``floor(h)`` and ``floor(h) + 1``
    (``lo_<i>``, ``hi_<i>``), and Python interpolates
    (:func:`analytics.metrics.definitions.interpolate`). With ``interval``,
    also the order statistics ``r_<i>`` and ``s_<i>`` at 1-based ranks
    floor(mq - d) and ceil(mq + d), d = 1.96 sqrt(m q (1 - q)) (clipped to
    1..m): a distribution-free ~95% interval (the count of rows below the true
    quantile is Binomial(m, q), approximated as normal).

    Equivalent strategies find the value at a rank:

    * ``rows`` (portable): ``row_number`` over the rows ordered by value; keep
      the rows at the wanted ranks;
    * ``counts``: count rows per distinct value first, then a cumulative
      count over the distinct values; the value at rank r is the smallest value
      whose cumulative count exceeds r. Much cheaper when values repeat a lot
      (latencies logged in whole or tenth milliseconds), slower when they are
      nearly all distinct;
    * ``native`` (no ``interval``; only for backends whose quantile aggregate is
      exact and linear, such as DuckDB's ``quantile_cont``): one aggregate,
      with ``lo_<i>`` = ``hi_<i>`` = the quantile itself, so the same
      interpolation returns it unchanged. About 10x cheaper than ``rows``
      on 10M distinct values.
    """
    if strategy not in QUANTILE_STRATEGIES:
        raise ValueError(f"unknown quantile strategy {strategy!r}")
    keys = list(keys)
    x = t.select(*keys, _v=value)
    x = x.filter(x._v.notnull())
    win = {"group_by": keys or None}
    if strategy == "native":
        if interval:
            raise ValueError("the native quantile strategy has no order-statistic interval")
        aggs = {"m": x.count()}
        for i, q in enumerate(qs):
            aggs[f"lo_{i}"] = aggs[f"hi_{i}"] = x._v.quantile(float(q))
        return _grouped(x, keys).aggregate(**aggs)
    if strategy == "counts":
        per = x.group_by(keys + ["_v"]).aggregate(_c=x.count())
        per = per.mutate(_cum=per._c.sum().over(order_by=per._v, rows=(None, 0), **win),
                         _m=per._c.sum().over(**win))
        aggs: dict[str, Any] = {"m": per._m.max()}
        aggs.update({k: per._v.min(where=per._cum > r) for k, r in _ranks(per._m, qs, interval).items()})
        return _grouped(per, keys).aggregate(**aggs)
    x = x.mutate(_rn=ibis.row_number().over(order_by=x._v, **win), _m=x._v.count().over(**win))
    ranks = _ranks(x._m, qs, interval)
    aggs = {"m": x._m.max()}
    aggs.update({k: x._v.max(where=x._rn == r) for k, r in ranks.items()})
    keep = functools.reduce(operator.or_, [x._rn == r for r in ranks.values()])
    return _grouped(x.filter(keep), keys).aggregate(**aggs)


def confusion_query(rows: Rows) -> ir.Table:
    """Multiclass: counts per group, label and prediction (labeled rows with a prediction)."""
    t = rows.t.filter(rows.decided)
    return t.group_by(list(rows.keys) + [C.LABEL, C.PRED]).aggregate(cnt=t.count())
