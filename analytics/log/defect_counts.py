"""Counting the row defects of a model in one aggregate: what ``lastmile validate``
reports and each query warns about (the rules: :mod:`analytics.log.defects`).

Size: :func:`count_defects` is over the 60-line limit (allowed in
``tests/test_architecture.py``): every defect is counted in one aggregate (one scan
of the log), and its terms are listed one per line.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from analytics.config.workspace import ModelSpec
from analytics.log.columns import DataWarning
from analytics.log.defects import DUPLICATE, as_timestamp, plausible_ts
from analytics.log.joined import binary_label_expr, joined_raw

if TYPE_CHECKING:
    from analytics.log.engine import Engine


def _when(x: _dt.datetime) -> str:
    return x.strftime("%Y-%m-%d") if x.time() == _dt.time() else x.strftime("%Y-%m-%d %H:%M")


def count_defects(engine: Engine, spec: ModelSpec) -> list[DataWarning]:
    """Count each row-level defect in one aggregate over the joined raw data."""
    c = spec.columns
    ts_range = engine.workspace.timestamp_range()
    j = joined_raw(spec, engine.raw(spec, "predictions"),
                   engine.raw(spec, "outcomes") if spec.outcomes else None, ts_range)

    def bad_prob(col):
        x = j[col].cast("float64")
        return (x.isnull() | x.isnan() | (x < 0) | (x > 1)).cast("int64").sum()

    ts = as_timestamp(j[c.timestamp])
    low, high = ts_range
    aggs: dict[str, Any] = {"ts": ts.isnull().cast("int64").sum(),
                            "ts_range": (ts.notnull() & ~plausible_ts(ts, ts_range)).cast("int64").sum()}
    msgs = {"ts": (c.timestamp, "rows have no timestamp ({col!r}) and are left out of every query"),
            "ts_range": (c.timestamp, f"rows have an implausible timestamp ({{col!r}}: before {_when(low)} "
                                      f"or from {_when(high)} on, see [engine] timestamp_min and "
                                      "timestamp_max_ahead) and are left out of every query")}
    if DUPLICATE in j.columns:
        dup = j[DUPLICATE]
        aggs["dup"] = dup.cast("int64").sum()
        aggs["dup_ids"] = j[c.id].nunique(where=dup)
        msgs["dup"] = (c.id, lambda r: f"predictions repeat an id ({c.id!r}) within their version "
                                       f"({int(r['dup_ids'] or 0):,} ids); only the latest prediction of each "
                                       "gets the id's outcome, the earlier ones count as unlabeled")
    if spec.task == "binary" and c.score:
        aggs["score"] = bad_prob(c.score)
        msgs["score"] = (c.score, "scores in {col!r} are NaN, missing or outside [0, 1]; "
                                  "those rows are left out of score-based metrics")
    for i, (cls, col) in enumerate(c.class_scores):
        aggs[f"p{i}"] = bad_prob(col)
        msgs[f"p{i}"] = (col, f"scores in {{col!r}} (class {cls!r}) are NaN, missing or outside [0, 1]; "
                              "they are treated as missing")
    if spec.task == "regression":
        p = j[c.prediction].cast("float64")
        aggs["pred"] = (p.isnull() | p.isnan()).cast("int64").sum()
        msgs["pred"] = (c.prediction, "predictions in {col!r} are NaN or missing; "
                                      "those rows are left out of error metrics")
    lab = j[c.label]
    if spec.task == "binary":
        aggs["label"] = (lab.notnull() & binary_label_expr(spec, lab).isnull()).cast("int64").sum()
        if lab.type().is_string() and c.negative_label is None:
            # anything but the positive label is negative: a positive label that never
            # occurs (1 vs "yes") would make every row negative
            aggs["_labels"] = lab.count()
            aggs["_positives"] = (binary_label_expr(spec, lab) == 1).cast("int64").sum()
            msgs["no_positive"] = (c.label, f"labels in {{col!r}} are strings and none equals positive_label "
                                            f"{c.positive_label!r}; every row would count as negative "
                                            "(set positive_label to the positive class)")
    elif spec.task == "multiclass" and c.classes:
        aggs["label"] = (lab.notnull() & ~lab.cast("string").isin(c.classes)).cast("int64").sum()
    elif spec.task == "regression":
        aggs["label"] = (lab.notnull() & lab.cast("float64").isnan()).cast("int64").sum()
    if "label" in aggs:
        what = "NaN" if spec.task == "regression" else "outside the classes"
        msgs["label"] = (c.label, f"labels in {{col!r}} are {what}; those rows count as unlabeled")
    if c.latency_ms:
        lt = j[c.latency_ms].cast("float64")
        aggs["latency"] = (lt.notnull() & (lt.isnan() | (lt < 0))).cast("int64").sum()
        msgs["latency"] = (c.latency_ms, "latencies in {col!r} are NaN or negative; "
                                         "they are left out of latency percentiles")
    row = engine.execute(j.aggregate(**aggs), spec).to_pylist()[0]
    if "_labels" in row:
        row["no_positive"] = row["_labels"] if row["_labels"] and not row["_positives"] else 0
    out = []
    for key, (col, text) in msgs.items():
        n = int(row.get(key) or 0)
        body = text(row) if callable(text) else text.format(col=col)
        out.append(DataWarning(spec.name, col, n, f"{n:,} " + body + "."))
    return out
