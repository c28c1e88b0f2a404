"""The overview's per-class panel for multiclass models: a table of per-class
precision, recall and F1 with intervals, and the confusion matrix as a heat map
(counts or row-normalised), for all versions or one."""

from __future__ import annotations

import polars as pl
import streamlit as st

from analytics.metrics.perclass import PER_CLASS_METRICS, PerClassRow
from analytics.query.selection import Grouping
from analytics.render import charts, format as F
from .. import resources, state
from .widgets import chart, spinner, table


K_VERSION = "ov_pc_version"
K_SCALE = "ov_pc_scale"
ALL = "All versions"
SCALES = ("Row-normalised", "Counts")


def class_frame(row: PerClassRow) -> pl.DataFrame:
    """One line per class: support, predicted, and each metric with its interval and note."""
    data = []
    for c in row.per_class:
        d = {"class": c.cls, "support": c.support, "predicted": c.predicted}
        for m in PER_CLASS_METRICS:
            v = c.metric(m)
            fmt = "num" if m == "f1" else "pct"
            d[m] = F.by_kind(v.value, fmt)
            d[f"{m} 95% CI"] = F.interval(v.ci_low, v.ci_high, fmt) if v.value is not None else F.MISSING
        d["note"] = "; ".join(dict.fromkeys(c.metric(m).reason for m in PER_CLASS_METRICS if c.metric(m).reason))
        data.append(d)
    return pl.DataFrame(data)


def per_class_panel(ctx) -> None:
    """Per-class metrics and the confusion heat map of the selection (one query, cached)."""
    st.subheader("Per class")
    with spinner():
        by_version = resources.per_class(ctx.ws_key, ctx.selection, Grouping(by=("version",)))
    versions = [str(r.group["version"]) for r in by_version.rows]
    if not versions:
        st.info("No labeled predictions in this selection: the per-class view needs outcomes.",
                icon=":material/schedule:")
        return
    choices = [ALL] + versions if len(versions) > 1 else versions
    state.bind(K_VERSION, "pc_version", lambda v: v if v in choices else None)
    state.bind(K_SCALE, "pc_scale", lambda v: SCALES[1] if v == "counts" else None)
    c1, c2 = st.columns([1, 1])
    version = c1.selectbox("Version", choices, key=K_VERSION,
                           help="Per-class metrics of one version, or of every selected version together.")
    scale = c2.segmented_control("Confusion matrix", SCALES, key=K_SCALE,
                                 **({} if K_SCALE in st.session_state else {"default": SCALES[0]})) or SCALES[0]
    state.set_param("pc_version", None if version == choices[0] else version)
    state.set_param("pc_scale", "counts" if scale == SCALES[1] else None)
    if version == ALL:
        with spinner():
            row = resources.per_class(ctx.ws_key, ctx.selection, Grouping()).row()
    else:
        row = by_version.row(version=version)
    table(class_frame(row))
    st.caption("Precision: of the rows predicted the class, the share labeled it. Recall: of the rows labeled "
               "the class, the share predicted it. 95% intervals: Wilson for precision and recall, a "
               "bootstrap of the confusion counts for F1. A class never predicted has no precision.")
    normalized = scale == SCALES[0]
    what = "share of each true class's rows (the diagonal is the recall)" if normalized else "rows"
    chart(charts.confusion_heatmap(row.confusion, normalized=normalized,
                                   title=f"Confusion matrix, {version.lower() if version == ALL else version}: {what}"),
          key="ov_confusion_chart")
