"""The metric registry: one definition per metric, by task.

A :class:`MetricDef` says what a metric is (name, label, tasks, direction,
format, description, interval method -- what the app shows as a tooltip) and
how to get it: which engine stage it needs (see :mod:`.queries`), the per-group
aggregates it adds to the ``sums`` query, and ``finish``, a pure function from
the group's aggregates to a :class:`MetricValue`. Adding a metric is adding
one definition in :mod:`.definitions`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..errors import UnknownMetricError
from analytics.render import format as fmt
from analytics.results import record

TASKS = ("binary", "multiclass", "regression")

PRIMARY_METRIC = {"binary": "roc_auc", "multiclass": "macro_f1", "regression": "mae"}

#: Label metrics computed on fewer labeled rows than this carry a warning reason.
MIN_LABELED = 30


@dataclass(frozen=True)
class MetricValue:
    """One metric for one group.

    ``value`` is None when the metric cannot be computed, and ``reason`` says
    why. A value with a ``reason`` is a warning (e.g. too few labeled rows).
    ``ci_low``/``ci_high`` bound a 95% interval (None when no interval exists),
    ``se`` is the standard error behind it, ``n`` the rows the value rests on.
    """

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0
    se: float | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return record(self)


def missing(reason: str, n: int = 0) -> MetricValue:
    """A metric that cannot be computed, with its reason."""
    return MetricValue(None, n=int(n), reason=reason)


Aggregates = Mapping[str, Any]


@dataclass(frozen=True)
class MetricDef:
    """What a metric is and how it is computed (see module docstring).

    ``kind`` is ``"label"`` (needs ground truth; uses labeled rows only) or
    ``"operational"``. ``test`` names the two-sample test that fits it:
    ``"proportion"`` (two-proportion z), ``"auc"`` (DeLong z, independent
    groups), ``"mean"`` (Welch) or ``"normal"`` (z from the two se's).
    ``stage`` is the engine query the metric needs beyond ``sums``.
    """

    name: str
    label: str
    tasks: tuple[str, ...]
    kind: str
    higher_is_better: bool | None
    fmt: str
    description: str
    interval_method: str
    stage: str = "sums"
    test: str = "normal"
    aggregates: Callable[[Any], dict] | None = field(default=None, repr=False, compare=False)
    finish: Callable[[Aggregates], MetricValue] | None = field(default=None, repr=False, compare=False)


METRICS: dict[str, MetricDef] = {}

_ORDER = {
    "binary": ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss",
               "brier", "positive_rate", "base_rate"),
    "multiclass": ("accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall"),
    "regression": ("mae", "rmse", "mape", "r2", "bias"),
}
_COMMON = ("volume", "label_coverage", "latency_p50", "latency_p95", "latency_p99")


def register(defs: dict[str, MetricDef]) -> None:
    """Add definitions; names are unique across tasks (one definition per name)."""
    for name, d in defs.items():
        if name in METRICS:
            raise ValueError(f"metric {name!r} defined twice")
        METRICS[name] = d


def metric_names(task: str) -> tuple[str, ...]:
    """The metrics of a task, in the contract's order (task metrics, then the common ones)."""
    if task not in _ORDER:
        raise UnknownMetricError(f"Task {task!r} is not one of {', '.join(TASKS)}.")
    extra = tuple(n for n, d in METRICS.items()
                  if task in d.tasks and n not in _ORDER[task] and n not in _COMMON)
    return _ORDER[task] + extra + _COMMON


def get_metric(name: str, task: str | None = None) -> MetricDef:
    """A metric by name (for ``task`` when given); UnknownMetricError with a suggestion otherwise."""
    choices = metric_names(task) if task else tuple(METRICS)
    d = METRICS.get(name)
    if d is None or (task and task not in d.tasks):
        close = difflib.get_close_matches(name, choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        scope = f" for a {task} model" if task else ""
        raise UnknownMetricError(
            f"Metric {name!r} is not available{scope}{hint}; choose from: {', '.join(choices)}.")
    return d


def format_value(d: MetricDef, x: float | None) -> str:
    """A metric value in a table, by its ``fmt`` (:func:`analytics.render.format.metric_cell`)."""
    return fmt.metric_cell(x, d.fmt)


def format_metric(d: MetricDef, v: MetricValue) -> str:
    """Value with its 95% interval, e.g. ``0.8120 [0.8040, 0.8200]``."""
    text = format_value(d, v.value)
    if v.value is not None and v.ci_low is not None:
        text += f" [{format_value(d, v.ci_low)}, {format_value(d, v.ci_high)}]"
    return text
