"""Column checks: every declared column exists in the right file, with a type fit for its role.

What ``lastmile validate`` reports and what :func:`analytics.log.joined.build_log`
refuses to query (row-level defects are :mod:`analytics.log.defects`).

Size: :func:`check_columns` is over the 60-line limit (allowed in
``tests/test_architecture.py``): one check per declared column role, in the
workspace's order, so each problem is found where its role is read.
"""

from __future__ import annotations

import ibis.expr.datatypes as dt

from analytics.config.workspace import ModelSpec
from analytics.errors import suggest
from analytics.log.defects import is_null_type



def _kind(t: dt.DataType) -> str:
    if is_null_type(t):
        return "null"
    if t.is_boolean():
        return "boolean"
    if t.is_integer():
        return "integer"
    if t.is_floating() or t.is_decimal():
        return "float"
    if t.is_string():
        return "string"
    if t.is_timestamp():
        return "timestamp"
    if t.is_date():
        return "date"
    return str(t)


#: role -> allowed kinds
_ROLE_KINDS = {
    "timestamp": ("timestamp", "date"),
    "label_timestamp": ("timestamp", "date"),
    "score": ("float", "integer"),
    "class_scores": ("float", "integer"),
    "latency_ms": ("float", "integer"),
    "regression": ("float", "integer"),
    "class": ("string", "integer", "boolean"),
    "feature": ("float", "integer", "string", "boolean"),
    # segments and features may hold no values at all (Parquet type null): a note, not an error
    "column": ("float", "integer", "string", "boolean", "null"),
    "value": ("float", "integer"),
}


def check_columns(spec: ModelSpec, pred_schema, out_schema, pred_where: str, out_where: str | None) -> list[str]:
    """Every declared column exists in the right file and has a type fit for its role."""
    problems: list[str] = []
    c = spec.columns

    def find(col: str):
        if col in pred_schema:
            return pred_schema[col], pred_where
        if out_schema is not None and col in out_schema:
            return out_schema[col], out_where
        return None, None

    def need(col: str | None, role: str, kinds_key: str, where_hint: str | None = None):
        if not col:
            return
        typ, where = find(col)
        if typ is None:
            if where_hint == "outcomes" and out_schema is not None:
                avail = list(out_schema.names)
                file_desc = out_where
            else:
                avail = list(pred_schema.names) + (list(out_schema.names) if out_schema is not None else [])
                file_desc = pred_where if out_schema is None else f"{pred_where} or {out_where}"
            problems.append(f"Model {spec.name!r}: column {col!r} ({role}) is not in {file_desc}{suggest(col, avail)}.")
            return
        kinds = _ROLE_KINDS[kinds_key]
        if _kind(typ) not in kinds:
            problems.append(
                f"Model {spec.name!r}: column {col!r} ({role}) in {where} has type {typ}, "
                f"expected {' or '.join(kinds)}."
            )

    need(c.timestamp, "timestamp", "timestamp")
    if c.id:
        if c.id not in pred_schema:
            problems.append(f"Model {spec.name!r}: id column {c.id!r} is not in {pred_where}{suggest(c.id, pred_schema.names)}.")
        if out_schema is not None and c.id not in out_schema:
            problems.append(f"Model {spec.name!r}: id column {c.id!r} is not in {out_where}{suggest(c.id, out_schema.names)}.")
        if out_schema is not None and c.id in pred_schema and c.id in out_schema:
            a, b = _kind(pred_schema[c.id]), _kind(out_schema[c.id])
            if a != b:
                problems.append(f"Model {spec.name!r}: id column {c.id!r} is {a} in the predictions but {b} in the outcomes.")
    if c.version:
        need(c.version, "version", "feature")
    need(c.score, "score", "score")
    for cls, col in c.class_scores:
        need(col, f"score of class {cls!r}", "class_scores")
    if spec.task == "regression":
        need(c.prediction, "prediction", "regression")
        need(c.label, "label", "regression", "outcomes" if out_schema is not None else None)
    else:
        need(c.prediction, "prediction", "class")
        need(c.label, "label", "class", "outcomes" if out_schema is not None else None)
    need(c.label_timestamp, "label_timestamp", "label_timestamp", "outcomes" if out_schema is not None else None)
    need(c.latency_ms, "latency_ms", "latency_ms")
    for s in c.segments:
        typ, _ = find(s)
        if typ is None:
            need(s, "segment", "column")
    for f in c.features:
        need(f, "feature", "column")
    if spec.business:
        for col in spec.business.value_columns():
            need(col, "business value", "value")
    return problems


# ------------------------------------------------------------------ the joined log
