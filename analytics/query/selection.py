"""The query spec: which rows (time bounds, versions, segment filters) and how to
group them (version, period, segment columns). The CLI and the app both build a
:class:`Selection` and a :class:`Grouping`; every analysis takes them.

Filter values reach the engine as Ibis literals (bound values), never spliced
into SQL; column names are accepted only when the workspace declares them.
Filter values are matched literally against the column's text form, so a value
may hold any characters (quotes, semicolons, ...).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import ibis
import ibis.expr.types as ir

from analytics.config.times import parse_time
from analytics.config.workspace import ModelSpec
from analytics.errors import SelectionError, suggest
from analytics.log.columns import C
from analytics.log.engine import Engine

PERIODS = {"day": "D", "week": "W", "month": "M"}
#: Names a grouping may use besides the model's segment columns.
BUILTIN_GROUPS = ("version", "period")


def parse_where(items: Iterable[str], strict: bool = True) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``["region=EU", "region=NA", "channel=web"]`` -> ``(("region", ("EU", "NA")), ("channel", ("web",)))``.

    The same column given twice means either value; different columns must all match.
    ``strict`` (the command line): an item that is not ``COLUMN=VALUE`` is an error;
    otherwise (a dashboard link someone edited) it is left out.
    """
    out: dict[str, list[str]] = {}
    for item in items:
        col, eq, val = item.partition("=")
        col = col.strip()
        if not (eq and col):
            if not strict:
                continue
            raise SelectionError(f"--where {item!r} must look like COLUMN=VALUE." if not eq
                                 else f"--where {item!r} names no column.")
        out.setdefault(col, []).append(val)
    return tuple((k, tuple(v)) for k, v in out.items())


@dataclass(frozen=True)
class Selection:
    """Which rows of a model's log: ``start`` inclusive, ``end`` exclusive."""

    model: str
    start: _dt.datetime | None = None
    end: _dt.datetime | None = None
    versions: tuple[str, ...] = ()
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def build(cls, model: str, start=None, end=None, versions: Iterable[str] = (),
              where: Mapping[str, Iterable[Any]] | Iterable[str] = ()) -> "Selection":
        if isinstance(where, Mapping):
            w = tuple((str(k), tuple(str(x) for x in v)) for k, v in where.items() if v)
        else:
            w = parse_where(where)
        s = cls(model=model, start=parse_time(start, "--start"), end=parse_time(end, "--end"),
                versions=tuple(versions), where=w)
        if s.start and s.end and s.start >= s.end:
            raise SelectionError(f"The time range is empty: start {s.start} is not before end {s.end}.")
        return s

    def replace(self, **changes) -> "Selection":
        from dataclasses import replace
        return replace(self, **changes)

    def check(self, engine: Engine) -> ModelSpec:
        """Validate names against the workspace (and versions against the log)."""
        spec = engine.spec(self.model)
        for col, _ in self.where:
            if col not in spec.columns.segments:
                raise SelectionError(
                    f"Cannot filter on {col!r}: it is not a segment column of model {spec.name!r}"
                    f"{suggest(col, spec.columns.segments)}; segments: "
                    f"{', '.join(spec.columns.segments) or 'none declared'}."
                )
        if self.versions:
            engine.check_versions(spec, self.versions)
        return spec

    def apply(self, engine: Engine, table: ir.Table | None = None) -> ir.Table:
        """The model's log (or ``table``, a log-shaped table) filtered to this selection."""
        t = engine.log(self.model) if table is None else table
        preds = self.predicates(engine, t)
        return t.filter(*preds) if preds else t

    def predicates(self, engine: Engine, t: ir.Table) -> list[ir.BooleanValue]:
        """The conditions :meth:`apply` filters ``t`` (a log-shaped table) on, validated."""
        self.check(engine)
        preds = []
        if self.start is not None:
            preds.append(t[C.TS] >= ibis.literal(self.start))
        if self.end is not None:
            preds.append(t[C.TS] < ibis.literal(self.end))
        if self.versions:
            preds.append(t[C.VERSION].isin([ibis.literal(v) for v in self.versions]))
        for col, values in self.where:
            preds.append(segment_text(t[col]).isin([ibis.literal(v) for v in values]))
        return preds

    def describe(self) -> str:
        parts = []
        if self.start or self.end:
            parts.append(f"{self.start.date() if self.start else '…'} to {self.end.date() if self.end else '…'}")
        if self.versions:
            parts.append("versions " + ", ".join(self.versions))
        for col, vals in self.where:
            parts.append(f"{col} = {' or '.join(vals)}")
        return "; ".join(parts) or "all data"


def segment_text(col: ir.Column) -> ir.StringValue:
    """A segment value's text form, as filters match it and results show it."""
    typ = col.type()
    if typ.is_string():
        return col
    if typ.is_date():
        return col.strftime("%Y-%m-%d")
    return col.cast("string")


@dataclass(frozen=True)
class Grouping:
    """Group by any of: ``version``, ``period`` and segment columns."""

    by: tuple[str, ...] = ()
    period: str = "week"

    def __post_init__(self):
        if self.period not in PERIODS:
            raise SelectionError(f"Period {self.period!r} is not one of day, week, month.")
        if len(set(self.by)) != len(self.by):
            raise SelectionError("A group-by column is given twice.")

    def check(self, spec: ModelSpec) -> None:
        for b in self.by:
            if b not in BUILTIN_GROUPS and b not in spec.columns.segments:
                allowed = BUILTIN_GROUPS + spec.columns.segments
                raise SelectionError(
                    f"Cannot group model {spec.name!r} by {b!r}{suggest(b, allowed)}; "
                    f"choose from: {', '.join(allowed)}."
                )

    def keys(self, t: ir.Table, spec: ModelSpec) -> dict[str, ir.Value]:
        """Group-key expressions by output name (the names of the contract's ``group``)."""
        self.check(spec)
        out: dict[str, ir.Value] = {}
        for b in self.by:
            if b == "version":
                out["version"] = t[C.VERSION]
            elif b == "period":
                out["period"] = period_start(t[C.TS], self.period)
            else:
                out[b] = segment_text(t[b])
        return out


def period_start(ts: ir.TimestampValue, period: str) -> ir.DateValue:
    """The date that starts the period holding ``ts`` (weeks start on Monday)."""
    return ts.truncate(PERIODS[period]).date()


def group_dict(row: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """A result row's group as the contract shows it (dates as ISO text)."""
    out = {}
    for k in keys:
        v = row[k]
        if isinstance(v, (_dt.date, _dt.datetime)):
            v = v.isoformat()
        out[k] = v
    return out


@dataclass(frozen=True)
class Query:
    """A selection plus a grouping: the whole spec of a sliced question."""

    selection: Selection
    grouping: Grouping = field(default_factory=Grouping)
