"""The report's key figures: the cover's facts and tiles, every registry metric against the
previous period, the primary metric and volume over time, and label coverage per period."""

from __future__ import annotations

import datetime as _dt

from analytics.analyses.roles import pooled_selection, version_roles
from analytics.errors import EmptySelectionError
from analytics.metrics import PRIMARY_METRIC, format_value, get_metric, metric_names
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping
from analytics.render import format as fmt
from ..charts import metric_over_time, volume_chart
from .common import WIDTH, chart_period, direction, history, metric_cells, window_days
from .estimates import estimate_cells


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
        "period_days": round(window_days(mi.selection)),
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
        rows.append({"name": name, "label": d.label, **metric_cells(d, v),
                     "previous": format_value(d, p.value) if p is not None else fmt.MISSING,
                     "change": fmt.delta(change, d.fmt), "direction": direction(change, d.higher_is_better),
                     "fmt": d.fmt, "raw": (v.value if v is not None else None),
                     "raw_previous": (p.value if p is not None else None), "raw_change": change})
    primary = get_metric(PRIMARY_METRIC[task], task)
    pv = cur_row.metrics.get(primary.name) if cur_row else None
    cov = cur_row.metrics.get("label_coverage") if cur_row else None
    versions = sorted(by_version, key=lambda r: (-r.n, str(r.group["version"])))
    return {
        "template": "kpis.html.j2", "title": "Key figures",
        "rows": rows, "n": cur_row.n if cur_row else 0, "n_labeled": cur_row.n_labeled if cur_row else 0,
        "has_previous": prev_row is not None,
        "label_delay": fmt.days(cur_row.label_delay_days) if cur_row else fmt.MISSING,
        "primary": {"label": primary.label, **metric_cells(primary, pv)},
        "coverage": metric_cells(get_metric("label_coverage", task), cov),
        "versions": tuple(r.group["version"] for r in versions),
        "pooled": pooled,
        "version_rows": [{**metric_cells(primary, r.metrics.get(primary.name)), "version": r.group["version"],
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
    window = history(mi)
    period = chart_period(window_days(window))
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
    window = history(mi)
    period = chart_period(window_days(window))
    res = compute_metrics(mi.engine, window, Grouping(by=("period",), period=period),
                          metrics=["volume", "label_coverage"])
    d = get_metric("label_coverage", mi.spec.task)
    rows = [{"period": fmt.date(r.group["period"]), "n": fmt.count(r.n), "n_labeled": fmt.count(r.n_labeled),
             **metric_cells(d, r.metrics.get("label_coverage")),
             "delay": fmt.days(r.label_delay_days)} for r in sorted(res.rows, key=lambda r: str(r.group["period"]))]
    no_labels = all(r.n_labeled == 0 for r in res.rows)
    return {"template": "coverage.html.j2", "title": "Label coverage", "period": period, "rows": rows,
            "no_labels": no_labels,
            "empty": None if res.rows else "There are no predictions in this window."}
