"""Page 1 of a model's report: the decision.

One sentence per recommendation (:mod:`analytics.analyses.recommend`, the same ones
``lastmile check`` and the dashboard's portfolio give) with its money and its evidence
in plain words; the key figures with their change against the previous period; and
one chart: the primary metric per week over the model's whole history, each version's
first day and the start of detected drift marked, the report period shaded. Numbers are
rounded for people (3 significant digits); exact p-values go to the footnotes.
"""

from __future__ import annotations

import datetime as _dt

from analytics.analyses.recommend import recommend
from analytics.analyses.timeline import events
from analytics.analyses.value import compute_value
from analytics.errors import LastmileError
from analytics.metrics import PRIMARY_METRIC, get_metric
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, Selection
from analytics.render import format as fmt
from analytics.render.charts import metric_over_time
from analytics.render.charts.markers import mark_events

#: Key figures on page 1 (those of the task that exist), after the primary metric.
KEY_FIGURES = ("volume", "label_coverage")
#: The chart's size (CSS pixels).
WIDTH, HEIGHT = 720, 230


def _head_and_rest(sentence: str) -> tuple[str, str]:
    head, sep, rest = sentence.partition(": ")
    return (head, rest) if sep else (sentence, "")


def _kpi_rows(mi, earlier) -> list[dict]:

    k = earlier["kpis"]
    by_name = {r["name"]: r for r in k["rows"]}
    want = (PRIMARY_METRIC[mi.spec.task],) + KEY_FIGURES
    rows = [_rounded(dict(by_name[n])) for n in want if n in by_name]
    return rows + _net_value_rows(mi)


def _rounded(row: dict) -> dict:
    """A statistic on its own scale to 3 significant digits (rates, counts and money keep
    their formats, which already read that way)."""
    if row.get("fmt") == "num":
        row["value"], row["previous"] = fmt.sig(row.get("raw")), fmt.sig(row.get("raw_previous"))
        ch = row.get("raw_change")
        row["change"] = fmt.delta(ch, "num")   # on the value's own scale: +0.002
    return row


def _net_value_rows(mi) -> list[dict]:
    """Net value in the period and the previous one (value module), when business values exist."""
    if mi.spec.business is None:
        return []

    cur = mi.spec.business.currency

    def net(sel):
        if sel is None:
            return None
        try:
            rows = compute_value(mi.engine, sel).rows
        except LastmileError:
            return None
        return rows[0].net_value if rows else None

    now, before = net(mi.selection), net(mi.previous)
    change = now - before if now is not None and before is not None else None
    return [{"label": "Net value", "value": fmt.money(now, cur, short=True),
             "previous": fmt.money(before, cur, short=True),
             "change": fmt.MISSING if change is None else
             ("+" if change >= 0 else "-") + fmt.money(abs(change), cur, short=True),
             "direction": "" if change is None or change == 0 else ("good" if change > 0 else "bad"),
             "reason": None, "interval": fmt.MISSING}]


def _history_chart(mi, timeline):
    """The primary metric per week over the whole history up to the period's end."""

    d = get_metric(PRIMARY_METRIC[mi.spec.task], mi.spec.task)
    sel = Selection.build(mi.model, end=mi.selection.end)
    frame = compute_metrics(mi.engine, sel, Grouping(by=("version", "period"), period="week"),
                            metrics=["volume", d.name], label_delay=False).to_polars()
    if frame.is_empty() or frame[d.name].drop_nulls().is_empty():
        return None, f"{d.label} cannot be drawn: no week has enough predictions with known outcomes yet."
    known = frame.filter(frame[d.name].is_not_null())
    fig = metric_over_time(known, d.name, label=d.label, fmt=d.fmt, by="version",
                           title=f"{d.label} per week, whole history", height=HEIGHT)
    mark_events(fig, timeline, (mi.selection.start, mi.selection.end))
    return mi.charts.add(fig, alt=f"{d.label} per week and version over the whole history, with version "
                         "launches, the start of drift and the report period marked", width=WIDTH,
                         height=HEIGHT), None


def decision(mi, earlier) -> dict:
    """The page-1 decision of one model (see the module docstring)."""

    out = {"template": "decision.html.j2", "title": "What to do", "entries": [], "footnotes": [],
           "kpis": [], "chart": None, "chart_empty": None, "empty": None, "marks": ""}
    h = earlier["health"].get("result")
    try:
        recs = recommend(mi.engine, mi.spec, health=h) if h is not None else ()
    except LastmileError as exc:
        recs = ()
        out["empty"] = f"No recommendation can be made: {exc.message}"
    notes: list[str] = []
    for r in recs:
        marks = []
        for f in r.footnotes:
            if r.action == "pull":
                continue  # the health section lists the pull findings in full
            notes.append(f)
            marks.append(len(notes))
        head, rest = _head_and_rest(r.sentence)
        out["entries"].append({"action": r.action, "head": head, "rest": rest, "marks": marks,
                             "money": r.money is not None})
    out["footnotes"] = notes
    out["kpis"] = _kpi_rows(mi, earlier)
    out["has_previous"] = earlier["kpis"].get("has_previous")
    timeline = None
    try:
        timeline = events(mi.engine, mi.spec, end=mi.selection.end, drift=mi.charts.enabled)
    except LastmileError:
        pass
    if timeline is not None:
        launches = [f"{v} on {fmt.date(d)}" for v, d in sorted(timeline.version_starts.items(), key=lambda x: x[1])]
        out["marks"] = "; ".join(
            (["versions went live: " + ", ".join(launches)] if launches else [])
            + ([f"drift began in the week of {fmt.date(timeline.drift_start)}"] if timeline.drift_start else []))
    if mi.charts.enabled:
        out["chart"], out["chart_empty"] = _history_chart(mi, timeline)
    out["recommendations"] = [r.to_dict() for r in recs]
    return out
