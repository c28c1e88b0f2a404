"""The report's sections: each a builder ``(ModelInput, earlier) -> dict`` for its template.

A builder gathers numbers from the library's own functions -- the metrics
registry, value, compare, health, drift and segments modules -- and never
recomputes a metric; it only chooses what to show, formats it (metric values
with the registry's formatter, as ``lastmile metrics`` prints them) and queues
charts made by the app's chart functions (drawn by
:class:`~analytics.render.report.svg.ChartSet`). Every dict has ``template`` (the
partial under ``templates/sections/``) and ``title``; a section that has
nothing to show carries ``empty`` (the sentence that says why) instead of an
empty table or chart. Optional keys feed the cover: ``verdict``, ``tiles``,
``highlights``, and ``summary`` the portfolio's row of the model.
"""

from __future__ import annotations

import dataclasses

import datetime as _dt
import functools
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from analytics.analyses.compare import compare_versions
from analytics.analyses.drift import compute_drift, distribution, drift_over_time, resolve_windows
from analytics.analyses.health import model_health
from analytics.analyses.roles import pooled_selection, version_roles
from analytics.analyses.segments import MIN_SUPPORT, SIGNIFICANT_Q, weak_segments as find_weak
from analytics.analyses.value import compute_value
from analytics.errors import EmptySelectionError
from analytics.metrics import METRICS, PRIMARY_METRIC, format_value, get_metric, metric_names
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, Selection
from analytics.render import format as fmt
from ..charts import bar_by_group, compare_forest, distribution_chart, metric_over_time, volume_chart
from ..charts.drift_rule import drift_rule_chart
from .incidents import incidents_section
from .perclass import per_class
from .estimates import estimate_cells

#: Users' documentation (one Markdown file per area) shown in the method notes.
DOCS = Path(__file__).resolve().parents[2] / "docs"
#: Threads building one model's sections concurrently (queries overlap compilation).
WORKERS = 2
#: Chart width in CSS pixels (the content width of A4 and Letter at 96 px/in is ~690-720).
WIDTH = 720


@dataclass
class ModelReport:
    """One model's built sections (and the facts the portfolio summary needs)."""

    model: str
    description: str
    task: str
    parts: list[list[dict]]         # the sections, in reading order, by part (pages typeset together)
    summary: dict[str, Any]
    metrics_used: list[str]
    areas: list[str]


def chart_period(days: float) -> str:
    """Granularity of over-time charts and tables for a window of ``days``."""
    if days <= 21:
        return "day"
    if days <= 200:
        return "week"
    return "month"


def _history(mi) -> Selection:
    """The report period together with the previous one (the over-time window)."""
    return mi.selection.replace(start=mi.previous.start) if mi.previous is not None else mi.selection


def _window_days(sel: Selection) -> float:
    if sel.start is None or sel.end is None:
        return 0.0
    return (sel.end - sel.start).total_seconds() / 86400


def _interval(d, lo: float | None, hi: float | None) -> str:
    return f"[{format_value(d, lo)}, {format_value(d, hi)}]" if lo is not None and hi is not None else fmt.MISSING


def _metric_cells(d, v) -> dict:
    """A registry value formatted as ``lastmile metrics`` prints it (the registry's formatter)."""
    if v is None:
        return {"value": fmt.MISSING, "interval": fmt.MISSING, "n": fmt.MISSING, "reason": None}
    return {"value": format_value(d, v.value),
            "interval": _interval(d, v.ci_low, v.ci_high) if v.value is not None else fmt.MISSING,
            "n": fmt.count(v.n) if v.value is not None else fmt.MISSING, "reason": v.reason}


def _direction(change: float | None, higher_is_better: bool | None) -> str:
    if change is None or higher_is_better is None or change == 0:
        return ""
    return "good" if (change > 0) == higher_is_better else "bad"


# ------------------------------------------------------------------ sections


def cover(mi, built: list[dict]) -> dict:
    """Model, description, the verdict, highlights and headline tiles of the other sections,
    period, previous period, data range, versions and generation time."""
    k = built[0]
    end_shown = mi.selection.end - _dt.timedelta(days=1) if mi.selection.end else None
    prev = mi.previous
    tiles = [
        {"label": "Predictions", "value": fmt.compact(k["volume"]), "sub": f"{fmt.count(k['n_labeled'])} labeled"},
        {"label": "Label coverage", "value": k["coverage"]["value"], "sub": f"median delay {k['label_delay']}"},
        {"label": k["primary"]["label"], "value": k["primary"]["value"], "sub": f"95% {k['primary']['interval']}"},
    ]
    return {
        "template": "cover.html.j2", "title": mi.model,
        "model": mi.model, "description": mi.spec.description, "task": mi.spec.task,
        "period": f"{fmt.date(mi.selection.start)} to {fmt.date(end_shown)}",
        "period_days": round(_window_days(mi.selection)),
        "bounds": f"--start {fmt.date(mi.selection.start)} --end {fmt.date(mi.selection.end)}",
        "previous": (f"{fmt.date(prev.start)} to {fmt.date(prev.end - _dt.timedelta(days=1))}"
                     if prev is not None else "none (the period starts with the data)"),
        "data_range": (f"{fmt.date(mi.span.first)} to {fmt.date(mi.span.last)}, {fmt.count(mi.span.n)} predictions"
                       if mi.span.first else "no predictions"),
        "versions": ", ".join(k["versions"]) or fmt.MISSING,
        "generated_at": mi.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        "verdict": next((s["verdict"] for s in built if s.get("verdict")), None),
        "tiles": tiles + [t for s in built for t in s.get("tiles", ())],
        "highlights": [h for s in built for h in s.get("highlights", ())],
    }


def kpis(mi) -> dict:
    """Every registry metric of the task for the period, with its interval and the change
    against the previous period of equal length (``compute_metrics``, no grouping)."""
    task = mi.spec.task
    names = metric_names(task)
    # the figures pool the serving versions (a shadow's re-scores are not the deployment's)
    psel, pooled = pooled_selection(mi.engine, mi.selection)
    roles = version_roles(mi.engine, mi.spec)
    cur = compute_metrics(mi.engine, psel).rows
    prev = ()
    if mi.previous is not None:
        try:
            prev = compute_metrics(mi.engine, pooled_selection(mi.engine, mi.previous)[0], label_delay=False).rows
        except EmptySelectionError:  # a gap in the data: no previous period to compare with
            prev = ()
    cur_row = cur[0] if cur else None
    prev_row = prev[0] if prev else None
    by_version = compute_metrics(mi.engine, mi.selection, Grouping(by=("version",)),
                                 metrics=["volume", PRIMARY_METRIC[task]], label_delay=False).rows
    rows = []
    for name in names:
        d = get_metric(name, task)
        v = cur_row.metrics.get(name) if cur_row else None
        p = prev_row.metrics.get(name) if prev_row else None
        change = (v.value - p.value) if (v is not None and p is not None and v.value is not None
                                          and p.value is not None) else None
        rows.append({"name": name, "label": d.label, **_metric_cells(d, v),
                     "previous": format_value(d, p.value) if p is not None else fmt.MISSING,
                     "change": fmt.delta(change, d.fmt), "direction": _direction(change, d.higher_is_better)})
    primary = get_metric(PRIMARY_METRIC[task], task)
    pv = cur_row.metrics.get(primary.name) if cur_row else None
    cov = cur_row.metrics.get("label_coverage") if cur_row else None
    versions = sorted(by_version, key=lambda r: (-r.n, str(r.group["version"])))
    return {
        "template": "kpis.html.j2", "title": "Key figures",
        "rows": rows, "n": cur_row.n if cur_row else 0, "n_labeled": cur_row.n_labeled if cur_row else 0,
        "has_previous": prev_row is not None,
        "label_delay": fmt.days(cur_row.label_delay_days) if cur_row else fmt.MISSING,
        "primary": {"label": primary.label, **_metric_cells(primary, pv)},
        "coverage": _metric_cells(get_metric("label_coverage", task), cov),
        "versions": tuple(r.group["version"] for r in versions),
        "pooled": pooled,
        "version_rows": [{**_metric_cells(primary, r.metrics.get(primary.name)), "version": r.group["version"],
                          "role": roles.role(r.group["version"]),
                          "predictions": fmt.count(r.n), "labeled": fmt.count(r.n_labeled),
                          "share": ("shadow (re-scores, not traffic)"
                                    if roles.role(r.group["version"]) == "shadow" and r.n != (cur_row.n if cur_row else 0)
                                    else fmt.pct(r.n / cur_row.n) if cur_row and cur_row.n else fmt.MISSING)}
                         for r in versions],
        "volume": cur_row.n if cur_row else 0,
        "empty": None if cur_row and cur_row.n else "There are no predictions in the report period.",
        "estimated": estimate_cells(mi, psel) if cur_row and cur_row.n else {},
    }


def over_time(mi, earlier: dict) -> dict:
    """The primary metric and the volume per version over the period and the previous one."""
    task = mi.spec.task
    primary = get_metric(PRIMARY_METRIC[task], task)
    window = _history(mi)
    period = chart_period(_window_days(window))
    res = compute_metrics(mi.engine, window, Grouping(by=("version", "period"), period=period),
                          metrics=["volume", primary.name], label_delay=False)
    frame = res.to_polars()
    out = {"template": "over_time.html.j2", "title": "Performance over time", "period": period,
           "metric": primary.label, "window": f"{fmt.date(window.start)} to {fmt.date(window.end)}",
           "chart": None, "volume_chart": None, "empty": None}
    if frame.is_empty():
        out["empty"] = "There are no predictions in this window."
        return out

    out["volume_chart"] = mi.charts.add(volume_chart(frame, title=f"Predictions per {period}", height=220),
                                        alt=f"Predictions per {period} and version", width=WIDTH, height=220)
    if frame[primary.name].drop_nulls().is_empty():
        reasons = sorted({r for r in frame[f"{primary.name}_reason"].to_list() if r})
        out["empty"] = (f"{primary.label} cannot be drawn over time: no {period} has enough labeled predictions"
                        + (f" ({reasons[0]})" if reasons else "") + ". Outcomes may not have arrived yet.")
    else:
        # periods without the metric (no labels yet) are left out rather than drawn as gaps in the band
        known = frame.filter(frame[primary.name].is_not_null())
        out["chart"] = mi.charts.add(
            metric_over_time(known, primary.name, label=primary.label, fmt=primary.fmt, by="version",
                             title=f"{primary.label} per {period} and version (95% interval)", height=300),
            alt=f"{primary.label} per {period} and version", width=WIDTH, height=300)
    return out


def label_coverage(mi, earlier: dict) -> dict:
    """Labeled share and label delay per period (the registry's ``label_coverage``)."""
    window = _history(mi)
    period = chart_period(_window_days(window))
    res = compute_metrics(mi.engine, window, Grouping(by=("period",), period=period),
                          metrics=["volume", "label_coverage"])
    d = get_metric("label_coverage", mi.spec.task)
    rows = [{"period": fmt.date(r.group["period"]), "n": fmt.count(r.n), "n_labeled": fmt.count(r.n_labeled),
             **_metric_cells(d, r.metrics.get("label_coverage")),
             "delay": fmt.days(r.label_delay_days)} for r in sorted(res.rows, key=lambda r: str(r.group["period"]))]
    no_labels = all(r.n_labeled == 0 for r in res.rows)
    return {"template": "coverage.html.j2", "title": "Label coverage", "period": period, "rows": rows,
            "no_labels": no_labels,
            "empty": None if res.rows else "There are no predictions in this window."}


def value(mi, earlier: dict) -> dict:
    """Value, baseline, compute cost, net value and ROI, in total and per version (value module)."""
    out = {"template": "value.html.j2", "title": "Value and ROI", "rows": [], "total": None, "empty": None,
           "notes": [], "summary": {}, "tiles": []}
    business = mi.spec.business
    if business is None:
        out["empty"] = ("No business values are configured for this model, so its value is unknown. Add a "
                        "[models.business] table to lastmile.toml (value of each outcome, compute cost).")
        return out

    cur = business.currency
    total = compute_value(mi.engine, mi.selection)
    per_version = compute_value(mi.engine, mi.selection, Grouping(by=("version",)))

    def cells(r) -> dict:
        return {"n": fmt.count(r.n), "n_labeled": fmt.count(r.n_labeled),
                "value": fmt.money(r.value, cur), "baseline": fmt.money(r.baseline_value, cur),
                "lift": fmt.money(r.lift, cur), "cost": fmt.money(r.compute_cost, cur),
                "net": fmt.money(r.net_value, cur),
                "returns": fmt.value_for_money(r.net_value, r.compute_cost, cur),
                "roi": roi_text(r.roi), "role": r.role,
                "pending": fmt.money(r.pending_expected_value, cur),
                "pending_share": fmt.pct(r.pending_share),
                "reasons": [x for x in (r.value_reason, r.baseline_reason, r.roi_reason) if x]}

    out["rows"] = [{"version": r.group.get("version"), **cells(r)}
                   for r in sorted(per_version.rows, key=lambda r: -r.n)]
    t = total.rows[0] if total.rows else None
    if t is None or t.n == 0:
        out["empty"] = "There are no predictions in the report period, so there is no value to report."
        return out
    out["total"] = cells(t)
    out["pooled"] = total.totals.pooled() if total.totals else ""
    out["shadow_versions"] = list(total.totals.shadow_versions) if total.totals else []
    out["raw_roi"] = [f"{r.group.get('version')}: {roi_text(r.roi)}" for r in per_version.rows if r.roi is not None] \
        + ([f"total: {roi_text(t.roi)}"] if t.roi is not None else [])
    out["currency"] = cur
    out["baseline_policy"] = total.assumptions.baseline
    out["threshold"] = total.threshold_used
    out["notes"] = list(total.warnings) + sorted({x for r in per_version.rows for x in
                                                   (r.pending_assumption,) if x})
    net = fmt.money(t.net_value, cur)
    out["summary"] = {"net_value": net}
    out["tiles"] = [{"label": "Net value", "value": fmt.money(t.net_value, cur, short=True),
                     "sub": f"{fmt.value_for_money(t.net_value, t.compute_cost, cur, short=True)}, "
                            f"vs {total.assumptions.baseline.replace('_', ' ')}"
                            + (f"; {', '.join(out['shadow_versions'])} (shadow) not added"
                               if out["shadow_versions"] else "")}]
    if t.n_labeled == 0:
        out["empty"] = ("No prediction in the period has a known outcome yet, so realized value cannot be "
                        "computed; the pending column estimates it from the scores.")
    return out


def roi_text(roi: float | None) -> str:
    """ROI (net value / compute cost) as a multiple of the cost: ``2.5 -> "2.5x"``."""
    if roi is None:
        return fmt.MISSING
    return f"{roi:,.0f}×" if abs(roi) >= 100 else f"{roi:,.1f}×"


def _champion_and_challengers(kpis_section: dict, limit: int = 2) -> tuple[str | None, list[str]]:
    """Champion: the version with most traffic in the period; challengers: the next ones."""
    versions = list(kpis_section.get("versions", ()))
    return (versions[0] if versions else None), versions[1:1 + limit]


def _compare_entry(mi, champion: str, cand: str) -> dict:
    """One champion-challenger comparison, formatted (``empty`` when it cannot be made)."""
    task = mi.spec.task
    entry = {"baseline": champion, "candidate": cand, "chart": None}
    try:
        c = compare_versions(mi.engine, mi.selection, champion, cand)
    except EmptySelectionError as exc:
        entry["empty"] = str(exc)
        return entry
    rows, forest = [], []
    for name, m in c.metrics.items():
        d = get_metric(name, task)
        better = m.candidate_better
        significant = m.p_value is not None and m.p_value < c.settings.alpha
        rows.append({"label": d.label, "baseline": format_value(d, m.baseline),
                     "candidate": format_value(d, m.candidate), "delta": fmt.delta(m.delta, d.fmt),
                     "interval": fmt.interval(m.ci_low, m.ci_high, d.fmt), "p": fmt.p_value(m.p_value),
                     "method": m.method, "primary": name == c.primary_metric,
                     "direction": ("good" if better else "bad") if significant and better is not None else ""})
        if d.kind == "label" and m.delta is not None:
            forest.append({"metric": name, "label": d.label, "delta": m.delta, "ci_low": m.ci_low,
                           "ci_high": m.ci_high, "better": better})
    pm = get_metric(c.primary_metric, task)
    entry.update({
        "verdict": c.verdict, "paired": c.paired, "reasons": list(c.reasons),
        "primary": get_metric(c.primary_metric, task).label,
        "n_baseline": fmt.count(c.n_baseline), "n_candidate": fmt.count(c.n_candidate),
        "overlap": fmt.pct(c.overlap) if c.overlap is not None else None,
        "rows": rows, "empty": None,
        "losing": [{"segment": f"{s.column} = {s.value}", "baseline": format_value(pm, s.baseline),
                    "candidate": format_value(pm, s.candidate), "delta": fmt.delta(s.delta, pm.fmt),
                    "p": fmt.p_value(s.p_adjusted)} for s in c.losing_segments],
        "highlight": f"{cand} vs {champion}: {c.verdict}. {c.reasons[0] if c.reasons else ''}",
    })
    if forest:
        entry["chart"] = mi.charts.add(
            compare_forest(forest, title=f"{cand} minus {champion}, label metrics (95% interval)"),
            alt=f"Difference {cand} minus {champion} per metric", width=WIDTH,
            height=max(220, 26 * len(forest) + 90))
    return entry


def comparison(mi, earlier: dict) -> dict:
    """Champion against each challenger (compare module): every metric tested, and the verdict.

    The comparisons run concurrently (each on its own engine connection).
    """
    out = {"template": "compare.html.j2", "title": "Version comparison", "comparisons": [], "empty": None,
           "highlights": []}
    champion, challengers = _champion_and_challengers(earlier["kpis"])
    if champion is None or not challengers:
        out["empty"] = ("Only one version served predictions in the report period"
                        + (f" ({champion})" if champion else "") + ", so there is nothing to compare.")
        return out
    with ThreadPoolExecutor(max_workers=len(challengers), thread_name_prefix="lastmile-compare") as pool:
        entries = list(pool.map(lambda cand: _compare_entry(mi, champion, cand), challengers))
    out["comparisons"] = entries
    out["highlights"] = [e["highlight"] for e in entries if e.get("highlight")]
    return out


def health(mi, earlier: dict) -> dict:
    """The one-line verdict and every reason (health module), as of the end of the report period."""
    now = mi.selection.end - _dt.timedelta(microseconds=1) if mi.selection.end else None
    h = model_health(mi.engine, mi.spec, now=now)
    findings = [r for r in h.reasons if r.level != "info"]
    words = {"healthy": "Healthy", "warn": "Needs attention", "pull": "Pull the model"}
    if findings:
        worst = next(r for r in findings if r.level == h.status) if h.status != "healthy" else findings[0]
        headline = f"{words[h.status]}: {worst.message}"
    else:
        headline = f"{words[h.status]}: every health check that could be evaluated passed."
    rows = [{"rule": r.rule.replace("_", " "), "level": r.level, "metric": r.metric or "", "version": r.version or "",
             "observed": fmt.num(r.observed), "threshold": fmt.num(r.threshold), "period": r.period,
             "message": r.message} for r in sorted(h.reasons, key=lambda r: ("pull", "warn", "info").index(r.level))]
    windows = {k: f"{fmt.date(a)} to {fmt.date(b - _dt.timedelta(days=1))}" for k, (a, b) in h.windows.items()}
    return {"template": "health.html.j2", "title": "Health checks", "status": h.status, "rows": rows,
            "windows": windows, "empty": None,
            "verdict": {"status": h.status, "headline": headline,
                        "reasons": [r.message for r in findings if r.message not in headline]},
            "summary": {"status": h.status, "headline": headline}}


def _drift_row(role: str, f) -> dict:
    numeric = f.kind == "numeric"
    return {"name": f.name, "role": role, "kind": f.kind, "drifted": f.drifted, "method": f.method,
            "psi": fmt.num(f.psi), "js": fmt.num(f.js_distance),
            "test": (f"KS {fmt.num(f.ks_statistic)}, p {fmt.p_value(f.ks_p_value)}" if numeric
                     else f"χ² p {fmt.p_value(f.chi2_p_value)}"),
            "wasserstein": fmt.num(f.wasserstein_normed) if numeric else fmt.MISSING,
            "n": f"{fmt.count(f.n_ref)} / {fmt.count(f.n_cur)}", "rule": f.rule, "why": f.why,
            "reason": f.reason}


def drift(mi, earlier: dict) -> dict:
    """Drift of every feature, the prediction and the label of the champion version: the report
    period against the documented reference window (drift module), weekly PSI, and the
    distribution of the most drifted feature."""
    out = {"template": "drift.html.j2", "title": "Drift", "rows": [], "empty": None, "chart": None,
           "dist_chart": None, "highlights": [], "overlap": False}
    champion = _champion_and_challengers(earlier["kpis"])[0]
    if champion is None:
        out["empty"] = "There are no predictions in the report period, so there is nothing to compare."
        return out
    # the champion's own inputs and outputs; all versions when it did not exist in the reference window
    res = None
    for versions in ((champion,), ()):
        ref, cur = resolve_windows(mi.engine, mi.spec, current_start=mi.selection.start,
                                   current_end=mi.selection.end, versions=versions)
        try:
            res = compute_drift(mi.engine, mi.spec, ref, cur)
            break
        except EmptySelectionError as exc:
            out["empty"] = str(exc)
    if res is None:
        return out
    out.update(empty=None, version=champion if versions else "all versions",
               fallback=None if versions else f"the champion {champion} has no predictions in the reference window",
               reference=f"{fmt.date(ref.start)} to {fmt.date(ref.end - _dt.timedelta(days=1))}",
               current=f"{fmt.date(cur.start)} to {fmt.date(cur.end - _dt.timedelta(days=1))}",
               overlap=bool(ref.end > cur.start and ref.start < cur.end))
    out["rows"] = [_drift_row(role, f) for role, f in res.targets()]
    out["thresholds"] = res.config
    out["rules"] = {k: res.config.rule(k).text() for k in ("numeric", "categorical")}
    out["n"] = f"{fmt.count(res.reference_n)} reference and {fmt.count(res.current_n)} current predictions"
    drifted = [f for _role, f in res.targets() if f.drifted]
    out["drifted"] = [f.name for f in drifted]
    if drifted:
        out["highlights"] = [f"Drift in {len(drifted)} of {len(out['rows'])} monitored inputs and outputs of "
                             f"{out['version']}: {'; '.join(f'{f.name} ({f.why})' for f in drifted)}."]
    out["summary"] = {"drifted": len(drifted)}
    if not mi.charts.enabled:
        return out

    window = _history(mi).replace(versions=tuple(versions))
    weekly = drift_over_time(mi.engine, mi.spec, ref, window, period="week", label=False)
    weekly = weekly.filter(weekly["psi"].is_not_null())
    if not weekly.is_empty():
        out["chart"] = mi.charts.add(
            drift_rule_chart(weekly, res.config, "psi",
                             title=f"PSI per week against the reference ({out['version']})", height=300),
            alt="PSI per week and input", width=WIDTH, height=300)
    worst = max((f for f in drifted if f.psi is not None), key=lambda f: f.psi, default=None)
    if worst is not None:
        frame = distribution(mi.engine, mi.spec, worst.name, ref, cur)
        out["dist_feature"] = worst.name
        out["dist_chart"] = mi.charts.add(
            distribution_chart(frame, bucket="bin", title=f"{worst.name}: reference vs current share", height=260),
            alt=f"Distribution of {worst.name}", width=WIDTH, height=260)
    return out


def weak_segments(mi, earlier: dict, top: int = 10) -> dict:
    """Where the serving versions do worst on the primary metric over the report period
    (segments module), worst impact first: only the significantly worse ones (q < 0.05);
    when there are none, a sentence says so instead of listing noise."""
    task = mi.spec.task
    d = get_metric(PRIMARY_METRIC[task], task)
    out = {"template": "segments.html.j2", "title": "Weak segments", "rows": [], "empty": None, "chart": None,
           "metric": d.label, "min_support": fmt.count(MIN_SUPPORT), "highlights": [], "none": None}
    if not mi.spec.columns.segments:
        out["empty"] = "The model declares no segment columns (columns.segments in lastmile.toml)."
        return out
    if not earlier["kpis"].get("versions"):
        out["empty"] = "There are no predictions in the report period."
        return out
    selection, pooled = pooled_selection(mi.engine, mi.selection)
    serving = ", ".join(selection.versions) if selection.versions else pooled.removeprefix("pooled over ")
    res = find_weak(mi.engine, selection, d.name)
    out.update(version=serving, overall=format_value(d, res.overall.value),
               overall_interval=_interval(d, res.overall.ci_low, res.overall.ci_high), total=len(res.segments))
    if not res.segments:
        out["empty"] = (f"No segment of {serving} has {fmt.count(MIN_SUPPORT)} labeled predictions in the period, "
                        "so none can be tested" + (f" ({res.overall.reason})" if res.overall.reason else "") + ".")
        return out
    out["none"] = res.none_significant(SIGNIFICANT_Q, "in the report period")
    if out["none"]:
        return out
    res = dataclasses.replace(res, segments=res.weak(SIGNIFICANT_Q))
    shown = res.segments[:top]
    for sg in shown:
        worse = sg.impact is not None and sg.impact > 0
        significant = sg.q_value is not None and sg.q_value < 0.05
        out["rows"].append({
            "segment": ", ".join(f"{k} = {v}" for k, v in sg.where.items()), "labeled": fmt.count(sg.n_labeled),
            "value": format_value(d, sg.metric.value), "interval": _interval(d, sg.metric.ci_low, sg.metric.ci_high),
            "rest": format_value(d, sg.rest.value), "delta": fmt.delta(sg.delta_vs_rest, d.fmt),
            "p": fmt.p_value(sg.p_value), "q": fmt.p_value(sg.q_value), "flag": worse and significant,
            "direction": ("bad" if worse else "good") if significant else ""})
    flagged = [r for r in out["rows"] if r["flag"]]
    if flagged:
        r = flagged[0]
        out["highlights"] = [f"Weakest segment of {serving}: {r['segment']}, {d.label} {r['value']} against "
                             f"{r['rest']} elsewhere (q = {r['q']})."]
    if mi.charts.enabled:
        import polars as pl


        frame = pl.DataFrame({"segment": [r["segment"] for r in out["rows"]],
                              d.name: [sg.metric.value for sg in shown],
                              f"{d.name}_ci_low": [sg.metric.ci_low for sg in shown],
                              f"{d.name}_ci_high": [sg.metric.ci_high for sg in shown],
                              "n": [sg.n_labeled for sg in shown]})
        height = max(220, 26 * len(shown) + 90)
        out["chart"] = mi.charts.add(
            bar_by_group(frame, d.name, "segment", label=d.label, fmt=d.fmt, reference=res.overall.value,
                         title=f"{d.label} per segment of {serving}, worst impact first (95% interval)",
                         height=height),
            alt=f"{d.label} per segment", width=WIDTH, height=height)
    return out


def method_notes(metrics_used: list[str], areas: list[str]) -> dict:
    """Definitions of every metric shown (registry) and the users' docs of each area used."""
    return dict(_method_notes(tuple(dict.fromkeys(metrics_used)), tuple(dict.fromkeys(areas))))


@functools.lru_cache(maxsize=16)
def _method_notes(metrics_used: tuple[str, ...], areas: tuple[str, ...]) -> dict:
    defs = [METRICS[n] for n in dict.fromkeys(metrics_used) if n in METRICS]
    docs = []
    for area in areas:
        path = DOCS / f"{area}.md"
        if path.is_file():
            docs.append({"area": area, "html": markdown_html(path.read_text(encoding="utf-8"))})
    return {"template": "methods.html.j2", "title": "Method notes",
            "metrics": [{"label": d.label, "name": d.name, "description": d.description,
                         "interval": d.interval_method} for d in defs],
            "docs": docs, "empty": None}


#: Doc sections about usage rather than method (workspace keys, commands, JSON, internals, features
#: the report does not use) are left out; so is the metrics doc's table the registry's notes repeat.
USAGE_HEADINGS = re.compile(r"workspace|command|what-if|python|\bapi\b|example|dashboard|usage|\bapp\b|json|"
                            r"exit status|how it (runs|is computed)|\[models|sequential|^the metrics$", re.I)


#: Paragraphs and list items about usage inside method sections: those that open with a
#: command-line flag, a command with flags, a JSON shape, a Python call or a flag list.
USAGE_TEXT = re.compile(r"^`?--[a-z]|^`lastmile [^`]*--|^json\b|^in python|^output:|^flags:|^usage", re.I)


def markdown_html(text: str) -> str:
    """The method part of a user's Markdown doc as HTML (CommonMark plus tables, raw HTML off).

    Code blocks, sections whose heading is about usage (:data:`USAGE_HEADINGS`)
    and paragraphs or list items about usage (:data:`USAGE_TEXT`: flags,
    commands, JSON, Python) are dropped: the report defines methods; the README
    and docs explain usage.
    """
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(text)
    drop = [False] * len(tokens)
    skip_level = None
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            level = int(tok.tag[1])
            if skip_level is not None and level <= skip_level:
                skip_level = None
            if skip_level is None and level >= 2 and USAGE_HEADINGS.search(tokens[i + 1].content):
                skip_level = level
        drop[i] = skip_level is not None or tok.type in ("fence", "code_block")
    # a usage paragraph goes with its list item, if it is in one
    for i, tok in enumerate(tokens):
        if tok.type == "paragraph_open" and USAGE_TEXT.search(tokens[i + 1].content.strip()):
            start = i - 1 if i and tokens[i - 1].type == "list_item_open" else i
            close = "list_item_close" if start != i else "paragraph_close"
            end = next(j for j in range(i + 1, len(tokens))
                       if tokens[j].type == close and tokens[j].level == tokens[start].level)
            drop[start:end + 1] = [True] * (end + 1 - start)
    return md.renderer.render([t for t, d in zip(tokens, drop) if not d], md.options, {})


# ------------------------------------------------------------------ assembly

#: The sections of a model, in reading order after the cover and the key figures:
def _per_class(mi, earlier) -> dict:
    """Multiclass models: per-class metrics and confusion heat maps (:mod:`.perclass`)."""
    return per_class(mi, earlier, WIDTH)


#: (key, area, builder). A builder takes the model's input and the sections built
#: before it (by key); ``area`` names the docs/<area>.md the method notes include.
SECTIONS: list[tuple[str, str, Callable]] = [
    ("health", "health", health),
    ("incidents", "health", incidents_section),
    ("value", "value", value),
    ("over_time", "metrics", over_time),
    ("per_class", "metrics", _per_class),
    ("compare", "compare", comparison),
    ("drift", "drift", drift),
    ("segments", "segments", weak_segments),
    ("coverage", "metrics", label_coverage),
]

#: A model's sections in reading order, in chapters (keys of ``kpis`` and :data:`SECTIONS`).
#: Each chapter starts on a new page and is typeset as soon as its sections are built
#: and its charts drawn (see :mod:`.typeset`), while the later chapters' queries run.
CHAPTERS: tuple[tuple[str, ...], ...] = (("kpis", "health", "incidents", "value"), ("over_time", "per_class", "compare"),
                                         ("drift", "segments", "coverage"))

#: The order sections are started in: chapter by chapter, so the first chapters are ready
#: early, and the longest section of a chapter first. Only ``kpis`` is waited for by others.
START_ORDER = ("kpis", "health", "incidents", "value", "compare", "over_time", "per_class", "drift", "segments", "coverage")


class _Earlier:
    """Sections built (or being built) before the current one, by key; waits for each."""

    def __init__(self, futures: dict[str, Future]):
        self._futures = futures

    def __getitem__(self, key: str) -> dict:
        return self._futures[key].result()


def build_model(mi, say: Callable[[str], None], workers: int = WORKERS, *, cover_alone: bool = True,
                on_part: Callable[[int, list[dict]], None] | None = None) -> ModelReport:
    """All sections of one model, in order, and its parts (pages typeset together).

    The builders run on a small thread pool: each thread has its own engine
    connection (see :class:`~analytics.log.engine.Engine`), so one section's query
    executes while another's is compiled. A builder that needs an earlier
    section (the comparison, drift and segments need the versions ranked by
    traffic) waits for it; that section (``kpis``) is submitted first, so the
    wait cannot deadlock.

    The parts are the cover, alone on its page when ``cover_alone`` (else it heads
    the first chapter, as in the portfolio), and the :data:`CHAPTERS`.
    ``on_part(index, sections)`` is called for each part as soon as it is built
    (from this thread): chapters as they complete, then the cover's part, then the
    last chapter.
    """
    futures: dict[str, Future] = {}
    earlier = _Earlier(futures)
    builders = {"kpis": kpis, **{key: builder for key, _area, builder in SECTIONS}}
    offset = 1 if cover_alone else 0

    def run(key: str):
        say(f"{mi.model}: {key.replace('_', ' ') if key != 'kpis' else 'key figures'}")
        return builders[key](mi) if key == "kpis" else builders[key](mi, earlier)

    chapters: list[list[dict]] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lastmile-report") as pool:
        for key in START_ORDER:
            futures[key] = pool.submit(run, key)
        for i, keys in enumerate(CHAPTERS):
            chapters.append([futures[key].result() for key in keys])
            if on_part is not None and 0 < i + offset < len(CHAPTERS) - 1 + offset:
                on_part(i + offset, chapters[-1])
    built = [s for chapter in chapters for s in chapter]
    k = built[0]
    c = cover(mi, built)
    parts = [[c]] + chapters if cover_alone else [[c] + chapters[0]] + chapters[1:]
    if on_part is not None:
        # the cover before the last chapter: its charts may still be being drawn
        on_part(0, parts[0])
        if len(parts) > 1:
            on_part(len(parts) - 1, parts[-1])
    summary = {"model": mi.model, "task": mi.spec.task, "volume": fmt.count(k["volume"]), "period": c["period"],
               "primary_label": k["primary"]["label"], "primary": k["primary"]["value"],
               "primary_interval": k["primary"]["interval"]}
    for s in built:
        summary.update(s.get("summary", {}))
    return ModelReport(model=mi.model, description=mi.spec.description, task=mi.spec.task, parts=parts,
                       summary=summary, metrics_used=[r["name"] for r in k["rows"]], areas=model_areas())


def model_areas() -> list[str]:
    """The docs areas a model's sections use (the method notes include each one's doc)."""
    return list(dict.fromkeys(["metrics"] + [area for _key, area, _b in SECTIONS]))


def expected_notes(specs) -> dict:
    """The method notes of a report on ``specs`` if every model can be reported on: the
    registry metrics of each task (the key figures show them all) and every area. Known
    before any query, so they can be typeset while the queries run; a model that fails
    contributes nothing to :func:`report_notes`, which then differ."""
    return method_notes([n for spec in specs for n in metric_names(spec.task)], model_areas())


def report_notes(models: list[ModelReport]) -> dict:
    """The method notes of what the report shows: every metric and area of its models."""
    return method_notes([n for m in models for n in m.metrics_used], [a for m in models for a in m.areas])


def report_title(models: list[str], *, portfolio: bool) -> str:
    return "Model portfolio report" if portfolio else f"Model report: {models[0]}"


def failed_model(spec, message: str) -> ModelReport:
    """A portfolio's page for a model that cannot be reported on, saying why."""
    section = {"template": "failed.html.j2", "title": spec.name, "model": spec.name,
               "description": spec.description, "task": spec.task, "message": message}
    summary = {"model": spec.name, "task": spec.task, "volume": fmt.MISSING, "period": "not available",
               "primary_label": get_metric(PRIMARY_METRIC[spec.task], spec.task).label,
               "primary": fmt.MISSING, "primary_interval": fmt.MISSING, "status": None,
               "headline": f"Cannot be reported on: {message}"}
    return ModelReport(model=spec.name, description=spec.description, task=spec.task, parts=[[section]],
                       summary=summary, metrics_used=[], areas=[])


def portfolio_cover(models: list[ModelReport], *, generated_at: _dt.datetime, charts: bool) -> dict:
    """The portfolio report's cover: one row per model, and the count of each status."""
    return {
        "template": "portfolio.html.j2", "title": "Model portfolio report", "models": len(models),
        "summary_rows": [m.summary for m in models],
        "status_counts": {st: sum(1 for m in models if m.summary.get("status") == st)
                          for st in ("pull", "warn", "healthy")},
        "generated_at": generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        "charts_on": charts,
    }
