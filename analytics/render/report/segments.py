"""The report's weak segments: where the serving versions do significantly worst (segments module)."""

from __future__ import annotations

import dataclasses

from analytics.analyses.roles import pooled_selection
from analytics.analyses.segments import MIN_SUPPORT, SIGNIFICANT_Q, weak_segments as find_weak
from analytics.metrics import PRIMARY_METRIC, format_value, get_metric
from analytics.render import format as fmt
from ..charts import bar_by_group
from .common import WIDTH, interval


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
               overall_interval=interval(d, res.overall.ci_low, res.overall.ci_high), total=len(res.segments))
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
            "value": format_value(d, sg.metric.value), "interval": interval(d, sg.metric.ci_low, sg.metric.ci_high),
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
