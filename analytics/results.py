"""Frozen results -> the contract's JSON values (the one conversion every output uses).

:func:`jsonable` turns any value into JSON: dates become ISO text, NaN and
infinities null, tuples lists, mappings dicts with text keys, numpy scalars Python
numbers. :func:`record` is the one serializer of a frozen result: its fields in
declaration order (nested results by their own ``to_dict``, tuples as lists,
mappings as dicts), with a declared mapping where the contract's keys differ
(``rename``, ``drop``, extra keys).

The results' ``to_dict`` methods are ``record(self, ...)`` (metrics: ``MetricValue``,
``MetricsRow``, ``MetricsResult``, ``Confusion``, ``ClassMetrics``; compare:
``MetricComparison``, ``SegmentLoss``; health ``Reason``, ``Health``; ``Recommendation``;
segments ``Capped``; quality ``Finding``; roles ``VersionRole``; ``Timeline``; estimate
``Estimate``, ``EstimateRow``, ``BacktestRow``; drift ``DriftImportance``; sequential
``Look``; the alerts history's ``Verdict``), except these, whose JSON is not a
field-by-field image of the object (kept by hand, on purpose):

* ``Comparison`` (analyses/compare/results): ``n`` nests two fields, the settings are
  flattened into ``alpha``/``min_n``, the selection is described, the paired keys
  appear only for a paired design;
* ``SequentialResult`` (stats/sequential): the current look's numbers lifted to the top;
* ``PerClassRow``/``PerClassResult`` (metrics/perclass): per-class metrics keyed by class,
  rows merged with their group;
* ``SegmentsResult``, ``Segment`` (analyses/segments): the metric's value and interval
  flattened into the segment's row;
* ``DriftResult``/``FeatureDrift`` (analyses/drift/results.py): windows from selections, the
  statistics of the drift registry per kind;
* ``Roles`` (analyses/roles): a mapping whose JSON lists the serving and shadow versions;
* ``ComparisonWindow`` (like_for_like), ``ReferenceWindow``, ``Calibration``,
  ``ErrorModel``, ``EstimateResult`` (estimate), ``QualityResult`` (quality): computed
  keys (an exclusive end, a described window, bins as shares, the backtest on demand);
* ``ValidationReport`` (log/validation), ``RefreshResult`` (store/build): models keyed
  by name, seconds rounded;
* the value package's results (analyses/value/results.py, assumptions.py):
  ``dataclasses.asdict`` with the value matrix as nested dicts.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import fields, is_dataclass
from typing import Any, Mapping


def jsonable(obj: Any) -> Any:
    """Dates as ISO text, NaN/inf as null, tuples as lists, dataclasses as dicts."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return jsonable(obj.item())
    return obj


def _value(v: Any) -> Any:
    """A field's value in a record: nested results by their ``to_dict``, tuples and lists
    as lists, mappings as dicts (scalars and dates as they are: :func:`jsonable` prints them)."""
    if is_dataclass(v) and not isinstance(v, type) and callable(getattr(v, "to_dict", None)):
        return v.to_dict()
    if isinstance(v, Mapping):
        return {k: _value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_value(x) for x in v]
    return v


def record(obj: Any, *, drop: tuple[str, ...] = (), rename: Mapping[str, str] | None = None,
           **extra: Any) -> dict[str, Any]:
    """A frozen result's fields as its JSON object, in declaration order: the one
    serializer behind the results' ``to_dict``. ``drop`` leaves fields out, ``rename``
    gives a field the contract's key (in its place), ``extra`` replaces values or adds
    keys (at the end). Values are converted by :func:`jsonable` when printed.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class P:
    ...     x: int
    ...     y: float | None = None
    ...     z: tuple = ()
    >>> record(P(1, z=(1, 2)), drop=("y",), rename={"x": "ex"}, w=2)
    {'ex': 1, 'z': [1, 2], 'w': 2}
    """
    names = rename or {}
    out = {names.get(f.name, f.name): _value(getattr(obj, f.name)) for f in fields(obj) if f.name not in drop}
    out.update(extra)
    return out
