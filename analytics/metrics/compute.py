"""compute_metrics: the registry's metrics for every group of a selection.

The selection's log is annotated with the group keys, reduced in the engine by
the few queries of :mod:`.queries` that the requested metrics need, and the
small per-group aggregates are finished in Python by each metric's
definition. Every group that has predictions gets a row, labels or not.

An empty selection (no predictions at all) raises
:class:`~analytics.errors.EmptySelectionError`: there is no group to report on.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence

import ibis.expr.types as ir

from ..engine import C, Engine
from ..errors import EmptySelectionError
from ..selection import Grouping, Selection
from ..workspace import ModelSpec
from . import definitions as _defs  # noqa: F401 - registers the metrics
from .definitions import LATENCY_QUANTILES, interpolate
from .queries import Rows, confusion_query, quantile_query, score_query, sums_query
from .registry import MIN_LABELED, MetricDef, MetricValue, get_metric, metric_names

GroupKey = tuple


@dataclass(frozen=True)
class MetricsRow:
    """One group: its key values, sizes, metrics and median label delay (days)."""

    group: dict[str, Any]
    n: int
    n_labeled: int
    metrics: dict[str, MetricValue]
    label_delay_days: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"group": dict(self.group), "n": self.n, "n_labeled": self.n_labeled,
                "label_delay_days": self.label_delay_days,
                "metrics": {k: v.to_dict() for k, v in self.metrics.items()}}


@dataclass(frozen=True)
class MetricsResult:
    """Metrics per group; ``group_keys`` are the grouping's names (e.g. version, period)."""

    model: str
    task: str
    group_keys: tuple[str, ...]
    rows: tuple[MetricsRow, ...]
    metric_names: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON shape (plus n, se and reason per metric)."""
        return {"model": self.model, "task": self.task, "rows": [r.to_dict() for r in self.rows]}

    def to_polars(self):
        """One row per group: keys, n, n_labeled, label_delay_days, and per metric
        ``<m>``, ``<m>_ci_low``, ``<m>_ci_high``, ``<m>_n``, ``<m>_reason``."""
        import polars as pl

        names = self.metric_names or (tuple(self.rows[0].metrics) if self.rows else ())
        schema: dict[str, Any] = {k: pl.Utf8 for k in self.group_keys}
        schema.update({"n": pl.Int64, "n_labeled": pl.Int64, "label_delay_days": pl.Float64})
        for m in names:
            schema.update({m: pl.Float64, f"{m}_ci_low": pl.Float64, f"{m}_ci_high": pl.Float64,
                           f"{m}_n": pl.Int64, f"{m}_reason": pl.Utf8})
        data = []
        for r in self.rows:
            d: dict[str, Any] = {k: (None if r.group.get(k) is None else str(r.group[k])) for k in self.group_keys}
            d.update(n=r.n, n_labeled=r.n_labeled, label_delay_days=r.label_delay_days)
            for m in names:
                v = r.metrics[m]
                d.update({m: v.value, f"{m}_ci_low": v.ci_low, f"{m}_ci_high": v.ci_high,
                          f"{m}_n": v.n, f"{m}_reason": v.reason})
            data.append(d)
        return pl.DataFrame(data, schema=schema, orient="row") if data else pl.DataFrame(schema=schema)

    def row(self, **group) -> MetricsRow:
        """The row whose group matches ``group`` (KeyError if none)."""
        for r in self.rows:
            if all(r.group.get(k) == v for k, v in group.items()):
                return r
        raise KeyError(group)


def compute_metrics(engine: Engine, selection: Selection, grouping: Grouping = Grouping(),
                    metrics: Sequence[str] | None = None) -> MetricsResult:
    """The requested metrics (default: all of the model's task) for each group of ``selection``."""
    table = selection.apply(engine)
    spec = engine.spec(selection.model)
    result = compute_on_table(engine, spec, table, grouping, metrics)
    if not result.rows:
        raise EmptySelectionError(
            f"The selection holds no predictions of model {spec.name!r} ({selection.describe()}).")
    return result


@dataclass(frozen=True)
class Plan:
    """The engine queries one metrics computation runs (``queries`` by stage name)."""

    defs: tuple[MetricDef, ...]
    group_keys: tuple[str, ...]        # output names
    internal_keys: tuple[str, ...]     # column names in the queries
    queries: dict[str, ir.Table]


def plan_queries(spec: ModelSpec, table: ir.Table, grouping: Grouping = Grouping(),
                 metrics: Sequence[str] | None = None) -> Plan:
    """Build (without running) the queries for ``metrics`` over ``table`` grouped by ``grouping``.

    ``sums`` always; ``score``, ``latency`` and ``confusion`` when a requested
    metric needs them; ``delay`` when the model has a label timestamp.
    """
    names = tuple(metrics) if metrics else metric_names(spec.task)
    defs = tuple(get_metric(n, spec.task) for n in names)
    key_exprs = grouping.keys(table, spec)
    internal = tuple(f"lm_g{i}" for i in range(len(key_exprs)))
    t = table.mutate(**dict(zip(internal, key_exprs.values()))) if internal else table
    rows = Rows(t, internal, spec.task,
                decision_from_score=spec.task == "binary" and not spec.columns.prediction)
    aggs: dict[str, ir.Scalar] = {}
    for d in defs:
        if d.aggregates is not None:
            aggs.update(d.aggregates(rows))
    queries = {"sums": sums_query(rows, aggs)}
    stages = {d.stage for d in defs}
    if "score" in stages:
        queries["score"] = score_query(rows)
    if "latency" in stages and spec.columns.latency_ms:
        queries["latency"] = quantile_query(t, internal, t[C.LATENCY], LATENCY_QUANTILES)
    if "confusion" in stages and spec.task == "multiclass":
        queries["confusion"] = confusion_query(rows)
    if spec.columns.label_timestamp:
        days = (t[C.LABEL_TS].epoch_seconds() - t[C.TS].epoch_seconds()).cast("float64") / 86400.0
        queries["delay"] = quantile_query(t.filter(rows.labeled), internal, days, (0.5,), interval=False)
    return Plan(defs, tuple(key_exprs), internal, queries)


def compute_on_table(engine: Engine, spec: ModelSpec, table: ir.Table, grouping: Grouping = Grouping(),
                     metrics: Sequence[str] | None = None) -> MetricsResult:
    """Like :func:`compute_metrics` on an already filtered log-shaped table.

    Returns no rows (rather than raising) when the table is empty.
    """
    plan = plan_queries(spec, table, grouping, metrics)
    keys = plan.internal_keys
    names = tuple(d.name for d in plan.defs)
    groups = _by_group(engine, spec, plan.queries["sums"], keys)
    groups = {k: v for k, v in groups.items() if (v.get("n") or 0) > 0}
    if not groups:
        return MetricsResult(spec.name, spec.task, plan.group_keys, (), names)
    if "score" in plan.queries:
        stage = _by_group(engine, spec, plan.queries["score"], keys)
        for k, a in groups.items():
            a["score"] = stage.get(k, {})
    if "latency" in plan.queries:
        stage = _by_group(engine, spec, plan.queries["latency"], keys)
        for k, a in groups.items():
            a["lat"] = stage.get(k, {"m": 0})
    if "confusion" in plan.queries:
        cms: dict[GroupKey, dict] = {}
        for r in engine.execute(plan.queries["confusion"], spec).to_pylist():
            cms.setdefault(_key(r, keys), {})[(r[C.LABEL], r[C.PRED])] = int(r["cnt"])
        for k, a in groups.items():
            a["cm"] = cms.get(k, {})
            a["classes"] = spec.columns.classes
    delays: dict[GroupKey, float] = {}
    if "delay" in plan.queries:
        stage = _by_group(engine, spec, plan.queries["delay"], keys)
        delays = {k: interpolate(int(a["m"]), 0.5, a["lo_0"], a["hi_0"]) for k, a in stage.items() if a.get("m")}

    out = []
    for k in sorted(groups, key=_sort_key):
        a = groups[k]
        values = {d.name: _checked(d, d.finish(a)) for d in plan.defs}
        out.append(MetricsRow(group=_group_dict(plan.group_keys, k), n=int(a["n"]),
                              n_labeled=int(a.get("n_labeled") or 0), metrics=values,
                              label_delay_days=delays.get(k)))
    return MetricsResult(spec.name, spec.task, plan.group_keys, tuple(out), names)


def _checked(d: MetricDef, v: MetricValue) -> MetricValue:
    """Flag label metrics that rest on fewer than MIN_LABELED rows (the value stays)."""
    if d.kind == "label" and v.value is not None and v.reason is None and v.n < MIN_LABELED:
        return replace(v, reason=f"only {v.n:,} labeled rows; at least {MIN_LABELED} needed for a reliable {d.name}")
    return v


def _key(row: dict, keys: Iterable[str]) -> GroupKey:
    return tuple(row[k] for k in keys)


def _by_group(engine: Engine, spec: ModelSpec, expr: ir.Table, keys: Sequence[str]) -> dict[GroupKey, dict]:
    return {_key(r, keys): r for r in engine.execute(expr, spec).to_pylist()}


def _sort_key(k: GroupKey):
    return tuple((v is None, v if v is not None else "") for v in k)


def _group_dict(names: Sequence[str], k: GroupKey) -> dict[str, Any]:
    return {n: (v.isoformat() if isinstance(v, (_dt.date, _dt.datetime)) else v) for n, v in zip(names, k)}
