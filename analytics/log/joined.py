"""Predictions + the latest outcome -> the canonical log (see :mod:`analytics.log.engine`
for the join semantics).

Rows with a null or implausible timestamp are left out; NaN or out-of-range
scores become missing; labels outside the task's classes count as unlabeled.

Size: :func:`build_log` is over the 60-line limit (allowed in
``tests/test_architecture.py``): the canonical log's columns for each task, in one
select, one line per column.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from analytics.config.workspace import ModelSpec, timestamp_range
from analytics.errors import ColumnError
from analytics.log.checks import check_columns
from analytics.log.columns import C, DEFAULT_VERSION
from analytics.log.defects import (DUPLICATE, as_timestamp as _as_timestamp, is_null_type, latest_predictions,
                                   plausible_ts)


def _label_literal(typ: dt.DataType, value: Any):
    """The positive/negative label as a literal comparable with a label column of ``typ``."""
    if typ.is_string():
        if isinstance(value, bool):
            return ibis.literal("true" if value else "false")
        return ibis.literal(str(value))
    if typ.is_boolean():
        return ibis.literal(bool(value) if not isinstance(value, str) else value.lower() in ("1", "true", "yes"))
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return None
    return ibis.literal(int(value))


def binary_label_expr(spec: ModelSpec, label: ir.Column) -> ir.IntegerValue:
    """0/1 for a binary label; NULL when missing or outside the classes."""
    c = spec.columns
    typ = label.type()
    pos = _label_literal(typ, c.positive_label)
    if pos is None:
        return ibis.null().cast("int64")
    if c.negative_label is not None:
        neg = _label_literal(typ, c.negative_label)
        return (ibis.cases((label == pos, 1), (label == neg, 0), else_=ibis.null())).cast("int64")
    if typ.is_integer() or typ.is_floating():
        p = int(c.positive_label) if not isinstance(c.positive_label, str) else int(c.positive_label)
        if p in (0, 1):
            return ibis.cases((label == p, 1), (label == 1 - p, 0), else_=ibis.null()).cast("int64")
        return ibis.cases((label == p, 1), (label.notnull(), 0), else_=ibis.null()).cast("int64")
    # booleans, and strings without a declared negative label: anything else is negative
    return ibis.cases((label == pos, 1), (label.notnull(), 0), else_=ibis.null()).cast("int64")


def _valid_probability(col: ir.NumericColumn) -> ir.FloatingValue:
    x = col.cast("float64")
    return ibis.ifelse(x.isnan().fill_null(True) | (x < 0) | (x > 1), ibis.null().cast("float64"), x)


def outcome_columns(spec: ModelSpec, pred_columns, out_columns) -> list[str]:
    """Columns taken from the outcomes: the label (and its timestamp), plus declared
    segment, feature and business columns that the predictions lack."""
    c = spec.columns
    keep = [c.label] + [x for x in (c.label_timestamp,) if x]
    extra = list(c.segments) + list(c.features)
    if spec.business:
        extra += list(spec.business.value_columns())
    keep += [x for x in extra if x not in pred_columns and x in out_columns]
    return list(dict.fromkeys(keep))


def latest_outcomes(out: ir.Table, id_col: str, keep: list[str], label: str,
                    label_ts: str | None) -> ir.Table:
    """One row per outcome id: ``_lm_oid`` and ``_lm_o<i>`` (the columns ``keep``) of its latest row.

    Most ids have one outcome row; those pass through (flagged by a join with
    the few ids that repeat). Only repeated ids are reduced, by one aggregate per id
    (``argmax`` over the whole row as one struct: ``max_by`` skips NULL
    values, which would otherwise mix fields of different outcome rows; Ibis
    compiles it to an ordered ``FIRST``). The key orders by label_timestamp (a
    missing one loses), then by label value. At 10M outcomes this costs about
    half of aggregating every id.
    """
    names = {f"_lm_o{i}": k for i, k in enumerate(keep)}
    repeated = out.group_by(_lm_rid=out[id_col]).aggregate(_lm_n=out.count())
    repeated = repeated.filter(repeated._lm_n > 1).select("_lm_rid")
    # One left join flags the rows of repeated ids; the flagged table is used
    # twice, so it is computed once (a CTE).
    flagged = out.left_join(repeated, out[id_col] == repeated._lm_rid)
    flagged = flagged.mutate(_lm_rep=flagged._lm_rid.notnull())
    once = flagged.filter(~flagged._lm_rep)
    once = once.select(_lm_oid=once[id_col], **{n: once[k] for n, k in names.items()})
    many = flagged.filter(flagged._lm_rep)
    if label_ts:
        lts = many[label_ts]
        key = ibis.struct({"known": lts.notnull(), "t": lts, "y": many[label]})
    else:
        key = many[label]
    row = ibis.struct({n: many[k] for n, k in names.items()})
    agg = many.group_by(_lm_oid=many[id_col]).aggregate(_lm_row=row.argmax(key))
    agg = agg.select(agg._lm_oid, **{n: agg._lm_row[n] for n in names})
    return once.union(agg, distinct=False)


def joined_raw(spec: ModelSpec, pred: ir.Table, out: ir.Table | None, ts_range: tuple | None = None,
               rank_repeats: bool = True) -> ir.Table:
    """Predictions left-joined to each id's latest outcome, user column names kept,
    plus :data:`DUPLICATE` when there are outcomes.

    Latest outcome means the greatest ``label_timestamp``; ties (or no label_timestamp)
    go to the greatest label value, so the result is deterministic. An id repeated
    within one version labels only its latest prediction (:func:`latest_predictions`).
    """
    if out is None:
        return pred
    c = spec.columns
    keep = outcome_columns(spec, pred.columns, out.columns)
    latest = latest_outcomes(out, c.id, keep, c.label, c.label_timestamp)
    p = latest_predictions(spec, pred, ts_range) if rank_repeats else pred.mutate(_lm_jid=pred[c.id])
    j = p.left_join(latest, p._lm_jid == latest._lm_oid)
    sel = {k: j[k] for k in pred.columns if k not in keep}
    sel.update({k: j[f"_lm_o{i}"] for i, k in enumerate(keep)})
    sel[DUPLICATE] = j._lm_jid.isnull() & j[c.id].notnull()
    return j.select(**sel)


def build_log(spec: ModelSpec, pred: ir.Table, out: ir.Table | None, *,
              ts_range: tuple | None = None, labels: bool = True, rank_repeats: bool = True) -> ir.Table:
    """The canonical joined log (see module docstring for the semantics).

    ``ts_range``: the plausible timestamps ``[low, high)`` (default: the workspace
    defaults, see :func:`analytics.config.workspace.timestamp_range`); rows outside are left
    out. ``labels=False``: the outcomes give their columns' types only (every row
    unlabeled, no join): for queries that never read a label. ``rank_repeats=False``
    skips :func:`latest_predictions` (correct only when no id repeats in a version)."""
    if ts_range is None:
        ts_range = timestamp_range()
    c = spec.columns
    problems = check_columns(spec, pred.schema(), out.schema() if out is not None else None,
                             f"the predictions of model {spec.name!r}",
                             f"the outcomes of model {spec.name!r}" if out is not None else None)
    if problems:
        more = f" (and {len(problems) - 1} more; run `lastmile validate`)" if len(problems) > 1 else ""
        raise ColumnError(problems[0].rstrip(".") + more + ".")
    if labels:
        t = joined_raw(spec, pred, out, ts_range, rank_repeats=rank_repeats)
    else:  # no outcome rows: nothing to rank repeated ids for
        t = joined_raw(spec, pred, out.limit(0) if out is not None else None, ts_range, rank_repeats=False)

    cols: dict[str, Any] = {}
    if c.id:
        cols[C.ID] = t[c.id]
    cols[C.TS] = _as_timestamp(t[c.timestamp])
    cols[C.VERSION] = t[c.version].cast("string") if c.version else ibis.literal(DEFAULT_VERSION)

    label = t[c.label]
    if spec.task == "binary":
        y = binary_label_expr(spec, label)
        cols[C.LABEL] = y
        if c.score:
            score = _valid_probability(t[c.score])
            cols[C.SCORE] = score
        if c.prediction:
            cols[C.PRED] = binary_label_expr(spec, t[c.prediction])
        else:
            # no valid score, no decision: NULL, not 0
            cols[C.PRED] = ibis.cases((cols[C.SCORE] >= spec.threshold, 1),
                                      (cols[C.SCORE] < spec.threshold, 0),
                                      else_=ibis.null()).cast("int64")
    elif spec.task == "multiclass":
        classes = c.classes
        lab = label.cast("string")
        if classes:
            cols[C.LABEL] = ibis.ifelse(lab.isin(classes), lab, ibis.null().cast("string"))
        else:
            cols[C.LABEL] = lab
        probs = []
        for i, (_, col) in enumerate(c.class_scores):
            p = _valid_probability(t[col])
            cols[C.proba(i)] = p
            probs.append(p)
        if c.prediction:
            cols[C.PRED] = t[c.prediction].cast("string")
        else:
            best = ibis.greatest(*probs)
            # first class (in class_scores order) with the highest probability
            branches = [(probs[i] == best, ibis.literal(classes[i])) for i in range(len(classes))]
            cols[C.PRED] = ibis.cases(*branches, else_=ibis.null().cast("string"))
    else:  # regression
        yv = label.cast("float64")
        cols[C.LABEL] = ibis.ifelse(yv.isnan().fill_null(True), ibis.null().cast("float64"), yv)
        pv = t[c.prediction].cast("float64")
        cols[C.PRED] = ibis.ifelse(pv.isnan().fill_null(True), ibis.null().cast("float64"), pv)

    if c.label_timestamp:
        cols[C.LABEL_TS] = _as_timestamp(t[c.label_timestamp])
    if c.latency_ms:
        lat = t[c.latency_ms].cast("float64")
        cols[C.LATENCY] = ibis.ifelse(lat.isnan().fill_null(True) | (lat < 0), ibis.null().cast("float64"), lat)
    for name in list(c.segments) + list(c.features):
        if name not in cols:
            # a column without values (Parquet type null) gets a type every engine knows
            cols[name] = t[name].cast("string" if name in c.segments else "float64") \
                if is_null_type(t[name].type()) else t[name]
    if spec.business:
        for name in spec.business.value_columns():
            if name not in cols:
                cols[name] = t[name].cast("float64")
    out_t = t.select(**cols)
    out_t = out_t.mutate(**{C.LABELED: out_t[C.LABEL].notnull()})
    return out_t.filter(plausible_ts(out_t[C.TS], ts_range))
