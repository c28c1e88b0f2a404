"""The report's drift section: every target of the champion, report period against reference.

The table has one column per statistic the drift statistic registry shows
(:func:`analytics.analyses.drift.statistics.shown`), each cell formatted by the registry's
:func:`~analytics.analyses.drift.statistics.cell` as the dashboard's: a statistic added to the
registry appears here without a change to this module or its template."""

from __future__ import annotations

import datetime as _dt

from analytics.analyses.drift import compute_drift, distribution, drift_over_time, resolve_windows
from analytics.analyses.drift.statistics import cell, shown
from analytics.errors import EmptySelectionError
from analytics.render import format as fmt
from ..charts import distribution_chart
from ..charts.drift_rule import drift_rule_chart
from .common import WIDTH, champion_and_challengers, history


def _drift_row(role: str, f, columns) -> dict:
    """One target's row: its statistics in ``columns`` (the registry's shown ones) as people read them."""
    return {"name": f.name, "role": role, "kind": f.kind, "drifted": f.drifted, "method": f.method,
            "stats": [cell(s, f).replace("(p ", "(p\u00a0") for s in columns],  # "(p 0.03)" stays whole
            "n": f"{fmt.count(f.n_ref)} / {fmt.count(f.n_cur)}", "rule": f.rule, "why": f.why,
            "reason": f.reason}


def drift(mi, earlier: dict) -> dict:
    """Drift of every feature, the prediction and the label of the champion version: the report
    period against the documented reference window (drift module), weekly PSI, and the
    distribution of the most drifted feature."""
    out = {"template": "drift.html.j2", "title": "Drift", "rows": [], "empty": None, "chart": None,
           "dist_chart": None, "highlights": [], "overlap": False}
    champion = champion_and_challengers(earlier["kpis"])[0]
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
    columns = shown()  # one column per statistic of the registry (analytics/analyses/drift/statistics/)
    out["columns"] = [s.label for s in columns]
    out["rows"] = [_drift_row(role, f, columns) for role, f in res.targets()]
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

    window = history(mi).replace(versions=tuple(versions))
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
