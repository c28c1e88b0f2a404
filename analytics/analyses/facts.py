"""What the dashboard's filter bar needs to know about a model's log.

One small aggregate query per question: the time span, the row count and the
distinct values of each segment column with their counts (sorted, capped), so
that the filter bar can offer real choices without reading the log itself.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Sequence

import ibis

from analytics.log.engine import Engine
from analytics.metrics.compute import plan_queries
from analytics.query.selection import Grouping, Selection, segment_text

#: At most this many values of one segment column are offered as filter choices.
MAX_SEGMENT_VALUES = 200


@dataclass(frozen=True)
class ModelFacts:
    """The span and shape of one model's log."""

    model: str
    task: str
    n: int
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
    """Span, volume, versions and segment values of ``model``'s log (aggregates only).

    Read from the prediction files alone where they hold the columns (no join with
    the outcomes is needed to know when predictions were made or which segment
    values exist); rows without a timestamp are left out, as the log leaves them out.
    """
    spec = engine.spec(model)
    raw = engine.raw(spec, "predictions")
    ts = spec.columns.timestamp
    t = raw.filter(raw[ts].notnull())
    span = engine.execute(t.aggregate(n=t.count(), first=t[ts].min(), last=t[ts].max()), spec).to_pylist()[0]
    log = None
    segs = []
    for col in spec.columns.segments:
        if col in t.columns:
            src = t
        else:  # a segment logged with the outcomes
            log = engine.log(spec) if log is None else log
            src = log
        v = segment_text(src[col]).name("value")
        q = (src.select(v).filter(v.notnull()).group_by("value").aggregate(rows=ibis._.count())
             .order_by([ibis.desc("rows"), "value"]).limit(MAX_SEGMENT_VALUES))
        rows = engine.execute(q, spec).to_pylist()
        segs.append((col, tuple((str(r["value"]), int(r["rows"])) for r in rows)))
    first, last = span["first"], span["last"]
    if isinstance(first, _dt.date) and not isinstance(first, _dt.datetime):  # a date column
        first, last = _dt.datetime.combine(first, _dt.time()), _dt.datetime.combine(last, _dt.time())
    return ModelFacts(model=spec.name, task=spec.task, n=int(span["n"] or 0), first_ts=first, last_ts=last,
                      versions=engine.versions(spec), segment_values=tuple(segs))


def metrics_sql(engine: Engine, selection: Selection, grouping: Grouping,
                metrics: Sequence[str] | None = None) -> str:
    """Every query ``compute_metrics`` runs for this view, as SQL (for the audit view).

    The registry's own plan (:func:`analytics.metrics.compute.plan_queries`), so the
    text is exactly what runs: ``sums`` (counts and sums per group), plus ``score``
    (ROC AUC, average precision), ``latency`` (percentiles), ``confusion``
    (multiclass) and ``delay`` (median label delay) when the view needs them.
    """
    spec = selection.check(engine)
    plan = plan_queries(spec, selection.apply(engine), grouping, metrics)
    parts = [f"-- {name}\n{engine.to_sql(q).strip()};" for name, q in plan.queries.items()]
    for name in plan.quantiles:
        strategy = plan.quantile_strategy(name, {}, engine.exact_quantiles)
        note = "" if strategy == "native" else ("; when values repeat a lot, the same answer is taken "
                                                "from counts per distinct value instead")
        parts.append(f"-- {name} (exact percentiles{note})\n"
                     f"{engine.to_sql(plan.quantile_query(name, strategy)).strip()};")
    return "\n\n".join(parts)
