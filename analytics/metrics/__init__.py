"""The metric registry (see ``analytics/docs/metrics.md``): what each metric is.

Importing the package registers every metric (:mod:`analytics.metrics.definitions`);
it needs only the canonical column names, so the workspace validator can check
metric names and directions. Computing them over a selection is
:mod:`analytics.metrics.compute` (``compute_metrics(engine, selection, grouping,
metrics) -> MetricsResult``), which sits above the log and the query layers.

Public API::

    MetricValue, MetricDef, METRICS, metric_names(task), get_metric(name, task=None),
    PRIMARY_METRIC, format_metric, format_value
"""

from . import definitions as _definitions  # noqa: F401 - registers every metric
from .registry import (METRICS, MIN_LABELED, MetricDef, MetricValue, PRIMARY_METRIC, format_metric,
                       format_value, get_metric, metric_names)

__all__ = [
    "METRICS", "MIN_LABELED", "PRIMARY_METRIC", "MetricDef", "MetricValue",
    "format_metric", "format_value", "get_metric", "metric_names",
]
