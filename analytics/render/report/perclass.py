"""The report's per-class section (multiclass models): per-class precision, recall
and F1 with intervals per version, and the row-normalised confusion matrix as a heat map.

Numbers come from :func:`analytics.metrics.perclass.compute_per_class` (one
engine query), formatted as ``lastmile metrics --per-class`` prints them. For
other tasks the section does not apply and renders nothing.
"""

from __future__ import annotations

from analytics.metrics import format_metric, get_metric
from analytics.metrics.perclass import PER_CLASS_METRICS, compute_per_class
from analytics.query.selection import Grouping
from analytics.render import format as fmt
from ..charts import confusion_heatmap

#: Heat maps drawn (the versions with the most traffic first).
MAX_HEATMAPS = 2
TITLE = "Per-class performance"


def _cells(c) -> dict:
    out = {"class": c.cls, "support": fmt.count(c.support), "predicted": fmt.count(c.predicted)}
    for m in PER_CLASS_METRICS:
        out[m] = format_metric(get_metric(m), c.metric(m))   # precision/recall in %, F1 a number, with the CI
    out["note"] = "; ".join(dict.fromkeys(c.metric(m).reason for m in PER_CLASS_METRICS if c.metric(m).reason))
    return out


def per_class(mi, earlier, width: int = 720) -> dict:
    """Per version (by traffic): each class's metrics and, for the busiest versions, the heat map."""
    out = {"template": "per_class.html.j2", "title": TITLE, "applies": mi.spec.task == "multiclass",
           "versions": [], "highlights": [], "empty": None}
    if not out["applies"]:
        return out
    res = compute_per_class(mi.engine, mi.selection, Grouping(by=("version",)))
    order = {v: i for i, v in enumerate(earlier["kpis"]["versions"])}
    rows = sorted(res.rows, key=lambda r: (order.get(r.group["version"], len(order)), str(r.group["version"])))
    if not rows:
        out["empty"] = "No prediction in the report period has a known outcome yet, so no class can be assessed."
        return out

    for i, r in enumerate(rows):
        version = r.group["version"]
        entry = {"version": version, "rows": [_cells(c) for c in r.per_class], "chart": None,
                 "n": fmt.count(r.confusion.total)}
        if i < MAX_HEATMAPS:
            fig = confusion_heatmap(r.confusion, normalized=True,
                                    title=f"{version}: share of each true class's rows by predicted class")
            entry["chart"] = mi.charts.add(fig, alt=f"Confusion matrix of {version}, row-normalised",
                                           width=width, height=int(fig.layout.height))
        out["versions"].append(entry)
        weak = [c for c in r.per_class if c.recall.value is not None]
        if len(weak) > 1:
            worst = min(weak, key=lambda c: c.recall.value)
            best_other = min(c.recall.ci_low for c in weak if c is not worst and c.recall.ci_low is not None)
            if worst.recall.ci_high is not None and worst.recall.ci_high < best_other:
                j = r.confusion.classes.index(worst.cls)
                row = list(r.confusion.counts[j])
                row[j] = -1
                to = r.confusion.classes[row.index(max(row))]
                out["highlights"].append(
                    f"{version} misses {worst.cls!r}: recall {format_metric(get_metric('recall'), worst.recall)}; "
                    f"most of the rest go to {to!r}.")
    return out
