"""The reference and current windows: the bounds given, the others by the documented defaults."""

from __future__ import annotations

import datetime as _dt
from typing import Sequence

from analytics.config.times import parse_time
from analytics.config.workspace import ModelSpec
from analytics.errors import EmptySelectionError
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.query.selection import Selection
from .results import DriftConfig
from .target import prediction_log

#: Default length of the reference and current windows.
DEFAULT_WINDOW = _dt.timedelta(days=28)


def _day(ts: _dt.datetime) -> _dt.datetime:
    return _dt.datetime(ts.year, ts.month, ts.day)


def resolve_windows(engine: Engine, model: str | ModelSpec, reference_start=None, reference_end=None,
                    current_start=None, current_end=None, versions: Sequence[str] = (),
                    where=()) -> tuple[Selection, Selection]:
    """Reference and current selections from the bounds given, the others by default.

    Defaults (``analytics/docs/drift.md``): the reference starts at
    ``[models.drift] reference_start`` or the first day of data and lasts 28
    days (or ends at ``reference_end``); the current window ends after the last
    day of data and lasts 28 days. With nothing given and under 8 weeks of
    data, the reference is the first half of the days and the current the rest.
    """
    spec = engine.spec(model)
    cfg = DriftConfig.from_spec(spec)
    rs, re_ = parse_time(reference_start, "--reference-start"), parse_time(reference_end, "--reference-end")
    cs, ce = parse_time(current_start, "--current-start"), parse_time(current_end, "--current-end")
    explicit = any(x is not None for x in (rs, re_, cs, ce, cfg.reference_start, cfg.reference_end))
    if None in (rs, re_, cs, ce):
        t = prediction_log(engine, spec)
        row = engine.execute(t.aggregate(lo=t[C.TS].min(), hi=t[C.TS].max()), spec).to_pylist()[0]
        if row["lo"] is None:
            raise EmptySelectionError(f"Model {spec.name!r} has no predictions: no window to compare.")
        first, after = _day(row["lo"]), _day(row["hi"]) + _dt.timedelta(days=1)
        if not explicit and after - first < 2 * DEFAULT_WINDOW:
            mid = first + _dt.timedelta(days=max((after - first).days // 2, 1))
            rs, re_, cs, ce = first, mid, mid, after
        rs = rs or cfg.reference_start or first
        re_ = re_ or cfg.reference_end or rs + DEFAULT_WINDOW
        ce = ce or after
        cs = cs or ce - DEFAULT_WINDOW
    ref = Selection.build(spec.name, rs, re_, versions, where)
    cur = Selection.build(spec.name, cs, ce, versions, where)
    return ref, cur


def default_reference(engine: Engine, model: str | ModelSpec, versions: Sequence[str] = (),
                      where=()) -> tuple[Selection, Selection]:
    """The documented default ``(reference, current)`` windows (see :func:`resolve_windows`)."""
    return resolve_windows(engine, model, versions=versions, where=where)
