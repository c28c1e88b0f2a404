"""The labeled reference each version is calibrated (or its error model trained) on.

Default: the drift module's reference window (``[models.drift]`` bounds, else the
first 28 days of data), or ``[models.estimate] reference_start``/``reference_end``.
A version that has fewer than ``min_reference_labels`` labeled rows there and
started after the window opened (a challenger) gets a window of the same length
from its own first day instead: its scores are calibrated on its own labels.
The reference is the whole model's (segment filters of the selection do not
apply): calibration is a property of the scores, and the backtest says when a
segment does not follow it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import ibis

from analytics.analyses.drift import default_reference, resolve_windows
from analytics.config.estimate import EstimateConfig
from analytics.config.workspace import ModelSpec
from analytics.log.columns import C
from analytics.log.engine import Engine


@dataclass(frozen=True)
class Window:
    version: str
    start: _dt.datetime
    end: _dt.datetime
    own: bool          # the version's own first weeks (not the model's reference window)

    def to_dict(self) -> dict:
        return {"version": self.version, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "own_window": self.own}

    def describe(self) -> str:
        return f"{self.start.date()} to {(self.end - _dt.timedelta(days=1)).date()}"


def _day(ts: _dt.datetime) -> _dt.datetime:
    return _dt.datetime(ts.year, ts.month, ts.day)


def reference_windows(engine: Engine, spec: ModelSpec, cfg: EstimateConfig) -> dict[str, Window]:
    """Each version's reference window (one small query over the log)."""
    if cfg.reference_start or cfg.reference_end:
        ref, _ = resolve_windows(engine, spec, cfg.reference_start, cfg.reference_end)
    else:
        ref = default_reference(engine, spec)[0]
    start, end = ref.start, ref.end
    length = end - start
    t = engine.log(spec)
    inside = (t[C.TS] >= ibis.literal(start)) & (t[C.TS] < ibis.literal(end)) & t[C.LABELED]
    q = t.group_by(v=t[C.VERSION]).aggregate(first=t[C.TS].min(), nl=inside.cast("int64").sum())
    out: dict[str, Window] = {}
    for r in engine.execute(q, spec).to_pylist():
        v, first, nl = str(r["v"]), r["first"], int(r["nl"] or 0)
        if nl < cfg.min_reference_labels and first is not None and first >= start:
            a = _day(first)
            out[v] = Window(v, a, a + length, True)
        else:
            out[v] = Window(v, start, end, False)
    return out


def in_reference(t, windows: dict[str, Window]):
    """A predicate: the row lies in its version's reference window."""
    conds = [(t[C.VERSION] == ibis.literal(w.version)) & (t[C.TS] >= ibis.literal(w.start))
             & (t[C.TS] < ibis.literal(w.end)) for w in windows.values()]
    out = conds[0]
    for c in conds[1:]:
        out = out | c
    return out
