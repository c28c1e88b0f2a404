"""What the dashboard's filter bar needs to know about a model's log.

One small aggregate query per question: the time span, the row count and the
distinct values of each segment column with their counts (sorted, capped), so
that the filter bar can offer real choices without reading the log itself.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import ibis

from .engine import C, Engine
from .selection import segment_text

#: At most this many values of one segment column are offered as filter choices.
MAX_SEGMENT_VALUES = 200


@dataclass(frozen=True)
class ModelFacts:
    """The span and shape of one model's log."""

    model: str
    task: str
    n: int
    n_labeled: int
    first_ts: _dt.datetime | None
    last_ts: _dt.datetime | None
    versions: tuple[str, ...]
    #: segment column -> ((value, rows), ...), most frequent first
    segment_values: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]

    def values_of(self, segment: str) -> tuple[str, ...]:
        for col, vals in self.segment_values:
            if col == segment:
                return tuple(v for v, _ in vals)
        return ()


def model_facts(engine: Engine, model: str) -> ModelFacts:
    """Span, volume, versions and segment values of ``model``'s log (aggregates only)."""
    spec = engine.spec(model)
    t = engine.log(spec)
    span = engine.execute(t.aggregate(
        n=t.count(), n_labeled=t[C.LABELED].cast("int64").sum(),
        first=t[C.TS].min(), last=t[C.TS].max()), spec).to_pylist()[0]
    segs = []
    for col in spec.columns.segments:
        v = segment_text(t[col]).name("value")
        q = (t.select(v).filter(v.notnull()).group_by("value").aggregate(rows=ibis._.count())
             .order_by([ibis.desc("rows"), "value"]).limit(MAX_SEGMENT_VALUES))
        rows = engine.execute(q, spec).to_pylist()
        segs.append((col, tuple((str(r["value"]), int(r["rows"])) for r in rows)))
    return ModelFacts(model=spec.name, task=spec.task, n=int(span["n"] or 0),
                      n_labeled=int(span["n_labeled"] or 0), first_ts=span["first"],
                      last_ts=span["last"], versions=engine.versions(spec),
                      segment_values=tuple(segs))
