"""Multiclass models per class: the confusion matrix and per-class precision, recall and F1.

The engine reduces the log to counts per (group keys, label, prediction) -- one
``GROUP BY ... COUNT`` (:func:`.queries.confusion_query`, labeled rows with a
prediction) -- and everything here is derived from those counts:

* ``confusion``: rows are true classes, columns predicted classes, in the
  model's class order (``class_scores``; without it, the classes seen, sorted);
  ``row_normalized`` divides each row by the class's support (null for a class
  without true rows). Predictions outside the classes (possible only with a
  ``prediction`` column) are counted per true class in ``other_predicted``:
  they count against recall but toward no class's precision.
* per class c: ``support`` = rows whose label is c, ``predicted`` = rows
  predicted c, ``tp`` = both;
  precision = tp / predicted, recall = tp / support, F1 = 2 tp / (support + predicted).

A 0/0 is missing with its reason, never 0: precision of a class never
predicted and recall of a class absent from the labels are null; F1 is null
only when the class is neither true nor predicted (otherwise 2tp / (2tp + fp + fn)
is defined, and 0 when tp = 0). That is exactly scikit-learn's
``precision_recall_fscore_support(..., zero_division=np.nan)``.

Intervals (95%): Wilson for precision (tp of ``predicted``) and recall (tp of
``support``), binomial proportions like the binary registry metrics; F1 by the
seeded percentile multinomial bootstrap of the class's one-vs-rest counts
(tp, fp, fn, tn) -- the binary ``f1`` metric's method
(:func:`.intervals.multinomial_bootstrap`). See ``analytics/docs/metrics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.query.selection import Grouping, Selection
from analytics.stats import intervals as iv
from analytics.results import record
from ..errors import SelectionError
from .compute import _sort_key, annotate, key_dict
from .queries import Rows, confusion_query
from .registry import MIN_LABELED, MetricValue, missing

#: The per-class metrics, in display order.
PER_CLASS_METRICS = ("precision", "recall", "f1")
LABELS = {"precision": "Precision", "recall": "Recall", "f1": "F1"}


@dataclass(frozen=True)
class Confusion:
    """Counts per true class (rows) and predicted class (columns)."""

    classes: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    other_predicted: tuple[int, ...]

    @property
    def support(self) -> tuple[int, ...]:
        return tuple(sum(row) + o for row, o in zip(self.counts, self.other_predicted))

    @property
    def row_normalized(self) -> tuple[tuple[float | None, ...], ...]:
        return tuple(tuple((c / s) if s else None for c in row) for row, s in zip(self.counts, self.support))

    @property
    def total(self) -> int:
        return sum(self.support)

    def to_dict(self) -> dict[str, Any]:
        return record(self, row_normalized=[list(r) for r in self.row_normalized])


@dataclass(frozen=True)
class ClassMetrics:
    """One class: its support, how often it is predicted, and precision, recall, F1."""

    cls: str
    support: int
    predicted: int
    tp: int
    precision: MetricValue
    recall: MetricValue
    f1: MetricValue

    def metric(self, name: str) -> MetricValue:
        return getattr(self, name)

    def to_dict(self) -> dict[str, Any]:
        return record(self, drop=("cls", "tp"))


@dataclass(frozen=True)
class PerClassRow:
    """One group: the confusion matrix and each class's metrics (in class order)."""

    group: dict[str, Any]
    confusion: Confusion
    per_class: tuple[ClassMetrics, ...]

    def cls(self, name: str) -> ClassMetrics:
        return next(c for c in self.per_class if c.cls == name)

    def to_dict(self) -> dict[str, Any]:
        return {"per_class": {c.cls: c.to_dict() for c in self.per_class}, "confusion": self.confusion.to_dict()}


@dataclass(frozen=True)
class PerClassResult:
    model: str
    group_keys: tuple[str, ...]
    classes: tuple[str, ...]
    rows: tuple[PerClassRow, ...]

    def row(self, **group) -> PerClassRow:
        """The row whose group matches ``group``; an empty one (all counts 0) when the group has none."""
        for r in self.rows:
            if all(r.group.get(k) == v for k, v in group.items()):
                return r
        return per_class_row(dict(group), {}, self.classes)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "classes": list(self.classes),
                "rows": [{"group": dict(r.group), **r.to_dict()} for r in self.rows]}


# ------------------------------------------------------------------ from counts (pure)


def _value(value: float, interval: iv.Interval, n: int, reason: str | None = None) -> MetricValue:
    lo, hi, se = interval
    if lo is not None:  # an interval always contains its estimate
        lo, hi = min(lo, value), max(hi, value)
    return MetricValue(float(value), lo, hi, int(n), se, reason)


def _warn(v: MetricValue, what: str) -> MetricValue:
    """The registry's low-support warning, worded for a class."""
    if v.value is not None and v.reason is None and v.n < MIN_LABELED:
        return MetricValue(v.value, v.ci_low, v.ci_high, v.n, v.se,
                           f"only {v.n:,} {what}; at least {MIN_LABELED} needed for a reliable value")
    return v


def _f1_stat(draws: np.ndarray) -> np.ndarray:
    tp, fp, fn = draws[:, 0], draws[:, 1], draws[:, 2]
    den = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2 * tp / den, np.nan)


def class_metrics(cls: str, tp: int, predicted: int, support: int, total: int) -> ClassMetrics:
    """Precision, recall and F1 of one class from its counts (``total``: rows in the matrix)."""
    q = repr(cls)
    if predicted:
        precision = _warn(_value(tp / predicted, iv.wilson(tp, predicted), predicted),
                          f"rows predicted {q}")
    else:
        precision = missing(f"class {q} is never predicted (zero division)")
    if support:
        recall = _warn(_value(tp / support, iv.wilson(tp, support), support), f"labeled rows of class {q}")
    else:
        recall = missing(f"no labeled row has class {q} (zero division)")
    den = support + predicted
    if den:
        fp, fn = predicted - tp, support - tp
        counts = np.array([tp, fp, fn, max(total - tp - fp - fn, 0)])
        f1 = _value(2 * tp / den, iv.multinomial_bootstrap(counts, _f1_stat), total)
        involved = den - tp   # rows true or predicted c
        if involved < MIN_LABELED and f1.reason is None:
            f1 = MetricValue(f1.value, f1.ci_low, f1.ci_high, f1.n, f1.se,
                             f"only {involved:,} rows true or predicted {q}; at least {MIN_LABELED} "
                             "needed for a reliable value")
    else:
        f1 = missing(f"class {q} is neither a label nor a prediction (zero division)")
    return ClassMetrics(cls, int(support), int(predicted), int(tp), precision, recall, f1)


def confusion_from_counts(cm: Mapping[tuple[Any, Any], int], classes: Sequence[str]) -> Confusion:
    """The matrix of ``{(label, prediction): count}`` over ``classes`` (labels outside them are dropped)."""
    idx = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    m = [[0] * k for _ in range(k)]
    other = [0] * k
    for (label, pred), cnt in cm.items():
        if label not in idx:
            continue
        if pred in idx:
            m[idx[label]][idx[pred]] += int(cnt)
        else:
            other[idx[label]] += int(cnt)
    return Confusion(tuple(classes), tuple(tuple(r) for r in m), tuple(other))


def per_class_row(group: dict[str, Any], cm: Mapping[tuple[Any, Any], int], classes: Sequence[str]) -> PerClassRow:
    """A group's confusion matrix and per-class metrics from its counts."""
    conf = confusion_from_counts(cm, classes)
    support = conf.support
    total = conf.total
    out = []
    for j, c in enumerate(conf.classes):
        predicted = sum(row[j] for row in conf.counts)
        out.append(class_metrics(c, conf.counts[j][j], predicted, support[j], total))
    return PerClassRow(group, conf, tuple(out))


# ------------------------------------------------------------------ in the engine


def compute_per_class(engine: Engine, selection: Selection, grouping: Grouping = Grouping()) -> PerClassResult:
    """The confusion matrix and per-class metrics of a multiclass model, per group.

    One engine query (counts per group, label and prediction over labeled rows
    with a prediction). Groups without any such row are absent. A model of
    another task raises :class:`~analytics.errors.SelectionError`.
    """
    spec = engine.spec(selection.model)
    if spec.task != "multiclass":
        raise SelectionError(f"Model {spec.name!r} is a {spec.task} model; per-class metrics and the "
                             "confusion matrix are for multiclass models.")
    keyed = annotate(spec, selection.apply(engine), grouping, label_delay=False)
    rows = Rows(keyed.t, keyed.keys, spec.task)
    cms: dict[tuple, dict] = {}
    for r in engine.execute(confusion_query(rows), spec).to_pylist():
        cms.setdefault(tuple(r[k] for k in keyed.keys), {})[(r[C.LABEL], r[C.PRED])] = int(r["cnt"])
    classes = spec.columns.classes or tuple(sorted(
        {str(v) for cm in cms.values() for pair in cm for v in pair if v is not None}))
    out = tuple(per_class_row(key_dict(keyed.names, k), cms[k], classes) for k in sorted(cms, key=_sort_key))
    return PerClassResult(spec.name, tuple(keyed.names), tuple(classes), out)
