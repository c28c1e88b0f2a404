"""The moments a reader needs on every time chart: when each version went live and
when the detected drift began.

``events(engine, model)``: each version's first prediction day (from
:func:`analytics.roles.version_roles`, one cached aggregate) and the start of the
drift that is still going on: the first week of the last unbroken run of weeks, up to
the newest one, in which the drift rule flags at least one input or the prediction
against the default reference window (:func:`analytics.drift.drift_over_time`). No
drift in the newest week: no drift start.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from analytics.analyses.drift import default_reference, drift_over_time
from analytics.analyses.roles import version_roles
from analytics.errors import LastmileError
from analytics.query.selection import Selection
from analytics.results import record
from analytics.store.answers import remembered


@dataclass(frozen=True)
class Timeline:
    model: str
    version_starts: dict[str, _dt.date] = field(default_factory=dict)   # version -> first day
    roles: dict[str, str] = field(default_factory=dict)                 # version -> serving | shadow
    drift_start: _dt.date | None = None
    drifted: tuple[str, ...] = ()       # what drifted in the newest week
    reason: str | None = None           # why no drift start could be looked for

    def to_dict(self) -> dict[str, Any]:
        return record(self, version_starts={v: d.isoformat() for v, d in self.version_starts.items()},
                      drift_start=self.drift_start.isoformat() if self.drift_start else None)


def _as_date(x) -> _dt.date | None:
    if x is None:
        return None
    return x.date() if isinstance(x, _dt.datetime) else x


def drift_start_of(frame) -> tuple[_dt.date | None, tuple[str, ...]]:
    """From a :func:`~analytics.drift.drift_over_time` frame (period, feature, drifted):
    the first period of the last unbroken run of drifted periods ending at the newest one,
    and what drifted in the newest one (pure)."""
    if frame is None or frame.is_empty():
        return None, ()
    periods = sorted(set(frame["period"].to_list()))
    flagged = {p: sorted({r["feature"] for r in frame.filter(frame["period"] == p).iter_rows(named=True)
                          if r["drifted"]}) for p in periods}
    if not flagged[periods[-1]]:
        return None, ()
    start = periods[-1]
    for p in reversed(periods):
        if not flagged[p]:
            break
        start = p
    return start, tuple(flagged[periods[-1]])


@remembered("timeline_events")
def events(engine, model, end: _dt.datetime | None = None, *, drift: bool = True) -> Timeline:
    """Version first days and the start of the current drift (see the module docstring)."""

    spec = engine.spec(model)
    roles = version_roles(engine, spec)
    starts = {v: _as_date(d.first) for v, d in roles.detail.items() if d.first is not None}
    kinds = {v: d.role for v, d in roles.detail.items()}
    if not drift:
        return Timeline(spec.name, starts, kinds)
    try:
        ref, _cur = default_reference(engine, spec)
        window = Selection.build(spec.name, start=ref.end, end=end)
        frame = drift_over_time(engine, spec, ref, window, period="week", label=False)
    except LastmileError as exc:
        return Timeline(spec.name, starts, kinds, reason=exc.message)
    start, what = drift_start_of(frame)
    return Timeline(spec.name, starts, kinds, start, what)
