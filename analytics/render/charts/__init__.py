"""Results -> plotly figures, for the dashboard and the PDF alike.

Every function is pure: it takes a result (or the polars frame a result's
``to_polars()`` gives) and returns a :class:`plotly.graph_objects.Figure`; it
never queries. Colours, fonts and number formats are set here once (see
:mod:`analytics.render.format`), so the app and the report look the same.
Uncertainty is drawn wherever a result carries it: bands for intervals over
time, error bars for intervals per group.
"""

from __future__ import annotations

from .base import PALETTE, empty_figure, style
from .figures import (bar_by_group, compare_forest, confusion_heatmap, distribution_chart,
                      drift_over_time_chart, explore_chart, latency_chart, metric_over_time, sparkline,
                      threshold_curve_chart, value_over_time, volume_chart)

__all__ = [
    "PALETTE", "empty_figure", "style", "bar_by_group", "compare_forest", "confusion_heatmap",
    "distribution_chart", "drift_over_time_chart", "explore_chart", "latency_chart",
    "metric_over_time", "sparkline", "threshold_curve_chart", "value_over_time", "volume_chart",
]
