"""The metric registry and its computation (see ``analytics/docs/metrics.md``).

Public API::

    MetricValue, MetricDef, METRICS, metric_names(task), get_metric(name, task=None),
    PRIMARY_METRIC, compute_metrics(engine, selection, grouping=Grouping(), metrics=None)
    -> MetricsResult(model, task, group_keys, rows: tuple[MetricsRow, ...])
"""

from . import definitions as _definitions  # noqa: F401 - registers every metric
from .compute import MetricsResult, MetricsRow, compute_metrics, compute_on_table
from .registry import (METRICS, MIN_LABELED, PRIMARY_METRIC, MetricDef, MetricValue, format_metric, format_value,
                       get_metric, metric_names)

__all__ = [
    "METRICS", "MIN_LABELED", "PRIMARY_METRIC", "MetricDef", "MetricValue", "MetricsResult", "MetricsRow",
    "compute_metrics", "compute_on_table", "format_metric", "format_value", "get_metric", "metric_names",
]
