"""The engine side of a paired comparison (the same ids scored by both versions):
the pairs table, per-row values, McNemar counts, DeLong placement moments, the paired
tests; and the daily aggregates of the sequential monitoring."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping, Sequence

import ibis
import ibis.expr.types as ir

from analytics.config.compare import ROW_METRICS
from analytics.config.workspace import ModelSpec
from analytics.errors import UnknownMetricError
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.metrics.queries import EPS
from analytics.query.selection import period_start, segment_text
from analytics.stats import sequential as seq
from analytics.stats.twosample import PlacementMoments, Test, mcnemar, paired_delong, paired_t
from .settings import CompareSettings


def row_value(task: str, name: str, y: ir.Value, pred: ir.Value, score: ir.Value | None) -> ir.Value:
    """The per-row value whose mean is metric ``name`` (NULL where it does not apply):
    correctness for accuracy, the squared error of the probability for Brier, the
    clipped log loss, the decision for positive rate, absolute and signed
    (prediction minus actual) error for MAE and bias."""
    if name == "accuracy":
        return ibis.ifelse(pred.isnull() | y.isnull(), ibis.null().cast("float64"),
                           (pred == y).cast("float64"))
    if task == "binary" and name == "positive_rate":
        return pred.cast("float64")
    if task == "binary" and name in ("brier", "log_loss") and score is not None:
        yf = y.cast("float64")
        if name == "brier":
            return (score - yf) ** 2
        p = score.clip(lower=EPS, upper=1 - EPS)
        return -(yf * p.ln() + (1 - yf) * (1 - p).ln())
    if task == "regression" and name in ("mae", "bias"):
        e = pred - y
        return e.abs() if name == "mae" else e
    raise UnknownMetricError(f"Metric {name!r} has no per-row value for a {task} model; "
                             f"choose from: {', '.join(ROW_METRICS[task])}.")


def seg_column(i: int) -> str:
    """The pairs table's column holding the i-th segment column's text."""
    return f"lm_seg{i}"


def pairs_table(spec: ModelSpec, two: ir.Table, baseline: str, candidate: str) -> ir.Table:
    """Labeled rows of the baseline inner-joined to the candidate's rows of the same id
    (with the baseline row's segment values, as text)."""
    t = two.filter(two[C.LABELED])
    tb = t.filter(t[C.VERSION] == ibis.literal(baseline))
    tc = t.filter(t[C.VERSION] == ibis.literal(candidate))
    has_score = spec.task == "binary" and C.SCORE in t.columns
    segs = {seg_column(i): segment_text(tb[col]) for i, col in enumerate(spec.columns.segments)}
    xb = tb.select(pid=tb[C.ID], ts=tb[C.TS], y=tb[C.LABEL], pb=tb[C.PRED],
                   **({"sb": tb[C.SCORE]} if has_score else {}), **segs)
    xc = tc.select(cid=tc[C.ID], pc=tc[C.PRED], **({"sc": tc[C.SCORE]} if has_score else {}))
    return xb.inner_join(xc, xb.pid == xc.cid)


def id_overlap(engine: Engine, spec: ModelSpec, two: ir.Table, baseline: str,
               candidate: str) -> tuple[int, int, int]:
    """Distinct labeled ids of the baseline, of the candidate, and of both (one query)."""
    t = two.filter(two[C.LABELED])
    per_id = t.group_by(i=t[C.ID]).aggregate(hb=(t[C.VERSION] == ibis.literal(baseline)).any(),
                                             hc=(t[C.VERSION] == ibis.literal(candidate)).any())
    agg = per_id.aggregate(nb=per_id.hb.cast("int64").sum(), nc=per_id.hc.cast("int64").sum(),
                           both=(per_id.hb & per_id.hc).cast("int64").sum())
    r = engine.execute(agg, spec).to_pylist()[0]
    return int(r["nb"] or 0), int(r["nc"] or 0), int(r["both"] or 0)


def placement_moments(engine: Engine, spec: ModelSpec, pairs: ir.Table, by: str | None = None
                       ) -> dict[Any, tuple[PlacementMoments, PlacementMoments]]:
    """Placement values of both scores on the common ids, in the engine, summed by class
    (per value of the pairs column ``by``, else once: key ``None``).

    For each score, rows are counted per distinct score value and class; a
    cumulative window over the sorted values gives, for every value, the
    negatives strictly below and the positives strictly above (ties count
    half). Joined back to the pairs, the per-class sums, sums of squares and
    cross-products give DeLong's covariance matrices.
    """
    p = pairs.filter(pairs.sb.notnull() & pairs.sc.notnull())
    p = p.mutate(grp=p[by] if by else ibis.literal(""))
    placed = {}
    for side in ("sb", "sc"):
        g = p.group_by(grp=p.grp, s=p[side]).aggregate(npos=(p.y == 1).cast("int64").sum(),
                                                       nneg=(p.y == 0).cast("int64").sum())
        w = ibis.cumulative_window(group_by=g.grp, order_by=g.s)
        whole = ibis.window(group_by=g.grp)
        g = g.mutate(pos_le=g.npos.sum().over(w), neg_le=g.nneg.sum().over(w),
                     ptot=g.npos.sum().over(whole), ntot=g.nneg.sum().over(whole))
        placed[side] = g.select(
            grp=g.grp, s=g.s,
            v10=((g.neg_le - g.nneg).cast("float64") + 0.5 * g.nneg) / g.ntot.cast("float64"),
            v01=((g.ptot - g.pos_le).cast("float64") + 0.5 * g.npos) / g.ptot.cast("float64"))
    a, b = placed["sb"], placed["sc"]
    j = p.inner_join(a, (p.grp == a.grp) & (p.sb == a.s)).select(
        grp=p.grp, y=p.y, sc=p.sc, va10=a.v10, va01=a.v01)
    j = j.inner_join(b, (j.grp == b.grp) & (j.sc == b.s)).select(
        grp=j.grp, y=j.y, va=ibis.ifelse(j.y == 1, j.va10, j.va01), vb=ibis.ifelse(j.y == 1, b.v10, b.v01))
    agg = j.group_by(["grp", "y"]).aggregate(n=j.count(), sa=j.va.sum(), sb=j.vb.sum(), saa=(j.va * j.va).sum(),
                                             sbb=(j.vb * j.vb).sum(), sab=(j.va * j.vb).sum())
    rows: dict[Any, dict[int, PlacementMoments]] = {}
    for r in engine.execute(agg, spec).to_pylist():
        rows.setdefault(r["grp"] if by else None, {})[int(r["y"])] = PlacementMoments(
            int(r["n"]), r["sa"], r["sb"], r["saa"], r["sbb"], r["sab"])
    empty = PlacementMoments(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    return {k: (v.get(1, empty), v.get(0, empty)) for k, v in rows.items()}


def paired_aggregates(engine: Engine, spec: ModelSpec, pairs: ir.Table, by: str | None = None
                       ) -> dict[Any, dict[str, Any]]:
    """One aggregate over the pairs (per value of ``by``, else key ``None``): McNemar
    counts, decision disagreements and count / sum / sum of squares of each per-row
    difference."""
    p = pairs
    sb = p.sb if "sb" in p.columns else None
    sc = p.sc if "sc" in p.columns else None
    aggs: dict[str, Any] = {"n": p.count()}
    if spec.task in ("binary", "multiclass"):
        both = p.pb.notnull() & p.pc.notnull()
        ok_b, ok_c = p.pb == p.y, p.pc == p.y
        aggs["n_dec"] = both.cast("int64").sum()
        aggs["mc_b"] = (both & ok_b & ~ok_c).cast("int64").sum()
        aggs["mc_c"] = (both & ~ok_b & ok_c).cast("int64").sum()
        aggs["disagree"] = (both & (p.pb != p.pc)).cast("int64").sum()
    for name in ROW_METRICS[spec.task]:
        if name in ("accuracy", "positive_rate") or (name in ("brier", "log_loss") and sc is None):
            continue
        d = row_value(spec.task, name, p.y, p.pc, sc) - row_value(spec.task, name, p.y, p.pb, sb)
        aggs[f"{name}__n"] = d.count()
        aggs[f"{name}__s"] = d.sum()
        aggs[f"{name}__q"] = (d * d).sum()
    expr = p.group_by(grp=p[by]).aggregate(**aggs) if by else p.aggregate(**aggs)
    return {(r["grp"] if by else None): r for r in engine.execute(expr, spec).to_pylist()}


def paired_tests(spec: ModelSpec, agg: Mapping[str, Any], moments, names: Sequence[str],
                 alpha: float) -> dict[str, Test]:
    """The paired test of each metric that has one, from :func:`paired_aggregates`'
    row and :func:`placement_moments`' (positives, negatives) of one group."""
    tests: dict[str, Test] = {}
    if "n_dec" in agg:
        tests["accuracy"] = mcnemar(int(agg["mc_b"]), int(agg["mc_c"]), int(agg["n_dec"]), alpha)
    for name in ROW_METRICS[spec.task]:
        if f"{name}__n" in agg:
            tests[name] = paired_t(int(agg[f"{name}__n"]), agg[f"{name}__s"] or 0.0,
                                   agg[f"{name}__q"] or 0.0, alpha)
    if moments is not None and "roc_auc" in names:
        tests["roc_auc"] = paired_delong(moments[0], moments[1], alpha)
    return tests


def daily_sequential(engine: Engine, spec: ModelSpec, two: ir.Table, baseline: str, candidate: str,
                     metric: str, pairs: ir.Table | None, settings: CompareSettings) -> seq.SequentialResult:
    """Daily aggregates of the sequential metric, then the always-valid p-values."""
    if pairs is not None:
        p = pairs
        d = (row_value(spec.task, metric, p.y, p.pc, p.sc if "sc" in p.columns else None)
             - row_value(spec.task, metric, p.y, p.pb, p.sb if "sb" in p.columns else None))
        x = p.mutate(day=period_start(p.ts, "day"), d=d).filter(lambda r: r.d.notnull())
        agg = x.group_by("day").aggregate(n=x.count(), s=x.d.sum(), q=(x.d * x.d).sum()).order_by("day")
        rows = engine.execute(agg, spec).to_pylist()
        return seq.paired([r["day"] for r in rows], [(r["n"], r["s"], r["q"]) for r in rows],
                          alpha=settings.alpha, tau_rel=settings.sequential_tau, metric=metric)
    t = two.filter(two[C.LABELED])
    v = row_value(spec.task, metric, t[C.LABEL], t[C.PRED], t[C.SCORE] if C.SCORE in t.columns else None)
    x = t.mutate(day=period_start(t[C.TS], "day"), x=v).filter(lambda r: r.x.notnull())
    agg = x.group_by(["day", x[C.VERSION].name("ver")]).aggregate(
        n=x.count(), s=x.x.sum(), q=(x.x * x.x).sum())
    by_day: dict[_dt.date, list[float]] = {}
    for r in engine.execute(agg, spec).to_pylist():
        slot = by_day.setdefault(r["day"], [0.0] * 6)
        off = 0 if r["ver"] == baseline else 3
        slot[off:off + 3] = [r["n"], r["s"], r["q"]]
    days = sorted(by_day)
    return seq.two_sample(days, [tuple(by_day[d]) for d in days], alpha=settings.alpha,
                          tau_rel=settings.sequential_tau, metric=metric)
