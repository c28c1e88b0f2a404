"""Defects in the logs: the rules that keep a bad row, column or file from corrupting
or stopping anything, and :func:`count_defects` (what ``lastmile validate`` reports and
each query warns about).

File and column defects (refused with one sentence, or noted):

- two columns of one file that differ only in case (``P`` and ``p``), when the
  workspace declares either: DuckDB cannot tell them apart, so the file is refused
  (:func:`check_case_collisions`);
- a feature or segment with no values at all (Parquet type ``null``): accepted, read
  as missing values; drift notes it for that feature only (:func:`null_features`).

Row defects (left out of queries or treated as missing, and counted):

- a null timestamp, or one outside the plausible range ``[engine] timestamp_min``
  (default 1970-01-01) to now + ``timestamp_max_ahead`` (default 1 day): left out of
  every query (:func:`plausible_ts`);
- a prediction repeating an id within its version: only the latest of them gets
  the id's outcome, the others stay unlabeled (:func:`latest_predictions`);
- NaN / out-of-range scores, labels outside the classes, negative latencies (see
  :func:`count_defects`); string labels none of which equals ``positive_label``
  (every row would be negative).

This module is imported by :mod:`analytics.log.joined`, which builds the joined log
with these rules; :func:`~analytics.log.defect_counts.count_defects` counts them (it
reads the joined raw log, so it lives in a module of its own above both).
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from analytics.config.workspace import ModelSpec
from analytics.errors import ColumnError

if TYPE_CHECKING:
    from analytics.log.engine import Engine
    from analytics.log.sources import Source

#: The joined raw log's flag (see :func:`analytics.log.joined.joined_raw`): a prediction that
#: repeats an id of its version and is not the latest (it gets no outcome).
DUPLICATE = "_lm_dup"


# ------------------------------------------------------------------ files and columns


def check_case_collisions(src: "Source", spec: ModelSpec, role: str) -> None:
    """Refuse a file holding two columns that differ only in case when the workspace
    declares either: DuckDB matches names case-insensitively and renames the second
    (``p`` -> ``p_1``), so a message would name a column the file does not have, or
    the declared column would be read from the other one."""
    declared = {n.lower() for n in spec.declared_columns}
    for f in src.files:
        seen: dict[str, str] = {}
        for name in _file_columns(f, *_stat(f)):
            first = seen.setdefault(name.lower(), name)
            if first != name and name.lower() in declared:
                raise ColumnError(f"File {f!r} (the {role} of model {spec.name!r}) has columns {first!r} and "
                                  f"{name!r}, which differ only in case and cannot be told apart; rename one.")


def _stat(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return 0, 0
    return st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=4096)
def _file_columns(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    """Top-level column names of a Parquet file, from its footer (cached per file version)."""
    import pyarrow.parquet as pq

    try:
        return tuple(pq.read_schema(path).names)
    except Exception:  # noqa: BLE001 - unreadable files are named by check_parquet_file
        return ()


def is_null_type(t: dt.DataType) -> bool:
    """Parquet's ``null`` type (a column written without any value); DuckDB reads it as
    a type Ibis does not know."""
    if t.is_null():
        return True
    raw = getattr(t, "raw_type", None) if t.is_unknown() else None
    return raw is not None and str(raw.args.get("kind", "")).strip('"').upper() == "NULL"


def null_features(engine: "Engine", spec: ModelSpec) -> tuple[str, ...]:
    """The declared features whose column has no values at all (Parquet type null)."""
    schemas = [engine.raw(spec, "predictions").schema()]
    if spec.outcomes:
        schemas.append(engine.raw(spec, "outcomes").schema())
    out = []
    for f in spec.columns.features:
        typ = next((s[f] for s in schemas if f in s), None)
        if typ is not None and is_null_type(typ):
            out.append(f)
    return tuple(out)


# ------------------------------------------------------------------ timestamps


def as_timestamp(col: ir.Column) -> ir.TimestampValue:
    """A timestamp as the log uses it: dates at midnight; time-zone-aware ones in UTC,
    naive ones as written."""
    typ = col.type()
    if typ.is_date():
        return col.cast("timestamp")
    if typ.is_timestamp() and typ.timezone:
        return col.cast(dt.Timestamp(timezone="UTC")).cast(dt.Timestamp())
    return col


def plausible_ts(ts: ir.TimestampValue, ts_range: tuple | None) -> ir.BooleanValue:
    """Whether a timestamp (as :func:`as_timestamp` gives it) is present and, with a
    range, inside ``[low, high)``."""
    ok = ts.notnull()
    if ts_range is not None:
        low, high = ts_range
        ok &= (ts >= ibis.literal(low, type=dt.timestamp)) & (ts < ibis.literal(high, type=dt.timestamp))
    return ok


# ------------------------------------------------------------------ repeated ids


def repeated_ids(spec: ModelSpec, pred: ir.Table) -> ir.Table:
    """The (id, version) pairs that occur more than once: ``_lm_rid`` (and ``_lm_rv``)."""
    c = spec.columns
    keys = {"_lm_rid": pred[c.id]}
    if c.version:
        keys["_lm_rv"] = pred[c.version]
    repeated = pred.group_by(**keys).aggregate(_lm_n=pred.count())
    return repeated.filter(repeated._lm_n > 1).select(*keys)


def latest_predictions(spec: ModelSpec, pred: ir.Table, ts_range: tuple | None) -> ir.Table:
    """The predictions plus ``_lm_jid``, the id to join outcomes on: NULL on the rows
    that repeat an id within their version and are not its latest prediction.

    Latest: a plausible timestamp first, then the latest timestamp, then the highest
    score / prediction / class scores (rows equal in all of these are interchangeable
    for every metric but their segments: one of them is chosen). Rows of another
    version with the same id (a shadow re-scoring the same request) are ranked
    separately, so each version keeps its labeled row. As in
    :func:`analytics.log.joined.latest_outcomes`, only the repeated (id, version) pairs are
    ranked; every other row passes through.
    """
    c = spec.columns
    repeated = repeated_ids(spec, pred)
    cond = pred[c.id] == repeated._lm_rid
    if c.version:
        cond &= pred[c.version].identical_to(repeated._lm_rv)
    flagged = pred.left_join(repeated, cond)
    flagged = flagged.select(*pred.columns, _lm_rep=flagged._lm_rid.notnull())
    once = flagged.filter(~flagged._lm_rep)
    once = once.select(*pred.columns, _lm_jid=once[c.id])
    many = flagged.filter(flagged._lm_rep)
    ts = as_timestamp(many[c.timestamp])
    ties = [many[x] for x in (c.score, c.prediction, *(col for _, col in c.class_scores)) if x]
    order = [ibis.desc(plausible_ts(ts, ts_range)), ibis.desc(ts)] + [ibis.desc(x) for x in ties]
    rank = ibis.row_number().over(group_by=[many[k] for k in (c.id, c.version) if k], order_by=order)
    jid = ibis.ifelse(rank == 0, many[c.id], ibis.null().cast(many[c.id].type()))
    return once.union(many.select(*pred.columns, _lm_jid=jid), distinct=False)
