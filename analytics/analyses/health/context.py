"""What every health rule reads, computed once per model: the windows (current,
performance, reference), the versions checked, weekly counts, and the registry metrics
the rules need on each window (the queries are shared: one registry call per window)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import ibis

from analytics.config.alerts import AlertSettings
from analytics.config.times import parse_time
from analytics.config.workspace import ModelSpec
from analytics.errors import EmptySelectionError
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.metrics import PRIMARY_METRIC, get_metric
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, Selection
from ..drift import default_reference
from ..quality.health import day_quality
from ..roles import SHADOW, Roles, version_roles
from .reasons import WEEK, Findings, day, span_text

BY_VERSION = Grouping(by=("version",))


@dataclass
class HealthContext:
    """One model's evaluation state (see the module docstring); rules only read it."""

    engine: Engine
    spec: ModelSpec
    cfg: AlertSettings
    findings: Findings
    counts: Mapping[tuple[int, str], tuple[int, int]]
    versions: tuple[str, ...]
    champion: str
    cur_start: _dt.datetime
    cur_end: _dt.datetime
    cur_period: str
    cur_sel: Selection
    perf_k: int | None
    perf_sel: Selection | None
    perf_period: str
    ref_sel: Selection
    ref_period: str
    windows: dict[str, tuple[_dt.datetime, _dt.datetime]] = field(default_factory=dict)
    perf_rows: Mapping[str, Any] = field(default_factory=dict)
    cur_rows: Mapping[str, Any] = field(default_factory=dict)
    ref_rows: Mapping[str, Any] = field(default_factory=dict)
    #: the time the verdict is for (rules such as freshness measure ages from it)
    now: _dt.datetime | None = None
    #: the roles of the model's versions; shadows with current traffic, left out of the verdict
    roles: Roles | None = None
    shadows: tuple[str, ...] = ()
    _quality: Any = field(default=None, repr=False)

    @property
    def general(self) -> Mapping[str, Any]:
        return self.cfg.general

    def totals(self, k: int) -> tuple[int, int]:
        """Predictions and labeled ones of the checked versions, ``k`` weeks back."""
        n = sum(self.counts.get((k, v), (0, 0))[0] for v in self.versions)
        nl = sum(self.counts.get((k, v), (0, 0))[1] for v in self.versions)
        return n, nl

    def reference(self, v: str, metric: str):
        """The reference value of ``v``, else of the reference window's main serving version:
        ``(value, version)`` (a shadow's re-scores are not the deployment's)."""
        serving = [x for x in self.ref_rows if not self.is_shadow(x)] or list(self.ref_rows)
        champion = max(serving, key=lambda x: self.ref_rows[x].n, default=None)
        src = v if v in self.ref_rows else champion
        mv = self.ref_rows[src].metrics.get(metric) if src is not None else None
        return (mv, src) if mv is not None and mv.value is not None else (None, None)

    def quality(self):
        """The day-by-day quality run of the current window against the reference (run
        once: the ``quality`` rule's reasons and the ``volume_drop`` rule's counts), or
        the error that stopped it."""
        if self._quality is None:
            self._quality = day_quality(self.engine, self.spec, self.ref_sel, self.cur_start, self.cur_end, self.now)
        return self._quality

    def is_shadow(self, v: str) -> bool:
        return self.roles is not None and self.roles.role(v) == SHADOW

    # what the built-in rules need, so that one registry call per window serves them all
    def thresholds(self) -> list[tuple[str, Mapping[str, float], bool]]:
        """``(metric, levels, is_floor)`` of every floor, then every ceiling."""
        return ([(m, lv, True) for m, lv in self.cfg.floors.items()]
                + [(m, lv, False) for m, lv in self.cfg.ceilings.items()])

    @property
    def drop_metric(self) -> str:
        drop = self.cfg.rules["drop"]
        return drop["metric"] or self.spec.compare.get("primary_metric") or PRIMARY_METRIC[self.spec.task]

    @property
    def use_latency(self) -> bool:
        return bool(self.cfg.rules["latency_p95"]["enabled"] and self.spec.columns.latency_ms)


def weekly_counts(engine: Engine, spec: ModelSpec, end: _dt.datetime, weeks: int) -> dict[tuple[int, str], tuple[int, int]]:
    """(weeks back, version) -> (predictions, labeled) for the 7-day windows ending at ``end``."""
    t = engine.log(spec)
    start = end - weeks * WEEK
    t = t.filter((t[C.TS] >= ibis.literal(start)) & (t[C.TS] < ibis.literal(end)))
    k = ibis.cases(*[(t[C.TS] >= ibis.literal(end - (i + 1) * WEEK), i) for i in range(weeks)], else_=weeks)
    agg = t.group_by(k=k, v=t[C.VERSION]).aggregate(n=t.count(), nl=t[C.LABELED].cast("int64").sum())
    return {(int(r["k"]), str(r["v"])): (int(r["n"]), int(r["nl"] or 0)) for r in engine.execute(agg, spec).to_pylist()}


def version_metrics(engine: Engine, selection: Selection, metrics: Sequence[str]) -> dict[str, Any]:
    """Registry metrics per version (empty when the selection holds no rows)."""
    try:
        result = compute_metrics(engine, selection, BY_VERSION, metrics=metrics, label_delay=False)
    except EmptySelectionError:
        return {}
    return {str(r.group.get("version")): r for r in result.rows}


def build_context(engine: Engine, spec: ModelSpec, cfg: AlertSettings, findings: Findings,
                  now: _dt.datetime) -> tuple[HealthContext | None, dict]:
    """``(context, windows)``: the windows and shared metrics; no context (its reason in
    ``findings``) when no version has enough current traffic to be checked."""
    g = cfg.general
    cur_end = day(now) + _dt.timedelta(days=1)
    cur_start = cur_end - WEEK
    cur_period = span_text(cur_start, cur_end)
    weeks = max(int(g["lookback_weeks"]), int(cfg.rules["label_coverage"]["after_weeks"]) + 1)
    counts = weekly_counts(engine, spec, cur_end, weeks)
    windows = {"current": (cur_start, cur_end)}
    roles = version_roles(engine, spec)
    versions, shadows = _versions(counts, g, roles)
    current = {v: n for (k, v), (n, _) in counts.items() if k == 0}
    if not versions:
        left = f" ({', '.join(shadows)}: shadow, left out)" if shadows else ""
        findings.add("traffic", "volume", float(sum(n for v, n in current.items() if v not in shadows)),
                     float(g["min_rows"]), "warn", cur_period,
                     f"No version has at least {g['min_rows']:,} predictions in the current window "
                     f"({cur_period}){left}.")
        return None, windows
    ctx = HealthContext(engine, spec, cfg, findings, counts, versions, max(versions, key=lambda v: current.get(v, 0)),
                        cur_start, cur_end, cur_period, Selection.build(spec.name, cur_start, cur_end, versions),
                        None, None, "", *_reference(engine, spec, g), windows=windows, now=now,
                        roles=roles, shadows=shadows)
    _shadow_notes(ctx)
    _performance_window(ctx)
    _fetch_metrics(ctx)
    return ctx, windows


def _versions(counts, g, roles: Roles) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(checked, shadows)``: the versions checked -- the serving ones with ``min_rows``
    predictions in the current window (or the ones listed) -- and the shadows with as
    many, left out of the verdict (they decide nothing; the recommendations still weigh
    them as candidates)."""
    if g["versions"]:
        return tuple(g["versions"]), ()
    current = {v: n for (k, v), (n, _) in counts.items() if k == 0}
    busy = sorted(v for v, n in current.items() if n >= g["min_rows"])
    return (tuple(v for v in busy if roles.role(v) != SHADOW),
            tuple(v for v in busy if roles.role(v) == SHADOW))


def _shadow_notes(ctx: HealthContext) -> None:
    """One info reason per shadow left out of the verdict."""
    for v in ctx.shadows:
        how = "declared in [models] shadow" if ctx.roles.detail[v].reason == "declared" else \
            "detected: the ids it scores are scored by a serving version too"
        ctx.findings.info("roles", ctx.cur_period,
                          f"{v} is a shadow ({how}): it decides nothing, so the verdict is on "
                          f"{', '.join(ctx.versions)} (serving); its value is value if promoted.", version=v)


def _reference(engine: Engine, spec: ModelSpec, g) -> tuple[Selection, str]:
    if g["reference_start"] or g["reference_end"]:
        rs = parse_time(g["reference_start"], "reference_start")
        re_ = parse_time(g["reference_end"], "reference_end")
        ref_sel = Selection.build(spec.name, rs, re_)
    else:
        ref_sel = default_reference(engine, spec)[0]
    ref_period = span_text(ref_sel.start, ref_sel.end) if ref_sel.start and ref_sel.end else ref_sel.describe()
    return ref_sel, ref_period


def _performance_window(ctx: HealthContext) -> None:
    """The latest week with enough labels (a warning when there is none)."""
    g = ctx.general
    ctx.perf_k = next((k for k in range(int(g["lookback_weeks"]))
                       if ctx.totals(k)[1] >= g["min_labels"]
                       and ctx.totals(k)[1] >= g["min_label_coverage"] * ctx.totals(k)[0]), None)
    if ctx.perf_k is None:
        ctx.findings.add("performance_window", "label_coverage", None, float(g["min_labels"]), "warn",
                         ctx.cur_period,
                         f"No 7-day window in the last {g['lookback_weeks']} weeks has {g['min_labels']:,} labeled "
                         f"predictions with {g['min_label_coverage']:.0%} coverage: performance cannot be checked.")
    else:
        perf = (ctx.cur_start - ctx.perf_k * WEEK, ctx.cur_end - ctx.perf_k * WEEK)
        ctx.windows["performance"] = perf
        ctx.perf_sel = Selection.build(ctx.spec.name, perf[0], perf[1], ctx.versions)
        ctx.perf_period = span_text(*perf)
    if ctx.ref_sel.start and ctx.ref_sel.end:
        ctx.windows["reference"] = (ctx.ref_sel.start, ctx.ref_sel.end)


def _fetch_metrics(ctx: HealthContext) -> None:
    """The metrics the floors, ceilings, drop and latency rules read, one registry call per window."""
    spec = ctx.spec
    thresholds = ctx.thresholds()
    label_ms = [m for m, _, _ in thresholds if get_metric(m, None).kind == "label"
                and spec.task in get_metric(m, None).tasks]
    op_ms = [m for m, _, _ in thresholds if get_metric(m, None).kind != "label"
             and spec.task in get_metric(m, None).tasks]
    drop_on = ctx.cfg.rules["drop"]["enabled"]
    perf_wanted = tuple(dict.fromkeys(label_ms + ([ctx.drop_metric] if drop_on else []))) if ctx.perf_sel else ()
    cur_wanted = tuple(dict.fromkeys(op_ms + (["latency_p95"] if ctx.use_latency else [])))
    if ctx.perf_k == 0:  # labels are in for the current week: one registry call serves both
        ctx.perf_rows = ctx.cur_rows = version_metrics(ctx.engine, ctx.cur_sel, perf_wanted + cur_wanted)
    else:
        ctx.perf_rows = version_metrics(ctx.engine, ctx.perf_sel, perf_wanted) if perf_wanted else {}
        ctx.cur_rows = version_metrics(ctx.engine, ctx.cur_sel, cur_wanted) if cur_wanted else {}
    ref_wanted = tuple(dict.fromkeys(([ctx.drop_metric] if drop_on and ctx.perf_rows else [])
                                     + (["latency_p95"] if ctx.use_latency else [])))
    ctx.ref_rows = version_metrics(ctx.engine, ctx.ref_sel, ref_wanted) if ref_wanted else {}
