"""The rank sums of every group's *rest* (all other rows), exactly, in the engine.

:func:`analytics.metrics.queries.score_query` gives a group's ROC AUC / average
precision sums from its counts per distinct score. The rest of a group (every
other row of the selection: other groups and rows whose key is NULL) has, at
each score s, the overall counts minus the group's: ``p_R(s) = p(s) - p_g(s)``,
``q_R(s) = q(s) - q_g(s)`` (positives, negatives). Writing those out for
every (group, overall score) costs groups x distinct scores rows, which on a
segment column with many values is more than memory holds. This module does
not.

ROC AUC (:func:`rest_score_query`): rows x log(rows)
    With ``W(s) = (negatives below s) + q(s)/2`` (a positive's placement
    numerator) and ``V(s) = (positives below s) + p(s)/2``, the rest's
    ``W_R = W - W_g`` and ``V_R = V - V_g`` are linear in the counts, and the
    group's ``W_g``, ``V_g`` are constant between two consecutive scores of the
    group (its cumulative negatives ``c`` and positives ``d`` so far). So over
    an open interval J between two of the group's scores (where the group has
    no row, ``p_R = p``)::

        sum p (W - c)   = dA1 - c dA0
        sum p (W - c)^2 = dA2 - 2 c dA1 + c^2 dA0

    with ``A0, A1, A2`` (``c_a0..c_a2`` below) the overall cumulative sums of ``p``, ``p W``,
    ``p W^2`` in score order, and ``dA`` their change over J (likewise ``B0, B1,
    B2`` of ``q``, ``q V``, ``q V^2`` for the negatives' side). At each of the
    group's own scores the terms are computed directly. Every quantity lives
    on a row per (group, score the group has) joined to the overall row of the
    same score, plus a window per group (cumulative counts, the next row's
    overall sums): at most one row per labeled row of the selection, sorted
    once. Exact (up to float64 rounding of the sums; ties counted half as in
    scikit-learn's ``roc_auc_score``).

Average precision (:func:`rest_ap_query`): groups x distinct scores
    Precision at a threshold is a ratio of the rest's counts, which does not
    split into per-interval sums; each group's rest is evaluated at every
    overall score. The per-group rows become ranges of overall score ranks
    [own score, next score of the group) (and one below the group's first
    score); unnested and joined to the overall scores on the rank (an
    equality join, not a range join, which DuckDB may run as a
    piecewise merge join in rows x scores), they yield each (group, overall
    score) once: time groups x distinct scores. The planner may build its hash
    table on either side, so the caller runs the groups in batches of at most
    :data:`AP_BATCH_ROWS` joined rows (the weak-segment ranking also keeps
    only the ``top_k`` best-supported values of a column).
"""

from __future__ import annotations

from typing import Any, Sequence

import ibis
import ibis.expr.types as ir

from analytics.log.columns import C
from .queries import Rows, score_counts

#: Average precision's rest: at most this many (group, overall score) rows per query.
AP_BATCH_ROWS = 1_000_000

#: The overall per-score terms whose cumulative sums the rest's ROC sums need.
TERMS = ("a0", "a1", "a2", "b0", "b1", "b2")


def overall_scores(rows: Rows) -> ir.Table:
    """The overall per-score table every group's rest is computed from (see :func:`_overall`);
    the same for every grouping of one selection, so callers may compute it once."""
    return _overall(score_counts(rows))


def _overall(per: ir.Table) -> ir.Table:
    """Per distinct score over every row: ``p``, ``q``, ``BP``, ``BN`` (strictly below),
    ``W``, ``V``, the terms ``x_a0..x_b2`` at that score (``p``, ``p W``, ``p W^2``,
    ``q``, ``q V``, ``q V^2``), their inclusive cumulative sums ``c_a0..c_b2`` and
    totals ``t_a0..t_b2``. (Names differ in more than case: DuckDB's do not.)"""
    o = per.group_by(C.SCORE).aggregate(p=per.pos.sum(), q=(per.cnt - per.pos).sum())
    cum = {"order_by": o[C.SCORE], "rows": (None, 0)}
    o = o.mutate(BP=o.p.sum().over(**cum) - o.p, BN=o.q.sum().over(**cum) - o.q)
    o = o.mutate(W=o.BN + o.q * 0.5, V=o.BP + o.p * 0.5)
    o = o.mutate(x_a0=o.p, x_a1=o.p * o.W, x_a2=o.p * o.W * o.W,
                 x_b0=o.q, x_b1=o.q * o.V, x_b2=o.q * o.V * o.V)
    cum = {"order_by": o[C.SCORE], "rows": (None, 0)}
    o = o.mutate(**{f"c_{t}": o[f"x_{t}"].sum().over(**cum) for t in TERMS},
                 **{f"t_{t}": o[f"x_{t}"].sum().over() for t in TERMS},
                 rk=ibis.row_number().over(order_by=o[C.SCORE]), n_scores=o.count().over())
    return o


def _joined(rows: Rows, groups: Sequence[Any] | None = None,
            overall: ir.Table | None = None) -> tuple[ir.Table, ir.Table]:
    """A row per (group, score the group has) with the overall columns of that score,
    the group's cumulative counts ``cpg``, ``cqg``, totals ``g_pos``, ``g_neg``,
    ``first`` (its lowest score) and
    the change ``d_*`` of each overall cumulative sum up to the group's next score;
    and the overall table (``overall``, or computed from ``rows``). ``groups``: only
    these values of the (single) key."""
    keys = list(rows.keys)
    per = score_counts(rows)
    o = _overall(per) if overall is None else overall
    seg = per.filter(*[per[k].notnull() for k in keys])
    if groups is not None:
        seg = seg.filter(seg[keys[0]].isin(list(groups)))
    seg = seg.select(*keys, _s=seg[C.SCORE], pg=seg.pos, qg=seg.cnt - seg.pos)
    j = seg.join(o, seg._s == o[C.SCORE])
    win = {"group_by": keys, "order_by": j._s}
    j = j.mutate(cpg=j.pg.sum().over(rows=(None, 0), **win), cqg=j.qg.sum().over(rows=(None, 0), **win),
                 g_pos=j.pg.sum().over(group_by=keys), g_neg=j.qg.sum().over(group_by=keys),
                 first=ibis.row_number().over(**win) == 0,
                 **{f"n_{t}": (j[f"c_{t}"] - j[f"x_{t}"]).lead().over(**win) for t in TERMS})
    # the change of each cumulative sum over (this score, the group's next score)
    j = j.mutate(**{f"d_{t}": j[f"n_{t}"].fill_null(j[f"t_{t}"]) - j[f"c_{t}"] for t in TERMS})
    return j, o


def rest_score_query(rows: Rows, overall: ir.Table | None = None) -> ir.Table:
    """Per group (keys without NULL): the :func:`~analytics.metrics.queries.score_query`
    sums of every *other* row but average precision's -- ``n_p``, ``n_n``, ``s_w``,
    ``s_w2``, ``s_v``, ``s_v2`` (see the module doc for the plan and its cost) -- and
    the group's own, all seven, prefixed ``own_`` (the same rows, one query)."""
    keys = list(rows.keys)
    j, _ = _joined(rows, overall=overall)
    c, d = j.cqg, j.cpg
    p_r, q_r = j.p - j.pg, j.q - j.qg
    w_r = j.W - (c - j.qg * 0.5)          # the rest's W at the group's own score
    v_r = j.V - (d - j.pg * 0.5)
    w_g = c - j.qg * 0.5                   # the group's own W and V there
    v_g = d - j.pg * 0.5
    below_pos = d - j.pg
    precision = (j.g_pos - below_pos) / (j.g_pos + j.g_neg - below_pos - (c - j.qg))

    def first(t):                          # below the group's first score the rest is every row
        return ibis.ifelse(j.first, j[f"c_{t}"] - j[f"x_{t}"], 0.0)

    return j.group_by(keys).aggregate(
        n_p=j.t_a0.max() - j.pg.sum(), n_n=j.t_b0.max() - j.qg.sum(),
        s_w=(p_r * w_r + j.d_a1 - c * j.d_a0 + first("a1")).sum(),
        s_w2=(p_r * w_r * w_r + j.d_a2 - 2.0 * c * j.d_a1 + c * c * j.d_a0 + first("a2")).sum(),
        s_v=(q_r * v_r + j.d_b1 - d * j.d_b0 + first("b1")).sum(),
        s_v2=(q_r * v_r * v_r + j.d_b2 - 2.0 * d * j.d_b1 + d * d * j.d_b0 + first("b2")).sum(),
        own_n_p=j.pg.sum(), own_n_n=j.qg.sum(),
        own_s_w=(j.pg * w_g).sum(), own_s_w2=(j.pg * w_g * w_g).sum(),
        own_s_v=(j.qg * v_g).sum(), own_s_v2=(j.qg * v_g * v_g).sum(),
        own_s_ap=(j.pg * precision).sum(where=j.pg > 0))


def distinct_scores_query(rows: Rows) -> ir.Table:
    """One row: ``n_scores``, the distinct valid scores of labeled rows (what each
    group's average-precision rest costs, see :func:`rest_ap_query`)."""
    t = rows.t.filter(rows.scored)
    return t.aggregate(n_scores=t[C.SCORE].nunique())


def rest_ap_query(rows: Rows, groups: Sequence[Any] | None = None,
                  overall: ir.Table | None = None) -> ir.Table:
    """Per group (of ``groups``, default all; a single key): ``s_ap``, the rest's sum of
    positives x precision over the scores (average precision x the rest's positives).
    Joins ``len(groups)`` x distinct scores rows: callers batch the groups to bound it."""
    j, o = _joined(rows, groups, overall)
    return _rest_ap(j, o, list(rows.keys))


def _rest_ap(j: ir.Table, o: ir.Table, keys: list[str]) -> ir.Table:
    """Per group: the rest's sum over scores of positives x precision (average precision x P_R).

    Each of the group's rows covers the overall scores from its own up to (not
    including) the group's next score, as a range of overall score ranks
    ``rk``; one more range covers the scores below the group's first. The
    ranges are unnested and joined to the overall scores on the rank (an
    equality join): one row per (group, overall score), produced and summed
    as a stream."""
    win = {"group_by": keys, "order_by": j._s}
    j = j.mutate(hi=j.rk.lead().over(**win).fill_null(j.n_scores), P_R=j.t_a0 - j.g_pos, N_R=j.t_b0 - j.g_neg)
    zero = ibis.literal(0.0)
    # [own score, next score): at its own score the group's counts so far exclude that score
    own = j.select(*keys, lo=j.rk, hi=j.hi, P_R=j.P_R, N_R=j.N_R, pg=j.pg,
                   bp_pt=j.cpg - j.pg, bn_pt=j.cqg - j.qg, bp_iv=j.cpg, bn_iv=j.cqg)
    # below the group's first score: nothing of the group is below (lo = -1: never its own score)
    pre = j.filter(j.first & (j.rk > 0)).select(
        *keys, lo=ibis.literal(-1, "int64"), hi=j.rk, P_R=j.P_R, N_R=j.N_R, pg=zero,
        bp_pt=zero, bn_pt=zero, bp_iv=zero, bn_iv=zero)
    iv = own.union(pre, distinct=False)
    iv = iv.mutate(r=ibis.range(ibis.greatest(iv.lo, 0), iv.hi).unnest())
    r = iv.join(o, iv.r == o.rk)
    at = r.r == r.lo
    p_r = r.p - ibis.ifelse(at, r.pg, zero)
    bp_r = r.BP - ibis.ifelse(at, r.bp_pt, r.bp_iv)
    bn_r = r.BN - ibis.ifelse(at, r.bn_pt, r.bn_iv)
    den = r.P_R + r.N_R - bp_r - bn_r      # rest rows at or above the threshold (>= p_r)
    term = ibis.ifelse(p_r > 0, p_r * (r.P_R - bp_r) / ibis.ifelse(den > 0, den, 1.0), zero)
    return r.group_by(keys).aggregate(s_ap=term.sum())
