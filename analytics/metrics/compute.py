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
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator, Sequence

import ibis
import ibis.expr.types as ir

from analytics.config.workspace import ModelSpec
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.query.selection import Grouping, Selection
from analytics.results import record
from analytics.store import incremental as inc
from analytics.store.answers import remembered
from ..errors import EmptySelectionError
from .definitions import LATENCY_QUANTILES, interpolate
from .queries import Rows, confusion_query, quantile_query, score_query, sums_query
from .registry import MIN_LABELED, MetricDef, MetricValue, get_metric, metric_names, missing

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
        return record(self)


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
        return record(self, drop=("group_keys", "metric_names"))

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


def _by_period(q, fn, engine: Engine, given: dict, days: dict) -> MetricsResult | None:
    """The answer on new data from the last one on other data (:mod:`analytics.store.incremental`):
    rows grouped by period are computed again only for the periods holding a changed day
    (one call per run of consecutive periods)."""
    grouping = given["grouping"]
    prev = inc.previous(q, days) if "period" in grouping.by else None
    if prev is None:
        return None
    old, changed = prev
    spans = inc.runs(changed, grouping.period)
    keep = [r for r in old.rows if not inc.within(r.group["period"], spans)]
    new: list[MetricsRow] = []
    for lo, hi in spans:
        part = inc.narrowed(given["selection"], lo, hi)
        if part is None:
            continue
        inc.log.debug("compute_metrics: periods %s to %s computed again", lo, hi)
        try:
            new.extend(fn(engine, part, grouping, given["metrics"], given["label_delay"]).rows)
        except EmptySelectionError:
            pass
    rows = sorted([*keep, *new], key=lambda r: _sort_key(tuple(r.group[k] for k in old.group_keys)))
    return replace(old, rows=tuple(rows)) if rows else None


@remembered("compute_metrics", periods=_by_period)
def compute_metrics(engine: Engine, selection: Selection, grouping: Grouping = Grouping(),
                    metrics: Sequence[str] | None = None, label_delay: bool = True) -> MetricsResult:
    """The requested metrics (default: all of the model's task) for each group of ``selection``.

    ``label_delay=False`` skips the median label delay (one query less; every
    row's ``label_delay_days`` is then None) for callers that do not show it.
    """
    table = selection.apply(engine)
    spec = engine.spec(selection.model)
    result = compute_on_table(engine, spec, table, grouping, metrics, label_delay)
    if not result.rows:
        raise EmptySelectionError(
            f"The selection holds no predictions of model {spec.name!r} ({selection.describe()}).")
    return result


@dataclass(frozen=True)
class Plan:
    """The engine queries one metrics computation runs (``queries`` by stage name)."""

    spec: ModelSpec
    defs: tuple[MetricDef, ...]
    group_keys: tuple[str, ...]        # output names
    rows: Rows                         # the annotated table; rows.keys are the internal key columns
    queries: dict[str, ir.Table]
    #: quantile stages (``latency``, ``delay``): name -> (table, value, quantiles, interval)
    quantiles: dict[str, tuple] = field(default_factory=dict)

    def quantile_query(self, name: str, strategy: str = "rows") -> ir.Table:
        """The query of quantile stage ``name`` with the chosen strategy (see :func:`quantile_query`)."""
        table, value, qs, interval = self.quantiles[name]
        return quantile_query(table, self.rows.keys, value, qs, interval=interval, strategy=strategy)

    def quantile_strategy(self, name: str, groups: dict[GroupKey, dict], exact_quantiles: bool) -> str:
        """The cheapest exact strategy for quantile stage ``name``: ``native`` when
        the backend's quantile aggregate is exact (:attr:`Engine.exact_quantiles`)
        and no interval is needed, ``counts`` when values repeat (from the counts
        the ``sums`` query measured), else ``rows``."""
        interval = self.quantiles[name][3]
        if exact_quantiles and not interval:
            return "native"
        return "counts" if _repeated(groups, name) else "rows"


#: Use the counts-per-distinct-value quantile strategy below this share of distinct values.
REPEATED_VALUES = 0.25


@dataclass(frozen=True)
class Keyed:
    """A log-shaped table annotated with its group keys (``lm_g<i>``, named ``names``)
    and, when asked, the label delay in days of each labeled row (:data:`DELAY`)."""

    t: ir.Table
    keys: tuple[str, ...]
    names: tuple[str, ...]


#: The label delay in days (labeled rows with a label timestamp; NULL otherwise).
DELAY = "lm_delay_days"


def annotate(spec: ModelSpec, table: ir.Table, grouping: Grouping = Grouping(),
             label_delay: bool = True) -> Keyed:
    """``table`` with its group-key columns (and the label delay) added."""
    key_exprs = grouping.keys(table, spec)
    internal = tuple(f"lm_g{i}" for i in range(len(key_exprs)))
    cols: dict[str, Any] = dict(zip(internal, key_exprs.values()))
    if label_delay and spec.columns.label_timestamp:
        days = (table[C.LABEL_TS].epoch_seconds() - table[C.TS].epoch_seconds()).cast("float64") / 86400.0
        cols[DELAY] = ibis.ifelse(table[C.LABELED], days, ibis.null().cast("float64"))
    return Keyed(table.mutate(**cols) if cols else table, internal, tuple(key_exprs))


def plan_queries(spec: ModelSpec, table: ir.Table, grouping: Grouping = Grouping(),
                 metrics: Sequence[str] | None = None, label_delay: bool = True) -> Plan:
    """Build (without running) the queries for ``metrics`` over ``table`` grouped by ``grouping``.

    ``sums`` always; ``score`` and ``confusion`` when a requested metric needs
    them. The quantile stages (``latency`` when a latency metric is asked,
    ``delay`` when asked and the model has a label timestamp) are built after
    the ``sums`` query, which counts their values and distinct values to pick
    the cheaper exact strategy (:meth:`Plan.quantile_strategy`).
    """
    return plan_keyed(spec, annotate(spec, table, grouping, label_delay), metrics)


def plan_keyed(spec: ModelSpec, keyed: Keyed, metrics: Sequence[str] | None = None) -> Plan:
    """:func:`plan_queries` over an already annotated table (see :func:`annotate`)."""
    names = tuple(metrics) if metrics else metric_names(spec.task)
    defs = tuple(get_metric(n, spec.task) for n in names)
    t, internal = keyed.t, keyed.keys
    rows = Rows(t, internal, spec.task,
                decision_from_score=spec.task == "binary" and not spec.columns.prediction)
    stages = {d.stage for d in defs}
    quantiles: dict[str, tuple] = {}
    if "latency" in stages and spec.columns.latency_ms:
        quantiles["latency"] = (t, t[C.LATENCY], LATENCY_QUANTILES, True)
    if DELAY in t.columns:
        quantiles["delay"] = (t, t[DELAY], (0.5,), False)
    aggs: dict[str, ir.Scalar] = {}
    for d in defs:
        if d.aggregates is not None:
            aggs.update(d.aggregates(rows))
    for name, (_, value, _, _) in quantiles.items():   # to choose each quantile strategy
        aggs[f"{name}_nv"] = value.count()
        aggs[f"{name}_nd"] = value.approx_nunique()
    queries = {"sums": sums_query(rows, aggs)}
    if "score" in stages and rows.has_score:
        queries["score"] = score_query(rows)
    if "confusion" in stages and spec.task == "multiclass":
        queries["confusion"] = confusion_query(rows)
    return Plan(spec, defs, keyed.names, rows, queries, quantiles)


def run_plan(engine: Engine, plan: Plan) -> dict[GroupKey, dict]:
    """Run a plan's queries; per group (with at least one row) its merged aggregates.

    A group's dict holds the ``sums`` columns, and per other stage: ``score``
    (dict), ``lat`` (dict), ``cm`` ({(label, prediction): count}) with
    ``classes``, ``delay`` (median label delay in days, or None).
    """
    spec, keys = plan.spec, plan.rows.keys
    groups = {k: v for k, v in _by_group(engine, spec, plan.queries["sums"], keys).items() if (v.get("n") or 0) > 0}
    if not groups:
        return groups
    if "score" in plan.queries:
        stage = _by_group(engine, spec, plan.queries["score"], keys)
        for k, a in groups.items():
            a["score"] = stage.get(k, {})
    if "latency" in plan.quantiles:
        strategy = plan.quantile_strategy("latency", groups, engine.exact_quantiles)
        stage = _by_group(engine, spec, plan.quantile_query("latency", strategy), keys)
        for k, a in groups.items():
            a["lat"] = stage.get(k, {"m": 0})
    if "confusion" in plan.queries:
        cms: dict[GroupKey, dict] = {}
        for r in engine.execute(plan.queries["confusion"], spec).to_pylist():
            cms.setdefault(_key(r, keys), {})[(r[C.LABEL], r[C.PRED])] = int(r["cnt"])
        for k, a in groups.items():
            a["cm"] = cms.get(k, {})
            a["classes"] = spec.columns.classes
    if "delay" in plan.quantiles:
        strategy = plan.quantile_strategy("delay", groups, engine.exact_quantiles)
        stage = _by_group(engine, spec, plan.quantile_query("delay", strategy), keys)
        for k, a in groups.items():
            d = stage.get(k)
            a["delay"] = interpolate(int(d["m"]), 0.5, d["lo_0"], d["hi_0"]) if d and d.get("m") else None
    return groups


#: Canonical columns the metric queries read (segment columns are kept too).
_NEEDED = (C.TS, C.VERSION, C.SCORE, C.PRED, C.LABEL, C.LABEL_TS, C.LATENCY, C.LABELED)


def value_columns(spec: ModelSpec, metrics: Sequence[str] | None = None) -> list[str]:
    """The canonical value columns that ``metrics`` (default: all of the task's) read."""
    defs = [get_metric(n, spec.task) for n in (metrics or metric_names(spec.task))]
    latency = [C.LATENCY] if any(d.stage == "latency" for d in defs) else []
    return [C.LABELED, C.LABEL, C.PRED, C.SCORE] + latency


@contextmanager
def materialized(engine: Engine, spec: ModelSpec, table: ir.Table,
                 metrics: Sequence[str] | None = None) -> Iterator[ir.Table]:
    """The columns of ``table`` that metrics read, computed once into a temporary table.

    Every metric query starts from the joined log (predictions joined to each
    id's latest outcome); on DuckDB that join runs once here instead of once
    per query, and the narrow table (a few columns) is dropped on exit.
    Other backends get ``table`` itself (the queries stay the same). With
    ``metrics``, only what they read (:func:`value_columns`) and the segment
    columns are kept: for callers that group by segments only.
    """
    cols = _NEEDED if metrics is None else value_columns(spec, metrics)
    cols = [c for c in cols if c in table.columns] + [s for s in spec.columns.segments if s in table.columns]
    with engine.temporary(table.select(*cols), spec) as narrow:
        yield narrow


def _repeated(groups: dict[GroupKey, dict], name: str) -> bool:
    """Do the values of quantile stage ``name`` repeat enough for the counts strategy?"""
    n = sum(int(a.get(f"{name}_nv") or 0) for a in groups.values())
    distinct = sum(int(a.get(f"{name}_nd") or 0) for a in groups.values())
    return n > 0 and distinct < REPEATED_VALUES * n


def finish_metrics(defs: Sequence[MetricDef], a: dict) -> dict[str, MetricValue]:
    """Each metric's value from a group's aggregates (with the low-support warning).

    A label metric of a group without any labeled row says just that.
    """
    n, n_labeled = int(a.get("n") or 0), int(a.get("n_labeled") or 0)
    unlabeled = missing(f"no labeled rows: none of the {n:,} predictions has an outcome yet")
    return {d.name: unlabeled if d.kind == "label" and n_labeled == 0 else _checked(d, d.finish(a))
            for d in defs}


def registry_rows(engine: Engine, spec: ModelSpec, table: ir.Table, grouping: Grouping,
                  metrics: Sequence[str]) -> list[MetricsRow]:
    """The registry's metrics per group on a (materialized) log-shaped table, without
    the label delay, as :class:`MetricsRow` in no particular order (empty groups left
    out). What comparisons run on their narrow table (per version, segment or period)."""
    plan = plan_queries(spec, table, grouping, metrics, label_delay=False)
    return [MetricsRow(group=key_dict(plan.group_keys, k), n=int(a["n"]), n_labeled=int(a.get("n_labeled") or 0),
                       metrics=finish_metrics(plan.defs, a))
            for k, a in run_plan(engine, plan).items()]


def compute_on_table(engine: Engine, spec: ModelSpec, table: ir.Table, grouping: Grouping = Grouping(),
                     metrics: Sequence[str] | None = None, label_delay: bool = True) -> MetricsResult:
    """Like :func:`compute_metrics` on an already filtered log-shaped table.

    The group keys and the label delay are computed first, and only they and
    the value columns the requested metrics read are joined and kept once
    (:meth:`Engine.temporary`): the narrowest table every query then reads.
    Returns no rows (rather than raising) when the table is empty.
    """
    keyed = annotate(spec, table, grouping, label_delay)
    cols = list(keyed.keys) + [c for c in value_columns(spec, metrics) + [DELAY] if c in keyed.t.columns]
    with engine.temporary(keyed.t.select(*cols), spec) as narrow:
        plan = plan_keyed(spec, replace(keyed, t=narrow), metrics)
        groups = run_plan(engine, plan)
    out = []
    for k in sorted(groups, key=_sort_key):
        a = groups[k]
        out.append(MetricsRow(group=key_dict(plan.group_keys, k), n=int(a["n"]),
                              n_labeled=int(a.get("n_labeled") or 0), metrics=finish_metrics(plan.defs, a),
                              label_delay_days=a.get("delay")))
    return MetricsResult(spec.name, spec.task, plan.group_keys, tuple(out), tuple(d.name for d in plan.defs))


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


def key_dict(names: Sequence[str], k: GroupKey) -> dict[str, Any]:
    return {n: (v.isoformat() if isinstance(v, (_dt.date, _dt.datetime)) else v) for n, v in zip(names, k)}
