"""The drift-over-time chart of one statistic with the drift rule's own threshold line.

The dashboard and the PDF both draw it from here, so the line is always the
threshold that decides (:func:`analytics.analyses.drift.rule.chart_threshold`): PSI for
every target, normed Wasserstein for numeric targets, Jensen-Shannon distance
for categorical ones. Each point's tooltip says the rule applied to it (``why``).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl

from analytics.analyses.drift.rule import CHART_STATS, LABELS, chart_threshold
from .figures import drift_over_time_chart

__all__ = ["drift_rule_chart"]


def drift_rule_chart(frame: pl.DataFrame, cfg: Any, stat: str = "psi", *, title: str | None = None,
                     height: int = 340, by: str = "feature") -> go.Figure:
    """``stat`` per period (rows of :func:`analytics.analyses.drift.drift_over_time`) of the
    targets whose rule uses it, with the rule's threshold for it (``cfg``: a DriftConfig)."""
    kinds = CHART_STATS[stat]
    if "kind" in frame.columns:
        frame = frame.filter(pl.col("kind").is_in(list(kinds)))
    if stat in frame.columns:
        frame = frame.filter(pl.col(stat).is_not_null())
    threshold, label = chart_threshold(cfg, stat)
    return drift_over_time_chart(frame, stat=stat, threshold=threshold, threshold_label=label,
                                 hover="why" if "why" in frame.columns else None, height=height,
                                 title=title or f"{LABELS[stat]} per period against the reference")
